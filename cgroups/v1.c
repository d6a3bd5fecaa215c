/* cgroup v1: one directory per mounted hierarchy.  The cg1_* operations
 * are shared with the hybrid manager. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"

/* ---- create ---- */

/* A new v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and
 * a task cannot join it (ENOSPC) until both are set: copy them down from
 * the nearest ancestor that has them.  `fresh` levels from dir upwards are
 * known to be new (hence empty), which spares reading them. */
static int cpuset_fill(char *dir, size_t stop, unsigned fresh, char *cpus, char *mems,
                       nook_error_t *err)
{
  bool need_cpus = true, need_mems = true;
  if (fresh == 0) {
    if (cg_read(dir, "cpuset.cpus", cpus, 256, err) < 0 ||
        cg_read(dir, "cpuset.mems", mems, 256, err) < 0)
      return -1;
    need_cpus = cpus[0] == '\0';
    need_mems = mems[0] == '\0';
    if (!need_cpus && !need_mems)
      return 0;
  }
  char *slash = strrchr(dir, '/');
  if (slash == NULL || (size_t)(slash - dir) < stop)
    return nook_error(err, 0, "`%s`: cpuset.cpus or cpuset.mems of the hierarchy root is empty",
                      dir);
  char pcpus[256], pmems[256];
  *slash = '\0';
  int r = cpuset_fill(dir, stop, fresh ? fresh - 1 : 0, pcpus, pmems, err);
  *slash = '/';
  if (r < 0)
    return -1;
  if (need_cpus) {
    if (cg_write(dir, "cpuset.cpus", pcpus, err) < 0)
      return -1;
    strcpy(cpus, pcpus);
  }
  if (need_mems) {
    if (cg_write(dir, "cpuset.mems", pmems, err) < 0)
      return -1;
    strcpy(mems, pmems);
  }
  return 0;
}

int cg1_create_all(struct cgroup_paths *p, const struct cg_host *h, nook_error_t *err)
{
  size_t i;
  for (i = 0; p->v1_dirs && p->v1_dirs[i]; i++) {
    size_t stop = strlen(h->v1[i].mountpoint);
    if (cg_mkdir(p->v1_dirs[i], stop, &p->v1_created[i], err) < 0)
      goto fail;
    if (cg_list_has(p->v1_controllers[i], "cpuset")) {
      char cpus[256], mems[256];
      cleanup_free char *dir = xstrdup(p->v1_dirs[i]);
      if (cpuset_fill(dir, stop, p->v1_created[i], cpus, mems, err) < 0) {
        i++;
        goto fail;
      }
    }
  }
  return 0;
fail:
  while (i-- > 0)
    cg_rollback(p->v1_dirs[i], p->v1_created[i]);
  return -1;
}

int cg1_enter_all(const struct cgroup_paths *p, pid_t pid, nook_error_t *err)
{
  for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++)
    if (cg_enter(p->v1_dirs[i], pid, err) < 0)
      return -1;
  return 0;
}

const char *cg1_procs_dir(const struct cgroup_paths *p)
{
  static const char *const pref[] = {"pids", "freezer", "memory", "devices"};
  for (size_t i = 0; i < ARRAY_SIZE(pref); i++) {
    const char *d = cg_v1_dir(p, pref[i]);
    if (d)
      return d;
  }
  return p->v1_dirs ? p->v1_dirs[0] : NULL;
}

/* ---- freeze ---- */

int cg1_freeze(const char *dir, bool frozen, nook_error_t *err)
{
  const char *want = frozen ? "FROZEN" : "THAWED";
  if (cg_write(dir, "freezer.state", want, err) < 0)
    return -1;
  long long deadline = cg_now_ms() + CG_FREEZE_TIMEOUT_MS;
  long delay = 50;
  /* v1 has no change notification for freezer.state: poll it, backing off.
   * Writing FROZEN again now and then catches tasks forked meanwhile. */
  for (unsigned i = 1;; i++) {
    char state[32];
    if (cg_read(dir, "freezer.state", state, sizeof(state), err) < 0)
      return -1;
    if (strcmp(state, want) == 0)
      return 0;
    if (cg_now_ms() >= deadline) {
      if (frozen) {
        nook_error_t ignored = NULL;
        cg_write(dir, "freezer.state", "THAWED", &ignored);
        nook_error_free(&ignored);
      }
      return nook_error(err, ETIMEDOUT, "%s `%s`: freezer.state still `%s` after %d ms",
                        frozen ? "freeze" : "thaw", dir, state, CG_FREEZE_TIMEOUT_MS);
    }
    cg_sleep_us(delay);
    if (delay < 10000)
      delay *= 2;
    if (i % 8 == 0 && cg_write(dir, "freezer.state", want, err) < 0)
      return -1;
  }
}

int cg1_frozen(const char *dir, bool *out, nook_error_t *err)
{
  char state[32];
  if (cg_read(dir, "freezer.state", state, sizeof(state), err) < 0)
    return -1;
  /* FREEZING is a pause still under way (or one that failed): the
   * container is not reliably stopped, so it does not count as paused. */
  *out = strcmp(state, "FROZEN") == 0;
  return 0;
}

/* ---- destroy (shared with hybrid: unified may be NULL) ---- */

/* How many trailing components nook made of hierarchy i (the v1 dirs in
 * order, then the unified one). */
unsigned cg1_created_at(const struct cgroup_paths *p, size_t i)
{
  size_t n = strv_len(p->v1_dirs);
  if (i < n)
    return p->v1_created ? p->v1_created[i] : 0;
  return p->unified_created;
}

bool cg1_created_dir(const struct cgroup_paths *p, const char *dir)
{
  for (size_t i = 0; p->v1_dirs && p->v1_dirs[i]; i++)
    if (p->v1_dirs[i] == dir || strcmp(p->v1_dirs[i], dir) == 0)
      return cg1_created_at(p, i) > 0;
  return false;
}

int cg1_destroy_all(const struct cgroup_paths *p, nook_error_t *err)
{
  size_t n = strv_len(p->v1_dirs);
  size_t total = n + (p->unified ? 1 : 0);
  cleanup_free bool *done = xcalloc(total ? total : 1, sizeof(bool));
  bool busy = false;
  int first = 0;
  /* The usual delete finds the container gone: one rmdir per hierarchy.
   * A cgroup that existed before the container is not nook's: it stays,
   * and so do the processes in it (runc leaves them alone too). */
  for (size_t i = 0; i < total; i++) {
    const char *dir = i < n ? p->v1_dirs[i] : p->unified;
    if (cg1_created_at(p, i) == 0) {
      done[i] = true;
      continue;
    }
    int r = cg_try_rmdir_tree(dir);
    if (r == 0)
      done[i] = true;
    else if (r == -EBUSY || r == -ENOTEMPTY)
      busy = true;
    else if (first == 0)
      first = nook_error(err, -r, "rmdir `%s`", dir);
  }
  if (busy) {
    nook_error_t ignored = NULL;
    if (p->unified && p->unified_created > 0 && cg2_kill(p->unified, SIGKILL, &ignored) < 0)
      nook_error_free(&ignored);
    const char *procs = cg1_procs_dir(p);
    if (procs && cg1_created_dir(p, procs) &&
        cg_signal_procs(procs, SIGKILL, cg_v1_dir(p, "freezer"), &ignored) < 0)
      nook_error_free(&ignored);
    long long deadline = cg_now_ms() + CG_RMDIR_TIMEOUT_MS;
    for (size_t i = 0; i < total; i++) {
      if (done[i])
        continue;
      const char *dir = i < n ? p->v1_dirs[i] : p->unified;
      nook_error_t e = NULL;
      if (cg_rmdir_leaf(dir, deadline, &e) == 0) {
        done[i] = true;
      } else if (first == 0) {
        first = -1;
        if (err) {
          nook_error_free(err);
          *err = steal_pointer(&e);
        }
      }
      nook_error_free(&e);
    }
  }
  for (size_t i = 0; i < total; i++) {
    unsigned created = cg1_created_at(p, i);
    if (done[i] && created > 1)
      cg_rmdir_parents(i < n ? p->v1_dirs[i] : p->unified, created - 1);
  }
  return first < 0 ? first : 0;
}

/* ---- devices ----
 * runc's semantics: rules apply in order to a model of the kernel's list
 * (a default policy plus exceptions); a rule of type `a` resets the
 * default, and removing access that a wildcard exception grants is an
 * error, because v1 would silently keep it.  The result is then written as
 * the default followed by the exceptions. */

enum { DEV_R = 1, DEV_W = 2, DEV_M = 4 };

struct dev_ex {
  char type;
  int64_t major, minor; /* -1: any */
  unsigned perms;
};

struct dev_model {
  bool allow_all;
  struct dev_ex *v;
  size_t n, cap;
};

static void dev_fmt(char *buf, size_t size, char type, int64_t major, int64_t minor, unsigned perms)
{
  char maj[24] = "*", min[24] = "*";
  if (major >= 0)
    snprintf(maj, sizeof(maj), "%lld", (long long)major);
  if (minor >= 0)
    snprintf(min, sizeof(min), "%lld", (long long)minor);
  snprintf(buf, size, "%c %s:%s %s%s%s", type, maj, min, perms & DEV_R ? "r" : "",
           perms & DEV_W ? "w" : "", perms & DEV_M ? "m" : "");
}

static struct dev_ex *dev_find(struct dev_model *m, char type, int64_t major, int64_t minor)
{
  for (size_t i = 0; i < m->n; i++)
    if (m->v[i].type == type && m->v[i].major == major && m->v[i].minor == minor)
      return &m->v[i];
  return NULL;
}

static int dev_rule(struct dev_model *m, size_t idx, const struct oci_device_cgroup *d,
                    nook_error_t *err)
{
  unsigned perms = 0;
  for (const char *a = d->access ? d->access : "rwm"; *a; a++) {
    switch (*a) {
    case 'r':
      perms |= DEV_R;
      break;
    case 'w':
      perms |= DEV_W;
      break;
    case 'm':
      perms |= DEV_M;
      break;
    default:
      return nook_error(err, 0, "linux.resources.devices[%zu].access: invalid `%s`", idx,
                        d->access);
    }
  }
  if (d->type == 'a' || d->type == '\0') {
    m->allow_all = d->allow;
    m->n = 0;
    return 0;
  }
  if (d->type != 'c' && d->type != 'b')
    return nook_error(err, 0, "linux.resources.devices[%zu].type: invalid `%c`", idx, d->type);
  int64_t major = d->has_major && d->major >= 0 ? d->major : -1;
  int64_t minor = d->has_minor && d->minor >= 0 ? d->minor : -1;
  struct dev_ex *ex = dev_find(m, d->type, major, minor);
  if (d->allow != m->allow_all) {
    /* An exception to the default: add (merge) it. */
    if (ex) {
      ex->perms |= perms;
      return 0;
    }
    if (m->n == m->cap) {
      m->cap = m->cap ? m->cap * 2 : 16;
      m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
    }
    m->v[m->n++] = (struct dev_ex){d->type, major, minor, perms};
    return 0;
  }
  /* Back to the default: take the access out of the matching exception. */
  const int64_t wild[3][2] = {{-1, minor}, {major, -1}, {-1, -1}};
  for (size_t i = 0; i < 3; i++) {
    if (wild[i][0] == major && wild[i][1] == minor)
      continue;
    struct dev_ex *w = dev_find(m, d->type, wild[i][0], wild[i][1]);
    if (w && (w->perms & perms)) {
      char want[64], have[64];
      dev_fmt(want, sizeof(want), d->type, major, minor, perms);
      dev_fmt(have, sizeof(have), w->type, w->major, w->minor, w->perms);
      return nook_error(err, 0,
                        "linux.resources.devices[%zu]: cannot %s `%s` inside the wildcard rule "
                        "`%s` (cgroup v1 cannot punch a hole in a wildcard exception)",
                        idx, d->allow ? "allow" : "deny", want, have);
    }
  }
  if (ex) {
    ex->perms &= ~perms;
    if (ex->perms == 0)
      *ex = m->v[--m->n];
  }
  return 0;
}

/* Write model m to dir's devices.allow and devices.deny.  Apart from
 * cg1_apply_devices so that no jump out of a failed rule crosses the
 * cleanup_close fds (which would close whatever the stack held). */
static int dev_model_write(const char *dir, const struct dev_model *m, nook_error_t *err)
{
  char path_allow[PATH_MAX], path_deny[PATH_MAX];
  snprintf(path_allow, sizeof(path_allow), "%s/devices.allow", dir);
  snprintf(path_deny, sizeof(path_deny), "%s/devices.deny", dir);
  /* One open per file; each write() is one rule to the kernel. */
  cleanup_close int fd_allow = open(path_allow, O_WRONLY | O_CLOEXEC);
  if (fd_allow < 0)
    return nook_error(err, errno, "linux.resources.devices: open `%s`", path_allow);
  cleanup_close int fd_deny = open(path_deny, O_WRONLY | O_CLOEXEC);
  if (fd_deny < 0)
    return nook_error(err, errno, "linux.resources.devices: open `%s`", path_deny);
  int fd_default = m->allow_all ? fd_allow : fd_deny, fd_ex = m->allow_all ? fd_deny : fd_allow;
  const char *p_default = m->allow_all ? path_allow : path_deny;
  const char *p_ex = m->allow_all ? path_deny : path_allow;
  if (write(fd_default, "a", 1) < 0)
    return nook_error(err, errno, "linux.resources.devices: write `a` to `%s`", p_default);
  for (size_t i = 0; i < m->n; i++) {
    char rule[80];
    dev_fmt(rule, sizeof(rule), m->v[i].type, m->v[i].major, m->v[i].minor, m->v[i].perms);
    if (write(fd_ex, rule, strlen(rule)) < 0)
      return nook_error(err, errno, "linux.resources.devices: write `%s` to `%s`", rule, p_ex);
  }
  return 0;
}

int cg1_apply_devices(const char *dir, const struct oci_resources *r, nook_error_t *err)
{
  /* A new cgroup's default is its parent's (allow-all at the root); an
   * empty rule list therefore means deny-all, as in runc. */
  struct dev_model m = {0};
  int ret = 0;
  for (size_t i = 0; i < r->n_devices && ret == 0; i++)
    ret = dev_rule(&m, i, &r->devices[i], err);
  if (ret == 0)
    ret = dev_model_write(dir, &m, err);
  free(m.v);
  return ret < 0 ? -1 : 0;
}

/* ---- the v1 manager ---- */

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
  return cg_signal_procs(d, sig, cg_v1_dir(p, "freezer"), err);
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
      cg1_stats_cpu(cg_v1_dir(p, "cpu"), cg_v1_dir(p, "cpuacct"), s, err) < 0)
    goto fail;
  if ((d = cg_v1_dir(p, "memory")) && cg1_stats_memory(d, s, err) < 0)
    goto fail;
  if ((d = cg_v1_dir(p, "pids")) && cg1_stats_pids(d, s, err) < 0)
    goto fail;
  if ((d = cg_v1_dir(p, "blkio")) && cg1_stats_blkio(d, s, err) < 0)
    goto fail;
  if ((d = cg_v1_dir(p, "hugetlb")) && cg1_stats_hugetlb(d, s, err) < 0)
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
