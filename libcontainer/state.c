#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "../base/log.h"
#include "../base/utils.h"

const char *nook_status_name(enum nook_status s)
{
  static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
  return names[s];
}

int state_dir_open(const char *root, const char *id, int *dirfd, nook_error_t *err)
{
  cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) {
    if (errno == ENOENT)
      return nook_error(err, 0, "container \"%s\" does not exist", id);
    return nook_error(err, errno, "open state root `%s`", root);
  }
  int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT)
      return nook_error(err, 0, "container \"%s\" does not exist", id);
    return nook_error(err, errno, "open state directory `%s/%s`", root, id);
  }
  *dirfd = fd;
  return 0;
}

/* A new container's directory is made under a private name, locked, filled
 * and only then renamed to ROOT/ID (without replacing anything): a reader
 * never sees a half-made container, and exactly one create per id wins. */
int state_dir_create(const char *root, const char *id, struct state_new *out, nook_error_t *err)
{
  out->rootfd = out->dirfd = -1;
  out->published = false;
  out->tmpname[0] = '\0';
  if (mkdir_p(root, 0711, err) < 0)
    return nook_error_wrap(err, "state root");
  out->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (out->rootfd < 0)
    return nook_error(err, errno, "open state root `%s`", root);
  struct stat st;
  if (fstatat(out->rootfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return nook_error(err, 0, "container \"%s\" already exists", id);
  for (unsigned i = 0;; i++) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(out->tmpname, sizeof(out->tmpname), "%s%d-%lx-%u", STATE_TMP_PREFIX, (int)getpid(),
             (unsigned long)ts.tv_nsec, i);
    if (mkdirat(out->rootfd, out->tmpname, 0700) == 0)
      break;
    if (errno != EEXIST || i >= 100) {
      out->tmpname[0] = '\0';
      return nook_error(err, errno, "create state directory in `%s`", root);
    }
  }
  out->dirfd = openat(out->rootfd, out->tmpname, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (out->dirfd < 0)
    return nook_error(err, errno, "open state directory `%s/%s`", root, out->tmpname);
  if (state_lock(out->dirfd, err) < 0)
    return -1;
  /* Made 0700, opened to 0711 only once locked: a sweep never mistakes a
   * directory not yet locked for one whose maker died. */
  if (fchmod(out->dirfd, 0711) < 0)
    return nook_error(err, errno, "chmod state directory `%s/%s`", root, out->tmpname);
  return 0;
}

int state_dir_publish(struct state_new *n, const char *id, nook_error_t *err)
{
  if (renameat2(n->rootfd, n->tmpname, n->rootfd, id, RENAME_NOREPLACE) < 0) {
    if (errno == EEXIST)
      return nook_error(err, 0, "container \"%s\" already exists", id);
    return nook_error(err, errno, "rename state directory to \"%s\"", id);
  }
  n->published = true;
  return 0;
}

void state_dir_abandon(struct state_new *n, const char *id)
{
  if (n->dirfd >= 0) {
    if (n->published)
      state_dir_remove_fd(n->rootfd, id, n->dirfd, NULL);
    else if (n->tmpname[0])
      state_dir_remove_fd(n->rootfd, n->tmpname, n->dirfd, NULL);
    close(n->dirfd);
  }
  if (n->rootfd >= 0)
    close(n->rootfd);
  n->rootfd = n->dirfd = -1;
}

bool state_dir_is(int rootfd, const char *name, int dirfd)
{
  struct stat a, b;
  if (fstat(dirfd, &a) < 0 || a.st_nlink == 0)
    return false;
  return fstatat(rootfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

int state_dir_open_locked(const char *root, const char *id, int *dirfd, nook_error_t *err)
{
  /* The lock is taken on an open directory: if its holder removed it (a
   * delete, a create that failed), what we locked is no longer ROOT/ID. */
  for (int tries = 0; tries < 100; tries++) {
    int fd;
    if (state_dir_open(root, id, &fd, err) < 0)
      return -1;
    if (state_lock(fd, err) < 0) {
      close(fd);
      return -1;
    }
    cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd >= 0 && state_dir_is(rootfd, id, fd)) {
      *dirfd = fd;
      return 0;
    }
    close(fd);
  }
  return nook_error(err, EAGAIN, "container \"%s\": its state directory keeps changing", id);
}

void state_sweep_stale(const char *root)
{
  DIR *d = opendir(root);
  if (d == NULL)
    return;
  struct dirent *de;
  size_t plen = strlen(STATE_TMP_PREFIX);
  while ((de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, STATE_TMP_PREFIX, plen) != 0)
      continue;
    int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
      continue;
    /* Locked means a create is still filling it; unlocked after it had
     * been locked (0711), its maker died.  One that died before locking
     * leaves an empty 0700 directory: removed once it is a minute old. */
    struct stat st;
    if (fstat(fd, &st) == 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        ((st.st_mode & 0777) == 0711 || time(NULL) - st.st_ctime > 60))
      state_dir_remove_fd(dirfd(d), de->d_name, fd, NULL);
    close(fd);
  }
  closedir(d);
}

bool state_exists(const char *root, const char *id)
{
  cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  return rootfd >= 0 && fstatat(rootfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int state_lock(int dirfd, nook_error_t *err)
{
  while (flock(dirfd, LOCK_EX) < 0)
    if (errno != EINTR)
      return nook_error(err, errno, "lock container state");
  return 0;
}

static void gen_str(yajl_gen g, const char *k, const char *v)
{
  if (v == NULL)
    return;
  yajl_gen_string(g, (const unsigned char *)k, strlen(k));
  yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static void gen_int(yajl_gen g, const char *k, long long v)
{
  yajl_gen_string(g, (const unsigned char *)k, strlen(k));
  yajl_gen_integer(g, v);
}

int state_write(int dirfd, const struct nook_state *s, nook_error_t *err)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  gen_str(g, "id", s->id);
  gen_int(g, "pid", s->pid);
  gen_int(g, "pid_start", (long long)s->pid_start);
  gen_str(g, "bundle", s->bundle);
  gen_str(g, "rootfs", s->rootfs);
  gen_str(g, "created", s->created);
  gen_str(g, "owner", s->owner);
  gen_str(g, "cgroup", s->cgroup);
  gen_str(g, "overlay_upper", s->overlay_upper);
  gen_str(g, "vm", s->vm);
  yajl_gen_string(g, (const unsigned char *)"ready", 5);
  yajl_gen_bool(g, s->ready);
  yajl_gen_map_close(g);
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(g, &buf, &len);

  /* Write-then-rename so a reader never sees half a file.  The copy (its
   * own inode) lets delete --force and list recover a container whose
   * state.json was overwritten. */
  int r = write_file_at(dirfd, STATE_BACKUP ".tmp", O_CREAT | O_TRUNC, 0600, buf, len, err);
  if (r == 0 && renameat(dirfd, STATE_BACKUP ".tmp", dirfd, STATE_BACKUP) < 0)
    r = nook_error(err, errno, "rename " STATE_BACKUP);
  if (r == 0)
    r = write_file_at(dirfd, "state.json.tmp", O_CREAT | O_TRUNC, 0600, buf, len, err);
  yajl_gen_free(g);
  if (r < 0)
    return r;
  if (renameat(dirfd, "state.json.tmp", dirfd, "state.json") < 0)
    return nook_error(err, errno, "rename state.json");
  return 0;
}

static char *tree_str(yajl_val root, const char *key)
{
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_string);
  return v ? xstrdup(YAJL_GET_STRING(v)) : NULL;
}

static long long tree_int(yajl_val root, const char *key)
{
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_number);
  return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

/* -2 (err set) when the file is there but not a state. */
static int state_read_file(int dirfd, const char *name, struct nook_state *s, nook_error_t *err)
{
  cleanup_free char *text = NULL;
  memset(s, 0, sizeof(*s));
  if (read_file_at(dirfd, name, &text, NULL, err) < 0)
    return -1;
  char ebuf[256] = "";
  yajl_val root = yajl_tree_parse(text, ebuf, sizeof(ebuf));
  if (root == NULL) {
    ebuf[strcspn(ebuf, "\n")] = '\0';
    nook_error(err, 0, "%s is corrupt: %s", name, ebuf);
    return -2;
  }
  if (!YAJL_IS_OBJECT(root)) {
    yajl_tree_free(root);
    nook_error(err, 0, "%s is corrupt: not a JSON object", name);
    return -2;
  }
  s->id = tree_str(root, "id");
  s->pid = (pid_t)tree_int(root, "pid");
  s->pid_start = (unsigned long long)tree_int(root, "pid_start");
  s->bundle = tree_str(root, "bundle");
  s->rootfs = tree_str(root, "rootfs");
  s->created = tree_str(root, "created");
  s->owner = tree_str(root, "owner");
  s->cgroup = tree_str(root, "cgroup");
  s->overlay_upper = tree_str(root, "overlay_upper");
  s->vm = tree_str(root, "vm");
  const char *rp[] = {"ready", NULL};
  s->ready = YAJL_IS_TRUE(yajl_tree_get(root, rp, yajl_t_true));
  yajl_tree_free(root);
  return 0;
}

int state_read(int dirfd, struct nook_state *s, nook_error_t *err)
{
  /* Our own error first: the warning below names why state.json was
   * passed over even when the caller asked for no error (err NULL). */
  nook_error_t e1 = NULL;
  int r = state_read_file(dirfd, "state.json", s, &e1);
  if (r != -2) {
    if (r < 0 && err != NULL)
      *err = e1;
    else
      nook_error_free(&e1);
    return r;
  }
  nook_error_t e2 = NULL;
  if (state_read_file(dirfd, STATE_BACKUP, s, &e2) < 0) {
    nook_error_free(&e2);
    if (err != NULL)
      *err = e1;
    else
      nook_error_free(&e1);
    return -1;
  }
  cleanup_free char *why = nook_error_text(e1);
  nook_error_free(&e1);
  nook_warn("container \"%s\": %s; using its copy " STATE_BACKUP, s->id ? s->id : "?", why);
  return 1;
}

void state_clear(struct nook_state *s)
{
  free(s->id);
  free(s->bundle);
  free(s->rootfs);
  free(s->created);
  free(s->owner);
  free(s->cgroup);
  free(s->overlay_upper);
  free(s->vm);
  memset(s, 0, sizeof(*s));
}

/* Parse /proc/PID/stat after the command name (which may hold spaces and
 * parentheses: the last ')' ends it).  Field 3 is the state, 22 the start
 * time. */
static int proc_stat(pid_t pid, char *state, unsigned long *flags, unsigned long long *start)
{
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = safe_read(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ')
    return -1;
  p += 2;
  *state = *p;
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (p == NULL)
      return -1;
    p++;
    if (field + 1 == 9)
      *flags = strtoul(p, NULL, 10);
  }
  *start = strtoull(p, NULL, 10);
  return 0;
}

unsigned long long proc_start_time(pid_t pid)
{
  char st;
  unsigned long flags;
  unsigned long long start;
  if (pid <= 0 || proc_stat(pid, &st, &flags, &start) < 0 || st == 'Z' || st == 'X')
    return 0;
  return start;
}

/* include/linux/sched.h: set as do_exit() begins, before the files close. */
#define KERNEL_PF_EXITING 0x00000004UL

bool proc_exiting(pid_t pid, unsigned long long start_time)
{
  char st;
  unsigned long flags = 0;
  unsigned long long start;
  if (pid <= 0 || proc_stat(pid, &st, &flags, &start) < 0 || start != start_time)
    return true;
  return st == 'Z' || st == 'X' || (flags & KERNEL_PF_EXITING) != 0;
}

enum nook_status state_status(int dirfd, const struct nook_state *s)
{
  if (s->pid <= 0)
    return s->ready ? NOOK_STOPPED : NOOK_CREATING;
  unsigned long long start = proc_start_time(s->pid);
  if (start == 0 || start != s->pid_start)
    return NOOK_STOPPED;
  if (!s->ready)
    return NOOK_CREATING;
  struct stat st;
  /* Before start.sock: a created container can be paused too (runc). */
  if (s->vm != NULL && fstatat(dirfd, STATE_PAUSED_MARK, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return NOOK_PAUSED;
  if (fstatat(dirfd, "start.sock", &st, AT_SYMLINK_NOFOLLOW) == 0)
    return NOOK_CREATED;
  return NOOK_RUNNING;
}

static int remove_tree_at(int dirfd, nook_error_t *err)
{
  DIR *d = fdopendir(dirfd);
  if (d == NULL) {
    close(dirfd);
    return nook_error(err, errno, "fdopendir");
  }
  struct dirent *de;
  int ret = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (unlinkat(dirfd, de->d_name, 0) == 0 || errno == ENOENT)
      continue;
    if (errno != EISDIR && errno != EPERM) {
      ret = nook_error(err, errno, "unlink `%s`", de->d_name);
      continue;
    }
    int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0 && remove_tree_at(sub, err) == 0 && unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
      ret = nook_error(err, errno, "rmdir `%s`", de->d_name);
  }
  closedir(d);
  return ret;
}

int state_dir_remove_fd(int rootfd, const char *name, int dirfd, nook_error_t *err)
{
  /* Only the directory this process holds, never whatever now has its name. */
  if (!state_dir_is(rootfd, name, dirfd))
    return 0;
  int fd = dup(dirfd);
  if (fd < 0)
    return nook_error(err, errno, "dup");
  if (remove_tree_at(fd, err) < 0)
    return nook_error_wrap(err, "remove state of \"%s\"", name);
  if (unlinkat(rootfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return nook_error(err, errno, "remove state directory of \"%s\"", name);
  return 0;
}

int state_dir_remove(const char *root, const char *id, int dirfd, nook_error_t *err)
{
  cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return errno == ENOENT ? 0 : nook_error(err, errno, "open state root `%s`", root);
  return state_dir_remove_fd(rootfd, id, dirfd, err);
}

char *now_rfc3339(void)
{
  char buf[64];
  rfc3339_now(buf, sizeof(buf));
  return xstrdup(buf);
}

int write_pid_file(const char *path, pid_t pid, nook_error_t *err)
{
  cleanup_free char *tmp = NULL;
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%d", pid);
  xasprintf(&tmp, "%s.nook-tmp", path);
  if (write_file_at(AT_FDCWD, tmp, O_CREAT | O_TRUNC, 0644, buf, (size_t)n, err) < 0)
    return nook_error_wrap(err, "--pid-file");
  if (rename(tmp, path) < 0) {
    unlink(tmp);
    return nook_error(err, errno, "--pid-file: rename to `%s`", path);
  }
  return 0;
}
