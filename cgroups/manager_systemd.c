/* The systemd manager (--systemd-cgroup): the container's cgroup is a
 * transient scope that systemd makes over D-Bus, with the container's init
 * in it, Delegate=yes, and the resources systemd has properties for.  As in
 * runc, the cgroup files back it: everything in linux.resources is written
 * to them after the unit starts (what systemd has no property for, and the
 * rest again, to the exact value), and every operation on a live container
 * that only needs the files (enter, pids, kill, freeze, stats, OOM
 * notification) is the cgroupfs manager's for the host's mode, without
 * talking to systemd.  Only create, update and destroy do. */
#include "ctl.h"
#include "internal.h"
#include "systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/utils.h"

/* The cgroupfs manager for the files of p. */
static const struct cgroup_manager *fs_of(const struct cgroup_paths *p)
{
  return cgroup_manager_for(p->mode);
}

static struct sd_host sd_host_of(const struct cgroup_paths *p)
{
  /* A hybrid host's systemd uses the v1 controllers (MemoryLimit=, ...). */
  return (struct sd_host){.v2 = p->mode == CGROUP_MODE_UNIFIED, .version = sdbus_version()};
}

/* The dirs of the scope, whose cgroup is `path` below each hierarchy's root
 * (where systemd's root is); unit and slice are p's. */
static int resolve_at(const char *path, struct cgroup_paths *out, nook_error_t *err)
{
  const struct cg_host *h;
  if (cg_host_get(&h, err) < 0 || cg_resolve(h, path, NULL, out, err) < 0)
    return -1;
  return 0;
}

int cg_systemd_plan(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                    nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  /* The path's own errors first: they do not depend on the host. */
  struct sd_unit_name u;
  if (sd_unit_parse(cgroups_path, id, &u, err) < 0)
    return -1;
  /* sd_booted(3)'s test. */
  if (access("/run/systemd/system", F_OK) != 0) {
    sd_unit_name_clear(&u);
    return nook_error(err, 0,
                      "--systemd-cgroup: systemd is not the init system here (no "
                      "/run/systemd/system): use the cgroupfs driver (drop --systemd-cgroup)");
  }
  cleanup_free char *path = NULL;
  xasprintf(&path, "%s/%s", u.slice_path, u.unit);
  /* systemd makes every directory (the slices' too): none is nook's. */
  int r = resolve_at(path, out, err);
  if (r == 0) {
    out->unit = steal_pointer(&u.unit);
    out->slice = steal_pointer(&u.slice);
  }
  sd_unit_name_clear(&u);
  return r;
}

static int sd_create(const char *cgroups_path, const char *id, struct cgroup_paths *out,
                     nook_error_t *err)
{
  /* The scope is made by start, around the container's init. */
  return cg_systemd_plan(cgroups_path, id, out, err);
}

/* Where systemd put pid: its cgroup in the hierarchy systemd tracks
 * processes in (v2, or name=systemd on a legacy host). */
static int scope_path_of(pid_t pid, enum cgroup_mode mode, char **out, nook_error_t *err)
{
  char file[64];
  cleanup_free char *text = NULL;
  snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
  if (read_file_at(AT_FDCWD, file, &text, NULL, err) < 0)
    return -1;
  const char *want = mode == CGROUP_MODE_LEGACY ? ":name=systemd:" : "0::";
  for (char *l = text; *l;) {
    char *end = strchrnul(l, '\n');
    char *at = mode == CGROUP_MODE_LEGACY ? strstr(l, want) : (strncmp(l, want, 3) == 0 ? l : NULL);
    if (at && at < end) {
      const char *path = at + strlen(want);
      *out = xstrndup(path, (size_t)(end - path));
      return 0;
    }
    l = *end ? end + 1 : end;
  }
  return nook_error(err, 0, "%s: no `%s` line", file, want);
}

/* After the unit started: the cgroup systemd made is where p says, unless
 * systemd's root is not the hierarchy's (nook in a cgroup namespace, a
 * systemd in a container); then p follows it. */
static int follow_scope(struct cgroup_paths *p, pid_t pid, nook_error_t *err)
{
  cleanup_free char *real = NULL;
  if (scope_path_of(pid, p->mode, &real, err) < 0)
    return -1;
  const char *mine = p->unified ? p->unified : cg_v1_dir(p, "name=systemd");
  /* real starts with "/": a suffix match is a whole-component one. */
  if (mine && has_suffix(mine, real))
    return 0;
  struct cgroup_paths np;
  if (resolve_at(real, &np, err) < 0)
    return -1;
  np.unit = steal_pointer(&p->unit);
  np.slice = steal_pointer(&p->slice);
  cgroup_paths_clear(p);
  *p = np;
  return 0;
}

/* The cgroup files' side of the scope: the v1 hierarchies systemd does not
 * manage (freezer, cpuset, net_cls, ...) get the container's directory
 * from nook, as in runc; on v2 every controller the hierarchy has is
 * enabled down to the scope (systemd enables only the ones it knows). */
static int make_fs_side(struct cgroup_paths *p, pid_t pid, nook_error_t *err)
{
  const struct cg_host *h;
  if (cg_host_get(&h, err) < 0)
    return -1;
  if (p->v1_dirs) {
    if (cg1_create_all(p, h, err) < 0 || cg1_enter_all(p, pid, err) < 0)
      return -1;
    return 0;
  }
  return cg2_create(p->unified, strlen(h->unified.mountpoint), &p->unified_created, true, err);
}

/* Make p name nothing (destroy then leaves everything alone). */
static void forget(struct cgroup_paths *p)
{
  enum cgroup_mode mode = p->mode;
  cgroup_paths_clear(p);
  p->mode = mode;
}

static void base_props(struct sdp_list *l, const struct cgroup_paths *p, pid_t pid, bool v2)
{
  cleanup_free char *desc = NULL;
  xasprintf(&desc, "nook container %s", p->unit);
  sdp_add_str(l, "Description", desc);
  sdp_add_str(l, "Slice", p->slice);
  sdp_add_bool(l, "Delegate", true);
  sdp_add_pids(l, "PIDs", &pid, 1);
  /* Accounting on, as runc: the container's cgroup gets every controller
   * systemd knows whatever the limits, as with the cgroupfs driver. */
  sdp_add_bool(l, "MemoryAccounting", true);
  sdp_add_bool(l, "CPUAccounting", true);
  sdp_add_bool(l, v2 ? "IOAccounting" : "BlockIOAccounting", true);
  sdp_add_bool(l, "TasksAccounting", true);
  sdp_add_bool(l, "DefaultDependencies", false);
}

static int sd_start(struct cgroup_paths *p, pid_t pid, const struct oci_resources *r,
                    const struct oci_kv *annotations, size_t n_annotations, nook_error_t *err)
{
  if (sdbus_connect(err) < 0)
    return -1;
  struct sd_host h = sd_host_of(p);
  struct sdp_list props = {0};
  struct oci_resources adj;
  int ret = -1;
  base_props(&props, p, pid, h.v2);
  if (sdp_from_resources(r, &h, &props, &adj, err) < 0 ||
      sdp_from_annotations(annotations, n_annotations, &props, err) < 0)
    goto out;
  if (nook_log_debug_enabled()) {
    cleanup_free char *text = sdp_format(&props);
    nook_debug("systemd: StartTransientUnit %s (systemd %d):\n%s", p->unit, h.version, text);
  }
  bool exists;
  if (sdbus_start_unit(p->unit, &props, &exists, err) < 0) {
    /* Another container's unit: its cgroup is not this container's to
     * kill or remove when create undoes what it made. */
    if (exists)
      forget(p);
    goto out;
  }
  if (follow_scope(p, pid, err) < 0 || make_fs_side(p, pid, err) < 0 ||
      fs_of(p)->apply(p, &adj, err) < 0)
    goto out;
  ret = 0;
out:
  sdp_list_clear(&props);
  return ret;
}

static int sd_enter(const struct cgroup_paths *p, pid_t pid, nook_error_t *err)
{
  return fs_of(p)->enter(p, pid, err);
}

static int sd_apply(const struct cgroup_paths *p, const struct oci_resources *r, nook_error_t *err)
{
  if (sdbus_connect(err) < 0)
    return -1;
  struct sd_host h = sd_host_of(p);
  struct sdp_list props = {0};
  struct oci_resources adj;
  int ret = -1;
  if (sdp_from_resources(r, &h, &props, &adj, err) < 0)
    goto out;
  if (props.n > 0 && sdbus_set_properties(p->unit, &props, err) < 0)
    goto out;
  ret = fs_of(p)->apply(p, &adj, err);
out:
  sdp_list_clear(&props);
  return ret;
}

static int sd_pids(const struct cgroup_paths *p, pid_t **out, size_t *n, nook_error_t *err)
{
  return fs_of(p)->pids(p, out, n, err);
}

static int sd_kill(const struct cgroup_paths *p, int sig, nook_error_t *err)
{
  return fs_of(p)->kill(p, sig, err);
}

static int sd_freeze(const struct cgroup_paths *p, bool frozen, nook_error_t *err)
{
  return fs_of(p)->freeze(p, frozen, err);
}

static int sd_frozen(const struct cgroup_paths *p, bool *out, nook_error_t *err)
{
  return fs_of(p)->frozen(p, out, err);
}

static int sd_stats(const struct cgroup_paths *p, struct cgroup_stats *s, nook_error_t *err)
{
  return fs_of(p)->stats(p, s, err);
}

static int sd_oom_notify_fd(const struct cgroup_paths *p, nook_error_t *err)
{
  return fs_of(p)->oom_notify_fd(p, err);
}

static int sd_destroy(const struct cgroup_paths *p, nook_error_t *err)
{
  if (p->unit == NULL)
    return 0; /* forgotten: the unit was another container's */
  /* Killed first: a scope stopped with processes in it gets SIGTERM and
   * TimeoutStopSec (90 s) before systemd kills them.  Emptied, it stops by
   * itself; StopUnit then finds it gone or stops what is left, and the
   * unit is reset so nothing of it stays loaded. */
  nook_error_t ignored = NULL;
  if (fs_of(p)->kill(p, SIGKILL, &ignored) < 0)
    nook_error_free(&ignored); /* gone already, or the stop below kills */
  if (sdbus_stop_unit(p->unit, err) < 0)
    return -1;
  /* What nook made itself (v1 hierarchies systemd does not manage). */
  return fs_of(p)->destroy(p, err);
}

const struct cgroup_manager cg_systemd_manager = {
    .name = "systemd",
    .create = sd_create,
    .start = sd_start,
    .enter = sd_enter,
    .apply = sd_apply,
    .pids = sd_pids,
    .kill = sd_kill,
    .freeze = sd_freeze,
    .frozen = sd_frozen,
    .stats = sd_stats,
    .oom_notify_fd = sd_oom_notify_fd,
    .destroy = sd_destroy,
};
