#include <pthread.h>
#include "crypto.h"

static struct fs_crypto algs;
static const struct fs_crypto *ready;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Kept for the life of the process (the process's default library context owns them). */
static void fetch(void) {
  algs.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
  algs.sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
  algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  algs.aes128_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
  algs.aes128_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  if (algs.sha1 && algs.sha256 && algs.hmac && algs.aes128_ecb && algs.aes128_gcm) ready = &algs;
}

const struct fs_crypto *fs_crypto(void) {
  pthread_once(&once, fetch);
  return ready;
}

static int digest(const EVP_MD *md, const void *data, size_t len, uint8_t *out) {
  return md && EVP_Digest(data, len, out, NULL, md, NULL) == 1 ? 0 : -1;
}

int fs_sha1(const void *data, size_t len, uint8_t out[20]) {
  const struct fs_crypto *c = fs_crypto();
  return digest(c ? c->sha1 : NULL, data, len, out);
}

int fs_sha256(const void *data, size_t len, uint8_t out[32]) {
  const struct fs_crypto *c = fs_crypto();
  return digest(c ? c->sha256 : NULL, data, len, out);
}
