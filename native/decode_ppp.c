/* PPP (DLT_PPP, DLT_PPP_SERIAL) and Cisco HDLC (DLT_C_HDLC). */
#include "decode.h"

#define PPP_ADDR 0xff
#define PPP_CTRL 0x03
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057
#define CHDLC_UNICAST 0x0f
#define CHDLC_BCAST 0x8f

int fs_decode_chdlc(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 4)) return FS_IGN_LINK_HEADER;
  return fs_decode_ethertype(c, fs_rd16(c->data + off + 2), off + 4);
}

int fs_decode_ppp(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 4)) return FS_IGN_LINK_HEADER;
  const uint8_t *h = c->data + off;
  if (h[0] == CHDLC_UNICAST || h[0] == CHDLC_BCAST) return fs_decode_chdlc(c, off);
  if (h[0] == PPP_ADDR && h[1] == PPP_CTRL) { off += 2; h += 2; }
  uint16_t proto;
  if (h[0] & 0x01) { proto = h[0]; off += 1; }   /* protocol field compression */
  else { proto = fs_rd16(h); off += 2; }
  if (proto == PPP_IPV4 || proto == PPP_IPV6 || proto == FS_ETH_IPV4 || proto == FS_ETH_IPV6)
    return fs_decode_ip(c, off);
  return FS_IGN_NOT_IP;
}
