/* Usage figures from cgroup v1 files, in runc's units (ns, bytes). */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"

int cg1_stats_cpu(struct cgroup_open_files *of, const char *cpu_dir, const char *cpuacct_dir,
                  struct cgroup_stats *s, nook_error_t *err)
{
  int r;
  if (cpuacct_dir) {
    if ((r = cg_stats_u64(of, cpuacct_dir, "cpuacct.usage", 0, &s->cpu_usage_total, err)) < 0)
      return -1;
    s->has_cpu |= r > 0;
    cleanup_free char *text = NULL;
    if ((r = cg_stats_read(of, cpuacct_dir, "cpuacct.usage_percpu", &text, err)) < 0)
      return -1;
    for (char *p = text; r > 0 && p && *p;) {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(p, &end, 10);
      if (end == p || errno)
        break;
      s->cpu_percpu = xrealloc(s->cpu_percpu, (s->n_percpu + 1) * sizeof(uint64_t));
      s->cpu_percpu[s->n_percpu++] = v;
      p = end;
      while (*p == ' ' || *p == '\n')
        p++;
    }
    free(text);
    text = NULL;
    /* user and system time in USER_HZ ticks, as runc reports them. */
    if ((r = cg_stats_read(of, cpuacct_dir, "cpuacct.stat", &text, err)) < 0)
      return -1;
    uint64_t user, sys;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
      hz = 100;
    if (r > 0 && cg_kv_u64(text, "user", &user))
      s->cpu_usage_user = user * (1000000000ULL / (uint64_t)hz);
    if (r > 0 && cg_kv_u64(text, "system", &sys))
      s->cpu_usage_kernel = sys * (1000000000ULL / (uint64_t)hz);
  }
  if (cpu_dir) {
    cleanup_free char *text = NULL;
    if ((r = cg_stats_read(of, cpu_dir, "cpu.stat", &text, err)) < 0)
      return -1;
    if (r > 0) {
      s->has_cpu = true;
      cg_kv_u64(text, "nr_periods", &s->throttling_periods);
      cg_kv_u64(text, "nr_throttled", &s->throttled_periods);
      cg_kv_u64(text, "throttled_time", &s->throttled_time);
    }
  }
  return 0;
}

int cg1_stats_memory(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                     nook_error_t *err)
{
  int r = cg_stats_u64(of, dir, "memory.usage_in_bytes", UINT64_MAX, &s->mem_usage, err);
  if (r <= 0)
    return r;
  s->has_memory = true;
  static const struct {
    const char *file;
    size_t off;
  } nums[] = {
      {"memory.max_usage_in_bytes", offsetof(struct cgroup_stats, mem_max_usage)},
      {"memory.limit_in_bytes", offsetof(struct cgroup_stats, mem_limit)},
      {"memory.failcnt", offsetof(struct cgroup_stats, mem_failcnt)},
      /* As runc: v1's "swap" figures are memory+swap (memsw). */
      {"memory.memsw.usage_in_bytes", offsetof(struct cgroup_stats, swap_usage)},
      {"memory.memsw.limit_in_bytes", offsetof(struct cgroup_stats, swap_limit)},
  };
  for (size_t i = 0; i < ARRAY_SIZE(nums); i++)
    if (cg_stats_u64(of, dir, nums[i].file, UINT64_MAX, (uint64_t *)((char *)s + nums[i].off),
                     err) < 0)
      return -1;
  cleanup_free char *text = NULL;
  if ((r = cg_stats_read(of, dir, "memory.stat", &text, err)) < 0)
    return -1;
  if (r > 0) {
    cg_kv_u64(text, "cache", &s->mem_cache);
    cg_stats_raw(s, text);
  }
  return 0;
}

int cg1_stats_pids(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
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

/* "8:0 Read 4096" lines; the closing "Total N" has no device and is left
 * out, as runc does. */
static void parse_blkio(const char *text, struct cgroup_blkio_entry **v, size_t *n)
{
  for (const char *l = text; *l;) {
    const char *end = strchrnul(l, '\n');
    unsigned long long major, minor, value;
    char op[16];
    if (sscanf(l, "%llu:%llu %15s %llu", &major, &minor, op, &value) == 4)
      cg_stats_add_blkio(v, n, major, minor, op, value);
    l = *end ? end + 1 : end;
  }
}

int cg1_stats_blkio(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                    nook_error_t *err)
{
  /* The throttle layer counts every bio whatever the I/O scheduler; CFQ's
   * files are gone and BFQ's count only BFQ devices. */
  static const char *const bytes[] = {"blkio.throttle.io_service_bytes_recursive",
                                      "blkio.throttle.io_service_bytes"};
  static const char *const ios[] = {"blkio.throttle.io_serviced_recursive",
                                    "blkio.throttle.io_serviced"};
  for (size_t i = 0; i < 2; i++) {
    cleanup_free char *text = NULL;
    int r = cg_stats_read(of, dir, bytes[i], &text, err);
    if (r < 0)
      return -1;
    if (r > 0) {
      parse_blkio(text, &s->io_service_bytes, &s->n_io_service_bytes);
      break;
    }
  }
  for (size_t i = 0; i < 2; i++) {
    cleanup_free char *text = NULL;
    int r = cg_stats_read(of, dir, ios[i], &text, err);
    if (r < 0)
      return -1;
    if (r > 0) {
      parse_blkio(text, &s->io_serviced, &s->n_io_serviced);
      break;
    }
  }
  return 0;
}

int cg1_stats_hugetlb(struct cgroup_open_files *of, const char *dir, struct cgroup_stats *s,
                      nook_error_t *err)
{
  for (char *const *sz = cg_hugetlb_sizes(); *sz; sz++) {
    char file[64];
    uint64_t usage;
    snprintf(file, sizeof(file), "hugetlb.%s.usage_in_bytes", *sz);
    int r = cg_stats_u64(of, dir, file, UINT64_MAX, &usage, err);
    if (r < 0)
      return -1;
    if (r == 0)
      continue;
    struct cgroup_hugetlb_entry *h = cg_stats_add_hugetlb(s, *sz);
    h->usage = usage;
    snprintf(file, sizeof(file), "hugetlb.%s.max_usage_in_bytes", *sz);
    if (cg_stats_u64(of, dir, file, UINT64_MAX, &h->max, err) < 0)
      return -1;
    snprintf(file, sizeof(file), "hugetlb.%s.failcnt", *sz);
    if (cg_stats_u64(of, dir, file, UINT64_MAX, &h->failcnt, err) < 0)
      return -1;
  }
  return 0;
}
