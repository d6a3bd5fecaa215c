/* A container in VM mode, seen from the host's CLI: which bundles and
 * containers are VM-mode (mode selection, kept in one place so the `vm`
 * object and the nook-vm name can replace the annotation check), and the
 * lifecycle commands, which talk to the container's monitor (monitor.h).
 *
 * The commands dispatch on the container's STATE (state.json's "vm"), not
 * on how nook was invoked.  list and the pid-based status need no VM code:
 * the monitor is the container's process, its death ends QEMU and the
 * share mounts. */
#ifndef NOOK_VMM_CONTAINER_H
#define NOOK_VMM_CONTAINER_H

#include <sys/types.h>

#include "../base/error.h"
#include "../libcontainer/container.h"
#include "../oci/config.h"

/* The annotation that selects VM mode; its value names the backend. */
#define VMM_ANNOTATION "nook.vm"

/* The backend a config asks for (the annotation's value), or NULL. */
const char *vmm_config_backend(const struct oci_config *c);
/* 1 when the config asks for VM mode, 0 when not, -1 with *err for an
 * unknown backend. */
int vmm_config_wants_vm(const struct oci_config *c, nook_error_t *err);

/* 1 when the bundle's config.json asks for VM mode, 0 when not, -1 with
 * *err for an unknown backend or an unreadable config.  A config that does
 * not mention the annotation at all is not parsed: namespace mode pays one
 * read of the file, not a second parse. */
int vmm_bundle_wants_vm(const char *bundle, nook_error_t *err);

/* 1 when ROOT/ID exists and is a VM-mode container; 0 otherwise (a missing
 * container is the namespace path's error to report). */
int vmm_container_is_vm(const char *root, const char *id);

/* create: boot the VM, create the container in it; *monitor is the
 * monitor's pid (the container's pid), a child of the caller. */
int vmm_container_create(const struct nook_create_opts *o, pid_t *monitor, nook_error_t *err);
int vmm_container_start(const char *root, const char *id, nook_error_t *err);
int vmm_container_kill(const char *root, const char *id, int sig, bool all, nook_error_t *err);
int vmm_container_state_json(const char *root, const char *id, char **out, nook_error_t *err);
/* namespace mode's delete, after the monitor switched the VM off when
 * delete is going to kill the container. */
int vmm_container_delete(const char *root, const char *id, bool force, nook_error_t *err);
/* create + start, and unless detached wait for the monitor: *status is the
 * container's exit code or 128+signal, as runc reports it. */
int vmm_container_run(const struct nook_create_opts *o, int *status, nook_error_t *err);

#endif
