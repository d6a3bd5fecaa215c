/* The v1 manager: every controller on its own v1 hierarchy; glue over the
 * v1 hierarchy operations (v1.c), the resource router and the v1 stats. */
#include "ctl.h"
#include "internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int v1_create(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                     nook_error_t *err)
{
  const struct cg_host *h;
  if (cg_host_get(&h, err) < 0 || cg_resolve(h, cgroups_path, id, out, err) < 0)
    return -1;
  /* Only v1 hierarchies, even where a v2 one exists (tests on hybrid). */
  out->mode = CGROUP_MODE_LEGACY;
  free(out->unified);
  out->unified = NULL;
  if (cg1_create_all(out, h, err) < 0) {
    cgroup_paths_clear(out);
    return -1;
  }
  return 0;
}

static int v1_enter(const struct cgroup_paths *p, pid_t pid, nook_error_t *err)
{
  return cg1_enter_all(p, pid, err);
}

static int v1_apply(const struct cgroup_paths *p, const struct oci_resources *r, nook_error_t *err)
{
  return cg1_apply(p, r, NULL, err);
}

static int v1_pids(const struct cgroup_paths *p, pid_t **out, size_t *n, nook_error_t *err)
{
  const char *d = cg1_procs_dir(p);
  if (d == NULL)
    return nook_error(err, 0, "no cgroup to list processes from");
  return cg_read_pids(d, out, n, err);
}

static int v1_kill(const struct cgroup_paths *p, int sig, nook_error_t *err)
{
  const char *d = cg1_procs_dir(p);
  if (d == NULL)
    return nook_error(err, 0, "no cgroup to signal processes in");
  const char *freezer = cg_v1_dir(p, "freezer");
  if (sig != SIGKILL || freezer == NULL)
    return cg_signal_procs(d, sig, freezer, err);
  /* A sweep alone races with fork (a fork bomb outruns it up to its pids
   * limit): frozen, nothing forks, so one sweep reaches every process, and
   * the thaw in cg_signal_procs lets them act on the SIGKILL.  A freeze
   * that fails (timed out, thawed again) still leaves the sweep loop.  An
   * empty cgroup (a job whose init took everything along) needs none. */
  nook_error_t ignored = NULL;
  pid_t *pids = NULL;
  size_t n = 1;
  if (cg_read_pids(d, &pids, &n, &ignored) < 0)
    nook_error_free(&ignored);
  free(pids);
  if (n == 0)
    return 0;
  bool froze = cg1_freeze(freezer, true, &ignored) == 0;
  if (!froze)
    nook_error_free(&ignored);
  int r = cg_signal_procs(d, sig, freezer, err);
  /* cg_signal_procs thaws only a cgroup it found processes in: one whose
   * last processes exited before the freeze took hold would stay FROZEN,
   * and a cgroup nook did not make outlives the container (the next
   * process put in it would never run). */
  if (froze && cg_write(freezer, "freezer.state", "THAWED", &ignored) < 0)
    nook_error_free(&ignored);
  return r;
}

static int v1_freeze(const struct cgroup_paths *p, bool frozen, nook_error_t *err)
{
  const char *d = cg_v1_dir(p, "freezer");
  if (d == NULL)
    return nook_error(err, 0, "cannot %s: the freezer cgroup controller is not mounted",
                      frozen ? "pause" : "resume");
  return cg1_freeze(d, frozen, err);
}

static int v1_frozen(const struct cgroup_paths *p, bool *out, nook_error_t *err)
{
  const char *d = cg_v1_dir(p, "freezer");
  *out = false;
  return d ? cg1_frozen(d, out, err) : 0;
}

static int v1_stats(const struct cgroup_paths *p, struct cgroup_stats *s, nook_error_t *err)
{
  memset(s, 0, sizeof(*s));
  const char *d;
  if ((cg_v1_dir(p, "cpu") || cg_v1_dir(p, "cpuacct")) &&
      cg1_stats_cpu(p->keep_open, cg_v1_dir(p, "cpu"), cg_v1_dir(p, "cpuacct"), s, err) < 0)
    goto fail;
  if ((d = cg_v1_dir(p, "memory")) && cg1_stats_memory(p->keep_open, d, s, err) < 0)
    goto fail;
  if ((d = cg_v1_dir(p, "pids")) && cg1_stats_pids(p->keep_open, d, s, err) < 0)
    goto fail;
  if ((d = cg_v1_dir(p, "blkio")) && cg1_stats_blkio(p->keep_open, d, s, err) < 0)
    goto fail;
  if ((d = cg_v1_dir(p, "hugetlb")) && cg1_stats_hugetlb(p->keep_open, d, s, err) < 0)
    goto fail;
  return 0;
fail:
  cgroup_stats_clear(s);
  return -1;
}

static int v1_oom_notify_fd(const struct cgroup_paths *p, nook_error_t *err)
{
  const char *d = cg_v1_dir(p, "memory");
  if (d == NULL)
    return nook_error(err, 0, "no OOM notification: the memory cgroup controller is not mounted");
  return cg1_oom_notify_fd(d, err);
}

static int v1_destroy(const struct cgroup_paths *p, nook_error_t *err)
{
  return cg1_destroy_all(p, err);
}

const struct cgroup_manager cg_v1_manager = {
    .name = "v1",
    .create = v1_create,
    .enter = v1_enter,
    .apply = v1_apply,
    .pids = v1_pids,
    .kill = v1_kill,
    .freeze = v1_freeze,
    .frozen = v1_frozen,
    .stats = v1_stats,
    .oom_notify_fd = v1_oom_notify_fd,
    .destroy = v1_destroy,
};
