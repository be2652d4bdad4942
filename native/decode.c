/* Decoding entry point and the two shared switches: by link type and by ethertype. */
#include <string.h>
#include "decode.h"

bool fs_decode_linktype_supported(int linktype) {
  switch (linktype) {
  case FS_DLT_NULL: case FS_DLT_LOOP: case FS_DLT_EN10MB: case FS_DLT_PPP: case FS_DLT_PPP_SERIAL:
  case FS_DLT_C_HDLC: case FS_DLT_RAW: case FS_DLT_RAW_LT: case FS_DLT_IPV4: case FS_DLT_IPV6:
  case FS_DLT_LINUX_SLL: case FS_DLT_LINUX_SLL2: case FS_DLT_RADIOTAP:
    return true;
  default:
    return false;
  }
}

int fs_decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, bool decode_tunnels,
              struct fs_packet *pkt) {
  memset(pkt, 0, sizeof(*pkt));
  /* 16-bit like NFStream's raw_size: only a corrupt record or a GRO super-frame is longer */
  pkt->raw_size = wirelen & 0xffff;
  struct fs_decode_ctx c = { data, caplen, decode_tunnels, 0, false, false, pkt };
  return fs_decode_link(&c, linktype, 0);
}

int fs_decode_link(struct fs_decode_ctx *c, int linktype, uint32_t off) {
  if (!fs_has(c, off, FS_MIN_FRAME)) return FS_IGN_SHORT_FRAME;
  switch (linktype) {
  case FS_DLT_EN10MB: return fs_decode_ethernet(c, off);
  case FS_DLT_NULL: return fs_decode_null(c, off, false);
  case FS_DLT_LOOP: return fs_decode_null(c, off, true);
  case FS_DLT_PPP: case FS_DLT_PPP_SERIAL: return fs_decode_ppp(c, off);
  case FS_DLT_C_HDLC: return fs_decode_chdlc(c, off);
  case FS_DLT_RAW: case FS_DLT_RAW_LT: case FS_DLT_IPV4: case FS_DLT_IPV6: return fs_decode_ip(c, off);
  case FS_DLT_LINUX_SLL: return fs_decode_sll(c, off);
  case FS_DLT_LINUX_SLL2: return fs_decode_sll2(c, off);
  case FS_DLT_RADIOTAP: return fs_decode_radiotap(c, off);
  default: return FS_IGN_LINKTYPE;
  }
}

/* Shared by Ethernet, SLL, VLAN, PPPoE, GRE. Like NFStream, a type that is not a known
 * encapsulation falls through to IP, where the version nibble decides. */
int fs_decode_ethertype(struct fs_decode_ctx *c, uint16_t type, uint32_t off) {
  if (++c->depth > FS_MAX_DEPTH) return FS_IGN_DEPTH;
  switch (type) {
  case FS_ETH_VLAN: case FS_ETH_QINQ: case FS_ETH_QINQ_OLD: return fs_decode_vlan(c, off);
  case FS_ETH_MPLS_UC: case FS_ETH_MPLS_MC: return fs_decode_mpls(c, off);
  case FS_ETH_PPPOE_SESS: return fs_decode_pppoe(c, off);
  case FS_ETH_TEB: return fs_decode_ethernet(c, off);
  case FS_ETH_IPV4: case FS_ETH_IPV6: return fs_decode_ip(c, off);
  default:
    c->guessed_ip = true;
    return fs_decode_ip(c, off);
  }
}

/* The IP version nibble decides (NFStream's rule for every link type). */
int fs_decode_ip(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 1)) return FS_IGN_NOT_IP;
  switch (c->data[off] >> 4) {
  case 4: return fs_decode_ipv4(c, off);
  case 6: return fs_decode_ipv6(c, off);
  default: return FS_IGN_NOT_IP;
  }
}
