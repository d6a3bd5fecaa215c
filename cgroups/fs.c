/* cgroupfs file, directory and process helpers shared by the v1, v2 and
 * hybrid managers: bounded reads and writes, mkdir that counts what it made,
 * rmdir with a deadline, reading and signalling a cgroup's processes. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/utils.h"

/* ---- file and directory helpers ---- */

long long cg_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cg_sleep_us(long us)
{
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static int join_path(char *buf, const char *dir, const char *file, nook_error_t *err)
{
  int n = snprintf(buf, PATH_MAX, "%s/%s", dir, file);
  if (n < 0 || n >= PATH_MAX)
    return nook_error(err, ENAMETOOLONG, "path `%s/%s`", dir, file);
  return 0;
}

/* 0, or -errno with *at_open telling whether open or write failed. */
int cg_gone_errno(int e)
{
  return e == ENODEV ? ENOENT : e;
}

static int write_raw(const char *path, const char *val, bool *at_open)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  *at_open = fd < 0;
  if (fd < 0)
    return -errno;
  int r = safe_write(fd, val, strlen(val)) < 0 ? -cg_gone_errno(errno) : 0;
  close(fd);
  return r;
}

int cg_write(const char *dir, const char *file, const char *val, nook_error_t *err)
{
  char path[PATH_MAX];
  bool at_open;
  if (join_path(path, dir, file, err) < 0)
    return -1;
  int r = write_raw(path, val, &at_open);
  if (r == 0)
    return 0;
  if (at_open)
    return nook_error(err, -r, "open `%s`", path);
  return nook_error(err, -r, "write `%s` to `%s`", val, path);
}

int cg_set(const char *dir, const char *file, const char *val, const char *field, const char *hint,
           nook_error_t *err)
{
  char path[PATH_MAX];
  bool at_open;
  if (join_path(path, dir, file, err) < 0)
    return nook_error_wrap(err, "%s", field);
  int r = write_raw(path, val, &at_open);
  if (r == 0)
    return 0;
  if (at_open && r == -ENOENT) {
    nook_error(err, 0, "%s: %s: no such file%s%s%s", field, path, hint ? " (" : "",
               hint ? hint : "", hint ? ")" : "");
    return -ENOENT;
  }
  return nook_error(err, -r, "%s: write `%s` to `%s`", field, val, path);
}

int cg_set_num(const char *dir, const char *file, long long v, const char *field, const char *hint,
               nook_error_t *err)
{
  char buf[24];
  snprintf(buf, sizeof(buf), "%lld", v);
  return cg_set(dir, file, buf, field, hint, err);
}

const char *cg_limit_str(int64_t v, char *buf)
{
  if (v < 0)
    return "max";
  snprintf(buf, 24, "%lld", (long long)v);
  return buf;
}

const char *cg2_hint(const char *controller, char *buf, size_t size)
{
  snprintf(buf, size, "is the %s controller enabled in the parent's cgroup.subtree_control?",
           controller);
  return buf;
}

ssize_t cg_read(const char *dir, const char *file, char *buf, size_t size, nook_error_t *err)
{
  char path[PATH_MAX];
  if (join_path(path, dir, file, err) < 0)
    return -1;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "open `%s`", path);
  ssize_t n = safe_read(fd, buf, size - 1);
  if (n < 0)
    return nook_error(err, cg_gone_errno(errno), "read `%s`", path);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    n--;
  buf[n] = '\0';
  return n;
}

int cgroup_refuse_frozen(const struct cgroup_paths *p, nook_error_t *err)
{
  char buf[32];
  /* cgroup.events says frozen only once every task stopped; cgroup.freeze
   * says it was asked for (or an ancestor was: then events says it). */
  if (p->unified &&
      (cg2_frozen(p->unified, NULL) == 1 ||
       (cg_read(p->unified, "cgroup.freeze", buf, sizeof(buf), NULL) > 0 && strcmp(buf, "1") == 0)))
    return nook_error(err, 0, "cgroup `%s` is frozen; thaw it before putting a container in it",
                      p->unified);
  const char *d = cg_v1_dir(p, "freezer");
  if (d && cg_read(d, "freezer.state", buf, sizeof(buf), NULL) > 0 && strcmp(buf, "THAWED") != 0)
    return nook_error(err, 0,
                      "cgroup `%s` is frozen (freezer.state %s); thaw it before putting a "
                      "container in it",
                      d, buf);
  return 0;
}

/* Returns the number of trailing components created, or -errno. */
static int mkdir_count(char *p, size_t stop)
{
  for (int tries = 0; tries < 4; tries++) {
    if (mkdir(p, 0755) == 0)
      return 1;
    if (errno == EEXIST)
      return 0;
    if (errno != ENOENT)
      return -errno;
    char *slash = strrchr(p, '/');
    if (slash == NULL || (size_t)(slash - p) <= stop)
      return -ENOENT; /* the hierarchy's mountpoint itself is missing */
    *slash = '\0';
    int r = mkdir_count(p, stop);
    *slash = '/';
    if (r < 0)
      return r;
    if (mkdir(p, 0755) == 0)
      return r + 1;
    if (errno == EEXIST)
      return 0; /* a concurrent create won: the parents are shared now */
    if (errno != ENOENT)
      return -errno;
    /* A concurrent delete removed a parent it had created: start over. */
  }
  return -ENOENT;
}

int cg_mkdir(const char *dir, size_t stop, unsigned *created, nook_error_t *err)
{
  cleanup_free char *p = xstrdup(dir);
  int r = mkdir_count(p, stop);
  if (r < 0)
    return nook_error(err, -r, "mkdir `%s`", dir);
  *created = (unsigned)r;
  return 0;
}

int cg_try_rmdir_tree(const char *dir)
{
  if (rmdir(dir) == 0 || errno == ENOENT)
    return 0;
  if (errno != EBUSY && errno != ENOTEMPTY)
    return -errno;
  /* Child cgroups the container made for itself go first. */
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : -errno;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *child = NULL;
    xasprintf(&child, "%s/%s", dir, de->d_name);
    cg_try_rmdir_tree(child);
  }
  closedir(d);
  if (rmdir(dir) == 0 || errno == ENOENT)
    return 0;
  return -errno;
}

int cg_rmdir_leaf(const char *dir, long long deadline_ms, nook_error_t *err)
{
  long delay = 200;
  for (;;) {
    int r = cg_try_rmdir_tree(dir);
    if (r == 0)
      return 0;
    if (r != -EBUSY && r != -ENOTEMPTY)
      return nook_error(err, -r, "rmdir `%s`", dir);
    if (cg_now_ms() >= deadline_ms)
      return nook_error(err, -r, "rmdir `%s` (processes still in the cgroup?)", dir);
    cg_sleep_us(delay);
    if (delay < 20000)
      delay *= 2;
  }
}

void cg_rmdir_parents(const char *dir, unsigned n)
{
  cleanup_free char *p = xstrdup(dir);
  for (unsigned i = 0; i < n; i++) {
    char *slash = strrchr(p, '/');
    if (slash == NULL || slash == p)
      return;
    *slash = '\0';
    if (rmdir(p) < 0 && errno != ENOENT)
      return; /* busy: another container still lives below it */
  }
}

void cg_rollback(const char *dir, unsigned created)
{
  if (created == 0 || (rmdir(dir) < 0 && errno != ENOENT))
    return;
  cg_rmdir_parents(dir, created - 1);
}

/* ---- processes ---- */

static int read_pids_rec(const char *dir, pid_t **v, size_t *n, size_t *cap, nook_error_t *err)
{
  char path[PATH_MAX];
  if (join_path(path, dir, "cgroup.procs", err) < 0)
    return -1;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) /* gone: nothing in it */
      return 0;
    return nook_error(err, errno, "open `%s`", path);
  }
  cleanup_free char *buf = NULL;
  if (read_fd_all(fd, &buf, NULL, err) < 0)
    return nook_error_wrap(err, "`%s`", path);
  for (char *s = buf; *s;) {
    char *end = strchrnul(s, '\n');
    bool last = *end == '\0';
    *end = '\0';
    long long pid;
    if (*s && parse_int64(s, &pid) == 0 && pid > 0) {
      if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = xrealloc(*v, *cap * sizeof(pid_t));
      }
      (*v)[(*n)++] = (pid_t)pid;
    }
    s = last ? end : end + 1;
  }
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : nook_error(err, errno, "opendir `%s`", dir);
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *child = NULL;
    xasprintf(&child, "%s/%s", dir, de->d_name);
    r = read_pids_rec(child, v, n, cap, err);
  }
  closedir(d);
  return r;
}

int cg_read_pids(const char *dir, pid_t **out, size_t *n, nook_error_t *err)
{
  pid_t *v = NULL;
  size_t cap = 0;
  *n = 0;
  if (read_pids_rec(dir, &v, n, &cap, err) < 0) {
    free(v);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof(pid_t));
  return 0;
}

int cg_enter(const char *dir, pid_t pid, nook_error_t *err)
{
  char buf[24];
  snprintf(buf, sizeof(buf), "%d", (int)pid);
  return cg_write(dir, "cgroup.procs", buf, err);
}

int cg_signal_procs(const char *dir, int sig, const char *freezer, nook_error_t *err)
{
  long long deadline = cg_now_ms() + CG_KILL_TIMEOUT_MS;
  long delay = 100;
  for (bool first = true;; first = false) {
    pid_t *pids;
    size_t n;
    if (cg_read_pids(dir, &pids, &n, err) < 0)
      return -1;
    for (size_t i = 0; i < n; i++) {
      if (kill(pids[i], sig) < 0 && errno != ESRCH) {
        int saved = errno;
        pid_t pid = pids[i];
        free(pids);
        return nook_error(err, saved, "kill %d with signal %d", (int)pid, sig);
      }
    }
    free(pids);
    /* Exited processes leave cgroup.procs at once (zombies are not listed),
     * so for SIGKILL an empty list means done. */
    if (sig != SIGKILL || n == 0)
      return 0;
    if (first && freezer) {
      /* Tasks frozen by the v1 freezer do not act on SIGKILL until thawed;
       * the signal is already pending, so they die instead of running. */
      nook_error_t ignored = NULL;
      if (cg_write(freezer, "freezer.state", "THAWED", &ignored) < 0)
        nook_error_free(&ignored);
    }
    if (cg_now_ms() >= deadline)
      return nook_error(err, 0, "processes in `%s` still alive %d ms after SIGKILL", dir,
                        CG_KILL_TIMEOUT_MS);
    cg_sleep_us(delay);
    if (delay < 10000)
      delay *= 2;
  }
}
