/* pasta on a container's network namespace (pasta.h). */
#include "pasta.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/syscalls.h"
#include "../base/utils.h"

/* pasta configures a namespace in milliseconds; this only bounds a pasta
 * that hangs (a machine under heavy load is slow, so it is generous). */
#define PASTA_READY_TIMEOUT_MS 30000

/* Between fork and exec: a clean signal state (the runtime blocks and
 * catches signals to forward them), a death signal tied to the runtime, no
 * runtime fd but stdio and the error pipe; exec errors go to errfd. */
__attribute__((noreturn)) static void exec_pasta(char **argv, char *netns, size_t netns_size,
                                                 int nsfd, pid_t parent, int null, int errfd)
{
  signals_reset();
  int e = 0;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
      cloexec_fds_from(3, NULL) < 0)
    e = errno ? errno : EBADF;
  else if (getppid() != parent)
    e = ESRCH; /* the runtime died before the death signal was armed */
  /* The one fd pasta gets: its target, by its own /proc/self/fd. */
  int fd = e == 0 ? dup(nsfd) : -1;
  if (e == 0 && fd < 0)
    e = errno;
  else if (e == 0)
    snprintf(netns, netns_size, "/proc/self/fd/%d", fd);
  if (e == 0) {
    execvp(argv[0], argv);
    e = errno;
  }
  safe_write(errfd, &e, sizeof(e));
  _exit(127);
}

/* Wait until pasta wrote its pid to the fifo (it has configured the
 * namespace), exited, or the time is up. */
static int wait_ready(struct net_pasta *p, int fifo, nook_error_t *err)
{
  struct pollfd pfd[2] = {{.fd = fifo, .events = POLLIN}, {.fd = p->pidfd, .events = POLLIN}};
  char buf[32];
  size_t got = 0;
  for (;;) {
    int n = poll(pfd, 2, PASTA_READY_TIMEOUT_MS);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return nook_error(err, errno, "pasta: wait until it is ready");
    if (n == 0)
      return nook_error(err, ETIMEDOUT, "pasta: not ready after %d ms", PASTA_READY_TIMEOUT_MS);
    if (pfd[0].revents) {
      ssize_t r = read(fifo, buf + got, sizeof(buf) - 1 - got);
      if (r > 0) {
        got += (size_t)r;
        if (got < sizeof(buf) - 1)
          continue;
      }
      if (r < 0 && errno == EAGAIN)
        continue;
      /* EOF after its pid: pasta wrote the file, so it is set up. */
      if (got > 0)
        return 0;
      if (r == 0 && !pfd[1].revents)
        return nook_error(err, 0, "pasta closed its pid file without writing to it");
    }
    if (pfd[1].revents) {
      int status = 0;
      if (waitpid(p->pid, &status, 0) == p->pid)
        p->pid = 0;
      return nook_error(err, 0, "pasta exited (status %d) before it configured the network",
                        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

int net_pasta_start(pid_t target, const char *ready_fifo, struct net_pasta *p, nook_error_t *err)
{
  *p = (struct net_pasta){.pid = 0, .pidfd = -1};
  /* Opened here: the container's init is not dumpable, and pasta, which
   * drops CAP_SYS_PTRACE early, could not open its /proc/PID/ns/net. */
  char netns[64];
  snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)target);
  cleanup_close int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return nook_error(err, errno, "open `%s`", netns);
  /* As root pasta switches to nobody, who then cannot enter the namespace
   * ("Couldn't switch to pasta namespaces"): it stays root.  No port of
   * the host goes in (-t/-u none), none of the namespace's loopback goes
   * out (-T/-U none): the host is reached only through the gateway. */
  char *argv[] = {"pasta", "--runas", "0",       "-f",   "-q", "--config-net",
                  "-t",    "none",    "-u",      "none", "-T", "none",
                  "-U",    "none",    "--netns", netns,  "-P", (char *)ready_fifo,
                  NULL};
  if (geteuid() != 0) {
    /* --runas needs privilege: unprivileged, pasta keeps the caller's ids. */
    memmove(&argv[1], &argv[3], sizeof(argv) - 3 * sizeof(char *));
  }
  if (mkfifo(ready_fifo, 0600) < 0)
    return nook_error(err, errno, "pasta: make `%s`", ready_fifo);
  /* Opened before pasta can write: a reader must exist for its open. */
  cleanup_close int fifo = open(ready_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0)
    return nook_error(err, errno, "pasta: open `%s`", ready_fifo);
  cleanup_close int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return nook_error(err, errno, "open /dev/null");
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0)
    return nook_error(err, errno, "pipe");
  cleanup_close int erd = ep[0];
  cleanup_close int ewr = ep[1];
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    return nook_error(err, errno, "pasta: fork");
  if (pid == 0)
    exec_pasta(argv, netns, sizeof(netns), nsfd, parent, null, ewr);
  close(steal_fd(&ewr));
  p->pid = pid;
  int e = 0;
  ssize_t n = safe_read(erd, &e, sizeof(e));
  if (n == (ssize_t)sizeof(e)) {
    waitpid(pid, NULL, 0);
    p->pid = 0;
    if (e == ENOENT)
      return nook_error(err, e, "--net pasta: `pasta` is not installed (Debian's passt package)");
    return nook_error(err, e, "--net pasta: run `pasta`");
  }
  p->pidfd = sys_pidfd_open(pid, 0);
  if (p->pidfd < 0) {
    int saved = errno;
    net_pasta_stop(p);
    return nook_error(err, saved, "pasta: pidfd_open");
  }
  if (wait_ready(p, fifo, err) < 0) {
    net_pasta_stop(p);
    return nook_error_wrap(err, "--net pasta");
  }
  return 0;
}

void net_pasta_stop(struct net_pasta *p)
{
  if (p->pid > 0) {
    if (p->pidfd >= 0)
      sys_pidfd_send_signal(p->pidfd, SIGKILL, NULL, 0);
    while (waitpid(p->pid, NULL, __WALL) < 0 && errno == EINTR)
      ;
  }
  if (p->pidfd >= 0)
    close(p->pidfd);
  *p = (struct net_pasta){.pid = 0, .pidfd = -1};
}
