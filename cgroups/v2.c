/* cgroup v2 hierarchy operations on one directory of the unified
 * hierarchy: create, enabling controllers, kill, freeze, destroy.  The v2
 * and hybrid managers (manager_v2.c, manager_hybrid.c) compose them; on a
 * hybrid host the unified hierarchy carries process tracking, cgroup.kill
 * and cgroup.freeze. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"

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
  /* A level the caller may not write (a rootless runtime above the subtree
   * delegated to it): what is enabled there already is what it gets. */
  if (fd < 0 && (errno == EACCES || errno == EPERM))
    return 0;
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

bool cg2_has_controller(const char *controller)
{
  static char avail[512];
  static bool ready;
  if (!ready) {
    const struct cg_host *h;
    nook_error_t e = NULL;
    if (cg_host_get(&h, &e) < 0 || !h->has_unified ||
        cg_read(h->unified.mountpoint, "cgroup.controllers", avail, sizeof(avail), &e) < 0) {
      nook_error_free(&e);
      avail[0] = '\0';
    }
    /* A space-separated list: make it the comma list cg_list_has takes. */
    for (char *c = avail; *c; c++)
      if (*c == ' ')
        *c = ',';
    ready = true;
  }
  return cg_list_has(avail, controller);
}

/* Wait until `key` in the cgroup.events open as fd reads `want`: the kernel
 * signals every change with POLLPRI, so this sleeps exactly as long as
 * needed.  -ENOENT once the cgroup is gone: removed under an open fd (by
 * systemd, the moment a scope empties), a read fails with ENODEV. */
int cg2_wait_event_fd(int fd, const char *path, const char *key, int want, int timeout_ms,
                      bool *timed_out, nook_error_t *err)
{
  *timed_out = false;
  long long deadline = cg_now_ms() + timeout_ms;
  size_t klen = strlen(key);
  for (;;) {
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0)
      return nook_error(err, cg_gone_errno(errno), "read `%s`", path);
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

static int wait_event(const char *dir, const char *key, int want, int timeout_ms, bool *timed_out,
                      nook_error_t *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/cgroup.events", dir);
  *timed_out = false;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "open `%s`", path);
  return cg2_wait_event_fd(fd, path, key, want, timeout_ms, timed_out, err);
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

int cg2_frozen(const char *dir, nook_error_t *err)
{
  char buf[256];
  ssize_t n = cg_read(dir, "cgroup.events", buf, sizeof(buf), err);
  if (n < 0)
    return (int)n;
  for (char *l = buf; *l;) {
    char *end = strchrnul(l, '\n');
    if (strncmp(l, "frozen ", 7) == 0)
      return l[7] == '1';
    l = *end ? end + 1 : end;
  }
  return -ENOENT;
}

int cg2_destroy(const char *dir, unsigned created, nook_error_t *err)
{
  /* A cgroup that existed before the container is not nook's to remove,
   * nor are the processes in it. */
  if (created == 0)
    return 0;
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
