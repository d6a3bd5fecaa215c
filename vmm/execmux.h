/* The monitor's exec'd processes: each belongs to the connection on
 * monitor.sock of the `nook exec` (or its -d proxy) that asked for it, and
 * the monitor routes frames between that connection and the guest by
 * process id, so any number of execs share the one channel:
 *  - from the guest, CHAN_STDOUT, CHAN_STDERR, CHAN_ACK (of its stdin) and
 *    CHAN_EXIT are queued for the client and written as its socket takes
 *    them, never blocking the monitor: the guest keeps at most a window per
 *    stream unacked and the client acks only what it passed on, so the
 *    queue stays within a window per stream and a slow reader stalls only
 *    its own process;
 *  - from the client, CHAN_STDIN (within its window), CHAN_ACK,
 *    CHAN_WINSIZE and CHAN_SIGNAL go to the guest for its process.
 * A client only goes away before its process's exit when it was killed;
 * the process is then killed too (SIGKILL), so that the host pid an engine
 * holds (the -d proxy's) lives exactly as long as the process, whatever
 * signal it gets.  What the process still writes meanwhile is acked and
 * dropped. */
#ifndef NOOK_VMM_EXECMUX_H
#define NOOK_VMM_EXECMUX_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel.h"

struct vmm_exec_client {
  int32_t id;
  int fd;    /* the connection; -1 once the client is gone */
  char *out; /* frames waiting for the client */
  size_t out_len;
  size_t in_unacked; /* stdin passed to the guest and not acked yet */
  bool exited;       /* its CHAN_EXIT is queued: the end once written */
};

struct vmm_execs {
  struct vmm_exec_client *v;
  size_t n;
  int32_t last_id;
};

void vmm_execs_init(struct vmm_execs *x);

/* An id no running exec has (> 0). */
int32_t vmm_execs_new_id(struct vmm_execs *x);

/* The guest runs process id for the client on fd (ours from now on). */
void vmm_execs_add(struct vmm_execs *x, int fd, int32_t id);

/* One pollfd per client (x->n of them), and what to do with their events:
 * whatever fd is readable has its frames passed to the guest (chan). */
void vmm_execs_pollfds(const struct vmm_execs *x, struct pollfd *p);
void vmm_execs_events(struct vmm_execs *x, int chan, const struct pollfd *p, size_t n);

/* A frame from the guest: true when it was an exec'd process's (queued
 * for its client, or dropped and acked when the client is gone). */
bool vmm_execs_from_guest(struct vmm_execs *x, int chan, const struct chan_msg *m);

/* The container ended (the VM goes with it): what the sockets take now is
 * written, then every connection is closed; a client that got no exit
 * reports its process killed by SIGKILL. */
void vmm_execs_end(struct vmm_execs *x, int chan);

#endif
