/* base/fdpass.c: one fd over a unix socket, as every caller passes it. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../base/fdpass.h"

TEST(fd_and_payload_arrive_close_on_exec)
{
  int sv[2];
  if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0))
    return;
  int sent = open("/dev/null", O_RDONLY); /* not close-on-exec: the receiver's must be */
  char out[] = "hello", in[16] = "";
  struct iovec siov = {out, sizeof(out)}, riov = {in, sizeof(in)};
  CHECK_INT_EQ(fdpass_send(sv[0], &siov, 1, sent), sizeof(out));
  int got = -2;
  CHECK_INT_EQ(fdpass_recv(sv[1], &riov, 1, 0, &got), sizeof(out));
  CHECK_STR_EQ(in, "hello");
  CHECK(got >= 0 && got != sent);
  struct stat a, b;
  CHECK(fstat(sent, &a) == 0 && fstat(got, &b) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev);
  CHECK(fcntl(got, F_GETFD) & FD_CLOEXEC);
  close(got);
  close(sent);
  close(sv[0]);
  close(sv[1]);
}

TEST(no_fd_and_eof)
{
  int sv[2];
  if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0))
    return;
  char out[] = "x", in[4];
  struct iovec siov = {out, 1}, riov = {in, sizeof(in)};
  CHECK_INT_EQ(fdpass_send(sv[0], &siov, 1, -1), 1);
  int got = -2;
  CHECK_INT_EQ(fdpass_recv(sv[1], &riov, 1, 0, &got), 1);
  CHECK_INT_EQ(got, -1);
  close(sv[0]);
  got = -2;
  CHECK_INT_EQ(fdpass_recv(sv[1], &riov, 1, 0, &got), 0);
  CHECK_INT_EQ(got, -1);
  close(sv[1]);
}

TEST(send_to_a_closed_peer_is_epipe_not_sigpipe)
{
  int sv[2];
  if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0))
    return;
  close(sv[1]);
  char out[] = "x";
  struct iovec siov = {out, 1};
  CHECK(fdpass_send(sv[0], &siov, 1, -1) < 0 && errno == EPIPE);
  close(sv[0]);
}
