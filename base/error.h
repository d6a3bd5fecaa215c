/* nook's one error contract.
 *
 * A failing function returns a negative value and fills *err; callers may add
 * context with nook_error_wrap() and pass it up; only main() prints and exits.
 * The errno is kept apart from the message so the error can cross the sync
 * socket from the container child to the parent unchanged. */
#ifndef NOOK_ERROR_H
#define NOOK_ERROR_H

#include <stdarg.h>
#include <stddef.h>

struct nook_error_s {
  int status; /* errno, 0 when the error is not a system error */
  char *msg;  /* without the strerror() suffix */
};
typedef struct nook_error_s *nook_error_t;

/* Always returns -1 (or -errno_ when errno_ > 0), so it can end a statement:
 *   return nook_error(err, errno, "open `%s`", path); */
int nook_error(nook_error_t *err, int errno_, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int nook_verror(nook_error_t *err, int errno_, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prefix context to an existing error: "context: old message".  Returns the
 * same negative value nook_error() would. */
int nook_error_wrap(nook_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The full text: "msg: strerror(status)" or "msg".  Caller frees. */
char *nook_error_text(const nook_error_t err);

void nook_error_free(nook_error_t *err);

/* Out of memory is not recoverable in a short-lived runtime: these abort with
 * a message instead of threading ENOMEM through every caller. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
