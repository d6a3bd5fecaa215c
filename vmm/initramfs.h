/* The guest's initramfs: nook itself as /init, the shared libraries it was
 * loaded with, and the kernel bundle's modules.  Built once per content
 * (this nook build, its libraries, the bundle), never per container. */
#ifndef NOOK_VMM_INITRAMFS_H
#define NOOK_VMM_INITRAMFS_H

#include "../base/error.h"

/* Where the guest init finds what the initramfs carries (relative to its
 * root). */
#define VMM_GUEST_MODULES_DIR "modules"
#define VMM_GUEST_MODULES_LOAD "modules/load"

/* The path of the cached initramfs for `bundle` under cache_dir (made when
 * missing).  *path is freed by the caller. */
int vmm_initramfs(const char *bundle, const char *cache_dir, char **path, nook_error_t *err);

#endif
