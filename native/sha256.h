/* SHA-256 (FIPS 180-4), enough for fingerprints: one call over a buffer. */
#ifndef FS_SHA256_H
#define FS_SHA256_H
#include <stddef.h>
#include <stdint.h>
void fs_sha256(const void *data, size_t len, uint8_t out[32]);
#endif
#ifndef FS_HMAC_DECL
#define FS_HMAC_DECL
/* HMAC-SHA256 (RFC 2104) with key and message of at most 256 bytes each. */
void fs_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen, uint8_t out[32]);
/* TLS 1.3 HKDF-Expand-Label (RFC 8446 7.1) with an empty context, out_len <= 32. */
void fs_hkdf_expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t out_len);
#endif
