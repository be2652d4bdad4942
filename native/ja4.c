#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ja4.h"
#include "crypto.h"

#define MAX_ITEMS 256
#define EXT_SNI 0x0000
#define EXT_ALPN 0x0010
#define EXT_SIGALGS 0x000d
#define EXT_VERSIONS 0x002b

struct reader { const uint8_t *p; uint32_t len, off; int bad; };

static uint32_t rd(struct reader *r, uint32_t n) {
  if (r->bad || r->off > r->len || n > r->len - r->off) { r->bad = 1; return 0; }
  uint32_t v = 0;
  for (uint32_t i = 0; i < n; i++) v = (v << 8) | r->p[r->off + i];
  r->off += n;
  return v;
}

static int is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }
static int cmp16(const void *a, const void *b) { return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b; }
static int alnum(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static const char HEX[] = "0123456789abcdef";

/* "1301,1302,..." (by hand: sprintf for each value was a visible share of a whole read) */
static size_t hex_list(const uint16_t *v, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (i) out[o++] = ',';
    for (int shift = 12; shift >= 0; shift -= 4) out[o++] = HEX[(v[i] >> shift) & 0xf];
  }
  out[o] = '\0';
  return o;
}

/* -1 when the library gives no SHA-256: then no JA4 rather than a wrong one */
static int hash12(const char *text, size_t len, char out[13]) {
  if (len == 0) { memcpy(out, "000000000000", 13); return 0; }
  uint8_t d[32];
  if (fs_sha256(text, len, d) != 0) return -1;
  for (int i = 0; i < 6; i++) {
    out[2 * i] = HEX[d[i] >> 4];
    out[2 * i + 1] = HEX[d[i] & 0xf];
  }
  out[12] = '\0';
  return 0;
}

static const char *version_code(uint16_t v) {
  switch (v) {
  case 0x0304: return "13"; case 0x0303: return "12"; case 0x0302: return "11"; case 0x0301: return "10";
  case 0x0300: return "s3"; case 0x0002: return "s2"; case 0xfeff: return "d1"; case 0xfefd: return "d2";
  case 0xfefc: return "d3"; default: return "00";
  }
}

int fs_ja4_from_tls(const uint8_t *payload, uint32_t len, char out[FS_JA4_LEN + 1]) {
  struct reader r = { payload, len, 0, 0 };
  if (rd(&r, 1) != 0x16) return 0;                        /* handshake record */
  rd(&r, 2);
  uint32_t rec_len = rd(&r, 2);
  if (r.bad || rec_len > len - r.off) return 0;            /* the record must be whole */
  return fs_ja4_from_handshake(payload + r.off, rec_len, 't', out);
}

int fs_ja4_from_handshake(const uint8_t *payload, uint32_t len, char proto, char out[FS_JA4_LEN + 1]) {
  struct reader r = { payload, len, 0, 0 };
  if (rd(&r, 1) != 0x01) return 0;                        /* ClientHello */
  uint32_t hs_len = rd(&r, 3);
  if (r.bad || hs_len > r.len - r.off) return 0;
  r.len = r.off + hs_len;
  uint16_t version = (uint16_t)rd(&r, 2);
  rd(&r, 32);
  r.off += rd(&r, 1);                                       /* session id */
  if (r.off > r.len) return 0;
  uint16_t ciphers[MAX_ITEMS], exts[MAX_ITEMS], sigalgs[MAX_ITEMS];
  size_t nc = 0, ne = 0, ns = 0, ext_count = 0;
  uint32_t cs_len = rd(&r, 2), cs_end = r.off + cs_len;
  if (r.bad || cs_end > r.len) return 0;
  while (r.off + 2 <= cs_end) {
    uint16_t c = (uint16_t)rd(&r, 2);
    if (!is_grease(c) && nc < MAX_ITEMS) ciphers[nc++] = c;
  }
  r.off = cs_end;
  r.off += rd(&r, 1);                                       /* compression methods */
  if (r.bad || r.off > r.len) return 0;
  int sni = 0;
  uint8_t alpn_first = 0, alpn_last = 0;
  int have_alpn = 0;
  uint16_t best_version = 0;
  if (r.off + 2 <= r.len) {
    uint32_t ext_len = rd(&r, 2), ext_end = r.off + ext_len;
    if (ext_end > r.len) return 0;
    while (r.off + 4 <= ext_end) {
      uint16_t type = (uint16_t)rd(&r, 2);
      uint32_t elen = rd(&r, 2), start = r.off;
      if (start + elen > ext_end) return 0;
      struct reader e = { payload, start + elen, start, 0 };
      if (!is_grease(type)) {
        ext_count++;
        if (type == EXT_SNI) sni = 1;
        if (type != EXT_SNI && type != EXT_ALPN && ne < MAX_ITEMS) exts[ne++] = type;
      }
      if (type == EXT_ALPN && !have_alpn) {
        rd(&e, 2);
        uint32_t plen = rd(&e, 1);
        if (!e.bad && plen > 0 && plen <= e.len - e.off) {
          have_alpn = 1;
          alpn_first = payload[e.off];
          alpn_last = payload[e.off + plen - 1];
        }
      } else if (type == EXT_SIGALGS) {
        uint32_t l = rd(&e, 2), end = e.off + l;
        while (!e.bad && e.off + 2 <= end && ns < MAX_ITEMS) {
          uint16_t s = (uint16_t)rd(&e, 2);
          if (!is_grease(s)) sigalgs[ns++] = s;
        }
      } else if (type == EXT_VERSIONS) {
        uint32_t l = rd(&e, 1), end = e.off + l;
        while (!e.bad && e.off + 2 <= end) {
          uint16_t v = (uint16_t)rd(&e, 2);
          if (!is_grease(v) && v > best_version) best_version = v;
        }
      }
      r.off = start + elen;
    }
  }
  char alpn[3] = "00";
  if (have_alpn) {
    if (alnum(alpn_first) && alnum(alpn_last)) { alpn[0] = (char)alpn_first; alpn[1] = (char)alpn_last; }
    else { /* not alphanumeric: first hex digit of the first byte, last hex digit of the last */
      alpn[0] = HEX[alpn_first >> 4]; alpn[1] = HEX[alpn_last & 0xf];
    }
  }
  qsort(ciphers, nc, sizeof(uint16_t), cmp16);
  qsort(exts, ne, sizeof(uint16_t), cmp16);
  char text[MAX_ITEMS * 5 * 2 + 8], b[13], c[13];
  if (hash12(text, hex_list(ciphers, nc, text), b) != 0) return 0;
  size_t tl = hex_list(exts, ne, text);
  if (ne && ns) { text[tl++] = '_'; tl += hex_list(sigalgs, ns, text + tl); }
  if (hash12(text, ne ? tl : 0, c) != 0) return 0;
  snprintf(out, FS_JA4_LEN + 1, "%c%s%c%02zu%02zu%c%c_%s_%s", proto, version_code(best_version ? best_version : version),
           sni ? 'd' : 'i', nc > 99 ? 99 : nc, ext_count > 99 ? 99 : ext_count, alpn[0], alpn[1], b, c);
  return 1;
}
