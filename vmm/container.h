/* A container run in VM mode, as far as the foundation goes: `nook run` in
 * the foreground of a bundle that asks for VM mode boots a microVM, runs
 * process.args in the guest with the bundle's rootfs (over 9p) as its root,
 * relays stdout and stderr and returns the exit status.
 *
 * Not yet (the rest of issue #14): create/start/state/kill/delete, --detach,
 * a terminal, and the OCI config applied inside the guest by libcontainer
 * (namespaces, mounts, users, capabilities, seccomp, cgroup limits): the
 * process runs as the guest's root in a chroot, isolated by the VM alone.
 * The id is not registered in the state root. */
#ifndef NOOK_VMM_CONTAINER_H
#define NOOK_VMM_CONTAINER_H

#include "../base/error.h"
#include "../libcontainer/container.h"

/* The annotation that selects VM mode; its value names the backend. */
#define VMM_ANNOTATION "nook.vm"

/* 1 when the bundle's config.json asks for VM mode, 0 when not, -1 with
 * *err for an unknown backend or an unreadable config.  A config that does
 * not mention the annotation at all is not parsed: namespace mode pays one
 * read of the file, not a second parse. */
int vmm_bundle_wants_vm(const char *bundle, nook_error_t *err);

/* `run` in the foreground, in a VM; *status as runc reports it. */
int vmm_container_run(const struct nook_create_opts *o, int *status, nook_error_t *err);

#endif
