/* cgroup v1 hierarchy operations, one directory per mounted hierarchy:
 * create (cpuset inheritance included), enter, freeze, destroy.  The v1 and
 * hybrid managers (manager_v1.c, manager_hybrid.c) compose them. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

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
