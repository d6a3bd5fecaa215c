/* Passing one fd over a unix socket (SCM_RIGHTS), the one way the runtime
 * does it: the sync protocol, console sockets, seccomp listeners and the
 * netlink helper all go through these two. */
#ifndef NOOK_FDPASS_H
#define NOOK_FDPASS_H

#include <sys/types.h>
#include <sys/uio.h>

/* sendmsg() of iov with `fd` attached (none when fd < 0), MSG_NOSIGNAL,
 * EINTR retried.  Returns the bytes sent, or -1 with errno set. */
ssize_t fdpass_send(int sock, const struct iovec *iov, size_t iovlen, int fd);

/* recvmsg() into iov with MSG_CMSG_CLOEXEC | flags, EINTR retried: a
 * received fd never leaks into an exec.  *fd gets the passed fd, or -1.
 * Returns the bytes received (0 at EOF), or -1 with errno set. */
ssize_t fdpass_recv(int sock, struct iovec *iov, size_t iovlen, int flags, int *fd);

#endif
