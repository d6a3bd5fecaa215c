#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/fdpass.h"
#include "../base/utils.h"

/* QEMU's lines are short (an answer, an event); a longer one is not QMP. */
#define QMP_LINE_MAX 16384

/* One line, read a byte at a time: what follows it (an event QEMU sends
 * later) stays in the socket for the next reader, so no buffer outlives a
 * call. */
static int read_line(int fd, long long deadline, char *buf, size_t size, nook_error_t *err)
{
  size_t n = 0;
  for (;;) {
    long long left = deadline - monotonic_ms();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, left > 0 ? (int)left : 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return nook_error(err, errno, "poll");
    if (r == 0)
      return nook_error(err, ETIMEDOUT, "no answer from QEMU");
    char c;
    ssize_t got = read(fd, &c, 1);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (got < 0)
      return nook_error(err, errno, "read");
    if (got == 0)
      return nook_error(err, EPIPE, "QEMU closed the connection");
    if (c == '\n') {
      buf[n] = '\0';
      return 0;
    }
    if (n + 1 >= size)
      return nook_error(err, EPROTO, "a line of more than %zu bytes", size - 1);
    buf[n++] = c;
  }
}

/* The next object that has `key` ("QMP", or "return"/"error"); events are
 * skipped. */
static int wait_for(int fd, long long deadline, const char *key, struct json_doc **doc,
                    const struct json_value **root, nook_error_t *err)
{
  cleanup_free char *line = xmalloc(QMP_LINE_MAX);
  for (;;) {
    if (read_line(fd, deadline, line, QMP_LINE_MAX, err) < 0)
      return -1;
    size_t len = strlen(line);
    while (len > 0 && line[len - 1] == '\r')
      line[--len] = '\0';
    if (len == 0)
      continue;
    if (json_parse(line, len, "qmp", doc, root, err) < 0)
      return -1;
    if (json_get(*root, key) != NULL ||
        (strcmp(key, "return") == 0 && json_get(*root, "error") != NULL))
      return 0;
    json_doc_free(*doc);
    *doc = NULL;
  }
}

static int send_command(int fd, const char *command, const char *args, int pass_fd,
                        nook_error_t *err)
{
  cleanup_free char *req = NULL;
  if (args != NULL)
    xasprintf(&req, "{\"execute\":\"%s\",\"arguments\":%s}\n", command, args);
  else
    xasprintf(&req, "{\"execute\":\"%s\"}\n", command);
  size_t len = strlen(req);
  if (pass_fd < 0)
    return safe_write(fd, req, len) < 0 ? nook_error(err, errno, "send") : 0;
  /* The fd rides on the command's first byte; the rest follows. */
  struct iovec iov = {.iov_base = req, .iov_len = len};
  ssize_t n = fdpass_send(fd, &iov, 1, pass_fd);
  if (n < 0)
    return nook_error(err, errno, "send");
  if ((size_t)n < len && safe_write(fd, req + n, len - (size_t)n) < 0)
    return nook_error(err, errno, "send");
  return 0;
}

int qmp_execute_args(int fd, const char *command, const char *args, int pass_fd, int timeout_ms,
                     struct json_doc **doc, const struct json_value **ret, nook_error_t *err)
{
  *doc = NULL;
  long long deadline = monotonic_ms() + timeout_ms;
  const struct json_value *root;
  if (send_command(fd, command, args, pass_fd, err) < 0 ||
      wait_for(fd, deadline, "return", doc, &root, err) < 0)
    return nook_error_wrap(err, "qmp %s", command);
  const struct json_value *e = json_get(root, "error");
  if (e != NULL) {
    const struct json_value *cls = json_get(e, "class"), *desc = json_get(e, "desc");
    nook_error(err, 0, "qmp %s: %s%s%s", command,
               cls && cls->type == JSON_STRING ? cls->u.str : "error",
               desc && desc->type == JSON_STRING ? ": " : "",
               desc && desc->type == JSON_STRING ? desc->u.str : "");
    json_doc_free(steal_pointer(doc));
    return -1;
  }
  *ret = json_get(root, "return");
  return 0;
}

int qmp_execute(int fd, const char *command, int timeout_ms, struct json_doc **doc,
                const struct json_value **ret, nook_error_t *err)
{
  return qmp_execute_args(fd, command, NULL, -1, timeout_ms, doc, ret, err);
}

int qmp_handshake(int fd, int timeout_ms, nook_error_t *err)
{
  struct json_doc *doc = NULL;
  const struct json_value *root, *ret;
  if (wait_for(fd, monotonic_ms() + timeout_ms, "QMP", &doc, &root, err) < 0)
    return nook_error_wrap(err, "qmp greeting");
  json_doc_free(doc);
  if (qmp_execute(fd, "qmp_capabilities", timeout_ms, &doc, &ret, err) < 0)
    return -1;
  json_doc_free(doc);
  return 0;
}
