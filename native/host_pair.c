/* The common frames' host-pair hash without fs_decode(): see host_pair.h. Every condition below
 * is one under which fs_decode() of the same frame takes it and makes a key of these two addresses
 * with no VLAN and no tunnel (the meter fuzz harness checks both). */
#include "decode.h"
#include "flow.h"
#include "host_pair.h"

/* Transport protocols that never lead into another layer; UDP does where tunnels are decoded and
 * a port says so. */
static bool final_layer(uint8_t proto, const uint8_t *data, uint32_t caplen, uint32_t l4, bool decode_tunnels) {
  if (proto == FS_IP_TCP || proto == FS_IP_ICMP || proto == FS_IP_ICMPV6) return true;
  if (proto != FS_IP_UDP) return false;
  if (!decode_tunnels) return true;
  if (l4 > caplen || caplen - l4 < 4) return false;
  return !fs_udp_tunnel_port(fs_rd16(data + l4), fs_rd16(data + l4 + 2));
}

bool fs_frame_host_hash(int linktype, const uint8_t *data, uint32_t caplen, bool decode_tunnels, uint64_t *hash) {
  if (linktype != FS_DLT_EN10MB || caplen < FS_ETH_HLEN + 40) return false;
  uint16_t type = fs_rd16(data + 12);
  if (type != FS_ETH_IPV4 && type != FS_ETH_IPV6) return false;
  const uint8_t *ip = data + FS_ETH_HLEN;
  switch (ip[0] >> 4) { /* the version nibble decides, whatever the ethertype said */
  case 4: {
    uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
    if (ihl < 20 || !final_layer(ip[9], data, caplen, FS_ETH_HLEN + ihl, decode_tunnels)) return false;
    /* what fs_decode() refuses goes the long way, refused there: such a frame must not move the
     * run's clock, as it does not move one meter's (a later fragment, a header longer than what was
     * captured or than the packet) */
    if (FS_ETH_HLEN + ihl > caplen || fs_rd16(ip + 2) < ihl || (fs_rd16(ip + 6) & 0x1fff)) return false;
    *hash = fs_ipv4_pair_hash(ip + 12, ip + 16);
    return true;
  }
  case 6:
    /* an extension header, or IP inside IP, goes the long way */
    if (!final_layer(ip[6], data, caplen, FS_ETH_HLEN + 40, decode_tunnels)) return false;
    if (FS_ETH_HLEN + 40 + (uint32_t)fs_rd16(ip + 4) > caplen) return false; /* its payload not all captured */
    *hash = fs_address_pair_hash(ip + 8, ip + 24);
    return true;
  default:
    return false;
  }
}
