/* The v2 manager: one directory in the unified hierarchy; glue over the
 * v2 hierarchy operations (v2.c), the resource router and the v2 stats. */
#include "ctl.h"
#include "internal.h"

#include <errno.h>
#include <string.h>

static int v2_create(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                     nook_error_t *err)
{
  const struct cg_host *h;
  if (cg_host_get(&h, err) < 0 || cg_resolve(h, cgroups_path, id, out, err) < 0)
    return -1;
  if (cg2_create(out->unified, strlen(h->unified.mountpoint), &out->unified_created, true, err) <
      0) {
    cgroup_paths_clear(out);
    return -1;
  }
  return 0;
}

static int v2_enter(const struct cgroup_paths *p, pid_t pid, nook_error_t *err)
{
  return cg_enter(p->unified, pid, err);
}

static int v2_apply(const struct cgroup_paths *p, const struct oci_resources *r, nook_error_t *err)
{
  return cg2_apply(p->unified, r, err);
}

static int v2_pids(const struct cgroup_paths *p, pid_t **out, size_t *n, nook_error_t *err)
{
  return cg_read_pids(p->unified, out, n, err);
}

static int v2_kill(const struct cgroup_paths *p, int sig, nook_error_t *err)
{
  return cg2_kill(p->unified, sig, err);
}

static int v2_freeze(const struct cgroup_paths *p, bool frozen, nook_error_t *err)
{
  return cg2_freeze(p->unified, frozen, err);
}

static int v2_frozen(const struct cgroup_paths *p, bool *out, nook_error_t *err)
{
  *out = false;
  int r = cg2_frozen(p->unified, err);
  if (r == -ENOENT) {
    /* No `frozen` key (Linux < 5.2, which cannot freeze on v2 either). */
    nook_error_free(err);
    return 0;
  }
  if (r < 0)
    return -1;
  *out = r == 1;
  return 0;
}

static int v2_stats(const struct cgroup_paths *p, struct cgroup_stats *s, nook_error_t *err)
{
  memset(s, 0, sizeof(*s));
  const char *d = p->unified;
  if (cg2_stats_cpu(p->keep_open, d, s, err) < 0 || cg2_stats_memory(p->keep_open, d, s, err) < 0 ||
      cg2_stats_pids(p->keep_open, d, s, err) < 0 || cg2_stats_io(p->keep_open, d, s, err) < 0 ||
      cg2_stats_hugetlb(p->keep_open, d, s, err) < 0 ||
      cg2_stats_psi(p->keep_open, d, s, err) < 0) {
    cgroup_stats_clear(s);
    return -1;
  }
  return 0;
}

static int v2_oom_notify_fd(const struct cgroup_paths *p, nook_error_t *err)
{
  return cg2_oom_notify_fd(p->unified, err);
}

static int v2_destroy(const struct cgroup_paths *p, nook_error_t *err)
{
  return p->unified ? cg2_destroy(p->unified, p->unified_created, err) : 0;
}

const struct cgroup_manager cg_v2_manager = {
    .name = "v2",
    .create = v2_create,
    .enter = v2_enter,
    .apply = v2_apply,
    .pids = v2_pids,
    .kill = v2_kill,
    .freeze = v2_freeze,
    .frozen = v2_frozen,
    .stats = v2_stats,
    .oom_notify_fd = v2_oom_notify_fd,
    .destroy = v2_destroy,
};
