/* The VMM's confinement on the host (issue #14): a compromised VMM must not
 * reach the rest of the host.  The VMM process runs in the container's
 * cgroup (memory limited to guest RAM plus a measured overhead, pids and cpu
 * from linux.resources, devices limited to what it opens), in its own mount
 * namespace whose root is a read-only tmpfs holding only bind mounts of what
 * it needs (its binary, libraries and data files, the kernel, the initrd,
 * the shares, the channel socket, the console log, /dev/null, /dev/urandom,
 * /dev/kvm with KVM), in the container's network namespace (else a new empty
 * one), in a pid namespace of its own (it can signal nothing on the host),
 * with no capabilities but the file ones its shares need
 * (vmm_confine_caps()), no_new_privs and no inherited file descriptors; the
 * backend's own syscall filter (QEMU's -sandbox) comes on top.
 *
 * Use: vmm_confine_prepare() in the process that launches the VMM (it makes
 * the cgroup), the pointer in vmm_spec.confine (the backend creates its
 * child with vmm_confine_clone_flags() and the child calls
 * vmm_confine_enter() between clone and exec), vmm_confine_release() once the
 * VMM is gone (it removes the cgroup). */
#ifndef NOOK_VMM_CONFINE_H
#define NOOK_VMM_CONFINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../cgroups/cgroup.h"
#include "../oci/config.h"
#include "vmm.h"

/* What the VMM costs beyond guest RAM, with a margin: docs/design.md has the
 * measurement (QEMU's VmHWM and the cgroup's memory.peak, confined). */
#define VMM_MEMORY_OVERHEAD_MIB 384

struct vmm_confine_opts {
  const struct vmm_backend *backend;
  const char *program;      /* the VMM binary (vm.hypervisor.path); NULL: the backend's */
  const char *id;           /* names the default cgroup */
  const char *cgroups_path; /* linux.cgroupsPath, or NULL for the default */
  /* linux.resources or NULL: pids and cpu are taken; memory is the VMM's
   * own (guest RAM + overhead), not the container's. */
  const struct oci_resources *resources;
  unsigned mem_mib;       /* guest RAM */
  const char *netns_path; /* a network namespace to join; NULL: a new one */
  bool set_ids;           /* run as uid/gid instead of the caller's ids */
  uid_t uid;
  gid_t gid;
};

struct vmm_confinement {
  char *program; /* the VMM binary, absolute */
  /* Host files bound read-only at the same path: program, its libraries and
   * loader, the backend's data files; NULL-terminated. */
  char **ro_files;
  const struct cgroup_manager *cgm;
  struct cgroup_paths cgroup;
  bool has_cgroup;
  uint64_t memory_limit; /* bytes */
  int netns_fd;          /* -1: a new, empty network namespace */
  bool set_ids;
  uid_t uid;
  gid_t gid;
};

/* Resolve what the VMM needs, create and limit its cgroup, open the network
 * namespace.  On failure nothing is left (no cgroup). */
int vmm_confine_prepare(const struct vmm_confine_opts *o, struct vmm_confinement *out,
                        nook_error_t *err);

/* In the VMM's child, between fork and exec of c->program: join the cgroup
 * and network namespace, pivot into the minimal root built for c and spec,
 * drop every capability, set no_new_privs, mark every fd above 2 close on
 * exec, clear the environment.  The caller must be single-threaded. */
int vmm_confine_enter(const struct vmm_confinement *c, const struct vmm_spec *spec,
                      nook_error_t *err);

/* The clone flags the VMM's child must be created with: a new pid
 * namespace, which the child cannot enter itself (unshare would only move
 * its children).  The VMM is its pid 1: alone there, it can name no other
 * process; its parent still waits for it and signals it by pid or pidfd
 * (SIGKILL from outside always ends a namespace's pid 1), and its
 * PDEATHSIG still fires.  No reaper in between: the VMM spawns nothing
 * (QEMU's -sandbox spawn=deny), and the launcher keeps waiting on the VMM
 * itself. */
unsigned long vmm_confine_clone_flags(const struct vmm_confinement *c);

/* The capability set a confined VMM keeps for spec's shares (bit n =
 * capability n): none without shares; CAP_DAC_OVERRIDE for read-only ones;
 * plus CAP_CHOWN, CAP_FOWNER and CAP_FSETID for a writable one.  The
 * bounding, permitted, effective, inheritable and ambient sets are all
 * exactly this. */
uint64_t vmm_confine_caps(const struct vmm_spec *spec);

/* The calling process joins the VMM's cgroup: the container's monitor, so
 * that the container's pid is in the container's cgroup, as a runc
 * container's init is (engines find the cgroup through /proc/PID/cgroup:
 * containerd's runc shim for metrics and OOM events, podman for stats).
 * The cgroup's device rules apply to the caller from then on.  A process
 * in the cgroup must not release it (that kills what is in it): it leaves
 * the removal to delete, as namespace mode does. */
int vmm_confine_join(const struct vmm_confinement *c, nook_error_t *err);

/* Remove the cgroup (killing what is left in it) and free c. */
int vmm_confine_release(struct vmm_confinement *c, nook_error_t *err);
/* Free c but leave the cgroup: a process that handed the confinement on
 * (forked the launcher) and must not remove the cgroup under it. */
void vmm_confine_forget(struct vmm_confinement *c);

/* The libraries a dynamically linked program loads, as its loader resolves
 * them (the loader included), from the loader's --list output; NULL-
 * terminated.  A static program has none. */
int vmm_program_libraries(const char *program, char ***out, nook_error_t *err);
/* The libraries named in a loader's --list output (tests). */
int vmm_parse_loader_list(const char *text, char ***out, nook_error_t *err);

#endif
