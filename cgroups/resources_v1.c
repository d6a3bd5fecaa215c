/* linux.resources on cgroup v1: one function per controller, each writing
 * only the files of the fields that are set, with runc's semantics (0 is
 * "not set" for limits, -1 unlimited; swap counts memory plus swap). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/utils.h"

/* ---- memory ---- */

static int check_mem_value(const char *field, int64_t v, nook_error_t *err)
{
  if (v < -1)
    return nook_error(err, 0,
                      "linux.resources.memory.%s: invalid value %lld (use -1 for unlimited)", field,
                      (long long)v);
  return 0;
}

#define SWAP_HINT "swap accounting disabled?"
#define KMEM_HINT "this kernel has no kernel memory limits"

/* kernel and kernelTCP.  0 is unset and -1 "unlimited", which is what a
 * kernel without the file does anyway.  Recent kernels keep
 * memory.kmem.limit_in_bytes but ignore writes to it (the limit reads back
 * as unlimited): that is as unsupported as a missing file.  The spec calls
 * these fields NOT RECOMMENDED, and runc and crun go on without them: so
 * does nook, with a warning. */
static int set_kmem(const char *dir, const char *file, int64_t v, const char *field,
                    nook_error_t *err)
{
  if (v == 0)
    return 0;
  if (v < -1)
    return nook_error(err, 0, "%s: invalid value %lld (use -1 for unlimited)", field, (long long)v);
  int r = cg_set_num(dir, file, v, field, KMEM_HINT, err);
  if (r == -ENOENT) {
    nook_error_free(err);
    if (v != -1)
      nook_warn("%s: %s/%s does not exist (%s): not applied", field, dir, file, KMEM_HINT);
    return 0;
  }
  if (r < 0 || v == -1)
    return r < 0 ? -1 : 0;
  char buf[32];
  unsigned long long got;
  if (cg_read(dir, file, buf, sizeof(buf), err) < 0)
    return nook_error_wrap(err, "%s", field);
  /* The kernel rounds down to whole pages; more than asked = ignored. */
  if (parse_uint64(buf, &got) == 0 && got > (unsigned long long)v)
    nook_warn("%s: %s/%s accepts %lld but the kernel ignores it (it reads back %llu): kernel "
              "memory limits are gone from this kernel, not applied",
              field, dir, file, (long long)v, got);
  return 0;
}

static int set_limits(const char *dir, int64_t limit, int64_t swap, bool swap_optional,
                      nook_error_t *err)
{
  const char *lf = "linux.resources.memory.limit", *sf = "linux.resources.memory.swap";
  if (limit != 0 && swap != 0) {
    /* memsw must stay >= limit after every single write: raise memsw first
     * when it grows past the current limit, else lower the limit first. */
    char cur[32];
    unsigned long long curv = 0;
    if (cg_read(dir, "memory.limit_in_bytes", cur, sizeof(cur), err) < 0)
      return nook_error_wrap(err, "%s", lf);
    parse_uint64(cur, &curv);
    if (swap == -1 || curv < (unsigned long long)swap) {
      int r = cg_set_num(dir, "memory.memsw.limit_in_bytes", swap, sf, SWAP_HINT, err);
      if (r < 0 && !(r == -ENOENT && swap_optional))
        return -1;
      if (r < 0)
        nook_error_free(err);
      return cg_set_num(dir, "memory.limit_in_bytes", limit, lf, NULL, err) < 0 ? -1 : 0;
    }
    if (cg_set_num(dir, "memory.limit_in_bytes", limit, lf, NULL, err) < 0 ||
        cg_set_num(dir, "memory.memsw.limit_in_bytes", swap, sf, SWAP_HINT, err) < 0)
      return -1;
    return 0;
  }
  if (limit != 0)
    return cg_set_num(dir, "memory.limit_in_bytes", limit, lf, NULL, err) < 0 ? -1 : 0;
  if (swap != 0) {
    int r = cg_set_num(dir, "memory.memsw.limit_in_bytes", swap, sf, SWAP_HINT, err);
    if (r < 0 && !(r == -ENOENT && swap_optional))
      return -1;
    if (r < 0)
      nook_error_free(err);
  }
  return 0;
}

int cg1_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err)
{
  int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
  int64_t res = m->has_reservation ? m->reservation : 0;
  if (check_mem_value("limit", limit, err) < 0 || check_mem_value("swap", swap, err) < 0 ||
      check_mem_value("reservation", res, err) < 0)
    return -1;
  if (limit > 0 && swap > 0 && swap < limit)
    return nook_error(err, 0,
                      "linux.resources.memory.swap: %lld is below memory.limit %lld (swap counts "
                      "memory plus swap)",
                      (long long)swap, (long long)limit);
  if (m->has_swappiness && m->swappiness > 100)
    return nook_error(err, 0, "linux.resources.memory.swappiness: %llu is not in 0-100",
                      (unsigned long long)m->swappiness);
  /* v1 itself refuses (EBUSY) a limit below usage after trying to reclaim;
   * checkBeforeUpdate asks for the refusal without the reclaim. */
  if (m->has_check_before_update && m->check_before_update &&
      cg_check_before_update(dir, "memory.usage_in_bytes", limit, err) < 0)
    return -1;
  /* Unlimited memory with swap unset means unlimited swap too.  An
   * unlimited swap request on a host without swap accounting asks for what
   * the host does anyway. */
  bool swap_optional = swap == -1 || (limit == -1 && swap == 0);
  if (limit == -1 && swap == 0)
    swap = -1;
  if (set_limits(dir, limit, swap, swap_optional, err) < 0)
    return -1;
  if (res != 0 && cg_set_num(dir, "memory.soft_limit_in_bytes", res,
                             "linux.resources.memory.reservation", NULL, err) < 0)
    return -1;
  if (m->has_kernel && set_kmem(dir, "memory.kmem.limit_in_bytes", m->kernel,
                                "linux.resources.memory.kernel", err) < 0)
    return -1;
  if (m->has_kernel_tcp && set_kmem(dir, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp,
                                    "linux.resources.memory.kernelTCP", err) < 0)
    return -1;
  if (m->has_swappiness && cg_set_num(dir, "memory.swappiness", (long long)m->swappiness,
                                      "linux.resources.memory.swappiness", NULL, err) < 0)
    return -1;
  if (m->has_disable_oom_killer) {
    int r = cg_set(dir, "memory.oom_control", m->disable_oom_killer ? "1" : "0",
                   "linux.resources.memory.disableOOMKiller", NULL, err);
    if (r == -ENOENT && !m->disable_oom_killer)
      nook_error_free(err); /* an OOM killer that cannot be disabled is enabled */
    else if (r < 0)
      return -1;
  }
  if (m->has_use_hierarchy) {
    int r = cg_set(dir, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0",
                   "linux.resources.memory.useHierarchy", NULL, err);
    if (r == -EINVAL && !m->use_hierarchy) {
      nook_error_free(err);
      return nook_error(err, EINVAL,
                        "linux.resources.memory.useHierarchy: false is refused by %s/"
                        "memory.use_hierarchy: this kernel accounts memory hierarchically only",
                        dir);
    }
    if (r == -ENOENT && m->use_hierarchy)
      nook_error_free(err); /* no file: always hierarchical */
    else if (r < 0)
      return -1;
  }
  return 0;
}

/* ---- cpu ---- */

#define CFS_HINT "CFS bandwidth control (CONFIG_CFS_BANDWIDTH) not in the kernel?"
#define RT_HINT "RT group scheduling (CONFIG_RT_GROUP_SCHED) not in the kernel?"

static int set_quota_period(const char *dir, int64_t quota, uint64_t period, nook_error_t *err)
{
  bool period_pending = false;
  if (period != 0) {
    int r = cg_set_num(dir, "cpu.cfs_period_us", (long long)period, "linux.resources.cpu.period",
                       CFS_HINT, err);
    /* A shorter period can be refused (EINVAL) while the old quota/period
     * ratio exceeds the parent's; setting the quota first fixes that. */
    if (r == -EINVAL && quota != 0) {
      nook_error_free(err);
      period_pending = true;
    } else if (r < 0) {
      return r;
    }
  }
  if (quota != 0) {
    int r = cg_set_num(dir, "cpu.cfs_quota_us", quota < 0 ? -1 : (long long)quota,
                       "linux.resources.cpu.quota", CFS_HINT, err);
    if (r < 0)
      return r;
    if (period_pending)
      return cg_set_num(dir, "cpu.cfs_period_us", (long long)period, "linux.resources.cpu.period",
                        CFS_HINT, err);
  }
  return 0;
}

static int read_num(const char *dir, const char *file, long long *out, nook_error_t *err)
{
  char buf[32];
  if (cg_read(dir, file, buf, sizeof(buf), err) < 0)
    return -1;
  if (parse_int64(buf, out) < 0)
    return nook_error(err, 0, "%s/%s: bad value `%s`", dir, file, buf);
  return 0;
}

/* A new cgroup has no realtime budget, and its parent must cover what a
 * child asks for.  The parents nook created itself (`created` - 1 levels
 * above the leaf) get enough, top-down; pre-existing ones are not nook's to
 * change. */
static int rt_fill_parents(const char *dir, unsigned created, long long runtime, long long period,
                           nook_error_t *err)
{
  for (int up = (int)created - 1; up >= 1; up--) {
    cleanup_free char *a = xstrdup(dir);
    for (int i = 0; i < up; i++)
      *strrchr(a, '/') = '\0';
    long long a_period, a_runtime;
    if (read_num(a, "cpu.rt_period_us", &a_period, err) < 0 ||
        read_num(a, "cpu.rt_runtime_us", &a_runtime, err) < 0)
      return -1;
    long long need = (runtime * a_period + period - 1) / period;
    if (a_runtime >= 0 && a_runtime < need &&
        cg_set_num(a, "cpu.rt_runtime_us", need,
                   "linux.resources.cpu.realtimeRuntime (the budget of a parent nook created)",
                   NULL, err) < 0)
      return -1;
  }
  return 0;
}

static int set_rt(const char *dir, const struct oci_cpu *c, unsigned created, nook_error_t *err)
{
  long long runtime = c->has_realtime_runtime ? c->realtime_runtime : 0;
  long long period = c->has_realtime_period ? (long long)c->realtime_period : 0;
  const char *rf = "linux.resources.cpu.realtimeRuntime";
  bool period_pending = false;
  if (period != 0) {
    int r = cg_set_num(dir, "cpu.rt_period_us", period, "linux.resources.cpu.realtimePeriod",
                       RT_HINT, err);
    if (r == -ENOENT && runtime == 0) {
      nook_error_free(err); /* no realtime budget asked for: nothing to time */
    } else if (r == -EINVAL && runtime != 0) {
      nook_error_free(err); /* below the current runtime: runtime first */
      period_pending = true;
    } else if (r < 0) {
      return -1;
    }
  }
  if (c->has_realtime_runtime) {
    int r = cg_set_num(dir, "cpu.rt_runtime_us", runtime, rf, RT_HINT, err);
    if (r == -ENOENT && runtime == 0) {
      nook_error_free(err);
    } else if ((r == -EINVAL || r == -EBUSY) && runtime > 0) {
      nook_error_free(err);
      if (created > 1) {
        long long leaf_period = period;
        if (leaf_period == 0 && read_num(dir, "cpu.rt_period_us", &leaf_period, err) < 0)
          return nook_error_wrap(err, "%s", rf);
        if (leaf_period <= 0)
          leaf_period = 1000000;
        if (rt_fill_parents(dir, created, runtime, leaf_period, err) < 0)
          return -1;
        r = cg_set_num(dir, "cpu.rt_runtime_us", runtime, rf, NULL, err);
        if (r == 0)
          goto runtime_done;
        nook_error_free(err);
      }
      return nook_error(err, -r,
                        "%s: %s/cpu.rt_runtime_us refuses %lld: the parent cgroups' "
                        "cpu.rt_runtime_us must leave room for it",
                        rf, dir, runtime);
    } else if (r < 0) {
      return -1;
    }
  }
runtime_done:
  if (period_pending && cg_set_num(dir, "cpu.rt_period_us", period,
                                   "linux.resources.cpu.realtimePeriod", RT_HINT, err) < 0)
    return -1;
  return 0;
}

int cg1_apply_cpu(const char *dir, const struct oci_cpu *c, unsigned created, nook_error_t *err)
{
  if (c->has_shares && c->shares != 0) {
    if (cg_check_shares(c->shares, err) < 0 ||
        cg_set_num(dir, "cpu.shares", (long long)c->shares, "linux.resources.cpu.shares", NULL,
                   err) < 0)
      return -1;
  }
  int64_t quota = c->has_quota ? c->quota : 0;
  uint64_t period = c->has_period ? c->period : 0;
  const char *bf = "linux.resources.cpu.burst";
  if (cg_check_burst(c, err) < 0)
    return -1;
  /* The kernel wants burst <= quota after every write: burst goes first
   * (it may shrink), unless it grows past the old quota; then it follows. */
  bool burst_pending = false;
  if (c->has_burst) {
    int r = cg_set_num(dir, "cpu.cfs_burst_us", (long long)c->burst, bf,
                       "CPU bandwidth burst needs Linux 5.14", err);
    if (r == -ENOENT && c->burst == 0) {
      nook_error_free(err);
    } else if (r == -EINVAL && quota != 0) {
      nook_error_free(err);
      burst_pending = true;
    } else if (r < 0) {
      return -1;
    }
  }
  if ((quota != 0 || period != 0) && set_quota_period(dir, quota, period, err) < 0)
    return -1;
  if (burst_pending && cg_set_num(dir, "cpu.cfs_burst_us", (long long)c->burst, bf, NULL, err) < 0)
    return -1;
  if ((c->has_realtime_runtime || c->has_realtime_period) && set_rt(dir, c, created, err) < 0)
    return -1;
  if (c->has_idle) {
    int r = cg_set_num(dir, "cpu.idle", (long long)c->idle, "linux.resources.cpu.idle",
                       "SCHED_IDLE for cgroups needs Linux 5.15", err);
    if (r == -ENOENT && c->idle == 0)
      nook_error_free(err);
    else if (r < 0)
      return -1;
  }
  return 0;
}

int cg1_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err)
{
  if (c->cpus && *c->cpus &&
      cg_set(dir, "cpuset.cpus", c->cpus, "linux.resources.cpu.cpus", NULL, err) < 0)
    return -1;
  if (c->mems && *c->mems &&
      cg_set(dir, "cpuset.mems", c->mems, "linux.resources.cpu.mems", NULL, err) < 0)
    return -1;
  return 0;
}

int cg1_apply_pids(const char *dir, int64_t limit, nook_error_t *err)
{
  /* runtime-spec 1.3: -1 (any negative) is "max"; 0 is a real limit. */
  char buf[24];
  return cg_set(dir, "pids.max", cg_limit_str(limit, buf), "linux.resources.pids.limit", NULL, err);
}

/* ---- blkio ---- */

/* CFQ's files (blkio.weight, ...) went with CFQ in Linux 5.0; BFQ has its
 * own (blkio.bfq.weight).  Write the first that exists. */
static int set_either(const char *dir, const char *f1, const char *f2, const char *val,
                      const char *field, nook_error_t *err)
{
  int r = cg_set(dir, f1, val, field, NULL, err);
  if (r != -ENOENT)
    return r;
  nook_error_free(err);
  r = cg_set(dir, f2, val, field, NULL, err);
  if (r != -ENOENT)
    return r;
  nook_error_free(err);
  return nook_error(err, 0,
                    "%s: neither %s/%s nor %s exists (no CFQ or BFQ group scheduling in this "
                    "kernel)",
                    field, dir, f1, f2);
}

static int check_dev(const char *field, size_t i, int64_t major, int64_t minor, nook_error_t *err)
{
  if (major < 0 || minor < 0 || major > 0xfffffff || minor > 0xfffffff)
    return nook_error(err, 0, "%s[%zu]: invalid device %lld:%lld", field, i, (long long)major,
                      (long long)minor);
  return 0;
}

static int throttle(const char *dir, const char *file, const char *field,
                    const struct oci_throttle_device *v, size_t n, nook_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    char buf[80];
    if (check_dev(field, i, v[i].major, v[i].minor, err) < 0)
      return -1;
    snprintf(buf, sizeof(buf), "%lld:%lld %llu", (long long)v[i].major, (long long)v[i].minor,
             (unsigned long long)v[i].rate);
    if (cg_set(dir, file, buf, field, "blk-throttle (CONFIG_BLK_DEV_THROTTLING) not in the kernel?",
               err) < 0)
      return -1;
  }
  return 0;
}

int cg1_apply_blkio(const char *dir, const struct oci_blockio *b, nook_error_t *err)
{
  char buf[80];
  if (b->has_weight && b->weight != 0) {
    snprintf(buf, sizeof(buf), "%u", b->weight);
    if (set_either(dir, "blkio.weight", "blkio.bfq.weight", buf, "linux.resources.blockIO.weight",
                   err) < 0)
      return -1;
  }
  if (b->has_leaf_weight && b->leaf_weight != 0) {
    snprintf(buf, sizeof(buf), "%u", b->leaf_weight);
    if (cg_set(dir, "blkio.leaf_weight", buf, "linux.resources.blockIO.leafWeight",
               "leaf weights were CFQ's, gone since Linux 5.0", err) < 0)
      return -1;
  }
  const char *wf = "linux.resources.blockIO.weightDevice";
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct oci_weight_device *w = &b->weight_device[i];
    if (check_dev(wf, i, w->major, w->minor, err) < 0)
      return -1;
    if (w->has_weight && w->weight != 0) {
      snprintf(buf, sizeof(buf), "%lld:%lld %u", (long long)w->major, (long long)w->minor,
               w->weight);
      if (set_either(dir, "blkio.weight_device", "blkio.bfq.weight_device", buf, wf, err) < 0)
        return -1;
    }
    if (w->has_leaf_weight && w->leaf_weight != 0) {
      snprintf(buf, sizeof(buf), "%lld:%lld %u", (long long)w->major, (long long)w->minor,
               w->leaf_weight);
      if (cg_set(dir, "blkio.leaf_weight_device", buf,
                 "linux.resources.blockIO.weightDevice "
                 "leafWeight",
                 "leaf weights were CFQ's, gone since Linux 5.0", err) < 0)
        return -1;
    }
  }
  if (throttle(dir, "blkio.throttle.read_bps_device",
               "linux.resources.blockIO.throttleReadBpsDevice", b->throttle_read_bps,
               b->n_throttle_read_bps, err) < 0 ||
      throttle(dir, "blkio.throttle.write_bps_device",
               "linux.resources.blockIO.throttleWriteBpsDevice", b->throttle_write_bps,
               b->n_throttle_write_bps, err) < 0 ||
      throttle(dir, "blkio.throttle.read_iops_device",
               "linux.resources.blockIO.throttleReadIOPSDevice", b->throttle_read_iops,
               b->n_throttle_read_iops, err) < 0 ||
      throttle(dir, "blkio.throttle.write_iops_device",
               "linux.resources.blockIO.throttleWriteIOPSDevice", b->throttle_write_iops,
               b->n_throttle_write_iops, err) < 0)
    return -1;
  return 0;
}

/* ---- hugetlb, network, rdma ---- */

int cg1_apply_hugetlb(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  return cg_apply_hugetlb(dir, r, "limit_in_bytes", "rsvd.limit_in_bytes", NULL, err);
}

int cg1_apply_net_cls(const char *dir, const struct oci_network_resources *n, nook_error_t *err)
{
  return cg_set_num(dir, "net_cls.classid", n->class_id, "linux.resources.network.classID", NULL,
                    err) < 0
             ? -1
             : 0;
}

int cg1_apply_net_prio(const char *dir, const struct oci_network_resources *n, nook_error_t *err)
{
  for (size_t i = 0; i < n->n_priorities; i++) {
    const char *name = n->priorities[i].name ? n->priorities[i].name : "";
    if (*name == '\0' || strlen(name) > 15 || strpbrk(name, " \t\n/"))
      return nook_error(err, 0, "linux.resources.network.priorities[%zu].name: invalid `%s`", i,
                        name);
    char buf[64];
    snprintf(buf, sizeof(buf), "%s %u", name, n->priorities[i].priority);
    if (cg_set(dir, "net_prio.ifpriomap", buf, "linux.resources.network.priorities", NULL, err) < 0)
      return -1;
  }
  return 0;
}

int cg1_apply_rdma(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  /* rdma.max reads the same on v1 and v2. */
  return cg2_apply_rdma(dir, r, err);
}
