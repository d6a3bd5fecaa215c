#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "utils.h"

/* The one process-wide sink; see log.h for why it is global. */
static int log_fd = -1;
static enum nook_log_format log_format = NOOK_LOG_FORMAT_TEXT;
static bool log_debug;

static const char *const level_names[] = {
    [NOOK_LOG_ERROR] = "error",
    [NOOK_LOG_WARNING] = "warning",
    [NOOK_LOG_INFO] = "info",
    [NOOK_LOG_DEBUG] = "debug",
};

int nook_log_init(const char *path, enum nook_log_format format, bool debug, nook_error_t *err)
{
  log_format = format;
  log_debug = debug;
  if (path == NULL)
    return 0;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return nook_error(err, errno, "open log file `%s`", path);
  if (log_fd >= 0)
    close(log_fd);
  log_fd = fd;
  return 0;
}

void nook_log_reset(void)
{
  if (log_fd >= 0)
    close(log_fd);
  log_fd = -1;
  log_format = NOOK_LOG_FORMAT_TEXT;
  log_debug = false;
}

int nook_log_fd(void)
{
  return log_fd;
}

bool nook_log_debug_enabled(void)
{
  return log_debug;
}

/* A growable line, so each record reaches the sink in a single write():
 * with O_APPEND that keeps lines from concurrent nook processes whole. */
struct buf {
  char *p;
  size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->p = xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
  buf_add(b, s, strlen(s));
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if
 * invalid: JSON text must be UTF-8, and paths in messages need not be. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
  size_t len;
  unsigned min;
  unsigned cp;
  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xe0) == 0xc0)
    len = 2, min = 0x80, cp = s[0] & 0x1f;
  else if ((s[0] & 0xf0) == 0xe0)
    len = 3, min = 0x800, cp = s[0] & 0x0f;
  else if ((s[0] & 0xf8) == 0xf0)
    len = 4, min = 0x10000, cp = s[0] & 0x07;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

/* The escapes JSON and Go's %q share. */
static const char *common_escape(unsigned char c)
{
  switch (c) {
  case '"':
    return "\\\"";
  case '\\':
    return "\\\\";
  case '\n':
    return "\\n";
  case '\r':
    return "\\r";
  case '\t':
    return "\\t";
  default:
    return NULL;
  }
}

/* A JSON string body: RFC 8259 escapes, invalid UTF-8 replaced by U+FFFD
 * as Go's encoding/json does. */
static void add_json_escaped(struct buf *b, const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  char tmp[8];
  while (n > 0) {
    const char *esc = common_escape(*p);
    size_t len;
    if (esc) {
      buf_puts(b, esc);
    } else if (*p < 0x20) {
      snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
      buf_puts(b, tmp);
    } else if ((len = utf8_len(p, n)) == 0) {
      buf_puts(b, "\\ufffd");
    } else {
      buf_add(b, (const char *)p, len);
      p += len - 1;
      n -= len - 1;
    }
    p++;
    n--;
  }
}

/* A quoted value of logrus' text format: Go %q style escapes. */
static void add_text_quoted(struct buf *b, const char *s)
{
  char tmp[8];
  buf_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    const char *esc = common_escape(*p);
    if (esc) {
      buf_puts(b, esc);
    } else if (*p < 0x20 || *p == 0x7f) {
      snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
      buf_puts(b, tmp);
    } else {
      buf_add(b, (const char *)p, 1);
    }
  }
  buf_puts(b, "\"");
}

void nook_log(enum nook_log_level level, const char *fmt, ...)
{
  if (level == NOOK_LOG_DEBUG && !log_debug)
    return;
  int saved_errno = errno;
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg == NULL) {
    errno = saved_errno;
    return;
  }

  char when[64];
  rfc3339_now(when, sizeof(when));
  struct buf b = {0};
  if (log_format == NOOK_LOG_FORMAT_JSON) {
    buf_puts(&b, "{\"level\":\"");
    buf_puts(&b, level_names[level]);
    buf_puts(&b, "\",\"msg\":\"");
    add_json_escaped(&b, msg);
    buf_puts(&b, "\",\"time\":\"");
    buf_puts(&b, when);
    buf_puts(&b, "\"}\n");
  } else {
    buf_puts(&b, "time=\"");
    buf_puts(&b, when);
    buf_puts(&b, "\" level=");
    buf_puts(&b, level_names[level]);
    buf_puts(&b, " msg=");
    add_text_quoted(&b, msg);
    buf_puts(&b, "\n");
  }
  /* A failing log has nowhere to report to. */
  (void)safe_write(log_fd >= 0 ? log_fd : STDERR_FILENO, b.p, b.len);
  free(b.p);
  errno = saved_errno;
}
