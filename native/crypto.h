/* Hashes, HMAC and AES from OpenSSL's libcrypto (inside Node, the copy Node carries). Each
 * algorithm is fetched once per process: an implicit fetch on every call cost more than the hash.
 * Calls return 0, or -1 when the library refuses (no provider offers the algorithm). */
#ifndef FS_CRYPTO_H
#define FS_CRYPTO_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

struct fs_crypto {
  EVP_MD *sha1, *sha256;
  EVP_MAC *hmac;
  EVP_CIPHER *aes128_ecb, *aes128_gcm;
};

/* The fetched algorithms, shared by every thread (read-only); NULL if any is missing. */
const struct fs_crypto *fs_crypto(void);

int fs_sha1(const void *data, size_t len, uint8_t out[20]);
int fs_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
