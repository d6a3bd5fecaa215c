#include "guest_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../base/utils.h"

void guest_proc_init(struct guest_proc *p, int32_t id)
{
  *p = (struct guest_proc){.id = id, .in_fd = -1, .out_fd = -1, .err_fd = -1, .master = -1};
}

void guest_proc_set_stdio(struct guest_proc *p, int in, int out, int errfd, int master)
{
  fcntl(in, F_SETFL, O_NONBLOCK);
  fcntl(out, F_SETFL, O_NONBLOCK);
  if (errfd >= 0)
    fcntl(errfd, F_SETFL, O_NONBLOCK);
  p->in_fd = in;
  p->out_fd = out;
  p->err_fd = errfd;
  p->master = master;
}

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void stdin_close(struct guest_proc *p)
{
  close_fd(&p->in_fd);
  free(p->in_buf);
  p->in_buf = NULL;
  p->in_len = 0;
}

void guest_proc_release(struct guest_proc *p)
{
  stdin_close(p);
  /* With a terminal, out_fd is the master. */
  if (p->master == p->out_fd)
    p->master = -1;
  close_fd(&p->out_fd);
  close_fd(&p->err_fd);
  close_fd(&p->master);
}

static int ack(const struct guest_proc *p, int chan, enum chan_type stream, size_t n,
               nook_error_t *err)
{
  struct chan_ack a = {.stream = stream, .bytes = (uint32_t)n};
  return chan_send(chan, CHAN_ACK, p->id, &a, sizeof(a), err);
}

int guest_proc_stdin_flush(struct guest_proc *p, int chan, nook_error_t *err)
{
  size_t done = 0;
  while (p->in_fd >= 0 && done < p->in_len) {
    ssize_t w = write(p->in_fd, p->in_buf + done, p->in_len - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno == EAGAIN)
      break;
    if (w < 0) {
      /* A process that closed its stdin takes nothing more: the rest is
       * acked (dropped), so the host keeps reading and drops it too. */
      done = p->in_len;
      close_fd(&p->in_fd);
      break;
    }
    done += (size_t)w;
  }
  if (done > 0) {
    memmove(p->in_buf, p->in_buf + done, p->in_len - done);
    p->in_len -= done;
  }
  if (p->in_fd >= 0 && p->in_eof && p->in_len == 0)
    stdin_close(p);
  return done > 0 ? ack(p, chan, CHAN_STDIN, done, err) : 0;
}

int guest_proc_stdin(struct guest_proc *p, int chan, const char *data, size_t len,
                     nook_error_t *err)
{
  if (p->in_fd < 0)
    return len > 0 ? ack(p, chan, CHAN_STDIN, len, err) : 0;
  if (len == 0) {
    p->in_eof = true;
  } else {
    /* Bounded by the host's window: it sends no more until we ack. */
    if (p->in_len + len > CHAN_WINDOW)
      return nook_error(err, EPROTO, "channel: the host sent stdin past its window");
    if (p->in_buf == NULL)
      p->in_buf = xmalloc(CHAN_WINDOW);
    memcpy(p->in_buf + p->in_len, data, len);
    p->in_len += len;
  }
  return guest_proc_stdin_flush(p, chan, err);
}

int guest_proc_in_poll_fd(const struct guest_proc *p)
{
  return p->in_len > 0 ? p->in_fd : -1;
}

void guest_proc_ack(struct guest_proc *p, const struct chan_msg *m)
{
  struct chan_ack a;
  if (m->len != sizeof(a))
    return;
  memcpy(&a, m->data, sizeof(a));
  size_t *left = a.stream == CHAN_STDOUT   ? &p->out_unacked[0]
                 : a.stream == CHAN_STDERR ? &p->out_unacked[1]
                                           : NULL;
  if (left != NULL)
    *left -= a.bytes < *left ? a.bytes : *left;
}

int guest_proc_out_poll_fd(const struct guest_proc *p, int i)
{
  if (p->out_unacked[i] >= CHAN_WINDOW)
    return -1;
  return i == 0 ? p->out_fd : p->err_fd;
}

void guest_proc_winsize(struct guest_proc *p, const struct winsize *ws)
{
  /* The kernel sends the process's foreground group SIGWINCH. */
  if (p->master >= 0)
    ioctl(p->master, TIOCSWINSZ, ws);
}

/* Read and send what stream i holds; with `all` past the window (the
 * process ended: what it left is bounded by the pipe). */
static int relay(struct guest_proc *p, int chan, int i, bool all, nook_error_t *err)
{
  static char buf[CHAN_MAX_DATA];
  int *fd = i == 0 ? &p->out_fd : &p->err_fd;
  while (*fd >= 0) {
    size_t room = sizeof(buf);
    if (!all && CHAN_WINDOW - p->out_unacked[i] < room)
      room = CHAN_WINDOW - p->out_unacked[i];
    if (room == 0)
      return 0;
    ssize_t n = read(*fd, buf, room);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return 0;
    if (n <= 0) {
      /* EIO from a pty master: every slave is closed. */
      if (i == 0 && p->master == *fd)
        p->master = -1; /* it was out_fd */
      close_fd(fd);
      return 0;
    }
    p->out_unacked[i] += (size_t)n;
    if (chan_send(chan, i == 0 ? CHAN_STDOUT : CHAN_STDERR, p->id, buf, (size_t)n, err) < 0)
      return -1;
    if ((size_t)n < room)
      return 0;
  }
  return 0;
}

int guest_proc_relay(struct guest_proc *p, int chan, int i, nook_error_t *err)
{
  return relay(p, chan, i, false, err);
}

int guest_proc_exited(struct guest_proc *p, int chan, int status, nook_error_t *err)
{
  p->exited = true;
  /* What it wrote before it ended goes out before its exit; a descendant
   * that keeps the pipes open does not hold the exit back. */
  if (relay(p, chan, 0, true, err) < 0 || relay(p, chan, 1, true, err) < 0)
    return -1;
  return chan_send_about(chan, CHAN_EXIT, status, p->id, err);
}
