/* cgroup v2: the unified hierarchy.  The cg2_* operations work on one
 * directory and are shared with the hybrid manager, whose unified hierarchy
 * carries process tracking, cgroup.kill and cgroup.freeze. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../libcontainer/utils.h"

/* Errors of a cgroup.subtree_control write that only mean "this controller
 * is not to be had here": the level holds processes (EBUSY), is threaded and
 * the controller is not (EOPNOTSUPP), or the parent did not pass it down
 * (EINVAL, ENOENT).  A resource that needs the controller then fails in
 * apply, naming the missing file; nothing is hidden. */
static bool subtree_soft_error(int e)
{
  return e == EBUSY || e == EOPNOTSUPP || e == EINVAL || e == ENOENT;
}

static int enable_controllers(const char *level, const char *plus_all, nook_error_t *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/cgroup.subtree_control", level);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return subtree_soft_error(errno) ? 0 : nook_error(err, errno, "open `%s`", path);
  if (write(fd, plus_all, strlen(plus_all)) >= 0)
    return 0;
  if (!subtree_soft_error(errno))
    return nook_error(err, errno, "write `%s` to `%s`", plus_all, path);
  /* The write is all-or-nothing: enable what can be enabled one by one. */
  cleanup_free char *copy = xstrdup(plus_all);
  char *save = NULL;
  for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    if (write(fd, tok, strlen(tok)) < 0 && !subtree_soft_error(errno))
      return nook_error(err, errno, "write `%s` to `%s`", tok, path);
  }
  return 0;
}

/* Write `plus` ("+cpu +memory") to cgroup.subtree_control of every level
 * from the hierarchy root (dir[0..stop]) down to the leaf's parent. */
static int enable_along(const char *dir, size_t stop, const char *plus, nook_error_t *err)
{
  cleanup_free char *level = xstrndup(dir, stop);
  for (const char *s = dir + stop;;) {
    if (enable_controllers(level, plus, err) < 0)
      return -1;
    const char *next = strchr(s + 1, '/');
    if (next == NULL)
      return 0;
    free(level);
    level = xstrndup(dir, (size_t)(next - dir));
    s = next;
  }
}

int cg2_create(const char *dir, size_t stop, unsigned *created, bool enable, nook_error_t *err)
{
  if (cg_mkdir(dir, stop, created, err) < 0)
    return -1;
  if (!enable)
    return 0;
  cleanup_free char *root = xstrndup(dir, stop);
  char avail[512];
  if (cg_read(root, "cgroup.controllers", avail, sizeof(avail), err) < 0)
    goto fail;
  if (avail[0] == '\0')
    return 0;
  /* Every controller the hierarchy has, enabled top-down to the leaf's
   * parent, so the container can be limited with any of them. */
  char plus_all[sizeof(avail) * 2];
  size_t o = 0;
  for (char *p = avail; *p;) {
    char *end = strchrnul(p, ' ');
    o += (size_t)snprintf(plus_all + o, sizeof(plus_all) - o, "%s+%.*s", o ? " " : "",
                          (int)(end - p), p);
    p = *end ? end + 1 : end;
  }
  if (enable_along(dir, stop, plus_all, err) == 0)
    return 0;
fail:
  cg_rollback(dir, *created);
  return -1;
}

int cg2_enable_controller(const char *dir, const char *controller, nook_error_t *err)
{
  const struct cg_host *h;
  if (cg_host_get(&h, err) < 0)
    return -1;
  size_t stop = h->has_unified ? strlen(h->unified.mountpoint) : 0;
  if (stop == 0 || strncmp(dir, h->unified.mountpoint, stop) != 0 || dir[stop] != '/')
    return nook_error(err, 0, "`%s` is not in the cgroup v2 hierarchy", dir);
  char plus[64];
  snprintf(plus, sizeof(plus), "+%s", controller);
  return enable_along(dir, stop, plus, err);
}

/* Wait until `key` in cgroup.events reads `want`: the kernel signals every
 * change with POLLPRI, so this sleeps exactly as long as needed. */
static int wait_event(const char *dir, const char *key, int want, int timeout_ms, bool *timed_out,
                      nook_error_t *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/cgroup.events", dir);
  *timed_out = false;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "open `%s`", path);
  long long deadline = cg_now_ms() + timeout_ms;
  size_t klen = strlen(key);
  for (;;) {
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0)
      return nook_error(err, errno, "read `%s`", path);
    buf[n] = '\0';
    for (char *l = buf; *l;) {
      char *end = strchrnul(l, '\n');
      if ((size_t)(end - l) > klen && strncmp(l, key, klen) == 0 && l[klen] == ' ' &&
          atoi(l + klen + 1) == want)
        return 0;
      l = *end ? end + 1 : end;
    }
    long long left = deadline - cg_now_ms();
    if (left <= 0) {
      *timed_out = true;
      return nook_error(err, ETIMEDOUT, "waiting for `%s %d` in `%s`", key, want, path);
    }
    struct pollfd pfd = {.fd = fd, .events = POLLPRI};
    if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
      return nook_error(err, errno, "poll `%s`", path);
  }
}

int cg2_kill(const char *dir, int sig, nook_error_t *err)
{
  if (sig != SIGKILL)
    return cg_signal_procs(dir, sig, NULL, err);
  bool timed_out;
  int r = cg_write(dir, "cgroup.kill", "1", err);
  if (r == -ENOENT) {
    /* No cgroup.kill (kernel < 5.14), or the cgroup is already gone. */
    nook_error_free(err);
    return cg_signal_procs(dir, sig, NULL, err);
  }
  if (r < 0)
    return -1;
  r = wait_event(dir, "populated", 0, CG_KILL_TIMEOUT_MS, &timed_out, err);
  if (r == -ENOENT) {
    nook_error_free(err);
    return 0;
  }
  return r;
}

int cg2_freeze(const char *dir, bool frozen, nook_error_t *err)
{
  bool timed_out;
  int r = cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err);
  if (r < 0)
    return r; /* -ENOENT: no cgroup.freeze (Linux < 5.2) or no cgroup */
  if (wait_event(dir, "frozen", frozen ? 1 : 0, CG_FREEZE_TIMEOUT_MS, &timed_out, err) == 0)
    return 0;
  if (frozen && timed_out) {
    /* Do not leave it half-frozen: a failed pause keeps the container running. */
    nook_error_t ignored = NULL;
    cg_write(dir, "cgroup.freeze", "0", &ignored);
    nook_error_free(&ignored);
  }
  return nook_error_wrap(err, "%s `%s`", frozen ? "freeze" : "thaw", dir);
}

int cg2_destroy(const char *dir, unsigned created, nook_error_t *err)
{
  /* The usual delete finds the container gone: one rmdir and done. */
  int r = cg_try_rmdir_tree(dir);
  if (r != 0) {
    if (r != -EBUSY && r != -ENOTEMPTY)
      return nook_error(err, -r, "rmdir `%s`", dir);
    nook_error_t ignored = NULL;
    if (cg2_kill(dir, SIGKILL, &ignored) < 0)
      nook_error_free(&ignored); /* rmdir below reports what matters */
    if (cg_rmdir_leaf(dir, cg_now_ms() + CG_RMDIR_TIMEOUT_MS, err) < 0)
      return -1;
  }
  if (created > 1)
    cg_rmdir_parents(dir, created - 1);
  return 0;
}

/* ---- resources ---- */

static const char *hint_for(const char *controller)
{
  static char buf[128];
  snprintf(buf, sizeof(buf), "is the %s controller enabled in the parent's cgroup.subtree_control?",
           controller);
  return buf;
}

static int check_mem_value(const char *field, int64_t v, nook_error_t *err)
{
  if (v < -1)
    return nook_error(err, 0,
                      "linux.resources.memory.%s: invalid value %lld (use -1 for unlimited)", field,
                      (long long)v);
  return 0;
}

int cg2_apply_memory(const char *dir, const struct oci_memory *m, nook_error_t *err)
{
  /* runc semantics: 0 is "not set", -1 is unlimited; swap is memory+swap as
   * on v1 and becomes memory.swap.max = swap - limit. */
  int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
  int64_t res = m->has_reservation ? m->reservation : 0;
  if (check_mem_value("limit", limit, err) < 0 || check_mem_value("swap", swap, err) < 0 ||
      check_mem_value("reservation", res, err) < 0)
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
                           "linux.resources.memory.limit", hint_for("memory"), err) < 0)
    return -1;
  if (res != 0 && cg_set(dir, "memory.low", cg_limit_str(res, buf),
                         "linux.resources.memory.reservation", hint_for("memory"), err) < 0)
    return -1;
  return 0;
}

int cg2_apply_cpu(const char *dir, const struct oci_cpu *c, nook_error_t *err)
{
  char buf[64];
  if (c->has_shares && c->shares != 0) {
    if (cg_check_shares(c->shares, err) < 0)
      return -1;
    /* runc's mapping of shares [2, 262144] onto weight [1, 10000]. */
    unsigned long long w = 1 + ((c->shares - 2) * 9999) / 262142;
    snprintf(buf, sizeof(buf), "%llu", w);
    if (cg_set(dir, "cpu.weight", buf, "linux.resources.cpu.shares", hint_for("cpu"), err) < 0)
      return -1;
  }
  int64_t quota = c->has_quota ? c->quota : 0;
  uint64_t period = c->has_period ? c->period : 0;
  if (quota != 0 || period != 0) {
    int n = quota > 0 ? snprintf(buf, sizeof(buf), "%lld", (long long)quota)
                      : snprintf(buf, sizeof(buf), "max");
    if (period != 0)
      snprintf(buf + n, sizeof(buf) - (size_t)n, " %llu", (unsigned long long)period);
    if (cg_set(dir, "cpu.max", buf,
               quota != 0 ? "linux.resources.cpu.quota" : "linux.resources.cpu.period",
               hint_for("cpu"), err) < 0)
      return -1;
  }
  return 0;
}

int cg2_apply_cpuset(const char *dir, const struct oci_cpu *c, nook_error_t *err)
{
  if (c->cpus && *c->cpus &&
      cg_set(dir, "cpuset.cpus", c->cpus, "linux.resources.cpu.cpus", hint_for("cpuset"), err) < 0)
    return -1;
  if (c->mems && *c->mems &&
      cg_set(dir, "cpuset.mems", c->mems, "linux.resources.cpu.mems", hint_for("cpuset"), err) < 0)
    return -1;
  return 0;
}

int cg2_apply_pids(const char *dir, int64_t limit, nook_error_t *err)
{
  /* runtime-spec 1.3: -1 (any negative) is "max"; 0 is a real limit. */
  char buf[24];
  return cg_set(dir, "pids.max", cg_limit_str(limit, buf), "linux.resources.pids.limit",
                hint_for("pids"), err);
}

/* ---- the v2 manager ---- */

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
  /* Device rules on v2 are an eBPF program attached to the cgroup, built
   * from r->devices; it arrives with the cgroup resources work.  Until then
   * the v2 manager applies no device rules (the host this foundation is
   * built on is hybrid, where devices is a v1 controller and is enforced
   * by the v1 code). */
  if (r->has_memory && cg2_apply_memory(p->unified, &r->memory, err) < 0)
    return -1;
  if (r->has_cpu && (cg2_apply_cpu(p->unified, &r->cpu, err) < 0 ||
                     cg2_apply_cpuset(p->unified, &r->cpu, err) < 0))
    return -1;
  if (r->has_pids && cg2_apply_pids(p->unified, r->pids_limit, err) < 0)
    return -1;
  cg_warn_unimplemented(r, true);
  return 0;
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
    .destroy = v2_destroy,
};
