/* A container in VM mode, seen from the host's CLI: which bundles and
 * containers are VM-mode (the decision is vmm_mode_select()'s, mode.h), and
 * the lifecycle commands, which talk to the container's monitor
 * (monitor.h).
 *
 * The commands dispatch on the container's STATE (state.json's "vm"), not
 * on how nook was invoked.  list and the pid-based status need no VM code:
 * the monitor is the container's process, its death ends QEMU and the
 * share mounts. */
#ifndef NOOK_VMM_CONTAINER_H
#define NOOK_VMM_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../libcontainer/container.h"
#include "../oci/config.h"

/* 1 when the bundle is to run in VM mode (vmm_mode_select(), with
 * invoked_as_vm: nook runs as nook-vm), 0 when not, -1 with *err for an
 * unknown backend.  An unreadable or invalid config is namespace mode's
 * error to report (0).  Unless invoked as nook-vm, a config that mentions
 * neither the annotation nor a "vm" key is not parsed.  *text (may be NULL:
 * unreadable) is the file as read, the caller's, so that namespace mode
 * does not read it again (nook_create_opts.config_json). */
int vmm_bundle_wants_vm(const char *bundle, bool invoked_as_vm, char **text, size_t *len,
                        nook_error_t *err);

/* 1 when ROOT/ID exists and is a VM-mode container; 0 otherwise (a missing
 * container is the namespace path's error to report). */
int vmm_container_is_vm(const char *root, const char *id);

/* create: boot the VM, create the container in it; *monitor is the
 * monitor's pid (the container's pid), a child of the caller.  invoked_as_vm
 * as for vmm_bundle_wants_vm(). */
int vmm_container_create(const struct nook_create_opts *o, bool invoked_as_vm, pid_t *monitor,
                         nook_error_t *err);
int vmm_container_start(const char *root, const char *id, nook_error_t *err);
int vmm_container_kill(const char *root, const char *id, int sig, bool all, nook_error_t *err);
int vmm_container_state_json(const char *root, const char *id, char **out, nook_error_t *err);
/* namespace mode's delete, after the monitor switched the VM off when
 * delete is going to kill the container. */
int vmm_container_delete(const char *root, const char *id, bool force, nook_error_t *err);
/* pause, resume, ps, update and events (commands.c): the guest's nook on
 * the container, with namespace mode's rules and words, plus the host's
 * part.  pause also stops the VM's vCPUs and resume runs them again. */
int vmm_container_pause(const char *root, const char *id, nook_error_t *err);
int vmm_container_resume(const char *root, const char *id, nook_error_t *err);
/* ps: the container's processes as guest pids, what `nook ps` prints in the
 * guest (json: `--format json`; else ps -ef's columns, the guest having no
 * ps(1), so ps_args, the options for it, are refused), allocated in *out.
 * 1 with nothing when the container has ended. */
int vmm_container_ps(const char *root, const char *id, bool json, char *const *ps_args, char **out,
                     size_t *out_len, nook_error_t *err);
/* update: the patch applied in the guest (as namespace mode applies it
 * there), then its cpu and pids limits to the VMM's cgroup on the host.  A
 * memory limit above the VM's memory is refused: that is fixed at boot. */
int vmm_container_update(const char *root, const char *id, const struct oci_resources *patch,
                         nook_error_t *err);
/* events: the guest's stats with the VMM's usage added as data.vmm; without
 * --stats every interval, with an oom event whenever the guest's OOM-kill
 * count went up, until the container ends. */
int vmm_container_events(const char *root, const char *id, const struct nook_events_opts *o,
                         nook_error_t *err);

/* exec: a process in the guest, in the container's namespaces and cgroup,
 * applied by the guest's nook as in namespace mode; unless detached, wait
 * for it (forwarding signals, relaying stdio): *exit_status as namespace
 * mode's (code, or 128+signal).  Detached, --pid-file names a host proxy
 * that lives as long as the process and ends as it ended. */
int vmm_container_exec(const struct nook_exec_opts *o, int *exit_status, nook_error_t *err);
/* create + start, and unless detached wait for the monitor: *status is the
 * container's exit code or 128+signal, as runc reports it. */
int vmm_container_run(const struct nook_create_opts *o, bool invoked_as_vm, int *status,
                      nook_error_t *err);

#endif
