/* Userspace networking for a network namespace through pasta (Debian's
 * passt package): the namespace gets a tap interface whose traffic pasta
 * carries through the host's own sockets, so the host's routes, firewall
 * and interfaces are never changed.  The namespace sees eth0 192.0.2.2/24
 * (pasta's defaults as root here), a default route via 192.0.2.1, and a
 * connection to 192.0.2.1:PORT reaches the host's 127.0.0.1:PORT.  No port
 * of the host is forwarded into the namespace, and the namespace's own
 * loopback stays its own. */
#ifndef NOOK_NET_PASTA_H
#define NOOK_NET_PASTA_H

#include <sys/types.h>

#include "../base/error.h"

struct net_pasta {
  pid_t pid; /* pasta, a child of the caller; 0 when none */
  int pidfd;
};

/* Start pasta on the network namespace of process target (its
 * /proc/PID/ns/net) and return once pasta has configured it (address,
 * route, interface up).  ready_fifo is a path pasta reports through (its
 * --pid file); the caller makes it in a directory of its own and removes
 * it.  pasta runs in the foreground as the caller's child and dies with
 * the caller's thread (PR_SET_PDEATHSIG): it never outlives the runtime. */
int net_pasta_start(pid_t target, const char *ready_fifo, struct net_pasta *p, nook_error_t *err);

/* Kill and reap pasta (nothing when p->pid is 0).  Safe after another
 * wait reaped it: signals go through the pidfd. */
void net_pasta_stop(struct net_pasta *p);

#endif
