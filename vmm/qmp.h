/* A minimal client of QMP, QEMU's machine protocol: JSON objects, one a
 * line, over the unix socket QEMU connects to (`-chardev socket` with
 * `-mon mode=control`).  Only what VM mode needs: the capabilities
 * handshake and commands without arguments (stop, cont, query-status).
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

#endif
