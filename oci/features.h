/* `nook features`: runtime-spec features.md JSON, truthful about nook. */
#ifndef NOOK_OCI_FEATURES_H
#define NOOK_OCI_FEATURES_H

#include <stddef.h>

#include "config.h"

/* The document, with `extra` added to its annotations after nook's own
 * (keys in order, after "io.github.nook.version"): what layers above oci/
 * know, such as VM mode. */
char *oci_features_json(const struct oci_kv *extra, size_t n_extra);

#endif
