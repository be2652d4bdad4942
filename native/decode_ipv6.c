/* IPv6 with its extension headers (hop-by-hop 0, routing 43, fragment 44, destination 60,
 * mobility 135). A packet whose payload was not fully captured is ignored, as NFStream does. */
#include <string.h>
#include "decode.h"

#define IP6_HLEN 40
#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_NONE 59
#define NH_DSTOPTS 60
#define NH_MOBILITY 135
#define NH_IPIP 4
#define NH_IPV6 41
#define IP6_MAX_EXT 16

int fs_decode_ipv6(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, IP6_HLEN)) return FS_IGN_IPV6_HEADER;
  const uint8_t *h = c->data + off;
  uint32_t plen = fs_rd16(h + 4);
  if (!fs_has(c, off + IP6_HLEN, plen)) return FS_IGN_IPV6_HEADER;
  uint8_t nh = h[6];
  uint32_t l4 = off + IP6_HLEN, l4_len = plen;
  for (int n = 0;; n++) {
    if (nh == NH_NONE) return FS_IGN_IPV6_EXT;
    if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_FRAGMENT && nh != NH_DSTOPTS && nh != NH_MOBILITY)
      break;
    if (n >= IP6_MAX_EXT || l4_len < 8) return FS_IGN_IPV6_EXT;
    const uint8_t *e = c->data + l4;
    uint32_t elen = nh == NH_FRAGMENT ? 8 : ((uint32_t)e[1] + 1) * 8;
    if (elen > l4_len) return FS_IGN_IPV6_EXT;
    if (nh == NH_FRAGMENT && (fs_rd16(e + 2) & 0xfff8)) return FS_IGN_FRAGMENT;
    nh = e[0];
    l4 += elen;
    l4_len -= elen;
  }
  if (nh == NH_IPIP || nh == NH_IPV6) {
    if (++c->depth > FS_MAX_DEPTH) return FS_IGN_DEPTH;
    return fs_decode_ip(c, l4);
  }
  struct fs_packet *p = c->pkt;
  memcpy(p->src_ip, h + 8, 16);
  memcpy(p->dst_ip, h + 24, 16);
  p->ip_version = 6;
  p->protocol = nh;
  p->ip_size = plen;
  p->ip = h;
  p->ip_caplen = c->caplen - off;
  return fs_decode_transport(c, nh, l4, l4_len);
}
