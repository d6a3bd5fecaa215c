/* The hybrid manager (systemd's layout): every v1 controller on its own
 * hierarchy, plus a cgroup v2 mount at /sys/fs/cgroup/unified that usually
 * carries no controllers (or just the ones no v1 hierarchy claimed, hugetlb
 * on the host nook is built on).  The container gets a cgroup in all of
 * them.  v1 hierarchies enforce the resources; the unified one tracks
 * processes and gives what v1 does badly: cgroup.kill (atomic, race-free
 * against forks), cgroup.freeze with change notification, and
 * cgroup.events.  Those work there without any controller enabled.  Glue
 * over the v1.c and v2.c operations, falling back to the v1 manager. */
#include "ctl.h"
#include "internal.h"

#include <errno.h>
#include <string.h>

static int hybrid_create(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                         nook_error_t *err)
{
  const struct cg_host *h;
  if (cg_host_get(&h, err) < 0 || cg_resolve(h, cgroups_path, id, out, err) < 0)
    return -1;
  if (cg1_create_all(out, h, err) < 0)
    goto fail;
  /* No controller is enabled here: the unified side usually has none or
   * only ones nook does not set (hugetlb), and enabling means writing the
   * subtree_control of systemd's cgroups above the container on every
   * create.  apply enables a controller along the path when a resource
   * needs one that only the unified side has. */
  if (cg2_create(out->unified, strlen(h->unified.mountpoint), &out->unified_created, false, err) <
      0) {
    for (size_t i = 0; out->v1_dirs[i]; i++)
      cg_rollback(out->v1_dirs[i], out->v1_created[i]);
    goto fail;
  }
  return 0;
fail:
  cgroup_paths_clear(out);
  return -1;
}

static int hybrid_enter(const struct cgroup_paths *p, pid_t pid, nook_error_t *err)
{
  if (p->unified && cg_enter(p->unified, pid, err) < 0)
    return -1;
  return cg1_enter_all(p, pid, err);
}

static int hybrid_apply(const struct cgroup_paths *p, const struct oci_resources *r,
                        nook_error_t *err)
{
  return cg1_apply(p, r, p->unified, err);
}

/* State written by an older layout may lack the unified dir: fall back to
 * the v1 hierarchies then. */
static int hybrid_pids(const struct cgroup_paths *p, pid_t **out, size_t *n, nook_error_t *err)
{
  if (p->unified)
    return cg_read_pids(p->unified, out, n, err);
  return cgroup_manager_for(CGROUP_MODE_LEGACY)->pids(p, out, n, err);
}

static int hybrid_kill(const struct cgroup_paths *p, int sig, nook_error_t *err)
{
  if (p->unified)
    return cg2_kill(p->unified, sig, err);
  return cgroup_manager_for(CGROUP_MODE_LEGACY)->kill(p, sig, err);
}

static int hybrid_freeze(const struct cgroup_paths *p, bool frozen, nook_error_t *err)
{
  if (p->unified) {
    int r = cg2_freeze(p->unified, frozen, err);
    /* No cgroup.freeze before Linux 5.2: the v1 freezer does the job. */
    if (r != -ENOENT || cg_v1_dir(p, "freezer") == NULL)
      return r;
    nook_error_free(err);
  }
  return cgroup_manager_for(CGROUP_MODE_LEGACY)->freeze(p, frozen, err);
}

static int hybrid_frozen(const struct cgroup_paths *p, bool *out, nook_error_t *err)
{
  *out = false;
  if (p->unified) {
    int r = cg2_frozen(p->unified, err);
    if (r >= 0) {
      *out = r == 1;
      return 0;
    }
    if (r != -ENOENT)
      return -1;
    nook_error_free(err);
  }
  /* No cgroup.freeze (Linux < 5.2): hybrid_freeze used the v1 freezer. */
  return cgroup_manager_for(CGROUP_MODE_LEGACY)->frozen(p, out, err);
}

/* Each figure from where its controller is: a v1 hierarchy if one carries
 * it, else the unified hierarchy.  PSI exists only on the unified side. */
static int hybrid_stats(const struct cgroup_paths *p, struct cgroup_stats *s, nook_error_t *err)
{
  memset(s, 0, sizeof(*s));
  const char *u = p->unified, *d;
  int r = 0;
  if (cg_v1_dir(p, "cpu") || cg_v1_dir(p, "cpuacct"))
    r = cg1_stats_cpu(p->keep_open, cg_v1_dir(p, "cpu"), cg_v1_dir(p, "cpuacct"), s, err);
  else if (u)
    r = cg2_stats_cpu(p->keep_open, u, s, err);
  if (r == 0 && (d = cg_v1_dir(p, "memory")))
    r = cg1_stats_memory(p->keep_open, d, s, err);
  else if (r == 0 && u)
    r = cg2_stats_memory(p->keep_open, u, s, err);
  if (r == 0 && (d = cg_v1_dir(p, "pids")))
    r = cg1_stats_pids(p->keep_open, d, s, err);
  else if (r == 0 && u)
    r = cg2_stats_pids(p->keep_open, u, s, err);
  if (r == 0 && (d = cg_v1_dir(p, "blkio")))
    r = cg1_stats_blkio(p->keep_open, d, s, err);
  else if (r == 0 && u)
    r = cg2_stats_io(p->keep_open, u, s, err);
  if (r == 0 && (d = cg_v1_dir(p, "hugetlb")))
    r = cg1_stats_hugetlb(p->keep_open, d, s, err);
  else if (r == 0 && u)
    r = cg2_stats_hugetlb(p->keep_open, u, s, err);
  if (r == 0 && u)
    r = cg2_stats_psi(p->keep_open, u, s, err);
  if (r < 0) {
    cgroup_stats_clear(s);
    return -1;
  }
  return 0;
}

static int hybrid_oom_notify_fd(const struct cgroup_paths *p, nook_error_t *err)
{
  const char *d = cg_v1_dir(p, "memory");
  if (d)
    return cg1_oom_notify_fd(d, err);
  if (p->unified && cg2_has_controller("memory"))
    return cg2_oom_notify_fd(p->unified, err);
  return nook_error(err, 0, "no OOM notification: no memory cgroup controller on this host");
}

static int hybrid_destroy(const struct cgroup_paths *p, nook_error_t *err)
{
  return cg1_destroy_all(p, err);
}

const struct cgroup_manager cg_hybrid_manager = {
    .name = "hybrid",
    .create = hybrid_create,
    .enter = hybrid_enter,
    .apply = hybrid_apply,
    .pids = hybrid_pids,
    .kill = hybrid_kill,
    .freeze = hybrid_freeze,
    .frozen = hybrid_frozen,
    .stats = hybrid_stats,
    .oom_notify_fd = hybrid_oom_notify_fd,
    .destroy = hybrid_destroy,
};
