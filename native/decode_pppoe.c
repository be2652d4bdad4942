/* PPPoE session stage: 6-byte PPPoE header, then the 2-byte PPP protocol. */
#include "decode.h"

#define PPPOE_HLEN 6
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

int fs_decode_pppoe(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, PPPOE_HLEN + 2)) return FS_IGN_LINK_HEADER;
  uint16_t proto = fs_rd16(c->data + off + PPPOE_HLEN);
  if (proto != PPP_IPV4 && proto != PPP_IPV6) return FS_IGN_NOT_IP;
  return fs_decode_ip(c, off + PPPOE_HLEN + 2);
}
