/* SCMP_ACT_NOTIFY: the runtime hands the container's notify fd to the
 * seccomp agent at linux.seccomp.listenerPath, with the container process
 * state (config-linux.md, "The Container Process State"):
 *   {"ociVersion": ..., "fds": ["seccompFd"], "pid": N, "metadata": ...,
 *    "state": {<the container state>}}
 * one connection, one sendmsg carrying the fd, then close. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "../base/fdpass.h"
#include "../base/utils.h"
#include "seccomp.h"

#define PROCESS_STATE_VERSION "1.3.0"

static void gen_str(yajl_gen g, const char *s)
{
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* The process state around the already serialized container state. */
static char *process_state_json(const struct oci_seccomp *s, const char *state_json, pid_t pid)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  gen_str(g, "ociVersion");
  gen_str(g, PROCESS_STATE_VERSION);
  gen_str(g, "fds");
  yajl_gen_array_open(g);
  gen_str(g, "seccompFd");
  yajl_gen_array_close(g);
  gen_str(g, "pid");
  yajl_gen_integer(g, pid);
  if (s->listener_metadata != NULL) {
    gen_str(g, "metadata");
    gen_str(g, s->listener_metadata);
  }
  yajl_gen_map_close(g);
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(g, &buf, &len);
  /* Drop the closing brace and append the state member. */
  char *out;
  xasprintf(&out, "%.*s,\"state\":%s}", (int)(len - 1), (const char *)buf, state_json);
  yajl_gen_free(g);
  return out;
}

/* A path longer than sun_path is reached through its directory's fd. */
static int connect_path(int sock, const char *path, nook_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  cleanup_close int dirfd = -1;
  if (strlen(path) < sizeof(sa.sun_path)) {
    memcpy(sa.sun_path, path, strlen(path) + 1);
  } else {
    cleanup_free char *d = xstrdup(path), *b = xstrdup(path);
    dirfd = open(dirname(d), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
      return nook_error(err, errno, "linux.seccomp.listenerPath: open the directory of `%s`", path);
    int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, basename(b));
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
      return nook_error(err, ENAMETOOLONG, "linux.seccomp.listenerPath: `%s`", path);
  }
  while (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    if (errno != EINTR)
      return nook_error(err, errno, "linux.seccomp.listenerPath: connect to `%s`", path);
  }
  return 0;
}

int seccomp_send_notify_fd(const struct oci_seccomp *s, int notify_fd, const char *state_json,
                           pid_t pid, nook_error_t *err)
{
  if (s->listener_path == NULL)
    return nook_error(err, 0, "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY");
  cleanup_free char *msg = process_state_json(s, state_json, pid);
  cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return nook_error(err, errno, "linux.seccomp.listenerPath: socket");
  if (connect_path(sock, s->listener_path, err) < 0)
    return -1;

  size_t len = strlen(msg), done = 0;
  /* The spec allows more sendmsg calls, with the fds in the first only:
   * a blocking stream socket sends all at once unless interrupted. */
  while (done < len) {
    struct iovec iov = {msg + done, len - done};
    ssize_t n = fdpass_send(sock, &iov, 1, done == 0 ? notify_fd : -1);
    if (n < 0)
      return nook_error(err, errno, "linux.seccomp.listenerPath: send the seccomp fd to `%s`",
                        s->listener_path);
    done += (size_t)n;
  }
  return 0;
}
