#include "stats_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "../oci/json.h"

/* Go's omitempty: a zero number is left out. */
static void key_uint_oe(yajl_gen g, const char *key, uint64_t v)
{
  if (v != 0)
    jgen_key_uint(g, key, v);
}

/* The shortest text that reads back as v, as Go's encoding/json writes a
 * float64 (yajl_gen_double would print 0.1 as 0.10000000000000001). */
static void gen_double(yajl_gen g, double v)
{
  char buf[40];
  if (!isfinite(v))
    v = 0;
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof(buf), "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  yajl_gen_number(g, buf, strlen(buf));
}

/* runc 1.2's PSIStats: {"some":{...},"full":{...}}. */
static void gen_psi(yajl_gen g, const struct cgroup_psi *some, const struct cgroup_psi *full)
{
  const struct cgroup_psi *v[] = {some, full};
  const char *names[] = {"some", "full"};
  jgen_str(g, "psi");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
    jgen_str(g, names[i]);
    yajl_gen_map_open(g);
    jgen_str(g, "avg10");
    gen_double(g, v[i]->avg10);
    jgen_str(g, "avg60");
    gen_double(g, v[i]->avg60);
    jgen_str(g, "avg300");
    gen_double(g, v[i]->avg300);
    jgen_key_uint(g, "total", v[i]->total);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
}

static void gen_cpu(yajl_gen g, const struct cgroup_stats *s)
{
  jgen_str(g, "cpu");
  yajl_gen_map_open(g);
  jgen_str(g, "usage");
  yajl_gen_map_open(g);
  key_uint_oe(g, "total", s->cpu_usage_total);
  if (s->n_percpu > 0) {
    jgen_str(g, "percpu");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < s->n_percpu; i++)
      jgen_uint(g, s->cpu_percpu[i]);
    yajl_gen_array_close(g);
  }
  jgen_key_uint(g, "kernel", s->cpu_usage_kernel);
  jgen_key_uint(g, "user", s->cpu_usage_user);
  yajl_gen_map_close(g);
  jgen_str(g, "throttling");
  yajl_gen_map_open(g);
  key_uint_oe(g, "periods", s->throttling_periods);
  key_uint_oe(g, "throttledPeriods", s->throttled_periods);
  key_uint_oe(g, "throttledTime", s->throttled_time);
  yajl_gen_map_close(g);
  if (s->has_psi_cpu)
    gen_psi(g, &s->psi_cpu_some, &s->psi_cpu_full);
  yajl_gen_map_close(g);
}

/* runc's MemoryEntry: limit and failcnt always, usage and max when set. */
static void gen_mem_entry(yajl_gen g, const char *key, uint64_t limit, uint64_t usage, uint64_t max,
                          uint64_t failcnt)
{
  jgen_str(g, key);
  yajl_gen_map_open(g);
  jgen_key_uint(g, "limit", limit);
  key_uint_oe(g, "usage", usage);
  key_uint_oe(g, "max", max);
  jgen_key_uint(g, "failcnt", failcnt);
  yajl_gen_map_close(g);
}

static int cmp_kv(const void *a, const void *b)
{
  const struct oci_kv *x = *(const struct oci_kv *const *)a, *y = *(const struct oci_kv *const *)b;
  return strcmp(x->key, y->key);
}

/* memory.stat as runc's "raw": numbers only, keys sorted as Go sorts map
 * keys. */
static void gen_raw(yajl_gen g, const struct oci_kv *kv, size_t n)
{
  if (n == 0)
    return;
  const struct oci_kv **sorted = xmalloc(n * sizeof(*sorted));
  for (size_t i = 0; i < n; i++)
    sorted[i] = &kv[i];
  qsort(sorted, n, sizeof(*sorted), cmp_kv);
  jgen_str(g, "raw");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < n; i++) {
    const char *v = sorted[i]->value;
    if (sorted[i]->key == NULL || v == NULL)
      continue;
    /* The kernel's digits as they are when they are a canonical uint64
     * (what Go prints): no parse and print per figure. */
    size_t len = strspn(v, "0123456789");
    unsigned long long u;
    if (len > 0 && len < 20 && v[len] == '\0' && (v[0] != '0' || len == 1)) {
      jgen_str(g, sorted[i]->key);
      yajl_gen_number(g, v, len);
    } else if (parse_uint64(v, &u) == 0) {
      jgen_key_uint(g, sorted[i]->key, u);
    }
  }
  yajl_gen_map_close(g);
  free(sorted);
}

static void gen_memory(yajl_gen g, const struct cgroup_stats *s)
{
  jgen_str(g, "memory");
  yajl_gen_map_open(g);
  key_uint_oe(g, "cache", s->mem_cache);
  gen_mem_entry(g, "usage", s->mem_limit, s->mem_usage, s->mem_max_usage, s->mem_failcnt);
  gen_mem_entry(g, "swap", s->swap_limit, s->swap_usage, 0, 0);
  gen_raw(g, s->mem_raw, s->n_mem_raw);
  if (s->has_psi_memory)
    gen_psi(g, &s->psi_mem_some, &s->psi_mem_full);
  /* nook's additions (cgroup v2): memory.peak and memory.events. */
  if (s->has_mem_peak)
    jgen_key_uint(g, "peak", s->mem_peak);
  if (s->has_mem_events) {
    jgen_str(g, "events");
    yajl_gen_map_open(g);
    jgen_key_uint(g, "low", s->ev_low);
    jgen_key_uint(g, "high", s->ev_high);
    jgen_key_uint(g, "max", s->ev_max);
    jgen_key_uint(g, "oom", s->ev_oom);
    jgen_key_uint(g, "oom_kill", s->ev_oom_kill);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
}

static void gen_pids(yajl_gen g, const struct cgroup_stats *s)
{
  jgen_str(g, "pids");
  yajl_gen_map_open(g);
  key_uint_oe(g, "current", s->pids_current);
  key_uint_oe(g, "limit", s->pids_limit);
  if (s->has_pids_peak)
    jgen_key_uint(g, "peak", s->pids_peak);
  yajl_gen_map_close(g);
}

static void gen_blkio_list(yajl_gen g, const char *key, const struct cgroup_blkio_entry *v,
                           size_t n)
{
  if (n == 0)
    return;
  jgen_str(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++) {
    yajl_gen_map_open(g);
    key_uint_oe(g, "major", v[i].major);
    key_uint_oe(g, "minor", v[i].minor);
    if (v[i].op[0] != '\0')
      jgen_key_str(g, "op", v[i].op);
    key_uint_oe(g, "value", v[i].value);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_blkio(yajl_gen g, const struct cgroup_stats *s)
{
  jgen_str(g, "blkio");
  yajl_gen_map_open(g);
  gen_blkio_list(g, "ioServiceBytesRecursive", s->io_service_bytes, s->n_io_service_bytes);
  gen_blkio_list(g, "ioServicedRecursive", s->io_serviced, s->n_io_serviced);
  if (s->has_psi_io)
    gen_psi(g, &s->psi_io_some, &s->psi_io_full);
  yajl_gen_map_close(g);
}

static void gen_hugetlb(yajl_gen g, const struct cgroup_stats *s)
{
  jgen_str(g, "hugetlb");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < s->n_hugetlb; i++) {
    const struct cgroup_hugetlb_entry *h = &s->hugetlb[i];
    jgen_str(g, h->page_size);
    yajl_gen_map_open(g);
    key_uint_oe(g, "usage", h->usage);
    key_uint_oe(g, "max", h->max);
    jgen_key_uint(g, "failcnt", h->failcnt);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
}

void stats_gen_usage(yajl_gen g, const struct cgroup_stats *s)
{
  gen_cpu(g, s);
  gen_memory(g, s);
  gen_pids(g, s);
  gen_blkio(g, s);
  gen_hugetlb(g, s);
}

char *stats_event_json(const char *id, const struct cgroup_stats *s)
{
  return stats_event_json_vmm(id, s, NULL);
}

char *stats_event_json_vmm(const char *id, const struct cgroup_stats *s,
                           const struct cgroup_stats *vmm)
{
  yajl_gen g = jgen_new(NULL);
  yajl_gen_map_open(g);
  jgen_key_str(g, "type", "stats");
  jgen_key_str(g, "id", id);
  jgen_str(g, "data");
  yajl_gen_map_open(g);
  stats_gen_usage(g, s);
  /* Always present in runc's output; nook has neither to report. */
  jgen_str(g, "intel_rdt");
  yajl_gen_map_open(g);
  yajl_gen_map_close(g);
  jgen_str(g, "network_interfaces");
  yajl_gen_null(g);
  if (vmm != NULL) {
    jgen_str(g, "vmm");
    yajl_gen_map_open(g);
    stats_gen_usage(g, vmm);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  return jgen_finish(g);
}

char *oom_event_json(const char *id)
{
  yajl_gen g = jgen_new(NULL);
  yajl_gen_map_open(g);
  jgen_key_str(g, "type", "oom");
  jgen_key_str(g, "id", id);
  yajl_gen_map_close(g);
  return jgen_finish(g);
}
