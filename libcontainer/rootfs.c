#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "mount_opts.h"

/* ---- path resolution inside the rootfs ---------------------------------- */

/* openat2 answers EAGAIN when a rename or mount anywhere on the host moved
 * while it walked "..": it cannot prove the result stayed inside the root.
 * Retrying is right, but a host that keeps renaming must not hang us. */
#define OPEN_IN_ROOT_TRIES 128

/* No RESOLVE_NO_XDEV: the lookups cross the mounts already made inside the
 * rootfs (binds, /proc, /dev) by design. */
static int open_in_root(int rootfd, const char *path, int flags, int *out, nook_error_t *err)
{
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  for (int i = 0; i < OPEN_IN_ROOT_TRIES; i++) {
    int fd = sys_openat2(rootfd, path, &how);
    if (fd >= 0) {
      *out = fd;
      return 0;
    }
    if (errno != EAGAIN && errno != EINTR)
      return nook_error(err, errno, "resolve `%s` in the rootfs", path);
  }
  return nook_error(err, EAGAIN,
                    "resolve `%s` in the rootfs: gave up after %d tries, renames or mounts on "
                    "the host kept racing the lookup",
                    path, OPEN_IN_ROOT_TRIES);
}

static int resolve_clean(int rootfd, const char *path, bool create, bool file, int *out,
                         nook_error_t *err)
{
  int r = open_in_root(rootfd, path, O_PATH, out, err);
  if (r == 0)
    return 0;
  if (r != -ENOENT || !create || strcmp(path, "/") == 0)
    return r;
  nook_error_free(err);

  const char *slash = strrchr(path, '/');
  cleanup_free char *parent = xstrndup(path, (size_t)(slash - path));
  const char *base = slash + 1;
  cleanup_close int pfd = -1;
  if (resolve_clean(rootfd, *parent ? parent : "/", true, false, &pfd, err) < 0)
    return -1;
  /* The parent may be an O_PATH fd to something that is not a directory
   * (the image can put a file there): the *at() calls then fail ENOTDIR. */
  if (file) {
    int fd = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0)
      close(fd);
    else if (errno != EEXIST)
      return nook_error(err, errno, "create `%s` in the rootfs", path);
  } else if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST) {
    return nook_error(err, errno, "mkdir `%s` in the rootfs", path);
  }
  r = open_in_root(rootfd, path, O_PATH, out, err);
  if (r == -ENOENT)
    return nook_error(err, ENOENT, "resolve `%s` in the rootfs (a dangling symlink is in the way)",
                      path);
  return r;
}

int rootfs_resolve(int rootfd, const char *path, bool create, bool file, int *out,
                   nook_error_t *err)
{
  /* Folding ".." lexically keeps the parent walk of resolve_clean() finite;
   * the kernel still resolves the result inside the root. */
  cleanup_free char *clean = path_clean(path, true);
  return resolve_clean(rootfd, clean, create, file, out, err);
}

/* ---- mounting through fds ----------------------------------------------- */

/* The kernel explains fsconfig() failures in the fs context's log. */
static int fs_error(nook_error_t *err, int fsfd, int errno_, const char *what, const char *type)
{
  char buf[512];
  ssize_t n = read(fsfd, buf, sizeof(buf) - 1);
  if (n > 2) {
    buf[n] = '\0';
    if (buf[n - 1] == '\n')
      buf[n - 1] = '\0';
    return nook_error(err, errno_, "%s %s (%s)", what, type, buf + 2);
  }
  return nook_error(err, errno_, "%s %s", what, type);
}

static int setattr(int mfd, uint64_t set, uint64_t clr, bool recursive, unsigned long propagation,
                   nook_error_t *err)
{
  if (set == 0 && clr == 0 && propagation == 0)
    return 0;
  struct mount_attr a = {.attr_set = set, .attr_clr = clr, .propagation = propagation};
  if (sys_mount_setattr(mfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a) < 0)
    return nook_error(err, errno, "mount_setattr");
  return 0;
}

static int apply_attrs(int mfd, const struct mount_opts *o, nook_error_t *err)
{
  if (setattr(mfd, o->attr_set, o->attr_clr, false, 0, err) < 0)
    return -1;
  if (setattr(mfd, o->rattr_set, o->rattr_clr, true, 0, err) < 0)
    return -1;
  return 0;
}

/* A new filesystem instance, detached, with its options; returns the mount fd. */
static int new_fs(const char *type, const char *source, const struct mount_opts *o, int *out,
                  nook_error_t *err)
{
  cleanup_close int fsfd = sys_fsopen(type, FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return nook_error(err, errno, "fsopen %s", type);
  if (source && *source && sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
    return fs_error(err, fsfd, errno, "set source of", type);
  char *const *lists[] = {o->sb_flags, o->data};
  for (size_t l = 0; l < 2; l++)
    for (char *const *p = lists[l]; p && *p; p++) {
      char *eq = strchr(*p, '=');
      int r;
      if (eq) {
        cleanup_free char *key = xstrndup(*p, (size_t)(eq - *p));
        r = sys_fsconfig(fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0);
      } else {
        r = sys_fsconfig(fsfd, FSCONFIG_SET_FLAG, *p, NULL, 0);
      }
      if (r < 0)
        return fs_error(err, fsfd, errno, "option", *p);
    }
  if (sys_fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return fs_error(err, fsfd, errno, "create", type);
  int mfd = sys_fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0)
    return nook_error(err, errno, "fsmount %s", type);
  *out = mfd;
  return 0;
}

/* tmpcopyup: the image's files under the destination are copied into the
 * fresh tmpfs before it covers them.  Every step is relative to directory
 * fds and never follows a symlink: symlinks are copied as symlinks. */
static int copy_tree(int src, int dst, int depth, nook_error_t *err)
{
  if (depth > 64)
    return nook_error(err, ELOOP, "tmpcopyup: directory tree too deep");
  cleanup_close int iter = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (iter < 0)
    return nook_error(err, errno, "tmpcopyup: open directory");
  DIR *d = fdopendir(iter);
  if (d == NULL)
    return nook_error(err, errno, "tmpcopyup: fdopendir");
  iter = -1;
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      ret = nook_error(err, errno, "tmpcopyup: stat `%s`", n);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int s2 = -1, d2 = -1;
      if (mkdirat(dst, n, st.st_mode & 07777) < 0 ||
          (s2 = openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
          (d2 = openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        ret = nook_error(err, errno, "tmpcopyup: directory `%s`", n);
        break;
      }
      ret = copy_tree(s2, d2, depth + 1, err);
    } else if (S_ISREG(st.st_mode)) {
      cleanup_close int in = openat(src, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_close int out =
          openat(dst, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
      if (in < 0 || out < 0) {
        ret = nook_error(err, errno, "tmpcopyup: file `%s`", n);
        break;
      }
      char buf[65536];
      ssize_t r;
      while ((r = safe_read(in, buf, sizeof(buf))) > 0)
        if (safe_write(out, buf, (size_t)r) < 0)
          break;
      if (r < 0 || errno == ENOSPC) {
        ret = nook_error(err, errno, "tmpcopyup: copy `%s`", n);
        break;
      }
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t len = readlinkat(src, n, target, sizeof(target) - 1);
      if (len < 0 || (target[len] = '\0', symlinkat(target, dst, n) < 0)) {
        ret = nook_error(err, errno, "tmpcopyup: symlink `%s`", n);
        break;
      }
    } else if (mknodat(dst, n, st.st_mode, st.st_rdev) < 0) {
      ret = nook_error(err, errno, "tmpcopyup: node `%s`", n);
      break;
    }
    if (fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
      ret = nook_error(err, errno, "tmpcopyup: chown `%s`", n);
      break;
    }
  }
  closedir(d);
  return ret;
}

static bool has_data_key(const struct mount_opts *o, const char *key)
{
  size_t n = strlen(key);
  for (char **p = o->data; p && *p; p++)
    if (strncmp(*p, key, n) == 0 && (*p)[n] == '=')
      return true;
  return false;
}

static int tmpcopyup(int destfd, int mfd, const struct mount_opts *o, nook_error_t *err)
{
  struct stat st;
  cleanup_close int root = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0 || fstat(destfd, &st) < 0)
    return nook_error(err, errno, "tmpcopyup");
  /* The tmpfs takes the covered directory's place: its mode and owner too,
   * unless the options set them. */
  if (!has_data_key(o, "mode") && fchmod(root, st.st_mode & 07777) < 0)
    return nook_error(err, errno, "tmpcopyup: chmod");
  if (!has_data_key(o, "uid") && !has_data_key(o, "gid") && fchown(root, st.st_uid, st.st_gid) < 0)
    return nook_error(err, errno, "tmpcopyup: chown");
  return copy_tree(destfd, root, 0, err);
}

static int attach(int mfd, int destfd, const char *dest, nook_error_t *err)
{
  if (sys_move_mount(mfd, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return nook_error(err, errno, "attach mount on `%s`", dest);
  return 0;
}

/* Mounting over procfs is how writes meant for /proc get redirected
 * (CVE-2025-52881 and its kin): a destination that resolves into a procfs is
 * refused, except for the files tools like lxcfs cover, named directly. */
static const char *const proc_mount_ok[] = {
    "/proc/cpuinfo", "/proc/diskstats",
    "/proc/meminfo", "/proc/stat",
    "/proc/swaps",   "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo",
    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

static int check_not_procfs(int destfd, const char *dest, nook_error_t *err)
{
  struct statfs sfs;
  if (fstatfs(destfd, &sfs) < 0)
    return nook_error(err, errno, "statfs the destination");
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return 0;
  cleanup_free char *clean = path_clean(dest, true);
  for (size_t i = 0; i < ARRAY_SIZE(proc_mount_ok); i++)
    if (strcmp(clean, proc_mount_ok[i]) == 0)
      return 0;
  return nook_error(err, EPERM, "the destination resolves into procfs: refusing to mount over it");
}

static bool is_bind(const struct oci_mount *m, const struct mount_opts *o)
{
  return o->bind || (m->type && strcmp(m->type, "bind") == 0);
}

/* cgroup v1 hierarchies as runc lays them out: a tmpfs holding one mount per
 * hierarchy the host has; cgroup2 alone on a unified host. */
static int mount_cgroup(struct rootfs_ctx *ctx, const struct oci_mount *m,
                        const struct mount_opts *o, int destfd, nook_error_t *err);

/* What a user namespace may not mount afresh is bound from the host, as
 * crun does: sysfs when the network namespace is not owned by the
 * container's user namespace (the kernel ties sysfs to it), mqueue when the
 * IPC namespace is not, cgroup2 when the cgroup namespace is not.  Called
 * after new_fs(type) failed with *err set; 0 with the host's tree in *mfd,
 * or -1 with *err as it was. */
static int bind_from_host(const struct rootfs_ctx *ctx, const char *type, int *mfd,
                          nook_error_t *err)
{
  static const struct {
    const char *type, *host;
  } binds[] = {{"sysfs", "/sys"}, {"mqueue", "/dev/mqueue"}, {"cgroup2", "/sys/fs/cgroup"}};
  if (!ctx->userns || (*err)->status != EPERM)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(binds); i++) {
    if (strcmp(type, binds[i].type) != 0)
      continue;
    int fd =
        sys_open_tree(AT_FDCWD, binds[i].host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0) {
      int e = errno;
      cleanup_free char *first = nook_error_text(*err);
      nook_error_free(err);
      return nook_error(err, e, "%s, and a bind of the host's `%s` in its place failed", first,
                        binds[i].host);
    }
    nook_error_free(err);
    *mfd = fd;
    return 0;
  }
  return -1;
}

static int do_mount(struct rootfs_ctx *ctx, const struct oci_mount *m, size_t idx,
                    nook_error_t *err)
{
  struct mount_opts o;
  mount_opts_parse(m->options, &o, NULL);
  int ret = -1;
  cleanup_close int destfd = -1;
  cleanup_close int mfd = -1;
  bool bind = is_bind(m, &o);
  bool file = false;
  /* (before any goto: cleanup must never see it uninitialised) */
  cleanup_free char *clean_dest = path_clean(m->destination, true);

  /* A tree the runtime prepared: its own type says file or directory (in a
   * user namespace the source itself may be out of our reach). */
  if (ctx->mount_fds && ctx->mount_fds[idx] >= 0 && !o.remount) {
    mfd = ctx->mount_fds[idx];
    ctx->mount_fds[idx] = -1;
    struct stat st;
    if (fstat(mfd, &st) < 0) {
      nook_error(err, errno, "stat the prepared mount");
      goto out;
    }
    file = !S_ISDIR(st.st_mode);
  } else if (bind) {
    struct stat st;
    if (m->source == NULL || stat(m->source, &st) < 0) {
      nook_error(err, m->source ? errno : EINVAL, "bind source `%s`",
                 m->source ? m->source : "(none)");
      goto out;
    }
    file = !S_ISDIR(st.st_mode);
  }
  if (rootfs_resolve(ctx->rootfd, m->destination, true, file, &destfd, err) < 0 ||
      check_not_procfs(destfd, m->destination, err) < 0)
    goto out;

  if (o.remount) {
    /* The mount already at the destination: open_tree without CLONE gives
     * that mount itself, for mount_setattr. */
    mfd = sys_open_tree(destfd, "", OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (mfd < 0) {
      nook_error(err, errno, "remount: open the mount");
      goto out;
    }
    if (apply_attrs(mfd, &o, err) < 0)
      goto out;
    ret = 0;
    goto out;
  }
  if (mfd >= 0) {
    /* prepared by the runtime (above) */
  } else if (bind) {
    mfd = sys_open_tree(AT_FDCWD, m->source,
                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (o.rbind ? AT_RECURSIVE : 0));
    if (mfd < 0) {
      nook_error(err, errno, "open_tree `%s`", m->source);
      goto out;
    }
  } else if (m->type && (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0)) {
    ret = mount_cgroup(ctx, m, &o, destfd, err);
    goto out;
  } else {
    if (m->type == NULL) {
      nook_error(err, EINVAL, "no type given");
      goto out;
    }
    /* linux.mountLabel labels every filesystem nook creates (not binds,
     * whose files keep their own labels). */
    if (ctx->config->linux_.mount_label) {
      cleanup_free char *ctxopt = NULL;
      xasprintf(&ctxopt, "context=\"%s\"", ctx->config->linux_.mount_label);
      size_t n = strv_len(o.data);
      o.data = xrealloc(o.data, (n + 2) * sizeof(char *));
      o.data[n] = steal_pointer(&ctxopt);
      o.data[n + 1] = NULL;
    }
    if (new_fs(m->type, m->source, &o, &mfd, err) < 0 &&
        bind_from_host(ctx, m->type, &mfd, err) < 0)
      goto out;
    if (o.tmpcopyup && tmpcopyup(destfd, mfd, &o, err) < 0)
      goto out;
  }
  /* A read-only /dev still needs its nodes, links and the mounts below it
   * (devpts on /dev/pts) made: it becomes read-only last (as with runc). */
  bool dev_ro = strcmp(clean_dest, "/dev") == 0 && (o.attr_set & MOUNT_ATTR_RDONLY);
  if (dev_ro)
    o.attr_set &= ~(uint64_t)MOUNT_ATTR_RDONLY;
  if (apply_attrs(mfd, &o, err) < 0 || attach(mfd, destfd, m->destination, err) < 0)
    goto out;
  if (o.propagation && setattr(mfd, 0, 0, o.propagation_recursive, o.propagation, err) < 0)
    goto out;
  if (strcmp(clean_dest, "/dev") == 0 && ctx->dev_ro_mfd >= 0) {
    close(ctx->dev_ro_mfd); /* a later /dev mount covers it */
    ctx->dev_ro_mfd = -1;
  }
  if (dev_ro)
    ctx->dev_ro_mfd = steal_fd(&mfd);
  ret = 0;
out:
  if (ret < 0)
    nook_error_wrap(err, "mounts[%zu] (%s on %s)", idx, m->type ? m->type : "bind", m->destination);
  mount_opts_clear(&o);
  return ret;
}

static int mount_cgroup(struct rootfs_ctx *ctx, const struct oci_mount *m,
                        const struct mount_opts *o, int destfd, nook_error_t *err)
{
  /* Planned here, in the init: its own cgroup (and cgroup namespace) is
   * what the container is shown. */
  cleanup_mount_plan struct cgroup_mount_plan plan = {0};
  if (cgroup_mount_plan(ctx->cgroupns, strcmp(m->type, "cgroup2") == 0, ctx->host_mounts, &plan,
                        err) < 0)
    return nook_error_wrap(err, "cgroup mount");
  cleanup_close int mfd = -1;
  struct mount_opts plain = {.attr_set = o->attr_set, .attr_clr = o->attr_clr};

  if (!plan.tmpfs) {
    if (new_fs("cgroup2", "cgroup2", &plain, &mfd, err) < 0 &&
        bind_from_host(ctx, "cgroup2", &mfd, err) < 0)
      return -1;
    if (apply_attrs(mfd, o, err) < 0)
      return -1;
    return attach(mfd, destfd, m->destination, err);
  }

  /* Legacy/hybrid: a tmpfs holds one mount per hierarchy.  It is attached
   * before the hierarchies go in (kernels before 6.x refuse mounts on a
   * detached tree) and made read-only last. */
  struct mount_opts t = {0};
  char *data[] = {"mode=755", NULL};
  t.data = data;
  if (new_fs("tmpfs", "tmpfs", &t, &mfd, err) < 0)
    return -1;
  if (setattr(mfd, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, false, 0, err) < 0)
    return -1;
  for (size_t i = 0; i < plan.n; i++)
    if (mkdirat(mfd, plan.mounts[i].dir, 0755) < 0 && errno != EEXIST)
      return nook_error(err, errno, "mkdir cgroup/%s", plan.mounts[i].dir);
  if (attach(mfd, destfd, m->destination, err) < 0)
    return -1;

  for (size_t i = 0; i < plan.n; i++) {
    const struct cgroup_mount *cm = &plan.mounts[i];
    cleanup_close int sub = -1;
    cleanup_close int at = openat(mfd, cm->dir, O_PATH | O_CLOEXEC | O_NOFOLLOW);
    if (at < 0)
      return nook_error(err, errno, "open cgroup/%s", cm->dir);
    if (cm->bind) {
      sub = sys_open_tree(AT_FDCWD, cm->bind, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
      if (sub < 0)
        return nook_error(err, errno, "open_tree `%s`", cm->bind);
    } else if (cm->v2) {
      if (new_fs("cgroup2", "cgroup2", &plain, &sub, err) < 0)
        return -1;
    } else {
      struct mount_opts c = {.data = cm->options};
      if (new_fs("cgroup", "cgroup", &c, &sub, err) < 0)
        return -1;
    }
    if (apply_attrs(sub, o, err) < 0 || attach(sub, at, cm->dir, err) < 0)
      return -1;
  }
  return apply_attrs(mfd, o, err);
}

/* ---- /dev ---------------------------------------------------------------- */

struct devnode {
  const char *name;
  unsigned major, minor;
};

static const struct devnode default_devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/* Open the rootfs's /dev as a real directory without following any symlink,
 * so an image whose /dev points elsewhere cannot redirect device creation. */
static int open_dev(int rootfd, int *out, nook_error_t *err)
{
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS};
  int fd = sys_openat2(rootfd, "dev", &how);
  if (fd < 0)
    return nook_error(err, errno, "open /dev in the rootfs (it must be a directory)");
  *out = fd;
  return 0;
}

/* Remove what the image left at `name` in the (verified) /dev dir fd: a
 * file, a symlink (never followed) or an empty directory. */
static int clear_entry(int dirfd, const char *name, nook_error_t *err)
{
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if ((errno == EISDIR || errno == EPERM) && unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
    return 0;
  return nook_error(err, errno, "replace `%s` left in the image", name);
}

static int make_node(int devfd, const char *name, const char *host_path, mode_t mode, dev_t dev,
                     bool userns, uint32_t uid, uint32_t gid, nook_error_t *err)
{
  if (!userns) {
    if (mknodat(devfd, name, mode, dev) < 0) {
      if (errno != EEXIST)
        return nook_error(err, errno, "mknod `%s`", host_path);
      if (clear_entry(devfd, name, err) < 0 || mknodat(devfd, name, mode, dev) < 0)
        return nook_error(err, errno, "mknod `%s`", host_path);
    }
    if (fchownat(devfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
      return nook_error(err, errno, "chown `%s`", host_path);
    return 0;
  }
  /* mknod is not allowed in a user namespace: bind the host's node, found
   * at the same path on the host. */
  struct stat st;
  if (fstatat(devfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
      clear_entry(devfd, name, err) < 0)
    return -1;
  int fd = openat(devfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return nook_error(err, errno, "create `%s`", host_path);
  close(fd);
  cleanup_close int target = openat(devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int tree = sys_open_tree(AT_FDCWD, host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (target < 0 || tree < 0)
    return nook_error(err, errno, "bind `%s` from the host", host_path);
  return attach(tree, target, host_path, err);
}

static int setup_dev(struct rootfs_ctx *ctx, bool fresh, nook_error_t *err)
{
  const struct oci_config *c = ctx->config;
  cleanup_close int devfd = -1;
  if (open_dev(ctx->rootfd, &devfd, err) < 0)
    return -1;
  mode_t old = umask(0);
  int ret = -1;
  for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
    const struct devnode *d = &default_devices[i];
    char host[32];
    snprintf(host, sizeof(host), "/dev/%s", d->name);
    if (make_node(devfd, d->name, host, S_IFCHR | 0666, makedev(d->major, d->minor), ctx->userns, 0,
                  0, err) < 0)
      goto out;
  }
  for (size_t i = 0; c->has_linux && i < c->linux_.n_devices; i++) {
    const struct oci_device *d = &c->linux_.devices[i];
    if (!has_prefix(d->path, "/dev/") || strchr(d->path + 5, '/') != NULL) {
      /* Nested device paths are resolved like mount destinations. */
      cleanup_close int parent = -1;
      cleanup_free char *dir = xstrdup(d->path);
      *strrchr(dir, '/') = '\0';
      if (rootfs_resolve(ctx->rootfd, *dir ? dir : "/", true, false, &parent, err) < 0)
        goto out;
      cleanup_close int pdir = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (pdir < 0) {
        nook_error(err, errno, "linux.devices[%zu]: open parent of `%s`", i, d->path);
        goto out;
      }
      mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
      if (make_node(pdir, strrchr(d->path, '/') + 1, d->path,
                    type | (d->has_file_mode ? d->file_mode & 07777 : 0666),
                    makedev(d->major, d->minor), ctx->userns, d->has_uid ? d->uid : 0,
                    d->has_gid ? d->gid : 0, err) < 0) {
        nook_error_wrap(err, "linux.devices[%zu]", i);
        goto out;
      }
      continue;
    }
    mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
    if (make_node(devfd, d->path + 5, d->path,
                  type | (d->has_file_mode ? d->file_mode & 07777 : 0666),
                  makedev(d->major, d->minor), ctx->userns, d->has_uid ? d->uid : 0,
                  d->has_gid ? d->gid : 0, err) < 0) {
      nook_error_wrap(err, "linux.devices[%zu]", i);
      goto out;
    }
  }
  static const struct {
    const char *target, *name;
  } links[] = {{"/proc/self/fd", "fd"},
               {"/proc/self/fd/0", "stdin"},
               {"/proc/self/fd/1", "stdout"},
               {"/proc/self/fd/2", "stderr"},
               {"pts/ptmx", "ptmx"}};
  for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
    if (symlinkat(links[i].target, devfd, links[i].name) == 0)
      continue;
    /* On a fresh /dev only linux.devices can be there first (a privileged
     * engine config lists every host node): a configured fd or stdin node
     * stays, as with runc, but ptmx must be the devpts one's link or the
     * container's ptys would come from the host's devpts instance. */
    bool keep = fresh && errno == EEXIST && strcmp(links[i].name, "ptmx") != 0;
    if (keep)
      continue;
    if (errno != EEXIST || clear_entry(devfd, links[i].name, err) < 0 ||
        symlinkat(links[i].target, devfd, links[i].name) < 0) {
      nook_error(err, errno, "symlink /dev/%s", links[i].name);
      goto out;
    }
  }
  if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", devfd, "core") < 0 &&
      errno != EEXIST) {
    nook_error(err, errno, "symlink /dev/core");
    goto out;
  }
  /* The pty slave is bound over this file once the terminal exists. */
  if (c->process.terminal) {
    struct stat st;
    if (fstatat(devfd, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
        clear_entry(devfd, "console", err) < 0)
      goto out;
    int fd = openat(devfd, "console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      nook_error(err, errno, "create /dev/console");
      goto out;
    }
    if (fd >= 0)
      close(fd);
  }
  ret = 0;
out:
  umask(old);
  return ret;
}

/* ---- the whole sequence -------------------------------------------------- */

static bool mounts_dev(const struct oci_config *c)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    if (strcmp(c->mounts[i].destination, "/dev") == 0)
      return true;
  return false;
}

static int mask_path(int rootfd, const char *path, nook_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *clean = path_clean(path, true);
  /* Never follow a symlink the image planted at a masked path: a symlink
   * there is masked as itself being absent. */
  struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  fd = sys_openat2(rootfd, clean, &how);
  if (fd < 0)
    return errno == ENOENT ? 0 : nook_error(err, errno, "maskedPaths: resolve `%s`", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return nook_error(err, errno, "maskedPaths: stat `%s`", path);
  if (S_ISLNK(st.st_mode))
    return 0;
  cleanup_close int mfd = -1;
  if (S_ISDIR(st.st_mode)) {
    struct mount_opts o = {0};
    char *data[] = {"size=0", "mode=555", NULL};
    o.data = data;
    if (new_fs("tmpfs", "tmpfs", &o, &mfd, err) < 0)
      return nook_error_wrap(err, "maskedPaths: `%s`", path);
    if (setattr(mfd, MOUNT_ATTR_RDONLY, 0, false, 0, err) < 0)
      return nook_error_wrap(err, "maskedPaths: `%s`", path);
  } else {
    /* The host's /dev/null (we have not pivoted yet): the image's could be
     * anything. */
    mfd = sys_open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (mfd < 0)
      return nook_error(err, errno, "maskedPaths: `%s`: clone /dev/null", path);
  }
  if (attach(mfd, fd, path, err) < 0)
    return nook_error_wrap(err, "maskedPaths");
  return 0;
}

static int readonly_path(int rootfd, const char *path, nook_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *clean = path_clean(path, true);
  int r = open_in_root(rootfd, clean, O_PATH | O_NOFOLLOW, &fd, err);
  if (r == -ENOENT) {
    nook_error_free(err);
    return 0;
  }
  if (r < 0)
    return nook_error_wrap(err, "readonlyPaths");
  cleanup_close int mfd =
      sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (mfd < 0)
    return nook_error(err, errno, "readonlyPaths: `%s`: open_tree", path);
  if (setattr(mfd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
              true, 0, err) < 0 ||
      attach(mfd, fd, path, err) < 0)
    return nook_error_wrap(err, "readonlyPaths: `%s`", path);
  return 0;
}

/* The annotation-driven overlay rootfs: root.path is the read-only lower
 * layer; the upper and work dirs live on a tmpfs that exists only in this
 * mount namespace (so it goes away with the container), or in a directory
 * the user names (persistent).  The overlay is mounted over root.path in our
 * private namespace: the host and the image never see it. */
static int mount_overlay_rootfs(struct rootfs_ctx *ctx, const char *where, int *rootfd,
                                nook_error_t *err)
{
  const struct oci_config *c = ctx->config;
  if (ctx->no_mntns)
    return nook_error(err, 0,
                      "annotation nook.rootfs.overlay: needs a mount namespace (without one the "
                      "overlay would stay over root.path in the caller's namespace)");
  const char *size = oci_annotation(c, "nook.rootfs.overlay.size");
  cleanup_close int upperfs = -1;
  cleanup_free char *upper = NULL, *work = NULL, *lowerdir = NULL;
  /* Taken before anything covers root.path (the tmpfs below does). */
  cleanup_close int lowerfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (lowerfd < 0)
    return nook_error(err, errno, "open the rootfs `%s`", ctx->rootfs);
  xasprintf(&lowerdir, "/proc/self/fd/%d", lowerfd);

  if (strcmp(where, "tmpfs") == 0) {
    struct mount_opts t = {0};
    cleanup_free char *sz = NULL;
    char *data[3] = {"mode=755", NULL, NULL};
    if (size) {
      xasprintf(&sz, "size=%s", size);
      data[1] = sz;
    }
    t.data = data;
    if (new_fs("tmpfs", "tmpfs", &t, &upperfs, err) < 0)
      return nook_error_wrap(err, "annotation nook.rootfs.overlay.size");
    if (mkdirat(upperfs, "upper", 0755) < 0 || mkdirat(upperfs, "work", 0755) < 0)
      return nook_error(err, errno, "overlay rootfs: upper and work dirs");
    /* Overlayfs before Linux 6.15 refuses an upper on a detached mount
     * (clone_private_mount: "failed to clone upperpath"; VM mode's guest
     * kernel is 6.1): the tmpfs goes over root.path, under the overlay,
     * where nothing can reach it but the fd. */
    cleanup_close int under = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (under < 0)
      return nook_error(err, errno, "open the rootfs `%s`", ctx->rootfs);
    if (attach(upperfs, under, ctx->rootfs, err) < 0)
      return nook_error_wrap(err, "overlay rootfs: its tmpfs");
    xasprintf(&upper, "/proc/self/fd/%d/upper", upperfs);
    xasprintf(&work, "/proc/self/fd/%d/work", upperfs);
  } else if (where[0] == '/') {
    xasprintf(&upper, "%s/upper", where);
    xasprintf(&work, "%s/work", where);
    if (mkdir_p(upper, 0755, err) < 0 || mkdir_p(work, 0755, err) < 0)
      return nook_error_wrap(err, "annotation nook.rootfs.overlay");
  } else {
    return nook_error(err, 0,
                      "annotation nook.rootfs.overlay: \"%s\" is neither \"tmpfs\" nor an "
                      "absolute directory",
                      where);
  }
  struct mount_opts o = {0};
  cleanup_free char *lower = NULL, *u = NULL, *w = NULL;
  xasprintf(&lower, "lowerdir=%s", lowerdir);
  xasprintf(&u, "upperdir=%s", upper);
  xasprintf(&w, "workdir=%s", work);
  char *data[] = {lower, u, w, NULL};
  o.data = data;
  cleanup_close int ofd = -1;
  cleanup_close int target = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (target < 0)
    return nook_error(err, errno, "open the rootfs `%s`", ctx->rootfs);
  if (new_fs("overlay", "overlay", &o, &ofd, err) < 0)
    return nook_error_wrap(err, "overlay rootfs");
  if (attach(ofd, target, ctx->rootfs, err) < 0)
    return -1;
  /* The mount's own fd, not a new lookup of root.path: with root.path "/"
   * (a job on the host's own tree) a lookup of "/" names the root the
   * overlay covers, never the overlay. */
  *rootfd = steal_fd(&ofd);
  return 0;
}

int rootfs_prepare(struct rootfs_ctx *ctx, nook_error_t *err)
{
  const struct oci_config *c = ctx->config;
  unsigned long prop = c->linux_.rootfs_propagation_flags;

  /* Nothing we mount may propagate back to the host. */
  unsigned long root_prop = MS_SLAVE | MS_REC;
  /* rootfsPropagation applies to the whole namespace, as in runc (shared
   * keeps the host's peer groups, so rshared binds can propagate out);
   * unbindable only after pivot_root: an unbindable / could not even be
   * bound onto itself. */
  if (prop && !(prop & MS_UNBINDABLE))
    root_prop = prop | MS_REC;
  /* Without a mount namespace "/" is the caller's: its propagation is not
   * ours to change (the validator refuses rootfsPropagation there). */
  if (!ctx->no_mntns && mount(NULL, "/", NULL, root_prop, NULL) < 0)
    return nook_error(err, errno, "make / %s", (root_prop & MS_PRIVATE) ? "rprivate" : "rslave");

  if ((prop & MS_SHARED) && !ctx->no_mntns) {
    /* pivot_root refuses a shared new root: make the mount that holds the
     * rootfs private first (walking up to the first mount point), so the
     * rootfs bind below is born private.  Binds inside keep their peers. */
    cleanup_free char *p = xstrdup(ctx->rootfs);
    for (;;) {
      if (mount(NULL, *p ? p : "/", NULL, MS_PRIVATE, NULL) == 0 || *p == '\0')
        break;
      char *s = strrchr(p, '/');
      if (s == NULL)
        break;
      *s = '\0';
    }
  }
  const char *overlay = oci_annotation(c, "nook.rootfs.overlay");
  if (overlay) {
    if (mount_overlay_rootfs(ctx, overlay, &ctx->rootfd, err) < 0)
      return -1;
  } else {
    if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
      return nook_error(err, errno, "bind the rootfs `%s` onto itself", ctx->rootfs);
    ctx->rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ctx->rootfd < 0)
      return nook_error(err, errno, "open the rootfs `%s`", ctx->rootfs);
  }

  for (size_t i = 0; i < c->n_mounts; i++)
    if (do_mount(ctx, &c->mounts[i], i, err) < 0)
      return -1;
  /* The default devices are a MUST whether /dev is a fresh tmpfs or the
   * image's own directory. */
  if (setup_dev(ctx, mounts_dev(c), err) < 0)
    return -1;
  /* Read-only and masked paths are done here, still resolved inside the
   * rootfs, while the host's /dev/null can be cloned directly (a clone of
   * a detached clone is refused by kernels before 6.x). */
  for (size_t i = 0; i < c->linux_.n_readonly_paths; i++)
    if (readonly_path(ctx->rootfd, c->linux_.readonly_paths[i], err) < 0)
      return -1;
  for (size_t i = 0; i < c->linux_.n_masked_paths; i++)
    if (mask_path(ctx->rootfd, c->linux_.masked_paths[i], err) < 0)
      return -1;
  return 0;
}

int rootfs_pivot(struct rootfs_ctx *ctx, nook_error_t *err)
{
  if (fchdir(ctx->rootfd) < 0)
    return nook_error(err, errno, "chdir into the rootfs");
  if (ctx->no_mntns) {
    /* Neither pivot_root nor MS_MOVE: both would change the caller's root
     * (pivot_root moves every process of the namespace whose root is "/"). */
    if (chroot(".") < 0)
      return nook_error(err, errno, "chroot");
  } else if (ctx->no_pivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
      return nook_error(err, errno, "move the rootfs to /");
    if (chroot(".") < 0)
      return nook_error(err, errno, "chroot");
  } else {
    /* pivot_root(".", ".") stacks the old root on top of the new one; it is
     * then detached without ever needing a directory for it.  Before that,
     * the old root's tree is made rslave through an fd taken before the
     * pivot (a path would name the new root): with a shared / its mounts are
     * peers of the host's, and an unmount would propagate to them. */
    cleanup_close int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (oldroot < 0)
      return nook_error(err, errno, "open the old root");
    if (sys_pivot_root(".", ".") < 0)
      return nook_error(err, errno, "pivot_root");
    struct mount_attr slave = {.propagation = MS_SLAVE};
    if (sys_mount_setattr(oldroot, "", AT_EMPTY_PATH | AT_RECURSIVE, &slave) < 0)
      return nook_error(err, errno, "make the old root rslave");
    if (umount2(".", MNT_DETACH) < 0)
      return nook_error(err, errno, "detach the old root");
  }
  if (chdir("/") < 0)
    return nook_error(err, errno, "chdir /");
  close(ctx->rootfd);
  ctx->rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctx->rootfd < 0)
    return nook_error(err, errno, "open /");
  return 0;
}

int rootfs_finalize(struct rootfs_ctx *ctx, nook_error_t *err)
{
  const struct oci_config *c = ctx->config;
  unsigned long prop = c->linux_.rootfs_propagation_flags;
  if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
    return nook_error(err, errno, "linux.rootfsPropagation: %s", c->linux_.rootfs_propagation);
  if (c->root_readonly && setattr(ctx->rootfd, MOUNT_ATTR_RDONLY, 0, false, 0, err) < 0)
    return nook_error_wrap(err, "root.readonly");
  if (ctx->dev_ro_mfd >= 0) {
    int r = setattr(ctx->dev_ro_mfd, MOUNT_ATTR_RDONLY, 0, false, 0, err);
    close(ctx->dev_ro_mfd);
    ctx->dev_ro_mfd = -1;
    if (r < 0)
      return nook_error_wrap(err, "make /dev read-only");
  }
  return 0;
}
