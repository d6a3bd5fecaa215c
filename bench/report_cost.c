/* report_cost: what nook job's --report costs inside nook, measured in one
 * process so that the machine's noise (a run of /bin/true varies by
 * milliseconds on a shared machine) does not drown a fraction of one:
 *
 *   report_cost NAME FILE N
 *
 * makes the cgroup NAME as a job gets it (the host's cgroup manager, below
 * our own cgroup), runs a short process in it (so that its figures are not
 * all 0), then N times reads the job's figures (cgroup_usage) and N times
 * writes a report (nook_job_report_write) to FILE, and prints the medians
 * in microseconds: "usage_cpu usage_wall write_cpu write_wall".  cpu is
 * CLOCK_PROCESS_CPUTIME_ID, wall CLOCK_MONOTONIC.  Linked with nook's own
 * library (build/libnook.a): the same code nook job runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cgroups/cgroup.h"
#include "../libcontainer/job.h"
#include "timing.h"

static int fail(const char *what, nook_error_t err)
{
  fprintf(stderr, "report_cost: %s: %s\n", what, err ? err->msg : "?");
  return 1;
}

int main(int argc, char **argv)
{
  if (argc != 4 || atoi(argv[3]) <= 0) {
    fprintf(stderr, "usage: report_cost NAME FILE N\n");
    return 2;
  }
  int n = atoi(argv[3]);
  nook_error_t err = NULL;
  enum cgroup_mode mode;
  if (cgroup_detect_mode(&mode, &err) < 0)
    return fail("cgroup mode", err);
  const struct cgroup_manager *m = cgroup_manager_for(mode);
  struct cgroup_paths p = {0};
  if (m->create(NULL, argv[1], &p, &err) < 0)
    return fail("create the cgroup", err);
  pid_t c = fork();
  if (c == 0) {
    if (m->enter(&p, getpid(), NULL) < 0)
      _exit(1);
    char *buf = malloc(1 << 20);
    if (buf)
      memset(buf, 1, 1 << 20);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  long long *cpu = calloc((size_t)n, sizeof(long long));
  long long *wall = calloc((size_t)n, sizeof(long long));
  double res[4];
  int ret = 0;
  struct nook_job_report r = {.id = "nb-report-cost", .reason = NOOK_JOB_EXITED};
  for (int pass = 0; pass < 2 && ret == 0; pass++) {
    for (int i = 0; i < n; i++) {
      long long c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_ns(CLOCK_MONOTONIC);
      int rc;
      if (pass == 0) {
        struct cgroup_usage u;
        rc = cgroup_usage(&p, &u, &err);
      } else {
        rc = nook_job_report_write(argv[2], &r, &err);
      }
      cpu[i] = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
      wall[i] = clock_ns(CLOCK_MONOTONIC) - w0;
      if (rc < 0) {
        ret = fail(pass ? "write the report" : "read the figures", err);
        break;
      }
    }
    res[2 * pass] = median_us(cpu, n);
    res[2 * pass + 1] = median_us(wall, n);
  }
  if (ret == 0)
    printf("%.1f %.1f %.1f %.1f\n", res[0], res[1], res[2], res[3]);
  free(cpu);
  free(wall);
  nook_error_t ignored = NULL;
  if (m->destroy(&p, &ignored) < 0)
    nook_error_free(&ignored);
  cgroup_paths_clear(&p);
  return ret;
}
