/* IPv4. IP-in-IP and IPv6-in-IPv4 are unwrapped (the outer header is lost, as in NFStream).
 * The IP total length, not the captured length, sizes the packet, so a truncated capture still
 * counts its true lengths. */
#include <string.h>
#include "decode.h"

#define IPPROTO_IPIP_ 4
#define IPPROTO_IPV6_ 41

int fs_decode_ipv4(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 20)) return FS_IGN_IPV4_HEADER;
  const uint8_t *h = c->data + off;
  uint32_t ihl = (uint32_t)(h[0] & 0x0f) * 4;
  uint32_t tot_len = fs_rd16(h + 2);
  /* An IHL below 5 is taken as NFStream takes it (L4 starts inside the 20 bytes read). */
  if (!fs_has(c, off, ihl) || tot_len < ihl) return FS_IGN_IPV4_HEADER;
  if (!c->guessed_ip && (fs_rd16(h + 6) & 0x1fff)) return FS_IGN_FRAGMENT;
  if (c->capwap_guess && !fs_has(c, off + ihl, 8)) return FS_IGN_TUNNEL;
  uint8_t proto = h[9];
  if ((proto == IPPROTO_IPIP_ || proto == IPPROTO_IPV6_) && ihl > 0) {
    if (++c->depth > FS_MAX_DEPTH) return FS_IGN_DEPTH;
    return fs_decode_ip(c, off + ihl);
  }
  struct fs_packet *p = c->pkt;
  memset(p->src_ip, 0, 16);
  memset(p->dst_ip, 0, 16);
  memcpy(p->src_ip, h + 12, 4);
  memcpy(p->dst_ip, h + 16, 4);
  p->ip_version = 4;
  p->protocol = proto;
  p->ip_size = tot_len;
  p->ip = h;
  p->ip_caplen = c->caplen - off;
  return fs_decode_transport(c, proto, off + ihl, tot_len - ihl);
}
