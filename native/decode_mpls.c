/* MPLS: skip the label stack up to bottom-of-stack; the payload's version nibble decides. */
#include "decode.h"

#define MPLS_MAX_LABELS 16

int fs_decode_mpls(struct fs_decode_ctx *c, uint32_t off) {
  for (int labels = 0; labels < MPLS_MAX_LABELS; labels++) {
    if (!fs_has(c, off, 4)) return FS_IGN_LINK_HEADER;
    uint32_t entry = fs_rd32(c->data + off);
    off += 4;
    if (entry & 0x100) return fs_decode_ip(c, off); /* S bit */
  }
  return FS_IGN_DEPTH;
}
