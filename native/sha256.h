/* SHA-256 (FIPS 180-4), enough for fingerprints: one call over a buffer. */
#ifndef FS_SHA256_H
#define FS_SHA256_H
#include <stddef.h>
#include <stdint.h>
void fs_sha256(const void *data, size_t len, uint8_t out[32]);
#endif
