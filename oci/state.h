/* runtime.md "State": the JSON `nook state` prints and hooks receive. */
#ifndef NOOK_OCI_STATE_H
#define NOOK_OCI_STATE_H

#include <sys/types.h>

#include "config.h"

struct oci_state {
  const char *oci_version; /* "1.3.0" */
  const char *id;
  const char *status; /* creating|created|running|stopped (nook also: paused) */
  pid_t pid;          /* omitted when 0 */
  const char *bundle;
  const struct oci_kv *annotations;
  size_t n_annotations;
  /* runc extends state output with these; engines read them. */
  const char *rootfs;
  const char *created; /* RFC 3339 */
  const char *owner;
};

/* pretty: indented as runc's `state`; otherwise one line (hooks). */
char *oci_state_to_json(const struct oci_state *s, bool pretty);

#endif
