/* Unit properties for the systemd driver: the value model sent over D-Bus,
 * and linux.resources translated into properties where systemd has them,
 * following runc's table (its docs/systemd.md).  What systemd has no
 * property for is written to the cgroup files afterwards (manager_systemd.c),
 * as runc does; the values that do have one are written there too, so the
 * files say exactly what the config says even where systemd rounds. */
#include "ctl.h"
#include "systemd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/utils.h"

/* ---- the value model ---- */

void sdp_value_clear(struct sdp_value *v)
{
  if (v->sig && strchr("sog", v->sig[0]) != NULL)
    free(v->s);
  for (size_t i = 0; i < v->n; i++)
    sdp_value_clear(&v->items[i]);
  free(v->items);
  free(v->sig);
  memset(v, 0, sizeof(*v));
}

void sdp_list_clear(struct sdp_list *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].name);
    sdp_value_clear(&l->v[i].v);
  }
  free(l->v);
  memset(l, 0, sizeof(*l));
}

void sdp_add_value(struct sdp_list *l, const char *name, struct sdp_value *v)
{
  l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
  l->v[l->n].name = xstrdup(name);
  l->v[l->n].v = *v;
  l->n++;
  memset(v, 0, sizeof(*v));
}

void sdp_add_bool(struct sdp_list *l, const char *name, bool b)
{
  struct sdp_value v = {.sig = xstrdup("b"), .b = b};
  sdp_add_value(l, name, &v);
}

void sdp_add_u64(struct sdp_list *l, const char *name, uint64_t u)
{
  struct sdp_value v = {.sig = xstrdup("t"), .u = u};
  sdp_add_value(l, name, &v);
}

void sdp_add_str(struct sdp_list *l, const char *name, const char *s)
{
  struct sdp_value v = {.sig = xstrdup("s"), .s = xstrdup(s)};
  sdp_add_value(l, name, &v);
}

void sdp_add_bytes(struct sdp_list *l, const char *name, const uint8_t *b, size_t n)
{
  struct sdp_value v = {.sig = xstrdup("ay"), .items = xcalloc(n ? n : 1, sizeof(*v.items))};
  for (size_t i = 0; i < n; i++)
    v.items[v.n++] = (struct sdp_value){.sig = xstrdup("y"), .u = b[i]};
  sdp_add_value(l, name, &v);
}

void sdp_add_pids(struct sdp_list *l, const char *name, const pid_t *pids, size_t n)
{
  struct sdp_value v = {.sig = xstrdup("au"), .items = xcalloc(n ? n : 1, sizeof(*v.items))};
  for (size_t i = 0; i < n; i++)
    v.items[v.n++] = (struct sdp_value){.sig = xstrdup("u"), .u = (uint32_t)pids[i]};
  sdp_add_value(l, name, &v);
}

void sdp_add_device_allow(struct sdp_list *l, char *const *paths, char *const *perms, size_t n)
{
  struct sdp_value v = {.sig = xstrdup("a(ss)"), .items = xcalloc(n ? n : 1, sizeof(*v.items))};
  for (size_t i = 0; i < n; i++) {
    struct sdp_value *e = &v.items[v.n++];
    *e = (struct sdp_value){.sig = xstrdup("(ss)"), .items = xcalloc(2, sizeof(*e->items)), .n = 2};
    e->items[0] = (struct sdp_value){.sig = xstrdup("s"), .s = xstrdup(paths[i])};
    e->items[1] = (struct sdp_value){.sig = xstrdup("s"), .s = xstrdup(perms[i])};
  }
  sdp_add_value(l, "DeviceAllow", &v);
}

static void format_value(FILE *f, const struct sdp_value *v)
{
  switch (v->sig[0]) {
  case 'b':
    fputs(v->b ? "true" : "false", f);
    break;
  case 'y':
  case 'q':
  case 'u':
  case 't':
    fprintf(f, "%" PRIu64, v->u);
    break;
  case 'n':
  case 'i':
  case 'x':
    fprintf(f, "%" PRId64, v->i);
    break;
  case 'd':
    fprintf(f, "%g", v->d);
    break;
  case 's':
  case 'o':
  case 'g':
    fprintf(f, "'%s'", v->s);
    break;
  default: {
    bool tuple = v->sig[0] == '(';
    fputc(tuple ? '(' : '[', f);
    for (size_t i = 0; i < v->n; i++) {
      if (i)
        fputs(", ", f);
      format_value(f, &v->items[i]);
    }
    fputc(tuple ? ')' : ']', f);
  }
  }
}

char *sdp_format(const struct sdp_list *l)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    abort();
  for (size_t i = 0; i < l->n; i++) {
    fprintf(f, "%s=%s ", l->v[i].name, l->v[i].v.sig);
    format_value(f, &l->v[i].v);
    fputc('\n', f);
  }
  if (fclose(f) != 0)
    abort();
  return buf;
}

/* ---- linux.resources ---- */

/* systemd's CPU-set bytes: bit i of byte i/8 is CPU (or node) i. */
static int add_cpuset(struct sdp_list *l, const char *name, const char *field, const char *list,
                      nook_error_t *err)
{
  cpu_set_t set;
  if (cpu_list_parse(field, list, &set, err) < 0)
    return -1;
  uint8_t bytes[CPU_SETSIZE / 8];
  size_t n = 0;
  memset(bytes, 0, sizeof(bytes));
  for (size_t i = 0; i < CPU_SETSIZE; i++)
    if (CPU_ISSET(i, &set)) {
      bytes[i / 8] |= (uint8_t)(1u << (i % 8));
      n = i / 8 + 1;
    }
  if (n == 0)
    return nook_error(err, 0, "%s: empty list \"%s\"", field, list);
  sdp_add_bytes(l, name, bytes, n);
  return 0;
}

/* runc's addCPUQuota: CPUQuotaPerSecUSec is kept by systemd in whole
 * percent of a CPU, so a quota that is not is rounded up to the next 10 ms
 * per second, and *quota follows, so that the cpu.max nook writes is the
 * one systemd would write. */
static void add_quota(struct sdp_list *l, const struct sd_host *h, int64_t *quota, uint64_t period)
{
  if (period != 0 && h->version >= 242)
    sdp_add_u64(l, "CPUQuotaPeriodUSec", period);
  if (*quota == 0 && period == 0)
    return;
  uint64_t per_sec = UINT64_MAX; /* USEC_INFINITY: no quota */
  if (*quota > 0) {
    uint64_t p = period ? period : 100000;
    per_sec = (uint64_t)*quota * 1000000 / p;
    if (per_sec % 10000 != 0) {
      per_sec = (per_sec / 10000 + 1) * 10000;
      *quota = (int64_t)(per_sec * p / 1000000);
    }
  }
  sdp_add_u64(l, "CPUQuotaPerSecUSec", per_sec);
}

/* runc's swap rule on v2: memory.swap.max is memory+swap minus memory.
 * Returns false when there is nothing to set, or a value the cgroup files
 * refuse (their writer then says why). */
static bool swap_max(int64_t limit, int64_t swap, uint64_t *out)
{
  if (limit == -1 && swap == 0) {
    *out = UINT64_MAX;
    return true;
  }
  if (swap == 0)
    return false;
  if (swap == -1) {
    *out = UINT64_MAX;
    return true;
  }
  if (limit <= 0 || swap < limit)
    return false;
  *out = (uint64_t)(swap - limit);
  return true;
}

static uint64_t limit_u64(int64_t v)
{
  return v < 0 ? UINT64_MAX : (uint64_t)v;
}

/* ---- devices ----
 * nook's own filter (ebpf.c on v2, devices.allow/deny on v1) always
 * enforces the rules exactly; systemd gets them too, as DevicePolicy and
 * DeviceAllow, where its allow-list can say the same thing.  It cannot
 * when a deny rule carves something out of what is allowed, or for a
 * wildcard major with a fixed minor: systemd is then told to allow every
 * device (its filter and nook's both apply on v2, so nook's decides). */

struct dev_allow {
  char **paths, **perms;
  size_t n;
};

static void dev_allow_clear(struct dev_allow *d)
{
  for (size_t i = 0; i < d->n; i++) {
    free(d->paths[i]);
    free(d->perms[i]);
  }
  free(d->paths);
  free(d->perms);
  memset(d, 0, sizeof(*d));
}

static void dev_allow_push(struct dev_allow *d, char *path, const char *perms)
{
  d->paths = xrealloc(d->paths, (d->n + 1) * sizeof(char *));
  d->perms = xrealloc(d->perms, (d->n + 1) * sizeof(char *));
  d->paths[d->n] = path;
  d->perms[d->n] = xstrdup(perms);
  d->n++;
}

static bool access_overlaps(const char *a, const char *b)
{
  for (const char *p = a; *p; p++)
    if (strchr(b, *p))
      return true;
  return false;
}

/* Does the deny rule r take anything from what rules[0..n) allowed? */
static bool deny_overlaps(const struct oci_device_cgroup *rules, size_t n,
                          const struct oci_device_cgroup *r)
{
  const char *acc = r->access ? r->access : "rwm";
  for (size_t i = 0; i < n; i++) {
    const struct oci_device_cgroup *a = &rules[i];
    if (!a->allow || a->type != r->type)
      continue;
    bool major = a->major == -1 || r->major == -1 || a->major == r->major;
    bool minor = a->minor == -1 || r->minor == -1 || a->minor == r->minor;
    if (major && minor && access_overlaps(a->access ? a->access : "rwm", acc))
      return true;
  }
  return false;
}

/* The rules since the last `a` rule, as DeviceAllow entries; false when
 * systemd's allow-list cannot express them. */
static bool devices_allow_list(const struct oci_device_cgroup *rules, size_t n, int version,
                               bool *allow_all, struct dev_allow *out)
{
  size_t from = 0;
  *allow_all = false; /* nook's filter denies what no rule allows */
  for (size_t i = 0; i < n; i++)
    if (rules[i].type == 'a') {
      from = i + 1;
      *allow_all = rules[i].allow;
    }
  for (size_t i = from; i < n; i++) {
    const struct oci_device_cgroup *r = &rules[i];
    const char *acc = r->access && *r->access ? r->access : "rwm";
    if (!r->allow) {
      if (*allow_all || deny_overlaps(rules + from, i - from, r))
        return false;
      continue;
    }
    if (*allow_all)
      continue;
    const char *kind = r->type == 'b' ? "block" : "char";
    char *path;
    if (r->major == -1 && r->minor != -1)
      return false;
    if (r->major == -1)
      xasprintf(&path, "%s-*", kind);
    else if (r->minor == -1 && version >= 240)
      xasprintf(&path, "%s-%lld", kind, (long long)r->major);
    else if (r->minor == -1)
      return false;
    else
      xasprintf(&path, "/dev/%s/%lld:%lld", kind, (long long)r->major, (long long)r->minor);
    dev_allow_push(out, path, acc);
  }
  return true;
}

static void add_devices(struct sdp_list *l, const struct oci_resources *r, const struct sd_host *h)
{
  struct dev_allow d = {0};
  bool allow_all;
  /* An empty DeviceAllow first: it clears what the unit had (update). */
  sdp_add_device_allow(l, NULL, NULL, 0);
  if (!devices_allow_list(r->devices, r->n_devices, h->version, &allow_all, &d)) {
    dev_allow_clear(&d);
    allow_all = true;
    if (!h->v2)
      nook_warn("linux.resources.devices: systemd's DeviceAllow cannot express these rules "
                "(a deny rule inside what is allowed): nook writes them to the devices cgroup, "
                "but systemd would allow every device again when it re-applies the unit's "
                "settings (daemon-reload)");
  }
  sdp_add_str(l, "DevicePolicy", allow_all ? "auto" : "strict");
  if (!allow_all)
    sdp_add_device_allow(l, d.paths, d.perms, d.n);
  dev_allow_clear(&d);
}

/* ---- linux.resources.unified ---- */

static int parse_u64_or_max(const char *key, const char *v, uint64_t *out, nook_error_t *err)
{
  unsigned long long n;
  if (strcmp(v, "max") == 0) {
    *out = UINT64_MAX;
    return 0;
  }
  if (parse_uint64(v, &n) < 0)
    return nook_error(err, 0, "linux.resources.unified: \"%s\": invalid value \"%s\"", key, v);
  *out = n;
  return 0;
}

static const char *unified_value(const struct oci_resources *r, const char *key)
{
  for (size_t i = 0; i < r->n_unified; i++)
    if (r->unified[i].key && strcmp(r->unified[i].key, key) == 0)
      return r->unified[i].value;
  return NULL;
}

/* runc's unifiedResToSystemdProps: the keys systemd has properties for;
 * every key is written to its file afterwards anyway. */
static int add_unified(struct sdp_list *l, const struct oci_resources *r, const struct sd_host *h,
                       nook_error_t *err)
{
  static const struct {
    const char *key, *prop;
  } mem[] = {{"memory.high", "MemoryHigh"},
             {"memory.low", "MemoryLow"},
             {"memory.min", "MemoryMin"},
             {"memory.max", "MemoryMax"},
             {"memory.swap.max", "MemorySwapMax"}};
  const char *idle = unified_value(r, "cpu.idle");
  bool idle_set = idle && strcmp(idle, "1") == 0 && h->version >= 252;
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *k = r->unified[i].key, *v = r->unified[i].value ? r->unified[i].value : "";
    uint64_t n;
    while (*v == ' ' || *v == '\t' || *v == '\n')
      v++;
    cleanup_free char *val = xstrdup(v);
    for (size_t e = strlen(val); e > 0 && strchr(" \t\n", val[e - 1]); e--)
      val[e - 1] = '\0';
    if (cg_unified_check_key(k, err) < 0)
      return -1;
    if (strcmp(k, "cpu.idle") == 0) {
      /* CPUWeight=0 is systemd's (>= 252) way of asking for cpu.idle 1. */
      if (idle_set)
        sdp_add_u64(l, "CPUWeight", 0);
    } else if (strcmp(k, "cpu.weight") == 0) {
      if (idle_set)
        continue;
      if (parse_u64_or_max(k, val, &n, err) < 0)
        return -1;
      sdp_add_u64(l, "CPUWeight", n);
    } else if (strcmp(k, "cpu.max") == 0) {
      char quota_s[32] = "", period_s[32] = "", extra[2] = "";
      int got = sscanf(val, "%31s %31s %1s", quota_s, period_s, extra);
      unsigned long long q = 0, p = 100000;
      if (got < 1 || got > 2 || (strcmp(quota_s, "max") != 0 && parse_uint64(quota_s, &q) < 0) ||
          (got == 2 && parse_uint64(period_s, &p) < 0))
        return nook_error(err, 0, "linux.resources.unified: \"cpu.max\": invalid value \"%s\"",
                          val);
      int64_t quota = (int64_t)q;
      add_quota(l, h, &quota, p);
    } else if (strcmp(k, "cpuset.cpus") == 0 || strcmp(k, "cpuset.mems") == 0) {
      bool cpus = k[7] == 'c';
      if (h->version >= 244 && add_cpuset(l, cpus ? "AllowedCPUs" : "AllowedMemoryNodes",
                                          cpus ? "linux.resources.unified: \"cpuset.cpus\""
                                               : "linux.resources.unified: \"cpuset.mems\"",
                                          val, err) < 0)
        return -1;
    } else if (strcmp(k, "pids.max") == 0) {
      if (parse_u64_or_max(k, val, &n, err) < 0)
        return -1;
      sdp_add_u64(l, "TasksMax", n ? n : 1); /* systemd refuses 0 */
    } else if (strcmp(k, "memory.oom.group") == 0) {
      /* OOMPolicy exists from systemd 253, and only at the unit's start. */
      if (h->version >= 253 && (strcmp(val, "0") == 0 || strcmp(val, "1") == 0))
        sdp_add_str(l, "OOMPolicy", val[0] == '1' ? "kill" : "continue");
    } else {
      for (size_t m = 0; m < ARRAY_SIZE(mem); m++) {
        if (strcmp(k, mem[m].key) != 0)
          continue;
        if (parse_u64_or_max(k, val, &n, err) < 0)
          return -1;
        sdp_add_u64(l, mem[m].prop, n);
      }
    }
  }
  return 0;
}

int sdp_from_resources(const struct oci_resources *r, const struct sd_host *h, struct sdp_list *out,
                       struct oci_resources *r_out, nook_error_t *err)
{
  *r_out = *r;
  const struct oci_memory *m = &r->memory;
  const struct oci_cpu *c = &r->cpu;
  if (r->devices != NULL)
    add_devices(out, r, h);
  if (r->has_memory) {
    int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
    uint64_t sw;
    if (limit != 0)
      sdp_add_u64(out, h->v2 ? "MemoryMax" : "MemoryLimit", limit_u64(limit));
    if (h->v2 && m->has_reservation && m->reservation != 0)
      sdp_add_u64(out, "MemoryLow", limit_u64(m->reservation));
    if (h->v2 && swap_max(limit, swap, &sw))
      sdp_add_u64(out, "MemorySwapMax", sw);
  }
  if (r->has_cpu) {
    bool idle_set = h->v2 && c->has_idle && c->idle == 1 && h->version >= 252;
    if (idle_set)
      sdp_add_u64(out, "CPUWeight", 0);
    if (c->has_shares && c->shares != 0) {
      if (!h->v2)
        sdp_add_u64(out, "CPUShares", c->shares);
      else if (idle_set)
        nook_warn("linux.resources.cpu: systemd cannot take both a weight (shares) and "
                  "cpu.idle; CPUWeight says idle, cpu.weight gets the shares");
      else
        sdp_add_u64(out, "CPUWeight", cg_shares_to_weight(c->shares));
    }
    int64_t quota = c->has_quota ? c->quota : 0;
    add_quota(out, h, &quota, c->has_period ? c->period : 0);
    if (c->has_quota && quota != c->quota)
      r_out->cpu.quota = quota;
    if (h->version >= 244 && c->cpus && *c->cpus &&
        add_cpuset(out, "AllowedCPUs", "linux.resources.cpu.cpus", c->cpus, err) < 0)
      return -1;
    if (h->version >= 244 && c->mems && *c->mems &&
        add_cpuset(out, "AllowedMemoryNodes", "linux.resources.cpu.mems", c->mems, err) < 0)
      return -1;
  }
  if (r->has_pids) {
    int64_t v = r->pids_limit;
    sdp_add_u64(out, "TasksMax", v < 0 ? UINT64_MAX : v == 0 ? 1 : (uint64_t)v);
  }
  if (r->has_blockio && r->blockio.has_weight && r->blockio.weight != 0) {
    if (h->v2)
      sdp_add_u64(out, "IOWeight", cg_blkio_to_io_weight(r->blockio.weight));
    else
      sdp_add_u64(out, "BlockIOWeight", r->blockio.weight);
  }
  if (h->v2 && r->n_unified > 0 && add_unified(out, r, h, err) < 0)
    return -1;
  return 0;
}
