/* `nook features`: runtime-spec features.md JSON, truthful about nook. */
#ifndef NOOK_OCI_FEATURES_H
#define NOOK_OCI_FEATURES_H

#include <stddef.h>

#include "config.h"

/* The document, with `extra` added to its annotations after nook's own
 * (keys in order, after "io.github.nook.version"): what layers above oci/
 * know, such as VM mode. */
char *oci_features_json(const struct oci_kv *extra, size_t n_extra);
/* "VERSION+COMMIT" of this build: VM mode's host and guest halves (nook and
 * nook-guest, two links of the same objects) speak a native-layout protocol
 * and must come from one build. */
const char *nook_build_id(void);

#endif
