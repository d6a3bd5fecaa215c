/* The one directory a VM-mode container's guest sees (at /mnt/ctr): made by
 * the monitor in its own mount namespace, so its bind mounts vanish with the
 * monitor and QEMU, whatever way they end.
 *   SHARE/rootfs        bind of root.path (read-only when root.readonly or
 *                       under the nook.rootfs.overlay annotation); empty
 *                       with vm.image, whose disk is the guest's root
 *   SHARE/mounts/N      bind of mounts[N].source for each bind mount
 *   SHARE/config.json   the config rewritten for those guest paths
 *   SHARE/.seccomp~cache  linux.seccomp compiled by the host through its
 *                       compiled-filter cache, which the guest imports into
 *                       its own (seccomp_cache_seed(), seccomp.h) */
#ifndef NOOK_VMM_SHARE_H
#define NOOK_VMM_SHARE_H

#include <stddef.h>

#include "../base/error.h"
#include "../oci/config.h"

/* The share's name inside the container's state directory. */
#define VMM_SHARE_DIR "share"
/* The seeded seccomp cache's name in the share. */
#define VMM_SHARE_SECCOMP ".seccomp~cache"

struct vmm_share_opts {
  const char *state_dir; /* absolute ROOT/ID */
  const char *bundle;    /* absolute */
  const char *rootfs;    /* absolute, resolved */
  const struct oci_config *config;
  const char *config_text; /* what config was parsed from */
  size_t config_len;
  const char *drop_annotation; /* the annotation that chose VM mode */
  const char *seccomp_cache;   /* the host's (seccomp_cache_dir()); NULL: none */
  /* A pod's member (pod.h): its share's place in the sandbox's guest
   * (/mnt/ctr/members/ID; NULL: /mnt/ctr) and the guest pid whose
   * namespaces its config's paths become (0: none). */
  const char *guest_dir;
  int join_pid;
};

/* Enter a new mount namespace (private propagation) and build the share
 * there; *path is STATE_DIR/share, *guest_config the text of its
 * config.json (the create request carries it: the guest then reads no
 * file over 9p for it). */
int vmm_share_prepare(const struct vmm_share_opts *o, char **path, char **guest_config,
                      nook_error_t *err);

#endif
