#include <string.h>
#include "aes128.h"
#include "quic_initial.h"
#include "sha256.h"

#define QUIC_V1 0x00000001u
#define MAX_PACKET 4096
#define MAX_CRYPTO 4096
#define MAX_RANGES 32

static const uint8_t initial_salt_v1[20] = {
  0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};

/* QUIC variable-length integer; *ok cleared when it runs past end. */
static uint64_t varint(const uint8_t *p, uint32_t end, uint32_t *off, int *ok) {
  if (*off >= end) { *ok = 0; return 0; }
  uint32_t n = 1u << (p[*off] >> 6);
  if (n > end - *off) { *ok = 0; return 0; }
  uint64_t v = p[*off] & 0x3f;
  for (uint32_t i = 1; i < n; i++) v = (v << 8) | p[*off + i];
  *off += n;
  return v;
}

int fs_quic_initial_ja4(const uint8_t *p, uint32_t len, char out[FS_JA4_LEN + 1]) {
  if (len < 7 || len > MAX_PACKET || (p[0] & 0xc0) != 0xc0 || ((p[0] >> 4) & 3) != 0) return 0;
  uint32_t version = ((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | p[4];
  if (version != QUIC_V1) return 0;
  uint32_t off = 5;
  uint8_t dcid_len = p[off++];
  if (dcid_len > 20 || off + dcid_len + 1 > len) return 0;
  const uint8_t *dcid = p + off;
  off += dcid_len;
  uint8_t scid_len = p[off++];
  if (scid_len > 20 || off + scid_len > len) return 0;
  off += scid_len;
  int ok = 1;
  uint64_t token_len = varint(p, len, &off, &ok);
  if (!ok || token_len > len - off) return 0;
  off += (uint32_t)token_len;
  uint64_t length = varint(p, len, &off, &ok);
  if (!ok || length > len - off || length < 4 + 16 + 1) return 0;
  uint32_t pn_off = off, end = off + (uint32_t)length;

  uint8_t prk[32], secret[32], key[16], iv[12], hp[16];
  fs_hmac_sha256(initial_salt_v1, sizeof(initial_salt_v1), dcid, dcid_len, prk);
  fs_hkdf_expand_label(prk, "client in", secret, 32);
  fs_hkdf_expand_label(secret, "quic key", key, 16);
  fs_hkdf_expand_label(secret, "quic iv", iv, 12);
  fs_hkdf_expand_label(secret, "quic hp", hp, 16);

  /* header protection: the sample starts 4 bytes after the packet number's start */
  struct fs_aes128 aes;
  uint8_t mask[16];
  fs_aes128_init(&aes, hp);
  fs_aes128_encrypt(&aes, p + pn_off + 4, mask);
  uint8_t first = (uint8_t)(p[0] ^ (mask[0] & 0x0f));
  uint32_t pn_len = (first & 3u) + 1;
  uint64_t pn = 0;
  for (uint32_t i = 0; i < pn_len; i++) pn = (pn << 8) | (uint8_t)(p[pn_off + i] ^ mask[1 + i]);
  uint32_t body = pn_off + pn_len;
  if (end - body < 16) return 0;
  uint32_t plain_len = end - body - 16; /* minus the AEAD tag */

  /* AES-128-GCM payload: the keystream is AES-CTR from nonce || 2 */
  uint8_t nonce[12], ctr[16], ks[16], plain[MAX_PACKET];
  memcpy(nonce, iv, 12);
  for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
  fs_aes128_init(&aes, key);
  for (uint32_t i = 0; i < plain_len; i += 16) {
    uint32_t counter = 2 + i / 16;
    memcpy(ctr, nonce, 12);
    ctr[12] = (uint8_t)(counter >> 24); ctr[13] = (uint8_t)(counter >> 16); ctr[14] = (uint8_t)(counter >> 8); ctr[15] = (uint8_t)counter;
    fs_aes128_encrypt(&aes, ctr, ks);
    for (uint32_t j = 0; j < 16 && i + j < plain_len; j++) plain[i + j] = (uint8_t)(p[body + i + j] ^ ks[j]);
  }

  /* frames: gather CRYPTO data by offset */
  uint8_t crypto[MAX_CRYPTO];
  uint32_t rs[MAX_RANGES], re[MAX_RANGES], nr = 0;
  for (uint32_t f = 0; f < plain_len && ok;) {
    uint64_t type = varint(plain, plain_len, &f, &ok);
    if (!ok) break;
    if (type == 0x00 || type == 0x01) continue;                          /* PADDING, PING */
    if (type == 0x02 || type == 0x03) {                                  /* ACK */
      varint(plain, plain_len, &f, &ok); varint(plain, plain_len, &f, &ok);
      uint64_t ranges = varint(plain, plain_len, &f, &ok);
      varint(plain, plain_len, &f, &ok);
      for (uint64_t i = 0; ok && i < ranges && i < 256; i++) { varint(plain, plain_len, &f, &ok); varint(plain, plain_len, &f, &ok); }
      if (type == 0x03) for (int i = 0; i < 3; i++) varint(plain, plain_len, &f, &ok);
      continue;
    }
    if (type != 0x06) break;                                             /* CRYPTO only from here */
    uint64_t coff = varint(plain, plain_len, &f, &ok), clen = varint(plain, plain_len, &f, &ok);
    if (!ok || clen > plain_len - f) break;
    if (coff < MAX_CRYPTO && nr < MAX_RANGES) {
      uint32_t n = (uint32_t)(coff + clen > MAX_CRYPTO ? MAX_CRYPTO - coff : clen);
      memcpy(crypto + coff, plain + f, n);
      rs[nr] = (uint32_t)coff; re[nr] = (uint32_t)coff + n; nr++;
    }
    f += (uint32_t)clen;
  }
  /* the contiguous prefix from offset 0 */
  uint32_t have = 0;
  for (int grew = 1; grew;) {
    grew = 0;
    for (uint32_t i = 0; i < nr; i++) if (rs[i] <= have && re[i] > have) { have = re[i]; grew = 1; }
  }
  if (have < 4 || crypto[0] != 0x01) return 0;
  uint32_t hs_len = 4 + (((uint32_t)crypto[1] << 16) | ((uint32_t)crypto[2] << 8) | crypto[3]);
  if (hs_len > have) return 0;
  return fs_ja4_from_handshake(crypto, hs_len, 'q', out);
}
