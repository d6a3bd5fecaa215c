/* The host's side of a VM-mode process's stdio: for the container's init,
 * the monitor's: the fds `create` was given (or, with process.terminal, a
 * pty pair on the host whose master went to the engine's console socket)
 * relayed to and from the guest over the channel; for an exec'd process,
 * the exec CLI's or its proxy's, relayed over its connection to the monitor
 * (which passes the frames and acks on).  With the channel's flow control
 * (CHAN_WINDOW, CHAN_ACK):
 *  - stdin is read only while less than a window is unacked by the guest,
 *    so a container that never reads its stdin holds our reads back, not
 *    the guest init's loop;
 *  - output waits in a buffer of ours until the fd takes it (never a
 *    blocking write: the monitor keeps serving kill, delete and signals)
 *    and is acked only then, so a stalled reader stalls the container's
 *    writes in the guest, as a full pipe does in namespace mode.  Nothing
 *    is dropped unless the reader is gone (EPIPE and the like).
 * Window size (terminal): a watcher child takes the host pty slave as its
 * controlling terminal, so the kernel tells it of every size change
 * (SIGWINCH) and it tells us through a pipe; the monitor itself stays
 * without a controlling terminal, so neither it nor QEMU (in its session)
 * ever gets the terminal's SIGHUP or SIGWINCH. */
#ifndef NOOK_VMM_RELAY_H
#define NOOK_VMM_RELAY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "../base/error.h"
#include "channel.h"

struct vmm_relay {
  int32_t proc; /* the process whose stdio this is (CHAN_PROC_INIT, or an exec's) */
  int in_fd;    /* fd 0 or the pty slave; -1 at EOF */
  bool in_open; /* relaying (from start on) */
  size_t in_unacked;
  int out_fd[2]; /* stdout, stderr: fds 1 and 2, or both the pty slave; -1 gone */
  char *out_buf[2];
  size_t out_len[2];
  int tty;      /* the host pty slave (ours, non-blocking, raw), or -1 */
  int winch_fd; /* the watcher's pipe, or -1 */
  pid_t watcher;
  struct winsize ws; /* the size last sent to the guest */
};

#define VMM_RELAY_NPOLL 4

/* Plain stdio: our fds 0, 1, 2, of the container's init (set proc for
 * another process). */
void vmm_relay_init(struct vmm_relay *r);

/* A terminal: a pty pair (sized `ws` when given: process.consoleSize), the
 * watcher started (it keeps no fd of ours but the slave); *master is for
 * the console socket (the caller closes it once sent). */
int vmm_relay_open_tty(struct vmm_relay *r, const struct winsize *ws, int *master,
                       nook_error_t *err);

/* The pollfds for serve()'s loop, and what to do with their events. */
void vmm_relay_pollfds(const struct vmm_relay *r, struct pollfd p[VMM_RELAY_NPOLL]);
void vmm_relay_events(struct vmm_relay *r, int chan, const struct pollfd p[VMM_RELAY_NPOLL]);

/* CHAN_STDOUT, CHAN_STDERR (of process r->proc) and CHAN_ACK from the
 * guest. */
void vmm_relay_output(struct vmm_relay *r, int chan, const struct chan_msg *m);
void vmm_relay_ack(struct vmm_relay *r, const struct chan_msg *m);

/* The terminal's size to the guest when it changed (and is set at all). */
void vmm_relay_winsize(struct vmm_relay *r, int chan);

/* The container ended: write what is buffered (blocking: as the container
 * would have), then close the terminal and end the watcher. */
void vmm_relay_finish(struct vmm_relay *r);

#endif
