/* Internal: how a container process is created (parent side, spawn.c) and
 * what it does before execve (container side, init.c). */
#ifndef NOOK_SPAWN_H
#define NOOK_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../cgroups/cgroup.h"
#include "../oci/config.h"
#include "seccomp.h"
#include "sync.h"

struct spawn_ctx {
  const struct oci_config *config;
  const char *id;
  const char *bundle;              /* absolute */
  const char *rootfs;              /* absolute */
  const char *state_json_creating; /* for createContainer/startContainer hooks */
  int preserve_fds;
  bool no_pivot, no_new_keyring;
  bool die_with_runtime; /* nook_create_opts.die_with_runtime */
  bool rootless;         /* the runtime is rootless: even without a new user namespace, no mknod */

  /* Namespaces: those created with clone3 flags in one step (fast path), or
   * joined/unshared by the child when any must be joined by path. */
  unsigned long clone_flags;   /* CLONE_NEW* created at clone time (fast path) */
  unsigned long unshare_flags; /* CLONE_NEW* the child unshares (slow path) */
  bool new_userns, new_netns, new_utsns, new_cgroupns, new_timens, new_mntns;
  bool no_mntns;     /* neither a new nor a joined mount namespace */
  bool in_userns;    /* new or joined user namespace: no mknod */
  bool in_cgroupns;  /* a cgroup namespace joined by path */
  bool slow_path;    /* some namespace is joined by path */
  bool fork_for_pid; /* slow path: the pid namespace takes effect for a child */

  int sock;         /* child's end of the sync socketpair */
  int parent_sock;  /* parent's end: closed in the child */
  int start_fd;     /* listening start.sock (create), -1 for run */
  int state_dirfd;  /* the locked state dir: the lock must not live on in the child */
  int state_rootfd; /* the state root: a way out of the rootfs, closed in the child */
  const struct seccomp_prog *seccomp; /* compiled linux.seccomp, or NULL */
  struct sync_plan sync;              /* the optional sync steps, for both sides */
};

/* Container side.  Never returns: execs the workload or _exit()s after
 * sending SYNC_ERROR. */
__attribute__((noreturn)) void container_init(struct spawn_ctx *ctx);

/* Decide the namespace strategy and the sync plan from the config and
 * ctx->seccomp (fills the ns fields and ctx->sync). */
void spawn_plan_namespaces(struct spawn_ctx *ctx);

/* The parent's view of a container process being created. */
struct spawn_result {
  pid_t pid;      /* the container process */
  pid_t stage1;   /* slow path: the first child (reaped), else 0 */
  int sock;       /* parent's end of the sync socket */
  int pty_master; /* when process.terminal, else -1 */
  int seccomp_fd; /* the notify fd when the profile uses SCMP_ACT_NOTIFY, else -1 */
};

/* Clone the container process and drive it to SYNC_READY.  `on_pid` is
 * called once the pid is known (to record state early, so `delete --force`
 * can clean up after a runtime killed mid-create); `run_hooks` runs the
 * runtime-side create hooks and returns the state JSON for the container's.
 * On failure the process is killed and reaped. */
struct spawn_callbacks {
  int (*on_pid)(void *data, pid_t pid, nook_error_t *err);
  int (*before_go)(void *data, pid_t pid, nook_error_t *err);
  int (*run_hooks)(void *data, pid_t pid, char **state_json, nook_error_t *err);
  /* Hand the seccomp notify fd to linux.seccomp.listenerPath. */
  int (*seccomp_fd)(void *data, pid_t pid, int fd, nook_error_t *err);
  /* The state startContainer hooks get (status "created"). */
  int (*created_json)(void *data, char **state_json);
  void *data;
};
int spawn_container(struct spawn_ctx *ctx, const struct spawn_callbacks *cb,
                    struct spawn_result *out, nook_error_t *err);

#endif
