/* Parent/child synchronisation over one SOCK_SEQPACKET socketpair.
 *
 * Every message has the same shape; each step is named and checked: a side
 * that receives anything but the step it waits for (or SYNC_ERROR) fails with
 * a message naming both.  SYNC_ERROR carries an errno and a message from the
 * container side, so child failures reach the runtime's error contract (and
 * with it --log and --log-format json) unchanged. */
#ifndef NOOK_SYNC_H
#define NOOK_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"

/* Each step has one meaning.  Its wire name (sync_step_name, seen in error
 * messages) is the enum name without SYNC_, lower case, '_' as '-'. */
enum sync_step {
  SYNC_USERNS_READY = 1, /* child -> parent: my user namespace exists, write the maps */
  SYNC_GO,               /* parent -> child: ids mapped, cgroup joined; go on */
  SYNC_RUN_HOOKS,        /* child -> parent: namespaces ready, run createRuntime/prestart */
  SYNC_HOOKS_DONE,       /* parent -> child: state JSON for createContainer hooks */
  SYNC_CREATED_STATE,    /* parent -> child: state JSON ("created") for startContainer hooks */
  SYNC_PTY,              /* child -> parent: the pty master, as an SCM_RIGHTS fd */
  SYNC_PID,              /* child -> parent: pid of the container process (when forked) */
  SYNC_SECCOMP_FD,       /* child -> parent: the seccomp notify fd, as an SCM_RIGHTS fd */
  SYNC_MOUNT_FD,         /* parent -> child: a prepared (idmapped) mount for mounts[value] */
  SYNC_STAGE2_GO,        /* parent -> exec's stage 2: its pid is known; go on */
  SYNC_READY,            /* child -> parent: set up; waiting for start */
  SYNC_START,            /* parent -> child (run only): start now */
  SYNC_ERROR,            /* either way: errno in value, message in data */
};

/* The optional steps of one conversation, decided once from the config
 * before the child exists and read by both sides (the child has a copy):
 * neither side derives them again, so they cannot disagree. */
struct sync_plan {
  bool userns_ready;  /* SYNC_USERNS_READY: the child unshares its user ns, the parent maps it */
  bool pid;           /* SYNC_PID: the container process is a forked grandchild */
  bool created_state; /* SYNC_CREATED_STATE: there are startContainer hooks */
  bool pty;           /* SYNC_PTY: process.terminal */
  bool seccomp_fd;    /* SYNC_SECCOMP_FD: the profile uses SCMP_ACT_NOTIFY */
  bool mount_fds;     /* SYNC_MOUNT_FD for each mount sync_plan_mount_fd() names */
  bool mount_userns;  /* binds come as fds: a user namespace, and a runtime able to clone mounts */
};

struct oci_mount;
/* Whether mounts[i] arrives as SYNC_MOUNT_FD under this plan. */
bool sync_plan_mount_fd(const struct sync_plan *plan, const struct oci_mount *m);

#define SYNC_MAX_DATA 60000

struct sync_msg {
  uint32_t step;
  int32_t value;
  uint32_t len;
  char data[SYNC_MAX_DATA + 1]; /* always NUL-terminated on receive */
};

const char *sync_step_name(enum sync_step s);

int sync_send(int sock, enum sync_step step, int32_t value, const char *data, int pass_fd,
              nook_error_t *err);
/* Send an error built from *cause (child side; best effort). */
void sync_send_error(int sock, const nook_error_t cause);

/* Wait for `expect`.  SYNC_ERROR turns into *err with the peer's errno and
 * message; EOF means the peer died.  When fd_out is non-NULL a passed fd is
 * stored there (else closed). */
int sync_recv(int sock, enum sync_step expect, struct sync_msg *msg, int *fd_out,
              nook_error_t *err);

/* After the last step: 0 when the socket closes (the peer's execve
 * succeeded: the socket is close-on-exec), or the peer's SYNC_ERROR. */
int sync_wait_exec(int sock, struct sync_msg *msg, nook_error_t *err);

#endif
