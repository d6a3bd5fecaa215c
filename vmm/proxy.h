/* The host process that stands for a process in the guest (exec.c): an
 * exec'd process with `exec -d`, a pod member's init (pod.c).  It asks the
 * monitor for the process, then relays its stdio and forwards the signals
 * it gets, and ends as the process ended (its exit code, or the same
 * signal), so an engine waits on its pid as on a runc container's. */
#ifndef NOOK_VMM_PROXY_H
#define NOOK_VMM_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"
#include "relay.h"

/* In the proxy: ask the monitor (the state directory dirfd's monitor.sock)
 * for the process; returns the connection that carries its stdio and exit,
 * *id the process id the monitor gave it, or -1. */
typedef int vmm_proxy_request_fn(int dirfd, void *arg, struct vmm_relay *io, int32_t *id,
                                 nook_error_t *err);

struct vmm_proxy {
  pid_t pid;
  int report; /* ours: the proxy's word on its request */
};

/* Fork the proxy; it waits for vmm_proxy_go() before it asks, so the caller
 * can first publish its pid (a pid file, state.json).  tty: the process has
 * a terminal, whose host side goes to the console socket `console`.  The
 * proxy closes the n_drop fds in drop (a state directory's locked fd). */
int vmm_proxy_fork(int dirfd, bool tty, const char *console, vmm_proxy_request_fn *fn, void *arg,
                   const int *drop, size_t n_drop, struct vmm_proxy *p, nook_error_t *err);
/* go: let it ask, and wait for the answer (0, or the request's error, the
 * proxy then reaped); !go: it is told to give up and reaped (-1). */
int vmm_proxy_go(struct vmm_proxy *p, bool go, nook_error_t *err);

#endif
