/* cgroup_usage (cgroup.h): a job's figures from a handful of files. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"

/* The directory a figure of controller is read from: its v1 hierarchy,
 * else the unified one (pure v2, or a controller only v2 has). */
static const char *dir_for(const struct cgroup_paths *p, const char *controller)
{
  const char *d = p->v1_dirs ? cg_v1_dir(p, controller) : NULL;
  return d ? d : p->unified;
}

static bool is_v1(const struct cgroup_paths *p, const char *dir)
{
  return dir != p->unified;
}

static int read_cpu(const struct cgroup_paths *p, struct cgroup_usage *u, nook_error_t *err)
{
  const char *d = dir_for(p, "cpuacct");
  cleanup_free char *text = NULL;
  bool v1 = is_v1(p, d);
  int r = d ? cg_stats_read(NULL, d, v1 ? "cpuacct.stat" : "cpu.stat", &text, err) : 0;
  if (r <= 0)
    return r;
  uint64_t user, sys;
  if (!cg_kv_u64(text, v1 ? "user" : "user_usec", &user) ||
      !cg_kv_u64(text, v1 ? "system" : "system_usec", &sys))
    return 0;
  uint64_t unit = 1000; /* usec */
  if (v1) {
    long hz = sysconf(_SC_CLK_TCK);
    unit = 1000000000ULL / (uint64_t)(hz > 0 ? hz : 100);
  }
  u->has_cpu = true;
  u->cpu_user_ns = user * unit;
  u->cpu_system_ns = sys * unit;
  return 0;
}

static int read_memory(const struct cgroup_paths *p, struct cgroup_usage *u, nook_error_t *err)
{
  const char *d = dir_for(p, "memory");
  if (d == NULL)
    return 0;
  bool v1 = is_v1(p, d);
  int r = cg_stats_u64(NULL, d, v1 ? "memory.max_usage_in_bytes" : "memory.peak", UINT64_MAX,
                       &u->memory_peak, err);
  if (r < 0)
    return -1;
  u->has_memory_peak = r > 0;
  cleanup_free char *text = NULL;
  if ((r = cg_stats_read(NULL, d, v1 ? "memory.oom_control" : "memory.events", &text, err)) <= 0)
    return r;
  u->has_oom_kill = cg_kv_u64(text, "oom_kill", &u->oom_kill);
  u->has_oom = !v1 && cg_kv_u64(text, "oom", &u->oom);
  return 0;
}

static int read_pids(const struct cgroup_paths *p, struct cgroup_usage *u, nook_error_t *err)
{
  const char *d = dir_for(p, "pids");
  int r = d ? cg_stats_u64(NULL, d, "pids.peak", 0, &u->pids_peak, err) : 0;
  if (r < 0)
    return -1;
  u->has_pids_peak = r > 0;
  return 0;
}

/* v1: "8:0 Read 4096" lines (the closing "Total N" has no device);
 * v2: "8:0 rbytes=1 wbytes=2 ..." per device. */
static void sum_io(const char *text, bool v1, struct cgroup_usage *u)
{
  for (const char *l = text; *l;) {
    const char *end = strchrnul(l, '\n');
    unsigned maj, min;
    unsigned long long v;
    char op[16];
    int used = 0;
    if (v1 && sscanf(l, "%u:%u %15s %llu", &maj, &min, op, &v) == 4) {
      if (strcmp(op, "Read") == 0)
        u->io_read_bytes += v;
      else if (strcmp(op, "Write") == 0)
        u->io_write_bytes += v;
    } else if (!v1 && sscanf(l, "%u:%u%n", &maj, &min, &used) == 2) {
      const char *r = strstr(l + used, " rbytes="), *w = strstr(l + used, " wbytes=");
      if (r && r < end)
        u->io_read_bytes += strtoull(r + 8, NULL, 10);
      if (w && w < end)
        u->io_write_bytes += strtoull(w + 8, NULL, 10);
    }
    l = *end ? end + 1 : end;
  }
}

static int read_io(const struct cgroup_paths *p, struct cgroup_usage *u, nook_error_t *err)
{
  const char *d = dir_for(p, "blkio");
  if (d == NULL)
    return 0;
  bool v1 = is_v1(p, d);
  /* The throttle layer counts every bio whatever the scheduler (as
   * cg1_stats_blkio). */
  static const char *const v1_files[] = {"blkio.throttle.io_service_bytes_recursive",
                                         "blkio.throttle.io_service_bytes"};
  for (size_t i = 0; i < (v1 ? ARRAY_SIZE(v1_files) : 1); i++) {
    cleanup_free char *text = NULL;
    int r = cg_stats_read(NULL, d, v1 ? v1_files[i] : "io.stat", &text, err);
    if (r < 0)
      return -1;
    if (r > 0) {
      u->has_io = true;
      sum_io(text, v1, u);
      break;
    }
  }
  return 0;
}

int cgroup_usage(const struct cgroup_paths *p, struct cgroup_usage *out, nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  if (read_cpu(p, out, err) < 0 || read_memory(p, out, err) < 0 || read_pids(p, out, err) < 0 ||
      read_io(p, out, err) < 0) {
    memset(out, 0, sizeof(*out));
    return -1;
  }
  return 0;
}
