/* 802.1Q, 802.1ad and the old 0x9100 QinQ tag: the innermost tag's VLAN id is kept. */
#include "decode.h"

int fs_decode_vlan(struct fs_decode_ctx *c, uint32_t off) {
  for (int tags = 0; tags < FS_MAX_VLAN_TAGS; tags++) {
    if (!fs_has(c, off, 4)) return FS_IGN_LINK_HEADER;
    c->pkt->vlan_id = fs_rd16(c->data + off) & 0x0fff;
    uint16_t type = fs_rd16(c->data + off + 2);
    off += 4;
    if (type != FS_ETH_VLAN && type != FS_ETH_QINQ && type != FS_ETH_QINQ_OLD)
      return fs_decode_ethertype(c, type, off);
  }
  return FS_IGN_DEPTH;
}
