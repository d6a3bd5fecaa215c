/* OCI hooks: fork+exec with the state on stdin, output captured, timeout
 * enforced through a pidfd. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"

extern char **environ;

/* How much of a failed hook's output makes it into the error message. */
#define TAIL_MAX 1024

/* The last TAIL_MAX bytes read from one of the hook's pipes. */
struct tail {
  int fd;
  size_t len;
  char buf[TAIL_MAX];
};

enum { T_STDOUT, T_STDERR, T_EXEC, T_COUNT };

static void tail_add(struct tail *t, const char *p, size_t n)
{
  if (n >= TAIL_MAX) {
    memcpy(t->buf, p + n - TAIL_MAX, TAIL_MAX);
    t->len = TAIL_MAX;
    return;
  }
  if (t->len + n > TAIL_MAX) {
    size_t drop = t->len + n - TAIL_MAX;
    memmove(t->buf, t->buf + drop, t->len - drop);
    t->len -= drop;
  }
  memcpy(t->buf + t->len, p, n);
  t->len += n;
}

/* Reads at most `rounds` chunks without blocking; closes the pipe at EOF.
 * Bounded so a leftover grandchild that keeps writing cannot hold us. */
static void tail_read(struct tail *t, int rounds)
{
  char buf[4096];
  while (t->fd >= 0 && rounds-- > 0) {
    ssize_t r = read(t->fd, buf, sizeof(buf));
    if (r > 0) {
      tail_add(t, buf, (size_t)r);
      continue;
    }
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0 || errno != EAGAIN) {
      close(t->fd);
      t->fd = -1;
    }
    return;
  }
}

/* The hook's own words for the error message: stderr, else stdout; trimmed,
 * without a UTF-8 sequence cut in half at the front. */
static const char *tail_text(struct tail *tails)
{
  struct tail *t = tails[T_STDERR].len ? &tails[T_STDERR] : &tails[T_STDOUT];
  size_t start = 0, end = t->len;
  while (start < end && (((unsigned char)t->buf[start] & 0xc0) == 0x80 ||
                         strchr(" \t\r\n", t->buf[start]) != NULL))
    start++;
  while (end > start && strchr(" \t\r\n", t->buf[end - 1]) != NULL)
    end--;
  /* buf has no spare byte: shift to make room for the terminator. */
  memmove(t->buf, t->buf + start, end - start);
  t->len = end - start;
  if (t->len == TAIL_MAX)
    t->len--;
  t->buf[t->len] = '\0';
  return t->buf;
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Runs between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
hook_child(int stdio[3], int exec_err, const char *path, char *const argv[], char *const envp[])
{
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigaction(SIGPIPE, &dfl, NULL);

  /* Lift every source above 2 first so no dup2 below clobbers another. */
  for (int i = 0; i < 3; i++)
    if (stdio[i] < 3)
      stdio[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3);
  if (exec_err < 3)
    exec_err = fcntl(exec_err, F_DUPFD_CLOEXEC, 3);
  for (int i = 0; i < 3; i++)
    if (stdio[i] < 0 || dup2(stdio[i], i) < 0)
      _exit(127);
  /* Nothing of the runtime but stdio reaches the hook; the exec-error pipe
   * is close-on-exec and goes at exec. */
  if (exec_err > 3)
    sys_close_range(3, (unsigned)exec_err - 1, 0);
  sys_close_range((unsigned)exec_err + 1, ~0U, 0);

  execve(path, argv, envp);
  int e = errno;
  if (write(exec_err, &e, sizeof(e)) < 0) {
    /* the parent reports the exit status instead */
  }
  _exit(127);
}

static int open_pipe(int fds[2], bool parent_reads, nook_error_t *err)
{
  if (pipe2(fds, O_CLOEXEC) < 0)
    return nook_error(err, errno, "pipe2");
  int mine = fds[parent_reads ? 0 : 1];
  int fl = fcntl(mine, F_GETFL);
  if (fl < 0 || fcntl(mine, F_SETFL, fl | O_NONBLOCK) < 0)
    return nook_error(err, errno, "fcntl O_NONBLOCK");
  return 0;
}

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* Feeds the state to stdin and collects output until the hook exits or the
 * deadline passes.  Returns 1 on timeout, 0 when the hook exited, <0 on
 * error. */
static int supervise(int pidfd, int *in, struct tail *tails, const char *state, long long deadline,
                     nook_error_t *err)
{
  size_t off = 0, len = strlen(state);
  if (len == 0)
    close_fd(in);
  for (;;) {
    int timeout = -1;
    if (deadline >= 0) {
      long long left = deadline - now_ms();
      if (left <= 0)
        return 1;
      timeout = left > INT_MAX ? INT_MAX : (int)left;
    }
    struct pollfd pfd[2 + T_COUNT] = {{.fd = pidfd, .events = POLLIN},
                                      {.fd = *in, .events = POLLOUT}};
    for (int i = 0; i < T_COUNT; i++)
      pfd[2 + i] = (struct pollfd){.fd = tails[i].fd, .events = POLLIN};
    int r = poll(pfd, ARRAY_SIZE(pfd), timeout);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return nook_error(err, errno, "poll");
    if (pfd[1].revents) {
      ssize_t w = write(*in, state + off, len - off);
      if (w > 0)
        off += (size_t)w;
      /* EPIPE: the hook does not read its stdin, which is its right. */
      if (off == len || (w < 0 && errno != EAGAIN && errno != EINTR))
        close_fd(in);
    }
    for (int i = 0; i < T_COUNT; i++)
      if (pfd[2 + i].revents)
        tail_read(&tails[i], 1);
    if (pfd[0].revents)
      return 0;
  }
}

static int run_hook(const char *kind, size_t idx, const struct oci_hook *h, const char *state,
                    nook_error_t *err)
{
  int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, ex[2] = {-1, -1};
  struct tail tails[T_COUNT] = {{.fd = -1}, {.fd = -1}, {.fd = -1}};
  int pidfd = -1, ret = -1;
  pid_t pid = -1;
  sigset_t sigpipe, saved;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  /* A hook that exits without reading stdin must not kill nook. */
  sigprocmask(SIG_BLOCK, &sigpipe, &saved);

  if (open_pipe(in, false, err) < 0 || open_pipe(out, true, err) < 0 ||
      open_pipe(errp, true, err) < 0 || open_pipe(ex, true, err) < 0)
    goto out;

  char *fallback[] = {h->path, NULL};
  char *const *argv = h->args && h->args[0] ? h->args : fallback;
  char *const *envp = h->env ? h->env : environ; /* as runc: no env => ours */
  pid = fork();
  if (pid < 0) {
    nook_error(err, errno, "fork");
    goto out;
  }
  if (pid == 0) {
    int stdio[3] = {in[0], out[1], errp[1]};
    hook_child(stdio, ex[1], h->path, argv, envp);
  }
  close_fd(&in[0]);
  close_fd(&out[1]);
  close_fd(&errp[1]);
  close_fd(&ex[1]);
  tails[T_STDOUT].fd = steal_fd(&out[0]);
  tails[T_STDERR].fd = steal_fd(&errp[0]);
  tails[T_EXEC].fd = steal_fd(&ex[0]);

  pidfd = sys_pidfd_open(pid, 0);
  int r;
  if (pidfd < 0)
    r = nook_error(err, errno, "pidfd_open");
  else
    r = supervise(pidfd, &in[1], tails, state ? state : "",
                  h->has_timeout ? now_ms() + h->timeout * 1000LL : -1, err);
  if (r != 0)
    kill(pid, SIGKILL); /* not yet reaped, so the pid is still ours */
  int status, wait_errno = 0;
  pid_t w;
  while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
    ;
  if (w < 0)
    wait_errno = errno;
  for (int i = 0; i < T_COUNT; i++)
    tail_read(&tails[i], 16);

  int exec_errno = 0;
  if (tails[T_EXEC].len == sizeof(int))
    memcpy(&exec_errno, tails[T_EXEC].buf, sizeof(int));
  const char *said = tail_text(tails), *sep = *said ? ": " : "";
  if (r < 0)
    nook_error_wrap(err, "%s hook #%zu (%s)", kind, idx, h->path);
  else if (r > 0)
    nook_error(err, 0, "%s hook #%zu (%s): timed out after %ds", kind, idx, h->path, h->timeout);
  else if (w < 0)
    nook_error(err, wait_errno, "%s hook #%zu (%s): waitpid", kind, idx, h->path);
  else if (exec_errno != 0)
    nook_error(err, exec_errno, "%s hook #%zu (%s): exec", kind, idx, h->path);
  else if (WIFSIGNALED(status))
    nook_error(err, 0, "%s hook #%zu (%s): killed by signal %d (SIG%s)%s%s", kind, idx, h->path,
               WTERMSIG(status), sigabbrev_np(WTERMSIG(status)) ?: "?", sep, said);
  else if (WEXITSTATUS(status) != 0)
    nook_error(err, 0, "%s hook #%zu (%s): exited with status %d%s%s", kind, idx, h->path,
               WEXITSTATUS(status), sep, said);
  else
    ret = 0;

out:
  for (int i = 0; i < 2; i++) {
    close_fd(&in[i]);
    close_fd(&out[i]);
    close_fd(&errp[i]);
    close_fd(&ex[i]);
  }
  for (int i = 0; i < T_COUNT; i++)
    close_fd(&tails[i].fd);
  close_fd(&pidfd);
  /* Swallow a SIGPIPE our writes raised, unless the caller blocks it too and
   * it may be theirs. */
  if (!sigismember(&saved, SIGPIPE)) {
    struct timespec zero = {0};
    while (sigtimedwait(&sigpipe, NULL, &zero) == SIGPIPE)
      ;
  }
  sigprocmask(SIG_SETMASK, &saved, NULL);
  return ret;
}

int hooks_run(const char *kind, const struct oci_hook *hooks, size_t n, const char *state_json,
              nook_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (run_hook(kind, i, &hooks[i], state_json, err) < 0)
      return -1;
  return 0;
}

void hooks_run_warn(const char *kind, const struct oci_hook *hooks, size_t n,
                    const char *state_json)
{
  for (size_t i = 0; i < n; i++) {
    nook_error_t e = NULL;
    if (run_hook(kind, i, &hooks[i], state_json, &e) < 0) {
      cleanup_free char *text = nook_error_text(e);
      nook_warn("%s", text);
      nook_error_free(&e);
    }
  }
}
