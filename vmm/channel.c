#include "channel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../base/utils.h"

static const char *const type_names[] = {
    [CHAN_READY] = "ready",   [CHAN_EXEC] = "exec",     [CHAN_STDOUT] = "stdout",
    [CHAN_STDERR] = "stderr", [CHAN_EXIT] = "exit",     [CHAN_POWEROFF] = "poweroff",
    [CHAN_SIGNAL] = "signal", [CHAN_ERROR] = "error",   [CHAN_CREATE] = "create",
    [CHAN_START] = "start",   [CHAN_KILL] = "kill",     [CHAN_STATE] = "state",
    [CHAN_STDIN] = "stdin",   [CHAN_OK] = "ok",         [CHAN_WINSIZE] = "winsize",
    [CHAN_ACK] = "ack",       [CHAN_NOOK] = "nook",     [CHAN_CTR_EXEC] = "ctr-exec",
    [CHAN_STATS] = "stats",   [CHAN_PARKED] = "parked", [CHAN_UNPARK] = "unpark",
    [CHAN_NET] = "net",       [CHAN_MEMBER] = "member",
};

struct frame {
  uint32_t magic;
  uint32_t type;
  int32_t value;
  uint32_t len;
};

const char *chan_type_name(enum chan_type t)
{
  if ((size_t)t < ARRAY_SIZE(type_names) && type_names[t])
    return type_names[t];
  return "unknown";
}

int chan_send(int fd, enum chan_type type, int32_t value, const void *data, size_t len,
              nook_error_t *err)
{
  if (len > CHAN_MAX_DATA)
    return nook_error(err, EMSGSIZE, "channel: send %s: %zu bytes, more than %d",
                      chan_type_name(type), len, CHAN_MAX_DATA);
  struct frame f = {.magic = CHAN_MAGIC, .type = type, .value = value, .len = (uint32_t)len};
  struct iovec iov[2] = {{&f, sizeof(f)}, {(void *)data, len}};
  int n = len ? 2 : 1;
  struct iovec *v = iov;
  /* A stream may take part of a frame: go on from where it stopped. */
  while (n > 0) {
    ssize_t w = writev(fd, v, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return nook_error(err, errno, "channel: send %s", chan_type_name(type));
    while (n > 0 && (size_t)w >= v->iov_len) {
      w -= (ssize_t)v->iov_len;
      v++;
      n--;
    }
    if (n > 0) {
      v->iov_base = (char *)v->iov_base + w;
      v->iov_len -= (size_t)w;
    }
  }
  return 0;
}

void chan_frame_append(char **buf, size_t *len, enum chan_type type, int32_t value,
                       const void *data, size_t data_len)
{
  struct frame f = {.magic = CHAN_MAGIC, .type = type, .value = value, .len = (uint32_t)data_len};
  *buf = xrealloc(*buf, *len + sizeof(f) + data_len);
  memcpy(*buf + *len, &f, sizeof(f));
  if (data_len > 0)
    memcpy(*buf + *len + sizeof(f), data, data_len);
  *len += sizeof(f) + data_len;
}

void chan_send_error(int fd, const nook_error_t cause)
{
  const char *msg = cause && cause->msg ? cause->msg : "unknown error";
  size_t len = strlen(msg);
  chan_send(fd, CHAN_ERROR, cause ? cause->status : 0, msg,
            len > CHAN_MAX_DATA ? CHAN_MAX_DATA : len, NULL);
}

/* "ready", "stdout or exit", "stdout, stderr or exit". */
static void describe(unsigned expect, char *out, size_t size)
{
  int count = 0, total = 0;
  for (int t = 1; t <= CHAN_TYPE_MAX; t++)
    total += (expect & CHAN_BIT(t)) != 0;
  size_t used = 0;
  out[0] = '\0';
  for (int t = 1; t <= CHAN_TYPE_MAX && used < size; t++) {
    if (!(expect & CHAN_BIT(t)))
      continue;
    count++;
    const char *sep = count == 1 ? "" : count == total ? " or " : ", ";
    used += (size_t)snprintf(out + used, size - used, "%s%s", sep, chan_type_name(t));
  }
  if (total == 0)
    snprintf(out, size, "nothing");
}

/* Read exactly len bytes: 1 when done, 0 on EOF before the first byte. */
static int read_full(int fd, void *buf, size_t len, const char *what, nook_error_t *err)
{
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, (char *)buf + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return nook_error(err, errno, "channel: waiting for %s", what);
    if (r == 0) {
      if (got == 0)
        return 0;
      return nook_error(err, EPROTO,
                        "channel: the stream ended inside a message while waiting for %s", what);
    }
    got += (size_t)r;
  }
  return 1;
}

int chan_recv(int fd, unsigned expect, struct chan_msg *msg, nook_error_t *err)
{
  char what[128];
  describe(expect, what, sizeof(what));
  struct frame f;
  int r = read_full(fd, &f, sizeof(f), what, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return nook_error(err, EPIPE, "channel: closed by the other side while waiting for %s", what);
  if (f.magic != CHAN_MAGIC)
    return nook_error(err, EPROTO, "channel: not a frame (magic %#x) while waiting for %s", f.magic,
                      what);
  if (f.len > CHAN_MAX_DATA)
    return nook_error(err, EPROTO, "channel: a %u-byte %s while waiting for %s (at most %d)", f.len,
                      chan_type_name(f.type), what, CHAN_MAX_DATA);
  if (f.len > 0) {
    r = read_full(fd, msg->data, f.len, what, err);
    if (r < 0)
      return -1;
    if (r == 0)
      return nook_error(err, EPROTO,
                        "channel: the stream ended inside a message while waiting for %s", what);
  }
  msg->type = f.type;
  msg->value = f.value;
  msg->len = f.len;
  msg->data[f.len] = '\0';
  if (f.type >= 1 && f.type <= CHAN_TYPE_MAX && (expect & CHAN_BIT(f.type)))
    return 0;
  if (f.type == CHAN_ERROR)
    return nook_error(err, msg->value > 0 ? msg->value : 0, "%s", msg->data);
  return nook_error(err, EPROTO, "channel: expected %s, got %s", what, chan_type_name(f.type));
}

int chan_exec_encode(const struct chan_exec *e, char **buf, size_t *len, nook_error_t *err)
{
  if (e->argv == NULL || e->argv[0] == NULL || e->argv[0][0] == '\0')
    return nook_error(err, EINVAL, "exec: no command");
  if (e->root == NULL || e->root[0] != '/' || e->cwd == NULL || e->cwd[0] != '/')
    return nook_error(err, EINVAL, "exec: root and cwd must be absolute");
  size_t n = strlen(e->root) + strlen(e->cwd) + 3;
  for (char *const *v = e->env; v && *v; v++) {
    if (**v == '\0')
      return nook_error(err, EINVAL, "exec: an empty environment entry");
    n += strlen(*v) + 1;
  }
  for (char *const *v = e->argv; *v; v++)
    n += strlen(*v) + 1;
  if (n > CHAN_MAX_DATA)
    return nook_error(err, E2BIG, "exec: %zu bytes of command, environment and paths (at most %d)",
                      n, CHAN_MAX_DATA);
  char *out = xmalloc(n), *o = out;
  o = stpcpy(o, e->root) + 1;
  o = stpcpy(o, e->cwd) + 1;
  for (char *const *v = e->env; v && *v; v++)
    o = stpcpy(o, *v) + 1;
  *o++ = '\0';
  for (char *const *v = e->argv; *v; v++)
    o = stpcpy(o, *v) + 1;
  *buf = out;
  *len = (size_t)(o - out);
  return 0;
}

/* The strings of data[off..len) up to an empty one (or the end), as a
 * NULL-terminated array; *off moves past them (and the empty one). */
static char **split(const char *data, size_t len, size_t *off, bool stop_at_empty)
{
  size_t cap = 8, n = 0;
  char **v = xmalloc(cap * sizeof(*v));
  while (*off < len) {
    const char *s = data + *off;
    *off += strlen(s) + 1;
    if (*s == '\0' && stop_at_empty)
      break;
    if (n + 2 > cap) {
      cap *= 2;
      v = xrealloc(v, cap * sizeof(*v));
    }
    v[n++] = (char *)s;
  }
  v[n] = NULL;
  return v;
}

int chan_exec_decode(const char *data, size_t len, struct chan_exec *e, char ***env, char ***argv,
                     nook_error_t *err)
{
  if (len == 0 || data[len - 1] != '\0')
    return nook_error(err, EPROTO, "exec: a malformed request");
  size_t off = 0;
  e->root = data;
  off += strlen(data) + 1;
  if (off >= len)
    return nook_error(err, EPROTO, "exec: a malformed request (no cwd)");
  e->cwd = data + off;
  off += strlen(data + off) + 1;
  if (e->root[0] != '/' || e->cwd[0] != '/')
    return nook_error(err, EPROTO, "exec: a malformed request (relative root or cwd)");
  char **ev = split(data, len, &off, true);
  char **av = split(data, len, &off, false);
  if (av[0] == NULL || av[0][0] == '\0') {
    free(ev);
    free(av);
    return nook_error(err, EPROTO, "exec: a malformed request (no command)");
  }
  e->env = *env = ev;
  e->argv = *argv = av;
  return 0;
}

int chan_nook_encode(const struct chan_nook *n, char **buf, size_t *len, nook_error_t *err)
{
  if (n->argv == NULL || n->argv[0] == NULL || n->argv[0][0] == '\0')
    return nook_error(err, EINVAL, "nook: no command");
  size_t size = 1 + n->in_len;
  for (char *const *v = n->argv; *v; v++) {
    /* An empty entry would end the arguments early. */
    if (**v == '\0')
      return nook_error(err, EINVAL, "nook: an empty argument");
    size += strlen(*v) + 1;
  }
  if (size > CHAN_MAX_DATA)
    return nook_error(err, E2BIG, "nook: %zu bytes of arguments and input (at most %d)", size,
                      CHAN_MAX_DATA);
  char *out = xmalloc(size), *o = out;
  for (char *const *v = n->argv; *v; v++)
    o = stpcpy(o, *v) + 1;
  *o++ = '\0';
  if (n->in_len > 0)
    memcpy(o, n->in, n->in_len);
  *buf = out;
  *len = size;
  return 0;
}

int chan_nook_decode(const char *data, size_t len, struct chan_nook *n, char ***argv,
                     nook_error_t *err)
{
  /* The arguments end with an empty string, which a NUL at the end of the
   * first one alone cannot give. */
  const char *end = len > 1 ? memmem(data, len, "\0\0", 2) : NULL;
  if (end == NULL || data[0] == '\0')
    return nook_error(err, EPROTO, "nook: a malformed request");
  size_t off = 0, args_len = (size_t)(end - data) + 2;
  char **av = split(data, args_len, &off, true);
  n->argv = *argv = av;
  n->in = data + args_len;
  n->in_len = len - args_len;
  return 0;
}

int32_t chan_proc_of(const struct chan_msg *m)
{
  int32_t proc = CHAN_PROC_INIT;
  if (m->len == sizeof(proc))
    memcpy(&proc, m->data, sizeof(proc));
  return proc;
}

int chan_send_about(int fd, enum chan_type type, int32_t value, int32_t proc, nook_error_t *err)
{
  return chan_send(fd, type, value, &proc, sizeof(proc), err);
}

struct ctr_exec_head {
  int32_t proc;
  uint32_t flags;
};

/* The options CHAN_CTR_EXEC carries: one table for both directions. */
enum opt_kind { OPT_STRING, OPT_LIST, OPT_BOOL, OPT_UINT };
#define FIELD(f) offsetof(struct nook_exec_opts, f)
static const struct {
  const char *name;
  enum opt_kind kind;
  size_t off, n_off; /* the field; for a list also its count */
} exec_opts[] = {
    {"id", OPT_STRING, FIELD(id), 0},
    {"cwd", OPT_STRING, FIELD(cwd), 0},
    {"env", OPT_LIST, FIELD(env), FIELD(n_env)},
    {"tty", OPT_BOOL, FIELD(tty), 0},
    {"user", OPT_STRING, FIELD(user), 0},
    {"additional-gids", OPT_LIST, FIELD(additional_gids), FIELD(n_additional_gids)},
    {"cap", OPT_LIST, FIELD(caps), FIELD(n_caps)},
    {"no-new-privs", OPT_BOOL, FIELD(no_new_privs), 0},
    {"apparmor", OPT_STRING, FIELD(apparmor), 0},
    {"process-label", OPT_STRING, FIELD(process_label), 0},
    {"cgroup", OPT_LIST, FIELD(cgroups), FIELD(n_cgroups)},
    {"ignore-paused", OPT_BOOL, FIELD(ignore_paused), 0},
    {"process-name", OPT_STRING, FIELD(process_name), 0},
    {"console-height", OPT_UINT, FIELD(console_height), 0},
    {"console-width", OPT_UINT, FIELD(console_width), 0},
};
#undef FIELD

#define AT(o, off, type) ((type *)((char *)(o) + (off)))

/* Each option as its strings, to `out` (NULL: only count the bytes). */
static size_t put_opts(const struct nook_exec_opts *o, char *out)
{
  size_t n = 0;
#define PUT(...)                                                                                   \
  do {                                                                                             \
    int k = snprintf(out ? out + n : NULL, out ? CHAN_MAX_DATA : 0, __VA_ARGS__);                  \
    n += (size_t)k + 1;                                                                            \
  } while (0)
  for (size_t i = 0; i < ARRAY_SIZE(exec_opts); i++) {
    const char *name = exec_opts[i].name;
    switch (exec_opts[i].kind) {
    case OPT_STRING: {
      const char *v = *AT(o, exec_opts[i].off, const char *const);
      if (v != NULL)
        PUT("%s=%s", name, v);
      break;
    }
    case OPT_LIST: {
      char *const *v = *AT(o, exec_opts[i].off, char **const);
      size_t count = *AT(o, exec_opts[i].n_off, const size_t);
      for (size_t j = 0; j < count; j++)
        PUT("%s=%s", name, v[j]);
      break;
    }
    case OPT_BOOL:
      if (*AT(o, exec_opts[i].off, const bool))
        PUT("%s", name);
      break;
    case OPT_UINT:
      if (*AT(o, exec_opts[i].off, const uint32_t) > 0)
        PUT("%s=%" PRIu32, name, *AT(o, exec_opts[i].off, const uint32_t));
      break;
    }
  }
#undef PUT
  return n;
}

int chan_ctr_exec_encode(const struct chan_ctr_exec *e, char **buf, size_t *len, nook_error_t *err)
{
  const char *process = e->process ? e->process : "";
  size_t n = sizeof(struct ctr_exec_head) + strlen(process) + 1 + put_opts(&e->opts, NULL) + 1;
  for (size_t i = 0; i < e->opts.n_args; i++)
    n += strlen(e->opts.args[i]) + 1;
  if (n > CHAN_MAX_DATA)
    return nook_error(err, E2BIG,
                      "exec: %zu bytes of options, command and process JSON (VM mode takes at "
                      "most %d)",
                      n, CHAN_MAX_DATA);
  char *out = xmalloc(n), *o = out;
  struct ctr_exec_head h = {.proc = e->proc, .flags = e->flags};
  memcpy(o, &h, sizeof(h));
  o += sizeof(h);
  o = stpcpy(o, process) + 1;
  o += put_opts(&e->opts, o);
  *o++ = '\0';
  for (size_t i = 0; i < e->opts.n_args; i++)
    o = stpcpy(o, e->opts.args[i]) + 1;
  *buf = out;
  *len = (size_t)(o - out);
  return 0;
}

/* One NAME[=VALUE] string into o; the lists have room for `cap` entries. */
static int get_opt(struct nook_exec_opts *o, char *s, size_t cap, nook_error_t *err)
{
  char *eq = strchr(s, '=');
  size_t nlen = eq ? (size_t)(eq - s) : strlen(s);
  for (size_t i = 0; i < ARRAY_SIZE(exec_opts); i++) {
    if (strlen(exec_opts[i].name) != nlen || strncmp(exec_opts[i].name, s, nlen) != 0)
      continue;
    if ((exec_opts[i].kind == OPT_BOOL) != (eq == NULL))
      break;
    switch (exec_opts[i].kind) {
    case OPT_STRING:
      *AT(o, exec_opts[i].off, const char *) = eq + 1;
      return 0;
    case OPT_LIST: {
      char ***v = AT(o, exec_opts[i].off, char **);
      size_t *count = AT(o, exec_opts[i].n_off, size_t);
      if (*v == NULL)
        *v = xmalloc(cap * sizeof(char *));
      (*v)[(*count)++] = eq + 1;
      return 0;
    }
    case OPT_BOOL:
      *AT(o, exec_opts[i].off, bool) = true;
      return 0;
    case OPT_UINT: {
      char *end;
      errno = 0;
      unsigned long v = strtoul(eq + 1, &end, 10);
      if (errno != 0 || *end != '\0' || end == eq + 1 || v > UINT32_MAX)
        break;
      *AT(o, exec_opts[i].off, uint32_t) = (uint32_t)v;
      return 0;
    }
    }
  }
  return nook_error(err, EPROTO, "ctr-exec: unknown option `%s`", s);
}

int chan_ctr_exec_decode(const char *data, size_t len, struct chan_ctr_exec *e, nook_error_t *err)
{
  struct ctr_exec_head h;
  *e = (struct chan_ctr_exec){0};
  if (len < sizeof(h) + 2 || data[len - 1] != '\0')
    return nook_error(err, EPROTO, "ctr-exec: a malformed request");
  memcpy(&h, data, sizeof(h));
  size_t off = sizeof(h);
  e->proc = h.proc;
  e->flags = h.flags;
  e->process = data[off] != '\0' ? data + off : NULL;
  off += strlen(data + off) + 1;
  /* No list has more entries than the payload has strings. */
  size_t cap = 1;
  for (size_t i = off; i < len; i++)
    cap += data[i] == '\0';
  char **opts = split(data, len, &off, true);
  int r = 0;
  for (char **v = opts; r == 0 && *v; v++)
    r = get_opt(&e->opts, *v, cap, err);
  free(opts);
  e->opts.args = split(data, len, &off, false);
  e->opts.n_args = strv_len(e->opts.args);
  if (r < 0)
    chan_ctr_exec_clear(e);
  return r;
}

void chan_ctr_exec_clear(struct chan_ctr_exec *e)
{
  for (size_t i = 0; i < ARRAY_SIZE(exec_opts); i++) {
    if (exec_opts[i].kind == OPT_LIST) {
      char ***v = AT(&e->opts, exec_opts[i].off, char **);
      free(*v);
      *v = NULL;
      *AT(&e->opts, exec_opts[i].n_off, size_t) = 0;
    }
  }
  free(e->opts.args);
  e->opts.args = NULL;
  e->opts.n_args = 0;
}

void chan_ctr_exec_set_proc(char *data, size_t len, int32_t proc)
{
  if (len >= sizeof(proc))
    memcpy(data, &proc, sizeof(proc));
}
