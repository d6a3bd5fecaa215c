#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for exactly one fd: a peer sending more gets them dropped by the
 * kernel (MSG_CTRUNC), never installed in our table. */
union fd_control {
  char buf[CMSG_SPACE(sizeof(int))];
  struct cmsghdr align;
};

ssize_t fdpass_send(int sock, const struct iovec *iov, size_t iovlen, int fd)
{
  union fd_control ctl;
  struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovlen};
  if (fd >= 0) {
    memset(&ctl, 0, sizeof(ctl));
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
    ;
  return n;
}

ssize_t fdpass_recv(int sock, struct iovec *iov, size_t iovlen, int flags, int *fd)
{
  union fd_control ctl;
  struct msghdr mh = {.msg_iov = iov,
                      .msg_iovlen = iovlen,
                      .msg_control = ctl.buf,
                      .msg_controllen = sizeof(ctl.buf)};
  ssize_t n;
  *fd = -1;
  while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags)) < 0 && errno == EINTR)
    ;
  if (n < 0)
    return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len >= CMSG_LEN(sizeof(int)) && *fd < 0)
      memcpy(fd, CMSG_DATA(c), sizeof(int));
  return n;
}
