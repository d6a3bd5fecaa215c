/* Idmapped mounts (mount options idmap/ridmap, mounts[].uidMappings).
 *
 * The kernel lets only a process privileged over the filesystem's user
 * namespace idmap a mount, so the runtime (on the host) makes each detached,
 * idmapped tree and hands its fd to the container process, which attaches it
 * where the mount belongs. */
#ifndef NOOK_IDMAP_H
#define NOOK_IDMAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../oci/config.h"

bool mount_wants_idmap(const struct oci_mount *m);

/* Whether the runtime prepares the mount's tree and sends it to the
 * container process (SYNC_MOUNT_FD): idmapped mounts, and in a user
 * namespace every bind, whose source the container process, no longer the
 * host's root, might not be allowed to reach. */
bool mount_from_runtime(const struct oci_mount *m, bool in_userns);

/* A detached clone of a bind mount's source (recursive for rbind), opened
 * with the runtime's own privileges. */
int bind_prepare_mount(const struct oci_mount *m, size_t idx, int *out, nook_error_t *err);

/* Write /proc/PID/{uid_map,gid_map} (`file`) from OCI mappings. */
int write_id_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                 nook_error_t *err);

/* A detached clone of the mount's source, idmapped with the mount's own
 * mappings, or with the user namespace of `pid` when it has none (an error
 * when the container has no user namespace). */
int idmap_prepare_mount(const struct oci_mount *m, size_t idx, pid_t pid, bool has_userns, int *out,
                        nook_error_t *err);

#endif
