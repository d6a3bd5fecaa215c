/* Usage figures from cgroup v2 files, mapped onto runc's stats the way runc
 * maps them (usec -> ns; "max" -> UINT64_MAX; swap reported as memory plus
 * swap, like v1's memsw), plus what only v2 has: memory.peak, memory.events
 * and PSI. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../base/utils.h"

int cg2_stats_cpu(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                  nook_error_t *err)
{
  cleanup_free char *text = NULL;
  int r = cg_stats_read(of, dir, "cpu.stat", &text, err);
  if (r <= 0)
    return r;
  uint64_t v;
  s->has_cpu = true;
  if (cg_kv_u64(text, "usage_usec", &v))
    s->cpu_usage_total = v * 1000;
  if (cg_kv_u64(text, "user_usec", &v))
    s->cpu_usage_user = v * 1000;
  if (cg_kv_u64(text, "system_usec", &v))
    s->cpu_usage_kernel = v * 1000;
  /* Only with the cpu controller enabled. */
  cg_kv_u64(text, "nr_periods", &s->throttling_periods);
  cg_kv_u64(text, "nr_throttled", &s->throttled_periods);
  if (cg_kv_u64(text, "throttled_usec", &v))
    s->throttled_time = v * 1000;
  return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int cg2_stats_memory(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                     nook_error_t *err)
{
  int r = cg_stats_u64(of, dir, "memory.current", UINT64_MAX, &s->mem_usage, err);
  if (r <= 0)
    return r; /* no memory controller here */
  s->has_memory = true;
  if (cg_stats_u64(of, dir, "memory.max", UINT64_MAX, &s->mem_limit, err) < 0)
    return -1;
  if ((r = cg_stats_u64(of, dir, "memory.peak", UINT64_MAX, &s->mem_peak, err)) < 0)
    return -1;
  if (r > 0) {
    s->has_mem_peak = true;
    s->mem_max_usage = s->mem_peak;
  }
  cleanup_free char *text = NULL;
  if ((r = cg_stats_read(of, dir, "memory.stat", &text, err)) < 0)
    return -1;
  if (r > 0) {
    cg_kv_u64(text, "file", &s->mem_cache);
    cg_stats_raw(s, text);
  }
  free(text);
  text = NULL;
  if ((r = cg_stats_read(of, dir, "memory.events", &text, err)) < 0)
    return -1;
  if (r > 0) {
    s->has_mem_events = true;
    cg_kv_u64(text, "low", &s->ev_low);
    cg_kv_u64(text, "high", &s->ev_high);
    cg_kv_u64(text, "max", &s->ev_max);
    cg_kv_u64(text, "oom", &s->ev_oom);
    cg_kv_u64(text, "oom_kill", &s->ev_oom_kill);
    /* v1's failcnt counts hits of the limit: "max" events are that. */
    s->mem_failcnt = s->ev_max;
  }
  uint64_t swap_cur, swap_max;
  if ((r = cg_stats_u64(of, dir, "memory.swap.current", UINT64_MAX, &swap_cur, err)) < 0)
    return -1;
  if (r > 0) {
    if (cg_stats_u64(of, dir, "memory.swap.max", UINT64_MAX, &swap_max, err) < 0)
      return -1;
    s->swap_usage = sat_add(swap_cur, s->mem_usage);
    s->swap_limit = sat_add(swap_max, s->mem_limit);
  }
  return 0;
}

int cg2_stats_pids(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                   nook_error_t *err)
{
  int r = cg_stats_u64(of, dir, "pids.current", 0, &s->pids_current, err);
  if (r <= 0)
    return r;
  s->has_pids = true;
  if (cg_stats_u64(of, dir, "pids.max", 0, &s->pids_limit, err) < 0 ||
      (r = cg_stats_u64(of, dir, "pids.peak", 0, &s->pids_peak, err)) < 0)
    return -1;
  s->has_pids_peak = r > 0;
  return 0;
}

/* "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
int cg2_stats_io(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                 nook_error_t *err)
{
  cleanup_free char *text = NULL;
  int r = cg_stats_read(of, dir, "io.stat", &text, err);
  if (r <= 0)
    return r;
  for (char *l = text; *l;) {
    char *end = strchrnul(l, '\n');
    bool last = *end == '\0';
    *end = '\0';
    unsigned long long major, minor;
    int used;
    if (sscanf(l, "%llu:%llu%n", &major, &minor, &used) == 2) {
      char *save = NULL;
      for (char *tok = strtok_r(l + used, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        unsigned long long v;
        if (eq == NULL || parse_uint64(eq + 1, &v) < 0)
          continue;
        *eq = '\0';
        if (strcmp(tok, "rbytes") == 0)
          cg_stats_add_blkio(&s->io_service_bytes, &s->n_io_service_bytes, major, minor, "Read", v);
        else if (strcmp(tok, "wbytes") == 0)
          cg_stats_add_blkio(&s->io_service_bytes, &s->n_io_service_bytes, major, minor, "Write",
                             v);
        else if (strcmp(tok, "dbytes") == 0)
          cg_stats_add_blkio(&s->io_service_bytes, &s->n_io_service_bytes, major, minor, "Discard",
                             v);
        else if (strcmp(tok, "rios") == 0)
          cg_stats_add_blkio(&s->io_serviced, &s->n_io_serviced, major, minor, "Read", v);
        else if (strcmp(tok, "wios") == 0)
          cg_stats_add_blkio(&s->io_serviced, &s->n_io_serviced, major, minor, "Write", v);
        else if (strcmp(tok, "dios") == 0)
          cg_stats_add_blkio(&s->io_serviced, &s->n_io_serviced, major, minor, "Discard", v);
      }
    }
    l = last ? end : end + 1;
  }
  return 0;
}

int cg2_stats_hugetlb(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                      nook_error_t *err)
{
  for (char *const *sz = cg_hugetlb_sizes(); *sz; sz++) {
    char file[64];
    uint64_t usage;
    snprintf(file, sizeof(file), "hugetlb.%s.current", *sz);
    int r = cg_stats_u64(of, dir, file, UINT64_MAX, &usage, err);
    if (r < 0)
      return -1;
    if (r == 0)
      continue;
    struct cgroup_hugetlb_entry *h = cg_stats_add_hugetlb(s, *sz);
    h->usage = usage;
    /* v2 keeps no peak: `max` is the limit here (see cgroup.h). */
    snprintf(file, sizeof(file), "hugetlb.%s.max", *sz);
    if (cg_stats_u64(of, dir, file, UINT64_MAX, &h->max, err) < 0)
      return -1;
    cleanup_free char *text = NULL;
    snprintf(file, sizeof(file), "hugetlb.%s.events", *sz);
    if ((r = cg_stats_read(of, dir, file, &text, err)) < 0)
      return -1;
    if (r > 0)
      cg_kv_u64(text, "max", &h->failcnt);
  }
  return 0;
}

int cg2_stats_psi(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                  nook_error_t *err)
{
  static const char *const files[] = {"cpu.pressure", "memory.pressure", "io.pressure"};
  bool *has[] = {&s->has_psi_cpu, &s->has_psi_memory, &s->has_psi_io};
  struct cgroup_psi *some[] = {&s->psi_cpu_some, &s->psi_mem_some, &s->psi_io_some};
  struct cgroup_psi *full[] = {&s->psi_cpu_full, &s->psi_mem_full, &s->psi_io_full};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    cleanup_free char *text = NULL;
    int r = cg_stats_read(of, dir, files[i], &text, err);
    if (r < 0)
      return -1;
    /* psi=0 on the kernel command line: the files exist but say nothing. */
    *has[i] = r > 0 && cg_parse_psi(text, some[i], full[i]) > 0;
  }
  return 0;
}
