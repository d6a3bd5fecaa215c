/* Internal to libcontainer/seccomp*.c. */
#ifndef NOOK_SECCOMP_INTERNAL_H
#define NOOK_SECCOMP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/sha256.h"
#include "seccomp.h"

/* The version of what nook puts around libseccomp's program (the ENOSYS
 * stub of seccomp.c): part of the cache key, so that programs cached by a
 * nook that patched differently, or not at all, are not reused.  Bump on
 * any change to the stub. */
#define SECCOMP_PATCH_VERSION 1

/* The name of one SECCOMP_FILTER_FLAG_* bit, NULL if unknown. */
const char *seccomp_flag_name(unsigned flag);

/* The cache key: a digest of everything the compiled program depends on
 * (the profile's rules, libseccomp's version and API level, the native
 * architecture, nook's cache format and patch version). */
void seccomp_cache_key(const struct oci_seccomp *s, int api, uint8_t key[SHA256_DIGEST_LEN]);

/* true and out->bpf/len filled on a verified hit; false on a miss or on
 * anything suspicious (logged at debug level).  Never fails otherwise. */
bool seccomp_cache_load(const char *root, const uint8_t key[SHA256_DIGEST_LEN],
                        struct seccomp_prog *out);

/* Best effort: a failure to store is logged at debug level. */
void seccomp_cache_store(const char *root, const uint8_t key[SHA256_DIGEST_LEN],
                         const struct seccomp_prog *p);

#endif
