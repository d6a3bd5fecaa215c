/* One process of a VM-mode container seen from the guest init: the
 * container's init or an exec'd process.  The guest init owns its stdio
 * (pipes, or the master of its pty) and relays it over the channel with the
 * channel's flow control, every frame naming the process by its id (the
 * container's init CHAN_PROC_INIT, an exec'd process the id its monitor
 * gave it).  One mechanism for both, so an exec'd process's stdio behaves
 * as the init's. */
#ifndef NOOK_VMM_GUEST_PROC_H
#define NOOK_VMM_GUEST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"
#include "channel.h"

struct winsize;

struct guest_proc {
  int32_t id;
  pid_t pid;  /* in the guest; 0 until known */
  int in_fd;  /* writes to its stdin (non-blocking); -1 after EOF */
  int out_fd; /* reads its stdout (with a terminal: the pty master); -1 at EOF */
  int err_fd; /* reads its stderr; -1 at EOF or with a terminal */
  int master; /* the pty master with a terminal (out_fd, in_fd dup it), else -1 */
  bool exited;
  /* stdin the host sent that the process has not read yet: at most
   * CHAN_WINDOW (the host's share of the flow control), so the init's
   * loop never blocks on a process that does not read. */
  char *in_buf;
  size_t in_len;
  bool in_eof;           /* the host's EOF: close once in_buf is written */
  size_t out_unacked[2]; /* stdout, stderr bytes the host has not acked */
};

void guest_proc_init(struct guest_proc *p, int32_t id);

/* Take the parent's ends of the process's stdio: in (written), out and
 * errfd (read; errfd -1 with a terminal), master (or -1); made
 * non-blocking here. */
void guest_proc_set_stdio(struct guest_proc *p, int in, int out, int errfd, int master);

/* Close what is left and free the queue. */
void guest_proc_release(struct guest_proc *p);

/* Bytes for its stdin (len 0: EOF), queued and written as far as the pipe
 * takes them; what is written is acked to the host. */
int guest_proc_stdin(struct guest_proc *p, int chan, const char *data, size_t len,
                     nook_error_t *err);
/* in_fd became writable: write more of the queue. */
int guest_proc_stdin_flush(struct guest_proc *p, int chan, nook_error_t *err);
/* The fd to poll for writing stdin: -1 when nothing is queued. */
int guest_proc_in_poll_fd(const struct guest_proc *p);

/* The host's ack of output bytes (CHAN_ACK). */
void guest_proc_ack(struct guest_proc *p, const struct chan_msg *ack);

/* The fd to poll for output of stream i (0 stdout, 1 stderr): -1 when
 * closed or when the host has a window's worth unacked. */
int guest_proc_out_poll_fd(const struct guest_proc *p, int i);

/* The terminal's window size (CHAN_WINSIZE), applied to the pty master. */
void guest_proc_winsize(struct guest_proc *p, const struct winsize *ws);

/* Forward what stream i (0 stdout, 1 stderr) holds to the channel, within
 * the window; at EOF its fd is closed and set to -1. */
int guest_proc_relay(struct guest_proc *p, int chan, int i, nook_error_t *err);

/* It was reaped with `status`: relay what is left of its output (past the
 * window: bounded by the pipes) and send CHAN_EXIT. */
int guest_proc_exited(struct guest_proc *p, int chan, int status, nook_error_t *err);

#endif
