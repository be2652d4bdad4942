#include <string.h>
#include <openssl/core_names.h>
#include "crypto.h"
#include "quic_initial.h"

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

/* HMAC-SHA256 of msg under key, in a reused context. */
static int hmac(EVP_MAC_CTX *m, const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen, uint8_t out[32]) {
  size_t n = 0;
  return EVP_MAC_init(m, key, klen, NULL) == 1 && EVP_MAC_update(m, msg, mlen) == 1 && EVP_MAC_final(m, out, &n, 32) == 1 &&
         n == 32 ? 0 : -1;
}

/* TLS 1.3 HKDF-Expand-Label (RFC 8446 7.1) with an empty context: every length QUIC Initial
 * keys need is at most 32, one HMAC block (T(1) of RFC 5869). */
static int expand_label(EVP_MAC_CTX *m, const uint8_t secret[32], const char *label, uint8_t *out, size_t out_len) {
  uint8_t info[2 + 1 + 6 + 16 + 1 + 1], t[32];
  size_t ll = strlen(label), n = 0;
  info[n++] = 0;
  info[n++] = (uint8_t)out_len;
  info[n++] = (uint8_t)(6 + ll);
  memcpy(info + n, "tls13 ", 6); n += 6;
  memcpy(info + n, label, ll); n += ll;
  info[n++] = 0;     /* empty context */
  info[n++] = 1;     /* T(1) */
  if (hmac(m, secret, 32, info, n, t) != 0) return -1;
  memcpy(out, t, out_len);
  return 0;
}

/* The client's Initial key, iv and header protection key from the destination connection id
 * (RFC 9001 5.2): HKDF-Extract with the version 1 salt, then the labels. */
static int initial_keys(const struct fs_crypto *c, const uint8_t *dcid, size_t dcid_len, uint8_t key[16], uint8_t iv[12],
                        uint8_t hp[16]) {
  EVP_MAC_CTX *m = EVP_MAC_CTX_new(c->hmac);
  if (!m) return -1;
  OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA2-256", 0), OSSL_PARAM_construct_end() };
  uint8_t prk[32], secret[32];
  int rc = EVP_MAC_CTX_set_params(m, params) == 1 && hmac(m, initial_salt_v1, sizeof(initial_salt_v1), dcid, dcid_len, prk) == 0 &&
           expand_label(m, prk, "client in", secret, 32) == 0 && expand_label(m, secret, "quic key", key, 16) == 0 &&
           expand_label(m, secret, "quic iv", iv, 12) == 0 && expand_label(m, secret, "quic hp", hp, 16) == 0 ? 0 : -1;
  EVP_MAC_CTX_free(m);
  return rc;
}

/* Removes header protection (AES-128-ECB of the sample 4 bytes past the packet number's start)
 * and opens the AES-128-GCM payload of p[pn_off..end), the header with its protection removed as
 * associated data. Returns the plaintext length, or -1 when the tag does not verify (not a client
 * Initial of this connection id, or damaged): then nothing of it is read. */
static int open_packet(const uint8_t *p, uint32_t pn_off, uint32_t end, const uint8_t *dcid, uint8_t dcid_len,
                       uint8_t plain[MAX_PACKET]) {
  const struct fs_crypto *c = fs_crypto();
  uint8_t key[16], iv[12], hp[16], mask[16];
  if (!c || initial_keys(c, dcid, dcid_len, key, iv, hp) != 0) return -1;
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  if (!x) return -1;
  int n = -1, got = 0, fin = 0;
  if (EVP_EncryptInit_ex2(x, c->aes128_ecb, hp, NULL, NULL) != 1 || EVP_CIPHER_CTX_set_padding(x, 0) != 1 ||
      EVP_EncryptUpdate(x, mask, &got, p + pn_off + 4, 16) != 1 || got != 16) goto out;
  uint8_t head[5];   /* the first byte and the packet number, unprotected */
  head[0] = (uint8_t)(p[0] ^ (mask[0] & 0x0f));
  uint32_t pn_len = (head[0] & 3u) + 1, body = pn_off + pn_len;
  if (end - body < 16) goto out;   /* room for the tag */
  uint8_t nonce[12], tag[16];
  memcpy(nonce, iv, 12);
  for (uint32_t i = 0; i < pn_len; i++) {
    head[1 + i] = (uint8_t)(p[pn_off + i] ^ mask[1 + i]);
    nonce[12 - pn_len + i] ^= head[1 + i];   /* the packet number, right-aligned, into the iv */
  }
  uint32_t sealed = end - body - 16;
  memcpy(tag, p + end - 16, 16);
  if (EVP_DecryptInit_ex2(x, c->aes128_gcm, key, nonce, NULL) != 1 ||
      EVP_DecryptUpdate(x, NULL, &got, head, 1) != 1 ||
      EVP_DecryptUpdate(x, NULL, &got, p + 1, (int)(pn_off - 1)) != 1 ||
      EVP_DecryptUpdate(x, NULL, &got, head + 1, (int)pn_len) != 1 ||
      EVP_DecryptUpdate(x, plain, &got, p + body, (int)sealed) != 1 ||
      EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1 ||
      EVP_DecryptFinal_ex(x, plain + got, &fin) != 1) goto out;
  n = got + fin;
out:
  EVP_CIPHER_CTX_free(x);
  return n;
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

  uint8_t plain[MAX_PACKET];
  int opened = open_packet(p, pn_off, end, dcid, dcid_len, plain);
  if (opened < 0) return 0;
  uint32_t plain_len = (uint32_t)opened;

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
