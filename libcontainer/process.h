/* Container-side process attributes, applied by the container init (and later
 * by exec) after the rootfs is in place and before execve.  Each function
 * acts on the calling process only and reports through the error contract. */
#ifndef NOOK_PROCESS_H
#define NOOK_PROCESS_H

#include "../base/error.h"
#include "../oci/config.h"

/* setrlimit for each; a hard limit above the current hard limit without
 * CAP_SYS_RESOURCE gives a message that says so and names the rlimit. */
int process_apply_rlimits(const struct oci_process *p, nook_error_t *err);

/* setgroups(additionalGids) (skipped when the user namespace forbids
 * setgroups), setresgid, setresuid -- keeping capabilities across the uid
 * change so process_apply_capabilities() can set the final sets. */
int process_apply_user(const struct oci_process *p, bool setgroups_allowed, nook_error_t *err);

/* Bounding set drop, then inheritable/permitted/effective with libcap, then
 * ambient.  Must be called after process_apply_user().  A capability the
 * kernel does not know is warned about and skipped (config.md). */
int process_apply_capabilities(const struct oci_process *p, nook_error_t *err);

/* Whether the calling process has capability `cap` (CAP_*) in its
 * effective set, i.e. over its own user namespace: the runtime's test of
 * what it may do itself (write any id map, clone mounts) when rootless. */
bool process_has_cap(int cap);

/* Read the kernel's last capability from the runtime's /proc while it is
 * still the host's (exec calls it before joining the container). */
void process_capabilities_prepare(void);

/* prctl(PR_SET_NO_NEW_PRIVS) when requested. */
int process_apply_no_new_privs(const struct oci_process *p, nook_error_t *err);

/* set_mempolicy(2) from linux.memoryPolicy. */
int process_apply_memory_policy(const struct oci_linux *l, nook_error_t *err);

/* personality(2) from linux.personality (may be NULL). */
int process_apply_personality(const struct oci_linux *l, nook_error_t *err);

/* sched_setattr for process.scheduler; ioprio_set for process.ioPriority. */
int process_apply_scheduler(const struct oci_process *p, nook_error_t *err);
int process_apply_io_priority(const struct oci_process *p, nook_error_t *err);

/* Write process.oomScoreAdj to /proc/self/oom_score_adj through an fd
 * verified to be on procfs (fstatfs). */
int process_apply_oom_score_adj(const struct oci_process *p, nook_error_t *err);

/* umask when process.user.umask is set (default 0022 as runc). */
void process_apply_umask(const struct oci_process *p);

/* Find args[0] in the PATH of process.env (not of nook's environment) as seen
 * from the current root; returns an allocated path.  The error says
 * `exec: "foo": executable file not found in $PATH` like runc. */
int process_find_executable(const struct oci_process *p, char **out, nook_error_t *err);

/* The LSM label of process.apparmorProfile/selinuxLabel: the attr file is
 * opened early, from the runtime's procfs (procfd: a dirfd of it, or
 * AT_FDCWD for /proc; *fd = -1 when neither is set),
 * and written right before execve. */
int process_open_exec_attr(const struct oci_process *p, int procfd, int *fd, nook_error_t *err);
int process_write_exec_attr(const struct oci_process *p, int fd, nook_error_t *err);

/* --preserve-fds N: fds 3..3+N-1 must be open, or an fd the runtime opens
 * later could take one of their numbers and reach the container. */
int process_check_preserved_fds(int preserve, nook_error_t *err);

/* Only 0-2 and the `preserve` fds after them survive execve. */
int process_prepare_fds(int preserve, nook_error_t *err);

/* HOME from the image's /etc/passwd (or "/") when process.env has none. */
void process_ensure_home(struct oci_process *p);

/* A user or group name in the image's /etc/passwd or /etc/group (called
 * from inside the container's mount namespace); -1 when there is none. */
int process_lookup_user(const char *name, uint32_t *uid, uint32_t *gid);
int process_lookup_group(const char *name, uint32_t *gid);

/* Whether the host runs the LSM `name` ("apparmor", "selinux"). */
bool lsm_enabled(const char *name);
/* Runs in the runtime before anything starts (create, exec):
 * process.apparmorProfile/selinuxLabel on a host without that LSM is an
 * error naming the field. */
int check_process_lsm(const struct oci_process *p, nook_error_t *err);

#endif
