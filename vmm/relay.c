#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include "../base/syscalls.h"
#include "../base/utils.h"

void vmm_relay_init(struct vmm_relay *r)
{
  *r = (struct vmm_relay){.in_fd = 0, .out_fd = {1, 2}, .tty = -1, .winch_fd = -1};
}

/* The watcher: the slave's session leader, so SIGWINCH comes to it. */
__attribute__((noreturn)) static void watch(int slave, int out, pid_t parent)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(0);
  if (dup2(slave, 0) < 0 || dup2(out, 1) < 0)
    _exit(1);
  sys_close_range(2, ~0u, 0);
  if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0)
    _exit(1);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  /* A hangup (the engine closed the master) ends the watch. */
  while (sigwaitinfo(&set, NULL) != SIGHUP) {
    if (write(1, "w", 1) < 0 && errno != EAGAIN)
      _exit(0);
  }
  _exit(0);
}

int vmm_relay_open_tty(struct vmm_relay *r, const struct winsize *ws, int *master,
                       nook_error_t *err)
{
  cleanup_close int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0)
    return nook_error(err, errno, "open a pty on the host");
  char name[64];
  if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0)
    return nook_error(err, errno, "unlock the host pty");
  cleanup_close int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (slave < 0)
    return nook_error(err, errno, "open %s", name);
  /* The guest's pty does the line discipline (echo, ^C, CR/LF): this one
   * must pass bytes through untouched. */
  struct termios tio;
  if (tcgetattr(slave, &tio) < 0)
    return nook_error(err, errno, "tcgetattr %s", name);
  cfmakeraw(&tio);
  if (tcsetattr(slave, TCSANOW, &tio) < 0)
    return nook_error(err, errno, "tcsetattr %s", name);
  if (ws != NULL && ioctl(m, TIOCSWINSZ, ws) < 0)
    return nook_error(err, errno, "set the host pty's size");
  int p[2];
  if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
    return nook_error(err, errno, "pipe");
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return nook_error(err, e, "fork the terminal watcher");
  }
  if (pid == 0)
    watch(slave, p[1], parent);
  close(p[1]);
  r->watcher = pid;
  r->winch_fd = p[0];
  r->tty = steal_fd(&slave);
  r->in_fd = r->out_fd[0] = r->out_fd[1] = r->tty;
  *master = steal_fd(&m);
  return 0;
}

void vmm_relay_pollfds(const struct vmm_relay *r, struct pollfd p[VMM_RELAY_NPOLL])
{
  bool in = r->in_open && r->in_fd >= 0 && r->in_unacked < CHAN_WINDOW;
  p[0] = (struct pollfd){.fd = in ? r->in_fd : -1, .events = POLLIN};
  for (int i = 0; i < 2; i++)
    p[1 + i] = (struct pollfd){.fd = r->out_len[i] ? r->out_fd[i] : -1, .events = POLLOUT};
  p[3] = (struct pollfd){.fd = r->winch_fd, .events = POLLIN};
}

static void ack(const struct vmm_relay *r, int chan, enum chan_type stream, size_t n)
{
  struct chan_ack a = {.stream = stream, .bytes = (uint32_t)n};
  chan_send(chan, CHAN_ACK, r->proc, &a, sizeof(a), NULL);
}

static void read_stdin(struct vmm_relay *r, int chan)
{
  char buf[CHAN_MAX_DATA];
  size_t room = CHAN_WINDOW - r->in_unacked;
  ssize_t n = read(r->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    /* EOF, or EIO: the terminal hung up.  The guest closes the stdin. */
    r->in_fd = -1;
    n = 0;
  }
  r->in_unacked += (size_t)n;
  chan_send(chan, CHAN_STDIN, r->proc, buf, (size_t)n, NULL);
}

/* Write what fd takes now.  Not our own fd (not the tty): it may be
 * blocking and shared, so no O_NONBLOCK on it; at most PIPE_BUF bytes a
 * write while poll says writable never blocks on a pipe. */
static void drain(struct vmm_relay *r, int chan, int i, bool block)
{
  size_t done = 0;
  int fd = r->out_fd[i];
  while (fd >= 0 && done < r->out_len[i]) {
    size_t left = r->out_len[i] - done;
    if (fd != r->tty && left > PIPE_BUF)
      left = PIPE_BUF;
    if (!block && fd != r->tty) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT))
        break;
    }
    ssize_t w = write(fd, r->out_buf[i] + done, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno == EAGAIN) {
      if (!block)
        break;
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, -1);
      continue;
    }
    if (w < 0) {
      /* A reader that went away loses the rest; the container goes on. */
      r->out_fd[i] = -1;
      done = r->out_len[i];
      break;
    }
    done += (size_t)w;
  }
  if (done == 0)
    return;
  memmove(r->out_buf[i], r->out_buf[i] + done, r->out_len[i] - done);
  r->out_len[i] -= done;
  if (chan >= 0)
    ack(r, chan, i == 0 ? CHAN_STDOUT : CHAN_STDERR, done);
}

void vmm_relay_output(struct vmm_relay *r, int chan, const struct chan_msg *m)
{
  if (m->value != r->proc)
    return;
  int i = m->type == CHAN_STDOUT ? 0 : 1;
  if (r->out_fd[i] < 0) {
    ack(r, chan, m->type, m->len);
    return;
  }
  /* Within the window, except for what the guest flushes at the
   * container's end (bounded by its pipe): grow as needed. */
  char *grown = realloc(r->out_buf[i], r->out_len[i] + m->len);
  if (grown == NULL && m->len > 0) {
    ack(r, chan, m->type, m->len);
    return;
  }
  r->out_buf[i] = grown;
  memcpy(r->out_buf[i] + r->out_len[i], m->data, m->len);
  r->out_len[i] += m->len;
  drain(r, chan, i, false);
}

void vmm_relay_ack(struct vmm_relay *r, const struct chan_msg *m)
{
  struct chan_ack a;
  if (m->value != r->proc || m->len != sizeof(a))
    return;
  memcpy(&a, m->data, sizeof(a));
  if (a.stream == CHAN_STDIN)
    r->in_unacked -= a.bytes < r->in_unacked ? a.bytes : r->in_unacked;
}

void vmm_relay_winsize(struct vmm_relay *r, int chan)
{
  struct winsize ws;
  if (r->tty < 0 || ioctl(r->tty, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
    return;
  if (ws.ws_row == r->ws.ws_row && ws.ws_col == r->ws.ws_col && ws.ws_xpixel == r->ws.ws_xpixel &&
      ws.ws_ypixel == r->ws.ws_ypixel)
    return;
  if (chan_send(chan, CHAN_WINSIZE, r->proc, &ws, sizeof(ws), NULL) == 0)
    r->ws = ws;
}

void vmm_relay_events(struct vmm_relay *r, int chan, const struct pollfd p[VMM_RELAY_NPOLL])
{
  if (p[0].revents)
    read_stdin(r, chan);
  for (int i = 0; i < 2; i++) {
    if (p[1 + i].revents)
      drain(r, chan, i, false);
  }
  if (p[3].revents) {
    char buf[64];
    ssize_t n = read(r->winch_fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close(r->winch_fd);
      r->winch_fd = -1;
    }
    vmm_relay_winsize(r, chan);
  }
}

void vmm_relay_finish(struct vmm_relay *r)
{
  for (int i = 0; i < 2; i++) {
    drain(r, -1, i, true);
    free(r->out_buf[i]);
    r->out_buf[i] = NULL;
  }
  if (r->watcher > 0)
    kill(r->watcher, SIGKILL);
  r->watcher = 0;
  if (r->winch_fd >= 0)
    close(r->winch_fd);
  if (r->tty >= 0)
    close(r->tty);
  r->tty = r->winch_fd = -1;
}
