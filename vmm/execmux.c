#include "execmux.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/utils.h"

void vmm_execs_init(struct vmm_execs *x)
{
  *x = (struct vmm_execs){0};
}

static struct vmm_exec_client *find(struct vmm_execs *x, int32_t id)
{
  for (size_t i = 0; i < x->n; i++) {
    if (x->v[i].id == id)
      return &x->v[i];
  }
  return NULL;
}

int32_t vmm_execs_new_id(struct vmm_execs *x)
{
  do
    x->last_id = x->last_id == INT32_MAX ? 1 : x->last_id + 1;
  while (find(x, x->last_id) != NULL);
  return x->last_id;
}

void vmm_execs_add(struct vmm_execs *x, int fd, int32_t id)
{
  x->v = xrealloc(x->v, (x->n + 1) * sizeof(*x->v));
  x->v[x->n++] = (struct vmm_exec_client){.id = id, .fd = fd};
}

static void drop(struct vmm_execs *x, struct vmm_exec_client *c)
{
  if (c->fd >= 0)
    close(c->fd);
  free(c->out);
  *c = x->v[--x->n];
}

/* The client is gone (killed: it never goes before the exit): so is its
 * process, whose pid on the host was the client's. */
static void gone(int chan, struct vmm_exec_client *c)
{
  close(c->fd);
  c->fd = -1;
  free(c->out);
  c->out = NULL;
  c->out_len = 0;
  if (!c->exited)
    chan_send_about(chan, CHAN_SIGNAL, SIGKILL, c->id, NULL);
}

static void flush(int chan, struct vmm_exec_client *c)
{
  size_t done = 0;
  while (done < c->out_len) {
    ssize_t w = send(c->fd, c->out + done, c->out_len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (w < 0) {
      gone(chan, c);
      return;
    }
    done += (size_t)w;
  }
  memmove(c->out, c->out + done, c->out_len - done);
  c->out_len -= done;
}

/* One frame from the client, for the guest. */
static void from_client(int chan, struct vmm_exec_client *c)
{
  struct chan_msg *m = xmalloc(sizeof(*m));
  nook_error_t err = NULL;
  const unsigned expect =
      CHAN_BIT(CHAN_STDIN) | CHAN_BIT(CHAN_ACK) | CHAN_BIT(CHAN_WINSIZE) | CHAN_BIT(CHAN_SIGNAL);
  if (chan_recv(c->fd, expect, m, &err) < 0) {
    nook_error_free(&err);
    gone(chan, c);
  } else if (m->type == CHAN_SIGNAL) {
    if (m->value > 0 && m->value < NSIG)
      chan_send_about(chan, CHAN_SIGNAL, m->value, c->id, NULL);
  } else if (m->type == CHAN_STDIN && c->in_unacked + m->len > CHAN_WINDOW) {
    /* The guest would take it for a broken channel. */
    gone(chan, c);
  } else {
    if (m->type == CHAN_STDIN)
      c->in_unacked += m->len;
    chan_send(chan, m->type, c->id, m->data, m->len, NULL);
  }
  free(m);
}

void vmm_execs_pollfds(const struct vmm_execs *x, struct pollfd *p)
{
  for (size_t i = 0; i < x->n; i++) {
    const struct vmm_exec_client *c = &x->v[i];
    p[i] = (struct pollfd){.fd = c->fd, .events = POLLIN | (c->out_len ? POLLOUT : 0)};
  }
}

void vmm_execs_events(struct vmm_execs *x, int chan, const struct pollfd *p, size_t n)
{
  for (size_t i = 0; i < n && i < x->n; i++) {
    struct vmm_exec_client *c = &x->v[i];
    if (c->fd < 0 || p[i].fd != c->fd || p[i].revents == 0)
      continue;
    if (p[i].revents & POLLOUT)
      flush(chan, c);
    if (c->fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
      from_client(chan, c);
  }
  /* Done: the exit was written, or nobody is left to write it to. */
  for (size_t i = x->n; i-- > 0;) {
    struct vmm_exec_client *c = &x->v[i];
    if (c->exited && (c->fd < 0 || c->out_len == 0))
      drop(x, c);
  }
}

static void ack(int chan, int32_t id, enum chan_type stream, size_t n)
{
  struct chan_ack a = {.stream = stream, .bytes = (uint32_t)n};
  chan_send(chan, CHAN_ACK, id, &a, sizeof(a), NULL);
}

bool vmm_execs_from_guest(struct vmm_execs *x, int chan, const struct chan_msg *m)
{
  int32_t id;
  switch (m->type) {
  case CHAN_STDOUT:
  case CHAN_STDERR:
  case CHAN_ACK:
    id = m->value;
    break;
  case CHAN_EXIT:
    id = chan_proc_of(m);
    break;
  default:
    return false;
  }
  if (id == CHAN_PROC_INIT)
    return false;
  struct vmm_exec_client *c = find(x, id);
  if (m->type == CHAN_ACK) {
    struct chan_ack a;
    if (c != NULL && m->len == sizeof(a)) {
      memcpy(&a, m->data, sizeof(a));
      if (a.stream == CHAN_STDIN)
        c->in_unacked -= a.bytes < c->in_unacked ? a.bytes : c->in_unacked;
    }
  }
  if (c == NULL || c->fd < 0) {
    /* Nobody reads it: taken, so the process is not held up. */
    if (m->type == CHAN_STDOUT || m->type == CHAN_STDERR)
      ack(chan, id, m->type, m->len);
    if (c != NULL && m->type == CHAN_EXIT)
      drop(x, c);
    return true;
  }
  chan_frame_append(&c->out, &c->out_len, m->type, m->value, m->data, m->len);
  if (m->type == CHAN_EXIT)
    c->exited = true;
  flush(chan, c);
  if (c->exited && (c->fd < 0 || c->out_len == 0))
    drop(x, c);
  return true;
}

void vmm_execs_end(struct vmm_execs *x, int chan)
{
  while (x->n > 0) {
    struct vmm_exec_client *c = &x->v[x->n - 1];
    if (c->fd >= 0 && c->out_len > 0)
      flush(chan, c);
    drop(x, c);
  }
  free(x->v);
  x->v = NULL;
}
