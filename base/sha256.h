/* SHA-256 (FIPS 180-4), for content keys such as the seccomp cache's.  No
 * library nook links provides one; this is small and fast enough for a few
 * kilobytes per run. */
#ifndef NOOK_SHA256_H
#define NOOK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct sha256 {
  uint32_t h[8];
  uint64_t total; /* bytes hashed so far */
  uint8_t buf[64];
  size_t used; /* bytes waiting in buf */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, uint8_t out[SHA256_DIGEST_LEN]);

/* out: 2 * SHA256_DIGEST_LEN hex digits and a NUL. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_LEN], char out[2 * SHA256_DIGEST_LEN + 1]);

#endif
