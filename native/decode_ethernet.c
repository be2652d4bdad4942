/* Ethernet II and 802.3 with LLC/SNAP. */
#include <string.h>
#include "decode.h"

#define LLC_SNAP_LEN 8
#define LLC_SAP_SNAP 0xaa
#define LLC_SAP_STP 0x42

int fs_decode_ethernet(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, FS_ETH_HLEN)) return FS_IGN_LINK_HEADER;
  const uint8_t *h = c->data + off;
  memcpy(c->pkt->dst_mac, h, 6);
  memcpy(c->pkt->src_mac, h + 6, 6);
  uint16_t type = fs_rd16(h + 12);
  off += FS_ETH_HLEN;
  if (type >= 1536) return fs_decode_ethertype(c, type, off);
  if (type > 1500) return FS_IGN_LINK_HEADER;
  /* 802.3 length field: only LLC with a SNAP header carries an ethertype. */
  if (!fs_has(c, off, 3)) return FS_IGN_LINK_HEADER;
  const uint8_t *llc = c->data + off;
  if (llc[0] == LLC_SAP_SNAP || llc[1] == LLC_SAP_SNAP) {
    if (!fs_has(c, off, LLC_SNAP_LEN)) return FS_IGN_LINK_HEADER;
    return fs_decode_ethertype(c, fs_rd16(llc + 6), off + LLC_SNAP_LEN);
  }
  return FS_IGN_NOT_IP;
}
