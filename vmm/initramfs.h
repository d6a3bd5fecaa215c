/* The guest's initramfs: the build's static nook-guest as /init (beside
 * nook or in ../libexec/nook/), else nook itself and the shared libraries it
 * was loaded with, and the kernel bundle's modules the guest needs.  Built
 * once per content (this nook build, its libraries, the bundle, the needs),
 * never per container. */
#ifndef NOOK_VMM_INITRAMFS_H
#define NOOK_VMM_INITRAMFS_H

#include "../base/error.h"

/* Where the guest init finds what the initramfs carries (relative to its
 * root). */
#define VMM_GUEST_MODULES_DIR "modules"
#define VMM_GUEST_MODULES_LOAD "modules/load"

/* What a guest needs beyond its boot, the channel and the 9p share: each
 * need is a set of the kernel bundle's modules (needs/NAME, from
 * scripts/vm-kernel's VM_MODE_NEEDS, the one list of them).  Modules the
 * guest does not need are neither in its initramfs nor loaded: each costs
 * its unpacking and loading at every boot (ext4 alone ~120 ms under TCG). */
enum vmm_guest_need {
  VMM_NEED_DISK = 1u << 0,    /* a vm.image root: virtio-blk, ext4 */
  VMM_NEED_OVERLAY = 1u << 1, /* overlayfs: the nook.rootfs.overlay annotation, overlay mounts */
  VMM_NEED_NET = 1u << 2,     /* virtio-net: a network namespace's interface (net/vmnet.h) */
  VMM_NEED_ALL = VMM_NEED_DISK | VMM_NEED_OVERLAY | VMM_NEED_NET,
};

/* The path of the cached initramfs for `bundle` and `needs` (a mask of
 * enum vmm_guest_need) under cache_dir (made when missing).  A bundle
 * without needs/ lists gives every module.  *path is freed by the caller. */
int vmm_initramfs(const char *bundle, const char *cache_dir, unsigned needs, char **path,
                  nook_error_t *err);

#endif
