/* Linux cooked capture v1 (16-byte header) and v2 (20-byte header). No MACs: the header has
 * only the sender's address, so both stay zero as for other links without Ethernet. */
#include "decode.h"

int fs_decode_sll(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 16)) return FS_IGN_LINK_HEADER;
  return fs_decode_ethertype(c, fs_rd16(c->data + off + 14), off + 16);
}

int fs_decode_sll2(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 20)) return FS_IGN_LINK_HEADER;
  return fs_decode_ethertype(c, fs_rd16(c->data + off), off + 20);
}
