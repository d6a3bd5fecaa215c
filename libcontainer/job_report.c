/* nook job's report: one JSON object, the same field names whatever the
 * cgroup version; a figure the host cannot give is null (nook-job(8),
 * REPORT). */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../oci/json.h"

static const char *const reasons[] = {
    [NOOK_JOB_EXITED] = "exited",           [NOOK_JOB_SIGNALED] = "signaled",
    [NOOK_JOB_TIMEOUT] = "timeout",         [NOOK_JOB_OOM] = "oom",
    [NOOK_JOB_SETUP_ERROR] = "setup-error",
};

static void gen_null(yajl_gen g, const char *key)
{
  jgen_str(g, key);
  yajl_gen_null(g);
}

static void gen_figure(yajl_gen g, const char *key, const struct nook_job_figure *f)
{
  if (f->has)
    jgen_key_uint(g, key, f->value);
  else
    gen_null(g, key);
}

/* Seconds with microseconds, from ns. */
static void gen_seconds(yajl_gen g, const char *key, bool has, uint64_t ns)
{
  if (!has) {
    gen_null(g, key);
    return;
  }
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%" PRIu64 ".%06" PRIu64, ns / 1000000000u,
                   ns % 1000000000u / 1000u);
  jgen_str(g, key);
  yajl_gen_number(g, buf, (size_t)n);
}

static void gen_signal(yajl_gen g, const char *key, int sig)
{
  const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;
  if (sig <= 0) {
    gen_null(g, key);
  } else if (abbrev == NULL) {
    jgen_key_int(g, key, sig);
  } else {
    char name[32];
    snprintf(name, sizeof(name), "SIG%s", abbrev);
    jgen_key_str(g, key, name);
  }
}

static void gen_limits(yajl_gen g, const struct nook_job_report *r)
{
  jgen_str(g, "limits");
  yajl_gen_map_open(g);
  gen_figure(g, "memory_bytes", &r->memory_limit);
  gen_figure(g, "memory_swap_bytes", &r->memory_swap_limit);
  gen_figure(g, "cpu_quota_us", &r->cpu_quota);
  gen_figure(g, "cpu_period_us", &r->cpu_period);
  if (r->cpuset)
    jgen_key_str(g, "cpuset", r->cpuset);
  else
    gen_null(g, "cpuset");
  gen_figure(g, "pids", &r->pids_limit);
  gen_figure(g, "io_weight", &r->io_weight);
  gen_seconds(g, "timeout_seconds", r->timeout_ns > 0, (uint64_t)r->timeout_ns);
  gen_seconds(g, "kill_after_seconds", true, (uint64_t)r->kill_after_ns);
  gen_signal(g, "stop_signal", r->stop_signal);
  yajl_gen_map_close(g);
}

static char *report_json(const struct nook_job_report *r)
{
  yajl_gen g = jgen_new(NULL);
  yajl_gen_map_open(g);
  if (r->id)
    jgen_key_str(g, "id", r->id);
  else
    gen_null(g, "id");
  jgen_key_int(g, "exit_status", r->exit_status);
  jgen_key_str(g, "reason", reasons[r->reason]);
  gen_signal(g, "signal", r->signal);
  gen_signal(g, "cancelled_by", r->cancelled_by);
  if (r->error)
    jgen_key_str(g, "error", r->error);
  else
    gen_null(g, "error");
  gen_seconds(g, "wall_seconds", r->started, (uint64_t)r->wall_ns);
  gen_seconds(g, "cpu_user_seconds", r->cpu_user_ns.has, r->cpu_user_ns.value);
  gen_seconds(g, "cpu_system_seconds", r->cpu_system_ns.has, r->cpu_system_ns.value);
  gen_figure(g, "memory_peak_bytes", &r->memory_peak);
  gen_figure(g, "pids_peak", &r->pids_peak);
  gen_figure(g, "io_read_bytes", &r->io_read_bytes);
  gen_figure(g, "io_write_bytes", &r->io_write_bytes);
  gen_figure(g, "oom", &r->oom);
  gen_figure(g, "oom_kill", &r->oom_kill);
  gen_limits(g, r);
  yajl_gen_map_close(g);
  return jgen_finish(g);
}

int nook_job_report_write(const char *path, const struct nook_job_report *r, nook_error_t *err)
{
  cleanup_free char *json = report_json(r);
  size_t len = strlen(json);
  json[len] = '\n'; /* jgen_finish's NUL: the file ends with a newline */
  if (strcmp(path, "-") == 0) {
    if (safe_write(STDERR_FILENO, json, len + 1) < 0)
      return nook_error(err, errno, "--report -: write to stderr");
    return 0;
  }
  /* A reader (the CI runner) sees the whole report or none. */
  cleanup_free char *tmp = NULL;
  xasprintf(&tmp, "%s.%d.tmp", path, (int)getpid());
  if (write_file_at(AT_FDCWD, tmp, O_CREAT | O_TRUNC, 0644, json, len + 1, err) < 0)
    return nook_error_wrap(err, "--report `%s`", path);
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return nook_error(err, e, "--report `%s`", path);
  }
  return 0;
}

void nook_job_report_setup_error(struct nook_job_report *r, const nook_error_t err)
{
  r->reason = NOOK_JOB_SETUP_ERROR;
  r->exit_status = NOOK_JOB_STATUS_SETUP;
  free(r->error);
  r->error = err ? nook_error_text(err) : xstrdup("setup failed");
}

void nook_job_report_clear(struct nook_job_report *r)
{
  free(r->id);
  free(r->error);
  free(r->cpuset);
  memset(r, 0, sizeof(*r));
}
