#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../libcontainer/rootfs.h"
#include "../libcontainer/seccomp.h"
#include "guest.h"
#include "guest_ctr.h"

/* bind and rbind mounts carry host paths into the guest; every other type
 * (proc, tmpfs, ...) is made in the guest from nothing. */
static bool is_bind(const struct oci_mount *m, bool *rec)
{
  *rec = false;
  bool bind = m->type != NULL && strcmp(m->type, "bind") == 0;
  for (size_t i = 0; i < m->n_options; i++) {
    if (strcmp(m->options[i], "rbind") == 0)
      bind = *rec = true;
    else if (strcmp(m->options[i], "bind") == 0)
      bind = true;
  }
  return bind && m->source != NULL;
}

static int bind_into(const char *src, const char *dst, bool rec, bool readonly, nook_error_t *err)
{
  struct stat sb;
  if (stat(src, &sb) < 0)
    return nook_error(err, errno, "bind source `%s`", src);
  if (S_ISDIR(sb.st_mode)) {
    if (mkdir(dst, 0755) < 0 && errno != EEXIST)
      return nook_error(err, errno, "mkdir `%s`", dst);
  } else {
    int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return nook_error(err, errno, "create `%s`", dst);
    close(fd);
  }
  if (mount(src, dst, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
    return nook_error(err, errno, "bind `%s` into the VM's share", src);
  if (readonly &&
      mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | (rec ? MS_REC : 0), NULL) < 0)
    return nook_error(err, errno, "make `%s` read-only in the VM's share", src);
  return 0;
}

/* Whether mounts[i] lands inside an earlier mount (/sys/fs/cgroup in
 * /sys): its mountpoint is made there in the guest, not in the rootfs. */
static bool under_earlier_mount(const struct oci_config *c, size_t i)
{
  const char *d = c->mounts[i].destination;
  for (size_t j = 0; j < i; j++) {
    const char *e = c->mounts[j].destination;
    size_t n = strlen(e);
    if (strncmp(d, e, n) == 0 && (d[n] == '/' || n == 1))
      return true;
  }
  return false;
}

/* A read-only rootfs reaches the guest read-only, where the container's
 * nook could no longer make the mountpoints namespace mode makes before it
 * turns the root read-only: make them here, the same way (resolved inside
 * the root, never through the image's symlinks onto the host). */
static int make_mountpoints(const struct vmm_share_opts *o, nook_error_t *err)
{
  cleanup_close int rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return nook_error(err, errno, "open the rootfs `%s`", o->rootfs);
  const struct oci_config *c = o->config;
  for (size_t i = 0; i < c->n_mounts; i++) {
    const struct oci_mount *m = &c->mounts[i];
    if (under_earlier_mount(c, i))
      continue;
    bool rec, file = false;
    if (is_bind(m, &rec)) {
      cleanup_free char *src = NULL;
      if (m->source[0] == '/')
        src = xstrdup(m->source);
      else
        xasprintf(&src, "%s/%s", o->bundle, m->source);
      struct stat sb;
      file = stat(src, &sb) == 0 && !S_ISDIR(sb.st_mode);
    }
    int fd;
    if (rootfs_resolve(rootfd, m->destination, true, file, &fd, err) < 0)
      return nook_error_wrap(err, "mounts[%zu] (%s)", i, m->destination);
    close(fd);
  }
  return 0;
}

int vmm_share_prepare(const struct vmm_share_opts *o, char **path, char **guest_config,
                      nook_error_t *err)
{
  if (unshare(CLONE_NEWNS) < 0)
    return nook_error(err, errno, "unshare the mount namespace");
  /* Nothing mounted here may reach the host's namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return nook_error(err, errno, "make / private");
  cleanup_free char *share = NULL, *rootfs = NULL, *mounts = NULL, *config = NULL;
  xasprintf(&share, "%s/" VMM_SHARE_DIR, o->state_dir);
  xasprintf(&rootfs, "%s/rootfs", share);
  xasprintf(&mounts, "%s/mounts", share);
  /* Searchable by all: in the guest it is /mnt/ctr, which a container's
   * root in a user namespace (a mapped uid, not 0) must pass through to its
   * rootfs and binds.  On the host the state directory (0700) keeps others
   * out. */
  if (mkdir(share, 0711) < 0 || mkdir(rootfs, 0755) < 0 || mkdir(mounts, 0755) < 0)
    return nook_error(err, errno, "make the VM's share in `%s`", share);
  const char *overlay = oci_annotation(o->config, "nook.rootfs.overlay");
  /* overlayfs takes no 9p upper, and a host directory made in the guest
   * would not outlive the VM: only the guest's own tmpfs can be the upper. */
  if (overlay != NULL && strcmp(overlay, "tmpfs") != 0)
    return nook_error(err, 0,
                      "annotation nook.rootfs.overlay: VM mode supports only \"tmpfs\" (the "
                      "upper layer lives in the guest)");
  /* vm.image: the guest's root is the disk, which the guest mounts itself;
   * the bundle's rootfs does not reach the guest. */
  bool disk = o->config->vm.has_image;
  if (!disk && o->config->root_readonly && make_mountpoints(o, err) < 0)
    return -1;
  /* With the overlay the rootfs is only ever the lower layer: its upper is
   * a tmpfs in the guest. */
  if (!disk &&
      bind_into(o->rootfs, rootfs, true, o->config->root_readonly || overlay != NULL, err) < 0)
    return -1;
  size_t n = o->config->n_mounts;
  char **sources = xmalloc((n + 1) * sizeof(*sources));
  memset(sources, 0, (n + 1) * sizeof(*sources));
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    const struct oci_mount *m = &o->config->mounts[i];
    bool rec;
    if (!is_bind(m, &rec))
      continue;
    cleanup_free char *src = NULL, *dst = NULL;
    if (m->source[0] == '/')
      src = xstrdup(m->source);
    else
      xasprintf(&src, "%s/%s", o->bundle, m->source);
    xasprintf(&dst, "%s/%zu", mounts, i);
    /* Namespace mode's words for the same mount. */
    if ((r = bind_into(src, dst, rec, false, err)) < 0)
      nook_error_wrap(err, "mounts[%zu] (%s on %s)", i, m->type ? m->type : "bind", m->destination);
    if (o->guest_dir != NULL)
      xasprintf(&sources[i], "%s/mounts/%zu", o->guest_dir, i);
    else
      xasprintf(&sources[i], "%s/%s/mounts/%zu", VMM_GUEST_SHARES_DIR, VMM_CTR_TAG, i);
  }
  cleanup_free char *text = NULL;
  if (r == 0)
    r = oci_config_for_guest(o->config_text, o->config_len, "config.json",
                             disk ? VMM_GUEST_DISK_DIR : "rootfs", sources, n, o->drop_annotation,
                             o->join_pid, &text, err);
  for (size_t i = 0; i < n; i++)
    free(sources[i]);
  free(sources);
  if (r < 0)
    return -1;
  xasprintf(&config, "%s/config.json", share);
  if (write_file_at(AT_FDCWD, config, O_CREAT | O_TRUNC, 0644, text, strlen(text), err) < 0)
    return -1;
  /* The guest's create then finds its seccomp program compiled, mostly a
   * hit in the host's cache as namespace mode's create would be. */
  if (o->config->linux_.has_seccomp) {
    cleanup_free char *seed = NULL;
    xasprintf(&seed, "%s/" VMM_SHARE_SECCOMP, share);
    seccomp_cache_seed(&o->config->linux_.seccomp, o->seccomp_cache, seed);
  }
  *path = steal_pointer(&share);
  *guest_config = steal_pointer(&text);
  return 0;
}
