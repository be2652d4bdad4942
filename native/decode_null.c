/* BSD loopback: a 4-byte address family, in the capturing host's byte order (NULL) or in
 * network order (LOOP). The IP version nibble decides, so the family is only skipped. */
#include "decode.h"

int fs_decode_null(struct fs_decode_ctx *c, uint32_t off, bool network_order) {
  (void)network_order;
  if (!fs_has(c, off, 4)) return FS_IGN_LINK_HEADER;
  return fs_decode_ip(c, off + 4);
}
