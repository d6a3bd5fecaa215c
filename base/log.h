/* Runtime log: --log FILE (default stderr), --log-format text|json, --debug.
 * JSON lines are what runc writes and engines parse:
 *   {"level":"error","msg":"...","time":"2026-11-22T02:52:09.123456789Z"}
 * The sink is process-wide by nature (one runtime invocation, one log); it is
 * configured once by main() and inherited, close-on-exec, by children. */
#ifndef NOOK_LOG_H
#define NOOK_LOG_H

#include <stdbool.h>

#include "error.h"

enum nook_log_level { NOOK_LOG_ERROR, NOOK_LOG_WARNING, NOOK_LOG_INFO, NOOK_LOG_DEBUG };
enum nook_log_format { NOOK_LOG_FORMAT_TEXT, NOOK_LOG_FORMAT_JSON };

int nook_log_init(const char *path, enum nook_log_format format, bool debug, nook_error_t *err);
void nook_log(enum nook_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Back to a fresh process's sink (stderr, text, no debug), closing the
 * log file: for a forked child that runs a whole command without an exec. */
void nook_log_reset(void);
/* The fd the log goes to (for children that must keep logging), -1 for stderr. */
int nook_log_fd(void);
bool nook_log_debug_enabled(void);

#define nook_warn(...) nook_log(NOOK_LOG_WARNING, __VA_ARGS__)
#define nook_debug(...)                                                                            \
  do {                                                                                             \
    if (nook_log_debug_enabled())                                                                  \
      nook_log(NOOK_LOG_DEBUG, __VA_ARGS__);                                                       \
  } while (0)

#endif
