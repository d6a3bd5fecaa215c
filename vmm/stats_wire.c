/* CHAN_STATS's payload (stats_wire.h): a head with the has_* flags and the
 * arrays' lengths, the numbers, the PSI figures, then the arrays and
 * memory.stat's key/value strings, each NUL-terminated. */
#include "stats_wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../base/utils.h"

#define AT(s, off, type) ((type *)((char *)(s) + (off)))
#define FIELD(f) offsetof(struct cgroup_stats, f)

/* Every scalar of struct cgroup_stats, by kind; the arrays are below.  A
 * field added there must be added here: the size check says so. */
static const size_t bools[] = {
    FIELD(has_cpu),        FIELD(has_memory),     FIELD(has_mem_peak),
    FIELD(has_mem_events), FIELD(has_pids),       FIELD(has_pids_peak),
    FIELD(has_psi_cpu),    FIELD(has_psi_memory), FIELD(has_psi_io),
};
static const size_t u64s[] = {
    FIELD(cpu_usage_total),
    FIELD(cpu_usage_kernel),
    FIELD(cpu_usage_user),
    FIELD(throttling_periods),
    FIELD(throttled_periods),
    FIELD(throttled_time),
    FIELD(mem_usage),
    FIELD(mem_max_usage),
    FIELD(mem_limit),
    FIELD(mem_failcnt),
    FIELD(mem_cache),
    FIELD(swap_usage),
    FIELD(swap_limit),
    FIELD(mem_peak),
    FIELD(ev_low),
    FIELD(ev_high),
    FIELD(ev_max),
    FIELD(ev_oom),
    FIELD(ev_oom_kill),
    FIELD(pids_current),
    FIELD(pids_limit),
    FIELD(pids_peak),
};
static const size_t psis[] = {
    FIELD(psi_cpu_some), FIELD(psi_cpu_full), FIELD(psi_mem_some),
    FIELD(psi_mem_full), FIELD(psi_io_some),  FIELD(psi_io_full),
};
#undef FIELD

/* The scalars above, the five array pointers and their counts (x86-64 and
 * the other LP64 targets). */
_Static_assert(sizeof(struct cgroup_stats) == 504,
               "struct cgroup_stats changed: update stats_wire.c's tables");

struct head {
  uint32_t flags; /* bit i: bools[i] */
  uint32_t n_percpu, n_raw, n_service_bytes, n_serviced, n_hugetlb;
};

struct writer {
  char *p;
};

static void put(struct writer *w, const void *src, size_t n)
{
  if (n > 0)
    memcpy(w->p, src, n);
  w->p += n;
}

void stats_wire_encode(const struct cgroup_stats *s, char **buf, size_t *len)
{
  size_t n = sizeof(struct head) + ARRAY_SIZE(u64s) * sizeof(uint64_t) +
             ARRAY_SIZE(psis) * sizeof(struct cgroup_psi) + s->n_percpu * sizeof(uint64_t) +
             (s->n_io_service_bytes + s->n_io_serviced) * sizeof(struct cgroup_blkio_entry) +
             s->n_hugetlb * sizeof(struct cgroup_hugetlb_entry);
  for (size_t i = 0; i < s->n_mem_raw; i++)
    n += strlen(s->mem_raw[i].key) + 1 + strlen(s->mem_raw[i].value) + 1;
  struct head h = {.n_percpu = (uint32_t)s->n_percpu,
                   .n_raw = (uint32_t)s->n_mem_raw,
                   .n_service_bytes = (uint32_t)s->n_io_service_bytes,
                   .n_serviced = (uint32_t)s->n_io_serviced,
                   .n_hugetlb = (uint32_t)s->n_hugetlb};
  for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
    h.flags |= *AT(s, bools[i], const bool) ? 1u << i : 0;
  struct writer w = {xmalloc(n)};
  *buf = w.p;
  put(&w, &h, sizeof(h));
  for (size_t i = 0; i < ARRAY_SIZE(u64s); i++)
    put(&w, AT(s, u64s[i], const uint64_t), sizeof(uint64_t));
  for (size_t i = 0; i < ARRAY_SIZE(psis); i++)
    put(&w, AT(s, psis[i], const struct cgroup_psi), sizeof(struct cgroup_psi));
  put(&w, s->cpu_percpu, s->n_percpu * sizeof(uint64_t));
  put(&w, s->io_service_bytes, s->n_io_service_bytes * sizeof(struct cgroup_blkio_entry));
  put(&w, s->io_serviced, s->n_io_serviced * sizeof(struct cgroup_blkio_entry));
  put(&w, s->hugetlb, s->n_hugetlb * sizeof(struct cgroup_hugetlb_entry));
  for (size_t i = 0; i < s->n_mem_raw; i++) {
    put(&w, s->mem_raw[i].key, strlen(s->mem_raw[i].key) + 1);
    put(&w, s->mem_raw[i].value, strlen(s->mem_raw[i].value) + 1);
  }
  *len = n;
}

struct reader {
  const char *p, *end;
};

/* The next `count` items of `size` bytes (allocated in *out when out is
 * given, else copied to dst), or false when the payload is shorter. */
static bool take(struct reader *r, void *dst, size_t count, size_t size)
{
  if (count > (size_t)(r->end - r->p) / size)
    return false;
  if (count > 0)
    memcpy(dst, r->p, count * size);
  r->p += count * size;
  return true;
}

static bool take_array(struct reader *r, void **out, size_t *n, uint32_t count, size_t size)
{
  if (count == 0)
    return true;
  if (count > (size_t)(r->end - r->p) / size)
    return false;
  *out = xmalloc(count * size);
  *n = count;
  return take(r, *out, count, size);
}

static char *take_string(struct reader *r)
{
  const char *nul = memchr(r->p, '\0', (size_t)(r->end - r->p));
  if (nul == NULL)
    return NULL;
  char *s = xstrdup(r->p);
  r->p = nul + 1;
  return s;
}

int stats_wire_decode(const char *data, size_t len, struct cgroup_stats *s, nook_error_t *err)
{
  memset(s, 0, sizeof(*s));
  struct reader r = {data, data + len};
  struct head h;
  bool ok = take(&r, &h, 1, sizeof(h));
  for (size_t i = 0; ok && i < ARRAY_SIZE(bools); i++)
    *AT(s, bools[i], bool) = (h.flags >> i) & 1;
  for (size_t i = 0; ok && i < ARRAY_SIZE(u64s); i++)
    ok = take(&r, AT(s, u64s[i], uint64_t), 1, sizeof(uint64_t));
  for (size_t i = 0; ok && i < ARRAY_SIZE(psis); i++)
    ok = take(&r, AT(s, psis[i], struct cgroup_psi), 1, sizeof(struct cgroup_psi));
  ok = ok && take_array(&r, (void **)&s->cpu_percpu, &s->n_percpu, h.n_percpu, sizeof(uint64_t)) &&
       take_array(&r, (void **)&s->io_service_bytes, &s->n_io_service_bytes, h.n_service_bytes,
                  sizeof(struct cgroup_blkio_entry)) &&
       take_array(&r, (void **)&s->io_serviced, &s->n_io_serviced, h.n_serviced,
                  sizeof(struct cgroup_blkio_entry)) &&
       take_array(&r, (void **)&s->hugetlb, &s->n_hugetlb, h.n_hugetlb,
                  sizeof(struct cgroup_hugetlb_entry));
  /* Their fixed-size names are the guest's bytes: ended here. */
  for (size_t i = 0; ok && i < s->n_io_service_bytes; i++)
    s->io_service_bytes[i].op[sizeof(s->io_service_bytes[i].op) - 1] = '\0';
  for (size_t i = 0; ok && i < s->n_io_serviced; i++)
    s->io_serviced[i].op[sizeof(s->io_serviced[i].op) - 1] = '\0';
  for (size_t i = 0; ok && i < s->n_hugetlb; i++)
    s->hugetlb[i].page_size[sizeof(s->hugetlb[i].page_size) - 1] = '\0';
  /* Two strings a line: no more lines than half the bytes left. */
  if (ok && h.n_raw > 0) {
    ok = h.n_raw <= (size_t)(r.end - r.p) / 2;
    if (ok)
      s->mem_raw = xcalloc(h.n_raw, sizeof(*s->mem_raw));
    for (uint32_t i = 0; ok && i < h.n_raw; i++) {
      s->mem_raw[i].key = take_string(&r);
      s->mem_raw[i].value = s->mem_raw[i].key ? take_string(&r) : NULL;
      s->n_mem_raw = i + 1;
      ok = s->mem_raw[i].value != NULL;
    }
  }
  if (ok && r.p == r.end)
    return 0;
  cgroup_stats_clear(s);
  return nook_error(err, EPROTO, "the guest's stats: a malformed answer (%zu bytes)", len);
}
