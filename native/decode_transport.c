/* TCP, UDP, ICMP, ICMPv6, anything else: ports, flags and the per-mode sizes. l4_len comes from
 * the IP header; header fields are read only where they were captured. The transport size is
 * NFStream's: l4_len for TCP (at least a header long), UDP (likewise), ICMP and ICMPv6; 0 for any
 * other protocol (IGMP, GRE, ESP, ...) and for a TCP or UDP segment shorter than its header. */
#include <stddef.h>
#include "decode.h"


int fs_decode_transport(struct fs_decode_ctx *c, uint8_t proto, uint32_t off, uint32_t l4_len) {
  struct fs_packet *p = c->pkt;
  p->src_port = p->dst_port = 0;
  p->tcp_flags = 0;
  p->payload_size = 0;
  p->transport_size = 0;
  p->l4_payload = NULL;
  p->l4_payload_caplen = 0;
  p->icmp_type = p->icmp_code = 0;
  const uint8_t *l4 = c->data + off;
  /* p->ip is in the same buffer, before this layer */
  p->l4_offset = (uint32_t)(l4 - p->ip);
  p->l4_header_len = 0;
  switch (proto) {
  case FS_IP_TCP:
    if (l4_len >= 20) p->transport_size = l4_len;
    if (l4_len >= 20 && fs_has(c, off, 14)) {
      uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
      p->src_port = fs_rd16(l4);
      p->dst_port = fs_rd16(l4 + 2);
      p->tcp_flags = l4[13];
      p->payload_size = l4_len > doff ? l4_len - doff : 0;
      p->l4_header_len = doff >= 20 ? doff : 20;
      if (doff >= 20 && fs_has(c, off, doff + 1)) {
        p->l4_payload = l4 + doff;
        p->l4_payload_caplen = c->caplen - off - doff;
      }
    }
    return FS_OK;
  case FS_IP_UDP:
    if (l4_len >= 8) p->transport_size = l4_len;
    if (l4_len >= 8 && fs_has(c, off, 4)) {
      p->src_port = fs_rd16(l4);
      p->dst_port = fs_rd16(l4 + 2);
      p->payload_size = l4_len - 8;
      p->l4_header_len = 8;
      if (fs_has(c, off, 9)) {
        p->l4_payload = l4 + 8;
        p->l4_payload_caplen = c->caplen - off - 8;
      }
      if (c->decode_tunnels && fs_has(c, off, 8)) {
        int rc = fs_decode_udp_tunnel(c, p->src_port, p->dst_port, off + 8);
        if (rc != 1) return rc;
      }
    }
    return FS_OK;
  case FS_IP_ICMP: case FS_IP_ICMPV6:
    p->transport_size = l4_len;
    p->payload_size = l4_len > 8 ? l4_len - 8 : 0;
    if (fs_has(c, off, 2)) { p->icmp_type = l4[0]; p->icmp_code = l4[1]; }
    p->l4_header_len = l4_len < 8 ? l4_len : 8;
    return FS_OK;
  case FS_IP_GRE:
    if (c->decode_tunnels) {
      int rc = fs_decode_gre(c, off, l4_len);
      if (rc != 1) return rc;
    }
    return FS_OK;
  default:
    return FS_OK;
  }
}
