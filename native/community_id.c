#include <stdbool.h>
#include <string.h>
#include "community_id.h"
#include "crypto.h"

enum { P_ICMP = 1, P_TCP = 6, P_UDP = 17, P_ICMPV6 = 58, P_SCTP = 132 };

/* ICMP request/reply pairs map to a pair of "ports" (Zeek's rule) so both directions hash alike;
 * any other type is one-way: the type and code, never swapped. Returns the counterpart or -1. */
static int icmp_counterpart(uint8_t proto, uint8_t type) {
  static const uint8_t v4[][2] = { {8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18} };
  static const uint8_t v6[][2] = { {128, 129}, {130, 131}, {133, 134}, {135, 136}, {139, 140}, {144, 145} };
  const uint8_t (*pairs)[2] = proto == P_ICMP ? v4 : v6;
  size_t n = proto == P_ICMP ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);
  for (size_t i = 0; i < n; i++) {
    if (pairs[i][0] == type) return pairs[i][1];
    if (pairs[i][1] == type) return pairs[i][0];
  }
  return -1;
}

static void base64(const uint8_t *in, size_t n, char *out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = t[(v >> 18) & 63];
    out[o++] = t[(v >> 12) & 63];
    out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? t[v & 63] : '=';
  }
  out[o] = '\0';
}

void fs_community_id_of(const uint8_t *src, const uint8_t *dst, int ip_len, uint8_t proto, uint16_t sport,
                        uint16_t dport, uint16_t seed, char out[FS_COMMUNITY_ID_LEN]) {
  bool ports = proto == P_TCP || proto == P_UDP || proto == P_SCTP || proto == P_ICMP || proto == P_ICMPV6;
  bool one_way = false;
  if (proto == P_ICMP || proto == P_ICMPV6) {
    int other = icmp_counterpart(proto, (uint8_t)sport);
    if (other >= 0) dport = (uint16_t)other;
    else one_way = true;   /* sport stays the type, dport the code */
  }
  int cmp = memcmp(src, dst, (size_t)ip_len);
  if (!one_way && (cmp > 0 || (cmp == 0 && ports && sport > dport))) {
    const uint8_t *t = src; src = dst; dst = t;
    uint16_t p = sport; sport = dport; dport = p;
  }
  uint8_t buf[2 + 16 + 16 + 2 + 4];
  size_t n = 0;
  buf[n++] = (uint8_t)(seed >> 8); buf[n++] = (uint8_t)seed;
  memcpy(buf + n, src, (size_t)ip_len); n += (size_t)ip_len;
  memcpy(buf + n, dst, (size_t)ip_len); n += (size_t)ip_len;
  buf[n++] = proto; buf[n++] = 0;
  if (ports) {
    buf[n++] = (uint8_t)(sport >> 8); buf[n++] = (uint8_t)sport;
    buf[n++] = (uint8_t)(dport >> 8); buf[n++] = (uint8_t)dport;
  }
  uint8_t digest[20];
  if (fs_sha1(buf, n, digest) != 0) { out[0] = '\0'; return; } /* no SHA-1 from the library: empty */
  out[0] = '1'; out[1] = ':';
  base64(digest, 20, out + 2);
}

void fs_community_id(const struct fs_flow *f, uint16_t seed, char out[FS_COMMUNITY_ID_LEN]) {
  bool icmp = f->protocol == P_ICMP || f->protocol == P_ICMPV6;
  fs_community_id_of(f->src_ip, f->dst_ip, f->ip_version == 6 ? 16 : 4, f->protocol,
                     icmp ? f->icmp_type : f->src_port, icmp ? f->icmp_code : f->dst_port, seed, out);
}
