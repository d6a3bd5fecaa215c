/* Internal to libcontainer/seccomp*.c. */
#ifndef NOOK_SECCOMP_INTERNAL_H
#define NOOK_SECCOMP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sha256.h"
#include "seccomp.h"

/* The version of how nook turns a profile into a program: the rules it
 * hands libseccomp (add_rules), the filter attributes (build) and the
 * ENOSYS stub around libseccomp's program.  Part of the cache key, and the
 * cache is host-wide and shared by every nook build (the key has no nook
 * version or commit): bump on any change to these, or builds that compile
 * differently would load each other's programs. */
#define SECCOMP_PATCH_VERSION 1

/* The name of one SECCOMP_FILTER_FLAG_* bit, NULL if unknown. */
const char *seccomp_flag_name(unsigned flag);

/* The cache key: a digest of everything the compiled program depends on
 * (the profile's rules, libseccomp's version and API level, the native
 * architecture, nook's cache format and patch version).  Not nook's version
 * or commit: builds that make the same program share entries. */
void seccomp_cache_key(const struct oci_seccomp *s, int api, uint8_t key[SHA256_DIGEST_LEN]);

/* The integrity check of a cached program's len instructions. */
uint64_t seccomp_cache_checksum(const void *bpf, size_t len);

/* true and out->bpf/len filled on a verified hit in the cache directory
 * `dir`; false on a miss, or on anything suspicious (with a warning).
 * Never fails otherwise. */
bool seccomp_cache_load(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
                        struct seccomp_prog *out);

/* Write the entry (replacing one of the same key), the directory made if
 * missing.  pinned: a precompiled entry, which eviction keeps. */
int seccomp_cache_store(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
                        const struct seccomp_prog *p, bool pinned, nook_error_t *err);
/* seccomp_cache_store, best effort: the program is good whether or not it
 * could be kept, so a failure is only a debug line. */
void seccomp_cache_keep(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
                        const struct seccomp_prog *p);

#endif
