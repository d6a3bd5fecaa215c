/* VM templates: a guest saved once, right after its kernel, modules,
 * channel and timer are up and before it has seen anything of a container
 * (the guest init parks there: channel.h's CHAN_PARKED), and restored for
 * every later VM of the same machine instead of a boot.  Under TCG a boot
 * to that point costs ~1.5 s, a restore ~0.1 s.
 *
 * A template is keyed by everything that shapes the machine: the VMM's
 * argv for the spec (per-VM paths left out), the identity (device, inode,
 * size, mtime) of the VMM binary, the kernel and the initramfs, the host
 * CPU's model and flags, and nook's build.  Templates live in one directory of the owner's (root's
 * /var/cache/nook-vm/templates), mode 0600; one not owned by us, or that
 * another user could write, is never loaded.  Each restored copy gets the
 * host's clock and fresh entropy before anything runs (CHAN_UNPARK). */
#ifndef NOOK_VMM_TEMPLATE_H
#define NOOK_VMM_TEMPLATE_H

#include "../base/error.h"
#include "../base/sha256.h"
#include "vmm.h"

#define VMM_TEMPLATE_KEY_LEN (2 * SHA256_DIGEST_LEN)

/* The key of the machine spec describes (as booted: spec->restore false),
 * hex, NUL-terminated. */
int vmm_template_key(const struct vmm_backend *b, const struct vmm_spec *spec,
                     char key[VMM_TEMPLATE_KEY_LEN + 1], nook_error_t *err);

/* dir's template for key, open for reading, or -1 when there is none or
 * it is not to be trusted (*why, allocated, says which, for the debug log;
 * NULL when there is simply none). */
int vmm_template_open(const char *dir, const char *key, char **why);

/* A new, empty, private file in dir (made 0700 when missing) to save a
 * template into; *tmp is its path, for vmm_template_install() or
 * vmm_template_discard(). */
int vmm_template_create(const char *dir, const char *key, char **tmp, nook_error_t *err);

/* The saved file becomes key's template (a rename: a restore reads a whole
 * template or none); templates of other keys that nobody used for a day,
 * and the oldest beyond a few, go. */
int vmm_template_install(const char *dir, const char *key, const char *tmp, nook_error_t *err);

/* Remove the file vmm_template_create() made. */
void vmm_template_discard(const char *tmp);

#endif
