#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void oom(void)
{
  static const char m[] = "nook: out of memory\n";
  if (write(2, m, sizeof(m) - 1) < 0) {
    /* nothing else can be done */
  }
  abort();
}

void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xcalloc(size_t n, size_t m)
{
  void *p = calloc(n ? n : 1, m ? m : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

char *xstrdup(const char *s)
{
  char *r = strdup(s ? s : "");
  if (r == NULL)
    oom();
  return r;
}

char *xstrndup(const char *s, size_t n)
{
  char *r = strndup(s, n);
  if (r == NULL)
    oom();
  return r;
}

int xasprintf(char **out, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(out, fmt, ap);
  va_end(ap);
  if (r < 0)
    oom();
  return r;
}

int nook_verror(nook_error_t *err, int errno_, const char *fmt, va_list ap)
{
  if (err != NULL) {
    if (*err != NULL)
      nook_error_free(err);
    struct nook_error_s *e = xmalloc(sizeof(*e));
    e->status = errno_;
    if (vasprintf(&e->msg, fmt, ap) < 0)
      oom();
    *err = e;
  }
  return errno_ > 0 ? -errno_ : -1;
}

int nook_error(nook_error_t *err, int errno_, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = nook_verror(err, errno_, fmt, ap);
  va_end(ap);
  return r;
}

int nook_error_wrap(nook_error_t *err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  char *ctx;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&ctx, fmt, ap) < 0)
    oom();
  va_end(ap);
  char *msg;
  xasprintf(&msg, "%s: %s", ctx, (*err)->msg);
  free(ctx);
  free((*err)->msg);
  (*err)->msg = msg;
  return (*err)->status > 0 ? -(*err)->status : -1;
}

char *nook_error_text(const nook_error_t err)
{
  char *s;
  if (err == NULL)
    return xstrdup("unknown error");
  if (err->status > 0) {
    /* In Go's (runc's) spelling, "no such file or directory": engines match
     * these words case-sensitively to pick exit statuses (the docker CLI
     * gives 127 for it, 126 for "permission denied", else 125). */
    const char *e = strerror(err->status);
    xasprintf(&s, "%s: %c%s", err->msg,
              e[0] >= 'A' && e[0] <= 'Z' && e[1] >= 'a' && e[1] <= 'z' ? e[0] - 'A' + 'a' : e[0],
              e + 1);
  } else
    s = xstrdup(err->msg);
  return s;
}

void nook_error_free(nook_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}
