/* The cpu controller: v1's cpu.shares, CFS and realtime files, v2's
 * cpu.weight, cpu.max and cpu.max.burst; shares and burst checks and the
 * shares to weight conversion they share. */
#include "ctl.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/utils.h"

bool cg_cpu_set(const struct oci_resources *r)
{
  const struct oci_cpu *c = &r->cpu;
  return r->has_cpu && ((c->has_shares && c->shares != 0) || (c->has_quota && c->quota != 0) ||
                        (c->has_period && c->period != 0) || c->has_burst ||
                        c->has_realtime_runtime || c->has_realtime_period || c->has_idle);
}

/* cpu.burst above a positive cpu.quota: the kernel would refuse it midway. */
static int cg_check_burst(const struct oci_cpu *c, nook_error_t *err)
{
  int64_t quota = c->has_quota ? c->quota : 0;
  if (c->has_burst && quota > 0 && c->burst > (uint64_t)quota)
    return nook_error(err, 0, "linux.resources.cpu.burst: %llu is above cpu.quota %lld",
                      (unsigned long long)c->burst, (long long)quota);
  return 0;
}

static int cg_check_shares(uint64_t shares, nook_error_t *err)
{
  /* The kernel silently clamps cpu.shares to [2, 262144]; runc reads the
   * value back and fails on a mismatch.  Checking the range here gives the
   * same answer without the extra read. */
  if (shares < 2)
    return nook_error(err, 0, "linux.resources.cpu.shares: %llu is below the minimum 2",
                      (unsigned long long)shares);
  if (shares > 262144)
    return nook_error(err, 0, "linux.resources.cpu.shares: %llu is above the maximum 262144",
                      (unsigned long long)shares);
  return 0;
}

/* runc 1.1's linear map, not crun's newer quadratic one: the same config
 * then gives the same cpu.weight under nook as under runc (which docker,
 * podman and containerd were tested against), and shares 1024, the default,
 * gives weight 39 rather than crun's 100.  Integer maths, as runc. */
uint64_t cg_shares_to_weight(uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

/* ---- v1 ---- */

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

/* ---- v2 ---- */

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
    if (cg_set(dir, "cpu.weight", buf, "linux.resources.cpu.shares", CG2_HINT("cpu"), err) < 0)
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
               quota != 0 ? "linux.resources.cpu.quota" : "linux.resources.cpu.period",
               CG2_HINT("cpu"), err) < 0)
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
