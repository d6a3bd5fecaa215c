/* Pods in VM mode: one VM per pod (docs/design.md, "Pods").  A pod's
 * sandbox is a VM-mode container like any; a container that joins its
 * namespaces by path (/proc/PID/ns/X with PID the sandbox's, as the CRI
 * plugin and podman write them) is a member: no VM of its own, but a
 * container beside the sandbox's in the sandbox's guest, joining the
 * sandbox container's namespaces there.
 *  - Its share (rootfs, bind sources, config: share.h) is built on the host
 *    where its paths are, taken as a detached mount tree (open_tree) and
 *    passed to the sandbox's monitor, which mounts it in the VMM's share at
 *    members/ID: the running VMM's 9p export, which microvm could not
 *    hotplug, gains it.
 *  - Its pid is a host proxy (proxy.h) that lives as long as its init in
 *    the guest and ends as it ended.
 *  - Its state directory says whose pod it is (VMM_POD_SANDBOX); its
 *    commands go to the sandbox's monitor, naming it. */
#ifndef NOOK_VMM_POD_H
#define NOOK_VMM_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../libcontainer/container.h"
#include "../libcontainer/state.h"
#include "../oci/config.h"

/* In a member's state directory: the sandbox's id. */
#define VMM_POD_SANDBOX "sandbox"
/* In a sandbox's state directory: its container's guest pid, whose
 * namespaces members join in the guest. */
#define VMM_POD_GUEST_PID "guest.pid"

/* 1 with *sandbox (allocated) when c joins namespaces of a VM-mode
 * container under root by path: a member of its pod; 0 when c gives no
 * namespace path but the network's; -1 with *err for a path that names no
 * such sandbox, or a namespace a member cannot share. */
int vmm_pod_sandbox(const char *root, const struct oci_config *c, char **sandbox,
                    nook_error_t *err);

/* create of a member of sandbox's pod: the state, the share, the proxy
 * (*pid, a child of the caller) and the container created in the guest. */
int vmm_pod_create(const struct nook_create_opts *o, const struct oci_config *c, const char *text,
                   size_t len, const char *bundle, const char *rootfs, const char *sandbox,
                   const char *backend, pid_t *pid, nook_error_t *err);

/* The member's sandbox (allocated), or NULL when dirfd's container is not
 * a member. */
char *vmm_pod_sandbox_of(int dirfd);

/* The state directory of the monitor a member's commands go to (its
 * sandbox's; the caller closes it), or -1 when dirfd's container is not a
 * member (root/ID's). */
int vmm_pod_monitor_dirfd(const char *root, int dirfd);

/* In the sandbox's monitor: mount the member's tree at SHARE/members/ID
 * in the VMM's mount namespace (vmm_pid's), and take it away again. */
int vmm_pod_attach(pid_t vmm_pid, const char *share, const char *id, int tree, nook_error_t *err);
void vmm_pod_detach(pid_t vmm_pid, const char *share, const char *id);

#endif
