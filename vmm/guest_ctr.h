/* The guest side of a VM-mode container: the guest init builds, starts and
 * signals the container by running the initramfs's own nook (`/nook create`,
 * `start`, `kill`) as children, so the OCI config is applied by the same
 * libcontainer code as in namespace mode.  It owns the container's stdio
 * (pipes it made for its fds 0, 1 and 2) and, being PID 1, reaps the
 * container's init when it ends. */
#ifndef NOOK_VMM_GUEST_CTR_H
#define NOOK_VMM_GUEST_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"

/* The share the container's bundle arrives on: /mnt/ctr. */
#define VMM_CTR_TAG "ctr"

struct guest_ctr {
  char *id;
  pid_t pid;  /* the container's init in the guest; 0 before create */
  int in_fd;  /* writes to its stdin; -1 after EOF */
  int out_fd; /* reads its stdout; -1 at EOF */
  int err_fd; /* reads its stderr; -1 at EOF */
  bool exited;
};

void guest_ctr_init(struct guest_ctr *c);

/* `/nook create`: the container exists, its process waits for start.  The
 * error is the guest nook's own (--log-format json), as the CLI shows it;
 * on success *warnings gets the warnings it logged, one a line (or NULL). */
int guest_ctr_create(struct guest_ctr *c, const char *id, char **warnings, nook_error_t *err);
int guest_ctr_start(struct guest_ctr *c, char **warnings, nook_error_t *err);
int guest_ctr_kill(struct guest_ctr *c, int sig, bool all, char **warnings, nook_error_t *err);

/* Bytes for the container's stdin; len 0 closes it. */
void guest_ctr_stdin(struct guest_ctr *c, const char *data, size_t len);

/* Forward what the container wrote to fd (its out_fd or err_fd) to the
 * channel; at EOF the fd is closed and set to -1. */
int guest_ctr_relay(struct guest_ctr *c, int chan, int fd, nook_error_t *err);

/* A child was reaped with `status`: when it is the container's init, relay
 * what is left of its output and send CHAN_EXIT. */
int guest_ctr_reaped(struct guest_ctr *c, int chan, pid_t pid, int status, nook_error_t *err);

#endif
