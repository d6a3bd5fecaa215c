/* Running without root (issue #18): whether nook is rootless, and what a
 * rootless create does about cgroups it may not be able to write. */
#ifndef NOOK_ROOTLESS_H
#define NOOK_ROOTLESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../cgroups/cgroup.h"
#include "../oci/config.h"
#include "state.h"

/* Rootless: the effective uid is not 0, or nook runs in a user namespace
 * where it is not the host's root (rootless podman runs its runtime as
 * "root" of a namespace of its own).  Decided by the namespace itself
 * (its inode against the initial user namespace's, and whose uid the
 * host's root shows as in it), never by reading uid_map, whose numbers are
 * the parent namespace's, not the host's. */
bool nook_rootless_detect(void);

/* The message that ends a command that needs a cgroup the container lacks
 * (created rootless with no cgroup the user could write). */
#define NOOK_NO_CGROUP_HINT                                                                        \
  "it has no cgroup (created rootless, where the user could not write one: a delegated cgroup "    \
  "v2 subtree gives it one)"

/* Whether an error means "the user may not do this to the cgroup", as
 * opposed to a bad value: a rootless create then goes on without it. */
bool rootless_cgroup_denied(const nook_error_t err);

/* A rootless create's linux.resources: each group set in r is applied to
 * the cgroup (cgm, p), or skipped with one warning naming it and why when
 * there is no cgroup (p NULL: `why` says why), its controller was not
 * delegated, or the kernel refuses the user the write.  Any other failure
 * (a bad value) is an error, as for root. */
int rootless_apply_resources(const struct cgroup_manager *cgm, const struct cgroup_paths *p,
                             const struct oci_resources *r, const char *why, nook_error_t *err);

/* The processes of a container that has no cgroup to list them (rootless):
 * every process in its init's pid namespace that the caller may see (its
 * own user's).  Processes in pid namespaces nested below are not found;
 * without a pid namespace of its own, only the init.  *out allocated;
 * *n is 0 when the init is gone. */
int rootless_container_pids(const struct nook_state *st, pid_t **out, size_t *n, nook_error_t *err);

#endif
