/* The container's root filesystem, set up by the container process inside its
 * new mount namespace.  Every destination inside the rootfs is resolved with
 * openat2(RESOLVE_IN_ROOT) and every mount is attached through fds (new mount
 * API), so a symlink in the image can never redirect a mount onto the host. */
#ifndef NOOK_ROOTFS_H
#define NOOK_ROOTFS_H

#include <stdbool.h>

#include "../base/error.h"
#include "../oci/config.h"

struct rootfs_ctx {
  const struct oci_config *config;
  const char *rootfs; /* absolute host path of root.path */
  bool userns;        /* in a user namespace (the container's, or a rootless runtime's): no mknod */
  bool cgroupns;      /* inside a new cgroup namespace */
  bool no_pivot;
  /* No mount namespace of its own (config-linux.md: it inherits the
   * runtime's): everything is mounted in the caller's namespace, its root's
   * propagation is left alone, and chroot replaces pivot_root. */
  bool no_mntns;
  /* The mount table is the runtime's (a copy made by the clone, or the
   * runtime's own): what it read of it before the clone still holds. */
  bool host_mounts;
  int rootfd;     /* O_PATH fd of the rootfs mount, set by rootfs_prepare() */
  int *mount_fds; /* per mounts[] entry: a tree the runtime prepared (idmap), or -1 */
  int dev_ro_mfd; /* a read-only /dev mount, made read-only last (set to -1) */
};

/* Before pivot_root: propagation, bind the rootfs onto itself, config mounts,
 * /dev nodes and links.  Leaves ctx->rootfd open. */
int rootfs_prepare(struct rootfs_ctx *ctx, nook_error_t *err);

/* pivot_root (or MS_MOVE + chroot with no_pivot, or chroot alone without a
 * mount namespace) into ctx->rootfd. */
int rootfs_pivot(struct rootfs_ctx *ctx, nook_error_t *err);

/* After pivot_root: rootfsPropagation, root.readonly, a read-only /dev. */
int rootfs_finalize(struct rootfs_ctx *ctx, nook_error_t *err);

/* Resolve `path` inside the root `rootfd` (RESOLVE_IN_ROOT), creating missing
 * components as directories, and the last one as a file when `file`.
 * Returns an O_PATH fd. */
int rootfs_resolve(int rootfd, const char *path, bool create, bool file, int *out,
                   nook_error_t *err);

#endif
