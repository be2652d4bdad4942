/* The Merkle-Damgard frame SHA-1 and SHA-256 share: 64-byte blocks, a 0x80 byte, the message
 * length in bits big-endian in the last 8 bytes, the state words out big-endian. */
#ifndef FS_MD_HASH_H
#define FS_MD_HASH_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void fs_md_hash(const void *data, size_t len, uint32_t *h, int words,
                              void (*block)(uint32_t *, const uint8_t *), uint8_t *out) {
  const uint8_t *p = data;
  size_t left = len;
  for (; left >= 64; left -= 64, p += 64) block(h, p);
  uint8_t last[128] = {0};
  memcpy(last, p, left);
  last[left] = 0x80;
  size_t n = left < 56 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) last[n - 1 - i] = (uint8_t)(bits >> (8 * i));
  block(h, last);
  if (n == 128) block(h, last + 64);
  for (int i = 0; i < words; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24); out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8); out[4 * i + 3] = (uint8_t)h[i];
  }
}

#endif
