/* base/capture.c: a helper program's stdout, and its failures named. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "../../base/capture.h"

TEST(stdout_is_read_whole_and_env_is_given)
{
  char *const argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; echo \"v=$V\"", NULL};
  char *const envp[] = {"V=given", NULL};
  char *out = NULL;
  nook_error_t err = NULL;
  CHECK_INT_EQ(run_capture(argv, envp, true, &out, &err), 0);
  CHECK_STR_EQ(out ? out : "(null)", "out\nv=given\n");
  free(out);
  nook_error_free(&err);
}

TEST(nothing_printed_is_an_empty_string)
{
  char *const argv[] = {"/bin/true", NULL};
  char *out = NULL;
  nook_error_t err = NULL;
  CHECK_INT_EQ(run_capture(argv, NULL, true, &out, &err), 0);
  CHECK_STR_EQ(out ? out : "(null)", "");
  free(out);
}

TEST(a_failing_or_missing_program_is_an_error_naming_it)
{
  char *const fails[] = {"/bin/sh", "-c", "exit 3", NULL};
  char *const missing[] = {"/nonexistent/prog", NULL};
  char *out = NULL;
  nook_error_t err = NULL;
  CHECK(run_capture(fails, NULL, true, &out, &err) < 0);
  CHECK_STR_CONTAINS(err ? err->msg : "", "`/bin/sh` failed (status 3)");
  nook_error_free(&err);
  CHECK(run_capture(missing, NULL, true, &out, &err) < 0);
  CHECK_STR_CONTAINS(err ? err->msg : "", "`/nonexistent/prog` failed (status 127)");
  nook_error_free(&err);
  CHECK(out == NULL);
}

TEST(merged_reads_stderr_too_and_a_failure_says_what_it_printed)
{
  char *const argv[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
  char *const fails[] = {"/bin/sh", "-c", "echo 'helper: range not allowed' >&2; exit 1", NULL};
  char *out = NULL;
  nook_error_t err = NULL;
  CHECK_INT_EQ(run_capture_merged(argv, &out, &err), 0);
  CHECK_STR_EQ(out ? out : "(null)", "out\nerr\n");
  free(out);
  out = NULL;
  CHECK(run_capture_merged(fails, &out, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : "", "`/bin/sh` failed (status 1): helper: range not allowed");
  nook_error_free(&err);
  CHECK(out == NULL);
}
