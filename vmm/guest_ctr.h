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
#include "channel.h"

struct winsize;

/* The share the container's bundle arrives on: /mnt/ctr. */
#define VMM_CTR_TAG "ctr"

struct guest_ctr {
  char *id;
  pid_t pid;  /* the container's init in the guest; 0 before create */
  int in_fd;  /* writes to its stdin (non-blocking); -1 after EOF */
  int out_fd; /* reads its stdout (with a terminal: the pty master); -1 at EOF */
  int err_fd; /* reads its stderr; -1 at EOF or with a terminal */
  int master; /* the pty master with a terminal (out_fd, in_fd dup it), else -1 */
  bool exited;
  /* stdin the host sent that the container has not read yet: at most
   * CHAN_WINDOW (the host's share of the flow control), so the init's
   * loop never blocks on a container that does not read. */
  char *in_buf;
  size_t in_len;
  bool in_eof;           /* the host's EOF: close once in_buf is written */
  size_t out_unacked[2]; /* stdout, stderr bytes the host has not acked */
};

void guest_ctr_init(struct guest_ctr *c);

/* `/nook create`: the container exists, its process waits for start.  The
 * error is the guest nook's own (--log-format json), as the CLI shows it;
 * on success *warnings gets the warnings it logged, one a line (or NULL). */
int guest_ctr_create(struct guest_ctr *c, const char *id, char **warnings, nook_error_t *err);
/* With process.terminal: the guest nook sends the pty master to a console
 * socket of ours (as an engine's), which becomes the container's stdio. */
int guest_ctr_create_tty(struct guest_ctr *c, const char *id, char **warnings, nook_error_t *err);
int guest_ctr_start(struct guest_ctr *c, char **warnings, nook_error_t *err);
int guest_ctr_kill(struct guest_ctr *c, int sig, bool all, char **warnings, nook_error_t *err);

/* `/nook ARGV...` on the container (CHAN_NOOK: pause, resume, ps, update,
 * events --stats) with `in` as its stdin; *out gets its stdout (allocated,
 * *out_len bytes), *warnings what it logged as warnings.  Its failure is
 * *err in its own words, as for create. */
int guest_ctr_nook(struct guest_ctr *c, char *const *argv, const char *in, size_t in_len,
                   char **out, size_t *out_len, char **warnings, nook_error_t *err);

/* Bytes for the container's stdin (len 0: EOF), queued and written as far
 * as the pipe takes them; what is written is acked to the host. */
int guest_ctr_stdin(struct guest_ctr *c, int chan, const char *data, size_t len, nook_error_t *err);
/* in_fd became writable: write more of the queue. */
int guest_ctr_stdin_flush(struct guest_ctr *c, int chan, nook_error_t *err);

/* The host's ack of output bytes. */
void guest_ctr_ack(struct guest_ctr *c, const struct chan_msg *ack);

/* The fd to poll for output of stream i (0 stdout, 1 stderr): -1 when
 * closed or when the host has a window's worth unacked. */
int guest_ctr_out_poll_fd(const struct guest_ctr *c, int i);

/* The terminal's window size (CHAN_WINSIZE), applied to the pty master. */
void guest_ctr_winsize(struct guest_ctr *c, const struct winsize *ws);

/* Forward what the container wrote to fd (its out_fd or err_fd) to the
 * channel, within the window; at EOF the fd is closed and set to -1. */
int guest_ctr_relay(struct guest_ctr *c, int chan, int fd, nook_error_t *err);

/* A child was reaped with `status`: when it is the container's init, relay
 * what is left of its output and send CHAN_EXIT. */
int guest_ctr_reaped(struct guest_ctr *c, int chan, pid_t pid, int status, nook_error_t *err);

#endif
