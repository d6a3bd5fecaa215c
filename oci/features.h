/* `nook features`: runtime-spec features.md JSON, truthful about nook. */
#ifndef NOOK_OCI_FEATURES_H
#define NOOK_OCI_FEATURES_H

char *oci_features_json(void);

#endif
