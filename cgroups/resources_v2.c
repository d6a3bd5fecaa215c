/* linux.resources on cgroup v2 (pure v2, and the unified hierarchy of a
 * hybrid host).  Fields with no v2 equivalent are errors unless their value
 * is what v2 does anyway. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/utils.h"

static const char *hint_for(const char *controller, char *buf, size_t size)
{
  snprintf(buf, size, "is the %s controller enabled in the parent's cgroup.subtree_control?",
           controller);
  return buf;
}

#define HINT(c) hint_for(c, hint, sizeof(hint))

static int check_mem_value(const char *field, int64_t v, nook_error_t *err)
{
  if (v < -1)
    return nook_error(err, 0,
                      "linux.resources.memory.%s: invalid value %lld (use -1 for unlimited)", field,
                      (long long)v);
  return 0;
}

/* Memory fields cgroup v2 has no file for. */
static int memory_v1_only(const struct oci_memory *m, nook_error_t *err)
{
  /* NOT RECOMMENDED in the spec, and ignored by runc and crun on v2: a
   * warning, not a refused container. */
  if (m->has_kernel && m->kernel != 0 && m->kernel != -1)
    nook_warn("linux.resources.memory.kernel: cgroup v2 has no kernel memory limit (no "
              "memory.kmem.limit_in_bytes); kernel memory counts against memory.max, not applied");
  if (m->has_kernel_tcp && m->kernel_tcp != 0 && m->kernel_tcp != -1)
    nook_warn("linux.resources.memory.kernelTCP: cgroup v2 has no TCP buffer limit (no "
              "memory.kmem.tcp.limit_in_bytes); it counts against memory.max, not applied");
  if (m->has_swappiness)
    return nook_error(err, 0,
                      "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness "
                      "(no memory.swappiness)");
  if (m->has_disable_oom_killer && m->disable_oom_killer)
    return nook_error(err, 0,
                      "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM "
                      "killer (no memory.oom_control); memory.oom.group and memory.high are the "
                      "v2 tools");
  if (m->has_use_hierarchy && !m->use_hierarchy)
    return nook_error(err, 0,
                      "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical "
                      "(no memory.use_hierarchy)");
  return 0;
}

int cg2_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err)
{
  /* runc semantics: 0 is "not set", -1 is unlimited; swap is memory+swap as
   * on v1 and becomes memory.swap.max = swap - limit. */
  int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
  int64_t res = m->has_reservation ? m->reservation : 0;
  char hint[128];
  if (check_mem_value("limit", limit, err) < 0 || check_mem_value("swap", swap, err) < 0 ||
      check_mem_value("reservation", res, err) < 0 || memory_v1_only(m, err) < 0)
    return -1;
  char buf[24];
  const char *swap_val = NULL;
  if (limit == -1 && swap == 0) {
    swap_val = "max"; /* unlimited memory: unlimited swap too, as v1 */
  } else if (swap == -1) {
    swap_val = "max";
  } else if (swap > 0) {
    if (limit <= 0)
      return nook_error(err, 0, "linux.resources.memory.swap: a swap limit needs a memory limit");
    if (swap < limit)
      return nook_error(err, 0,
                        "linux.resources.memory.swap: %lld is below memory.limit %lld (swap "
                        "counts memory plus swap)",
                        (long long)swap, (long long)limit);
    snprintf(buf, sizeof(buf), "%lld", (long long)(swap - limit));
    swap_val = buf;
  }
  /* v2 does not refuse a limit below usage: it reclaims, then OOM-kills. */
  if (m->has_check_before_update && m->check_before_update &&
      cg_check_before_update(dir, "memory.current", limit, err) < 0)
    return -1;
  if (swap_val) {
    int r = cg_set(dir, "memory.swap.max", swap_val, "linux.resources.memory.swap",
                   "swap accounting disabled?", err);
    /* No swap accounting: "max" and "0" ask for what the host does anyway. */
    if (r < 0 && !(r == -ENOENT && (strcmp(swap_val, "max") == 0 || strcmp(swap_val, "0") == 0)))
      return -1;
    if (r < 0)
      nook_error_free(err);
  }
  if (limit != 0 && cg_set(dir, "memory.max", cg_limit_str(limit, buf),
                           "linux.resources.memory.limit", HINT("memory"), err) < 0)
    return -1;
  if (res != 0 && cg_set(dir, "memory.low", cg_limit_str(res, buf),
                         "linux.resources.memory.reservation", HINT("memory"), err) < 0)
    return -1;
  return 0;
}

int cg2_apply_cpu(const char *dir, const struct oci_cpu *c, nook_error_t *err)
{
  char buf[64], hint[128];
  if ((c->has_realtime_runtime && c->realtime_runtime != 0) ||
      (c->has_realtime_period && c->realtime_period != 0))
    return nook_error(err, 0,
                      "linux.resources.cpu.%s: cgroup v2 has no realtime group scheduling (no "
                      "cpu.rt_runtime_us / cpu.rt_period_us)",
                      c->has_realtime_runtime && c->realtime_runtime != 0 ? "realtimeRuntime"
                                                                          : "realtimePeriod");
  if (c->has_shares && c->shares != 0) {
    if (cg_check_shares(c->shares, err) < 0)
      return -1;
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cg_shares_to_weight(c->shares));
    if (cg_set(dir, "cpu.weight", buf, "linux.resources.cpu.shares", HINT("cpu"), err) < 0)
      return -1;
  }
  int64_t quota = c->has_quota ? c->quota : 0;
  uint64_t period = c->has_period ? c->period : 0;
  const char *bf = "linux.resources.cpu.burst";
  if (cg_check_burst(c, err) < 0)
    return -1;
  /* burst <= quota must hold after each write: burst first, unless it
   * grows past the old quota (EINVAL); then after cpu.max. */
  bool burst_pending = false;
  if (c->has_burst) {
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)c->burst);
    int r = cg_set(dir, "cpu.max.burst", buf, bf, "CPU bandwidth burst needs Linux 5.14", err);
    if (r == -ENOENT && c->burst == 0) {
      nook_error_free(err);
    } else if (r == -EINVAL && quota != 0) {
      nook_error_free(err);
      burst_pending = true;
    } else if (r < 0) {
      return -1;
    }
  }
  if (quota != 0 || period != 0) {
    int n = quota > 0 ? snprintf(buf, sizeof(buf), "%lld", (long long)quota)
                      : snprintf(buf, sizeof(buf), "max");
    if (period != 0)
      snprintf(buf + n, sizeof(buf) - (size_t)n, " %llu", (unsigned long long)period);
    if (cg_set(dir, "cpu.max", buf,
               quota != 0 ? "linux.resources.cpu.quota" : "linux.resources.cpu.period", HINT("cpu"),
               err) < 0)
      return -1;
  }
  if (burst_pending) {
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)c->burst);
    if (cg_set(dir, "cpu.max.burst", buf, bf, NULL, err) < 0)
      return -1;
  }
  if (c->has_idle) {
    snprintf(buf, sizeof(buf), "%lld", (long long)c->idle);
    int r = cg_set(dir, "cpu.idle", buf, "linux.resources.cpu.idle",
                   "SCHED_IDLE for cgroups needs Linux 5.15", err);
    if (r == -ENOENT && c->idle == 0)
      nook_error_free(err);
    else if (r < 0)
      return -1;
  }
  return 0;
}

int cg2_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err)
{
  char hint[128];
  if (c->cpus && *c->cpus &&
      cg_set(dir, "cpuset.cpus", c->cpus, "linux.resources.cpu.cpus", HINT("cpuset"), err) < 0)
    return -1;
  if (c->mems && *c->mems &&
      cg_set(dir, "cpuset.mems", c->mems, "linux.resources.cpu.mems", HINT("cpuset"), err) < 0)
    return -1;
  return 0;
}

int cg2_apply_pids(const char *dir, int64_t limit, nook_error_t *err)
{
  /* runtime-spec 1.3: -1 (any negative) is "max"; 0 is a real limit. */
  char buf[24], hint[128];
  return cg_set(dir, "pids.max", cg_limit_str(limit, buf), "linux.resources.pids.limit",
                HINT("pids"), err);
}

/* ---- io ---- */

/* BFQ's io.bfq.weight takes v1's scale (1-1000) as is; io.weight (the
 * io.cost controller) gets runc's conversion to 1-10000. */
static int io_weight(const char *dir, const char *dev, uint16_t weight, const char *field,
                     nook_error_t *err)
{
  char buf[64], hint[128];
  snprintf(buf, sizeof(buf), "%s%s%u", dev ? dev : "", dev ? " " : "", weight);
  int r = cg_set(dir, "io.bfq.weight", buf, field, NULL, err);
  if (r != -ENOENT)
    return r;
  nook_error_free(err);
  snprintf(buf, sizeof(buf), "%s%s%llu", dev ? dev : "", dev ? " " : "",
           (unsigned long long)cg_blkio_to_io_weight(weight));
  return cg_set(dir, "io.weight", buf, field, HINT("io"), err);
}

struct io_max {
  int64_t major, minor;
  char line[160];
  size_t len;
};

static int io_max_add(struct io_max **v, size_t *n, const char *field, size_t i,
                      const struct oci_throttle_device *t, const char *key, nook_error_t *err)
{
  if (t->major < 0 || t->minor < 0 || t->major > 0xfffffff || t->minor > 0xfffffff)
    return nook_error(err, 0, "%s[%zu]: invalid device %lld:%lld", field, i, (long long)t->major,
                      (long long)t->minor);
  struct io_max *e = NULL;
  for (size_t k = 0; k < *n && e == NULL; k++)
    if ((*v)[k].major == t->major && (*v)[k].minor == t->minor)
      e = &(*v)[k];
  if (e == NULL) {
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    e = &(*v)[(*n)++];
    e->major = t->major;
    e->minor = t->minor;
    e->len = (size_t)snprintf(e->line, sizeof(e->line), "%lld:%lld", (long long)t->major,
                              (long long)t->minor);
  }
  /* A rate of 0 lifts the limit on v1; "max" does that on v2. */
  char val[24];
  if (t->rate == 0)
    strcpy(val, "max");
  else
    snprintf(val, sizeof(val), "%llu", (unsigned long long)t->rate);
  e->len += (size_t)snprintf(e->line + e->len, sizeof(e->line) - e->len, " %s=%s", key, val);
  return 0;
}

int cg2_apply_io(const char *dir, const struct oci_blockio *b, nook_error_t *err)
{
  char hint[128];
  if (b->has_leaf_weight && b->leaf_weight != 0)
    return nook_error(err, 0,
                      "linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight (no "
                      "blkio.leaf_weight)");
  if (b->has_weight && b->weight != 0 &&
      io_weight(dir, NULL, b->weight, "linux.resources.blockIO.weight", err) < 0)
    return -1;
  const char *wf = "linux.resources.blockIO.weightDevice";
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct oci_weight_device *w = &b->weight_device[i];
    if (w->major < 0 || w->minor < 0 || w->major > 0xfffffff || w->minor > 0xfffffff)
      return nook_error(err, 0, "%s[%zu]: invalid device %lld:%lld", wf, i, (long long)w->major,
                        (long long)w->minor);
    if (w->has_leaf_weight && w->leaf_weight != 0)
      return nook_error(err, 0,
                        "%s[%zu].leafWeight: cgroup v2 has no leaf weight (no "
                        "blkio.leaf_weight_device)",
                        wf, i);
    char dev[48];
    snprintf(dev, sizeof(dev), "%lld:%lld", (long long)w->major, (long long)w->minor);
    if (w->has_weight && w->weight != 0 && io_weight(dir, dev, w->weight, wf, err) < 0)
      return -1;
  }
  /* All four throttles of a device go in one io.max line. */
  cleanup_free struct io_max *v = NULL;
  size_t n = 0;
  static const struct {
    const char *field, *key;
  } kinds[] = {{"linux.resources.blockIO.throttleReadBpsDevice", "rbps"},
               {"linux.resources.blockIO.throttleWriteBpsDevice", "wbps"},
               {"linux.resources.blockIO.throttleReadIOPSDevice", "riops"},
               {"linux.resources.blockIO.throttleWriteIOPSDevice", "wiops"}};
  const struct oci_throttle_device *lists[] = {b->throttle_read_bps, b->throttle_write_bps,
                                               b->throttle_read_iops, b->throttle_write_iops};
  size_t counts[] = {b->n_throttle_read_bps, b->n_throttle_write_bps, b->n_throttle_read_iops,
                     b->n_throttle_write_iops};
  for (size_t k = 0; k < 4; k++)
    for (size_t i = 0; i < counts[k]; i++)
      if (io_max_add(&v, &n, kinds[k].field, i, &lists[k][i], kinds[k].key, err) < 0)
        return -1;
  for (size_t i = 0; i < n; i++)
    if (cg_set(dir, "io.max", v[i].line, "linux.resources.blockIO.throttle*", HINT("io"), err) < 0)
      return -1;
  return 0;
}

/* ---- hugetlb, rdma ---- */

int cg2_apply_hugetlb(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  char hint[128];
  return cg_apply_hugetlb(dir, r, "max", "rsvd.max", HINT("hugetlb"), err);
}

int cg2_apply_rdma(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  char hint[128];
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct oci_rdma *d = &r->rdma[i];
    const char *name = d->device ? d->device : "";
    if (*name == '\0' || strpbrk(name, " \t\n/="))
      return nook_error(err, 0, "linux.resources.rdma: invalid device name `%s`", name);
    if (!d->has_hca_handles && !d->has_hca_objects)
      return nook_error(err, 0, "linux.resources.rdma[\"%s\"]: neither hcaHandles nor hcaObjects",
                        name);
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "%.100s", name);
    if (d->has_hca_handles)
      n += snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_handle=%u", d->hca_handles);
    if (d->has_hca_objects)
      snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_object=%u", d->hca_objects);
    if (cg_set(dir, "rdma.max", buf, "linux.resources.rdma", HINT("rdma"), err) < 0)
      return -1;
  }
  return 0;
}

/* ---- unified ---- */

int cg2_apply_unified(const char *dir, const struct oci_resources *r, bool hybrid,
                      nook_error_t *err)
{
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *key = r->unified[i].key, *val = r->unified[i].value ? r->unified[i].value : "";
    if (cg_unified_check_key(key, err) < 0)
      return -1;
    char field[160], ctl[64];
    snprintf(field, sizeof(field), "linux.resources.unified[\"%s\"]", key);
    const char *dot = strchr(key, '.');
    snprintf(ctl, sizeof(ctl), "%.*s", dot ? (int)(dot - key) : 0, key);
    int ret = cg_set(dir, key, val, field, NULL, err);
    if (ret == 0)
      continue;
    if (ret != -ENOENT)
      return -1;
    nook_error_free(err);
    /* Missing: the controller's files appear once it is enabled for the
     * cgroup.  Pure v2 enabled everything at create; a hybrid host enables
     * only what is asked for. */
    bool avail = ctl[0] && strcmp(ctl, "cgroup") != 0 && cg2_has_controller(ctl);
    if (hybrid && avail) {
      if (cg2_enable_controller(dir, ctl, err) < 0)
        return nook_error_wrap(err, "%s", field);
      if (cg_set(dir, key, val, field, NULL, err) < 0)
        return -1;
      continue;
    }
    bool is_ctl = ctl[0] && strcmp(ctl, "cgroup") != 0;
    if (hybrid && is_ctl)
      return nook_error(err, 0,
                        "%s: %s/%s does not exist: the %s controller is not on the cgroup v2 "
                        "hierarchy of this hybrid host (a cgroup v1 controller here, or none: set "
                        "it with the other linux.resources fields)",
                        field, dir, key, ctl);
    if (hybrid)
      return nook_error(err, 0,
                        "%s: %s/%s does not exist on this hybrid host's cgroup v2 hierarchy", field,
                        dir, key);
    return nook_error(err, 0, "%s: %s/%s does not exist (%s)", field, dir, key,
                      avail    ? "not a file of this kernel's cgroup v2"
                      : ctl[0] ? "is that controller available and enabled here?"
                               : "not a cgroup v2 file");
  }
  return 0;
}
