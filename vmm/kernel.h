/* The guest kernel bundle (scripts/vm-kernel): a directory holding the ELF
 * `vmlinux`, `kver`, the modules (`modules/NAME.ko`) and `modules.load` (their load order). */
#ifndef NOOK_VMM_KERNEL_H
#define NOOK_VMM_KERNEL_H

#include "../base/error.h"

/* The bundle to boot: `dir` when given, else $NOOK_VM_KERNEL_BUNDLE, else
 * what scripts/vm-kernel prints ($NOOK_VM_KERNEL_SCRIPT, or the script beside
 * the running binary: scripts/ in a build tree, ../libexec/nook/ when
 * installed).  The bundle is checked to be one.  *out is freed by the
 * caller. */
int vmm_kernel_bundle(const char *dir, char **out, nook_error_t *err);

#endif
