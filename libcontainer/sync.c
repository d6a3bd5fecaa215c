#include "sync.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/fdpass.h"
#include "../base/utils.h"
#include "idmap.h"

static const char *const step_names[] = {
    [SYNC_USERNS_READY] = "userns-ready",
    [SYNC_GO] = "go",
    [SYNC_RUN_HOOKS] = "run-hooks",
    [SYNC_HOOKS_DONE] = "hooks-done",
    [SYNC_CREATED_STATE] = "created-state",
    [SYNC_PTY] = "pty",
    [SYNC_PID] = "pid",
    [SYNC_SECCOMP_FD] = "seccomp-fd",
    [SYNC_MOUNT_FD] = "mount-fd",
    [SYNC_STAGE2_GO] = "stage2-go",
    [SYNC_READY] = "ready",
    [SYNC_START] = "start",
    [SYNC_ERROR] = "error",
};

bool sync_plan_mount_fd(const struct sync_plan *plan, const struct oci_mount *m)
{
  return plan->mount_fds && mount_from_runtime(m, plan->mount_userns);
}

const char *sync_step_name(enum sync_step s)
{
  if ((size_t)s < ARRAY_SIZE(step_names) && step_names[s])
    return step_names[s];
  return "unknown";
}

struct wire {
  uint32_t step;
  int32_t value;
  uint32_t len;
};

static int recv_one(int sock, int flags, enum sync_step expect, struct sync_msg *msg, int *passed,
                    nook_error_t *err);

/* The peer left while we were sending.  It usually says why first (a
 * SYNC_ERROR still queued for us): that, not "broken pipe", is the error. */
static int peer_gone(int sock, enum sync_step step, int errnum, nook_error_t *err)
{
  struct sync_msg *msg = xmalloc(sizeof(*msg));
  int passed = -1;
  nook_error_t ignored = NULL;
  int r;
  for (;;) {
    r = recv_one(sock, MSG_DONTWAIT, step, msg, &passed, &ignored);
    if (passed >= 0)
      close(passed);
    passed = -1;
    if (r != 1 || msg->step == SYNC_ERROR)
      break;
  }
  nook_error_free(&ignored);
  if (r == 1)
    r = nook_error(err, msg->value > 0 ? msg->value : 0, "%s", msg->data);
  else
    r = nook_error(err, errnum, "sync: send %s", sync_step_name(step));
  free(msg);
  return r;
}

int sync_send(int sock, enum sync_step step, int32_t value, const char *data, int pass_fd,
              nook_error_t *err)
{
  struct wire w = {.step = step, .value = value, .len = data ? (uint32_t)strlen(data) : 0};
  if (w.len > SYNC_MAX_DATA)
    w.len = SYNC_MAX_DATA;
  struct iovec iov[2] = {{&w, sizeof(w)}, {(void *)data, w.len}};
  if (fdpass_send(sock, iov, w.len ? 2 : 1, pass_fd) >= 0)
    return 0;
  if (errno == EPIPE || errno == ECONNRESET)
    return peer_gone(sock, step, errno, err);
  return nook_error(err, errno, "sync: send %s", sync_step_name(step));
}

void sync_send_error(int sock, const nook_error_t cause)
{
  sync_send(sock, SYNC_ERROR, cause ? cause->status : 0, cause ? cause->msg : "unknown error", -1,
            NULL);
}

/* One message: 1 with *msg (and *passed) filled, 0 on EOF, -1 on error. */
static int recv_one(int sock, int flags, enum sync_step expect, struct sync_msg *msg, int *passed,
                    nook_error_t *err)
{
  struct wire w;
  struct iovec iov[2] = {{&w, sizeof(w)}, {msg->data, SYNC_MAX_DATA}};
  ssize_t n;
  /* A peer that closed with our message unread leaves ECONNRESET, which the
   * kernel reports (once) before what the peer had queued for us: read on,
   * the queue may hold its SYNC_ERROR. */
  n = fdpass_recv(sock, iov, 2, flags, passed);
  if (n < 0 && errno == ECONNRESET)
    n = fdpass_recv(sock, iov, 2, flags, passed);
  if (n < 0)
    return nook_error(err, errno, "sync: waiting for %s", sync_step_name(expect));
  if (n == 0) {
    if (*passed >= 0)
      close(*passed);
    *passed = -1;
    return 0;
  }
  if ((size_t)n < sizeof(w) || w.len > SYNC_MAX_DATA || (size_t)n != sizeof(w) + w.len) {
    if (*passed >= 0)
      close(*passed);
    return nook_error(err, EPROTO, "sync: malformed message while waiting for %s",
                      sync_step_name(expect));
  }
  msg->step = w.step;
  msg->value = w.value;
  msg->len = w.len;
  msg->data[w.len] = '\0';
  return 1;
}

int sync_recv(int sock, enum sync_step expect, struct sync_msg *msg, int *fd_out, nook_error_t *err)
{
  int passed = -1;
  int r = recv_one(sock, 0, expect, msg, &passed, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return nook_error(err, 0, "sync: the other side exited while waiting for %s",
                      sync_step_name(expect));
  if (msg->step == SYNC_ERROR) {
    if (passed >= 0)
      close(passed);
    return nook_error(err, msg->value > 0 ? msg->value : 0, "%s", msg->data);
  }
  if (msg->step != (uint32_t)expect) {
    if (passed >= 0)
      close(passed);
    return nook_error(err, EPROTO, "sync: expected %s, got %s", sync_step_name(expect),
                      sync_step_name(msg->step));
  }
  if (fd_out)
    *fd_out = passed;
  else if (passed >= 0)
    close(passed);
  return 0;
}

int sync_wait_exec(int sock, struct sync_msg *msg, nook_error_t *err)
{
  int passed = -1;
  int r = recv_one(sock, 0, SYNC_ERROR, msg, &passed, err);
  if (r <= 0)
    return r;
  if (passed >= 0)
    close(passed);
  if (msg->step == SYNC_ERROR)
    return nook_error(err, msg->value > 0 ? msg->value : 0, "%s", msg->data);
  return nook_error(err, EPROTO, "sync: unexpected %s while waiting for the exec",
                    sync_step_name(msg->step));
}
