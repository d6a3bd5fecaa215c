/* A minimal client of QMP, QEMU's machine protocol: JSON objects, one a
 * line, over the unix socket QEMU connects to (`-chardev socket` with
 * `-mon mode=control`).  Only what VM mode needs: the capabilities
 * handshake and commands (stop, cont, query-status; getfd with its fd and
 * migrate for templates).
 * Events (STOP, RESUME, ...) that arrive before an answer are skipped:
 * nook asks, it does not subscribe. */
#ifndef NOOK_VMM_QMP_H
#define NOOK_VMM_QMP_H

#include "../base/error.h"
#include "../oci/json.h"

/* QEMU's greeting, then qmp_capabilities: the connection takes commands. */
int qmp_handshake(int fd, int timeout_ms, nook_error_t *err);

/* Execute `command`; *doc (freed with json_doc_free) holds the answer and
 * *ret points to its "return" value.  QEMU's "error" answer is *err with
 * its class and description. */
int qmp_execute(int fd, const char *command, int timeout_ms, struct json_doc **doc,
                const struct json_value **ret, nook_error_t *err);

/* The same with `args` (a JSON object's text, or NULL) as the command's
 * arguments and `fd` (>= 0) passed along with it (SCM_RIGHTS), as getfd
 * takes it. */
int qmp_execute_args(int fd, const char *command, const char *args, int pass_fd, int timeout_ms,
                     struct json_doc **doc, const struct json_value **ret, nook_error_t *err);

#endif
