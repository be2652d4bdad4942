/* Packet decoding, one layer per file (decode_<layer>.c), Suricata style: every decoder gets
 * the context and the offset of its own layer, checks the length before each read, and returns
 * FS_OK or the fs_ignore reason. Nothing here allocates or crashes on any input. */
#ifndef FS_DECODE_H
#define FS_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include "fs_packet.h"

#define FS_MAX_DEPTH 16        /* nested layers of any kind */
#define FS_MAX_VLAN_TAGS 16
#define FS_MIN_FRAME 28        /* NFStream: shorter frames are ignored (min IP + min UDP) */

/* Link types (libpcap DLT_ values as pcap_datalink() reports them on Linux). */
#define FS_DLT_NULL 0
#define FS_DLT_EN10MB 1
#define FS_DLT_PPP 9
#define FS_DLT_RAW 12
#define FS_DLT_RAW_LT 101
#define FS_DLT_PPP_SERIAL 50
#define FS_DLT_C_HDLC 104
#define FS_DLT_LOOP 108
#define FS_DLT_LINUX_SLL 113
#define FS_DLT_RADIOTAP 127
#define FS_DLT_IPV4 228
#define FS_DLT_IPV6 229
#define FS_DLT_LINUX_SLL2 276

#define FS_ETH_IPV4 0x0800
#define FS_ETH_IPV6 0x86dd
#define FS_ETH_VLAN 0x8100
#define FS_ETH_QINQ 0x88a8
#define FS_ETH_QINQ_OLD 0x9100
#define FS_ETH_MPLS_UC 0x8847
#define FS_ETH_MPLS_MC 0x8848
#define FS_ETH_PPPOE_SESS 0x8864
#define FS_ETH_TEB 0x6558      /* transparent Ethernet bridging, inside GRE */
#define FS_ETH_HLEN 14         /* an Ethernet II header */

/* IP protocol numbers the decoders follow */
#define FS_IP_ICMP 1
#define FS_IP_TCP 6
#define FS_IP_UDP 17
#define FS_IP_GRE 47
#define FS_IP_ICMPV6 58

struct fs_decode_ctx {
  const uint8_t *data;
  uint32_t caplen;
  bool decode_tunnels;
  uint8_t depth;
  /* NFStream checks the IPv4 fragment offset only when the link said "IPv4"; an IP header found
   * by guessing (unknown ethertype, version nibble) is taken whole, fragment bits and all. */
  bool guessed_ip;
  /* NFStream, having guessed the IP header inside CAPWAP, still holds the outer UDP protocol and
   * looks for a UDP header after the guessed IPv4 header: without 8 bytes there it drops the packet. */
  bool capwap_guess;
  struct fs_packet *pkt;
};

static inline uint16_t fs_rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t fs_rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
/* true when n bytes from off are captured */
static inline bool fs_has(const struct fs_decode_ctx *c, uint32_t off, uint32_t n) {
  return off <= c->caplen && n <= c->caplen - off;
}

/* Entry point: decode one captured frame of the given link type. */
int fs_decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, bool decode_tunnels,
              struct fs_packet *pkt);
/* True when fs_decode knows the link type. */
bool fs_decode_linktype_supported(int linktype);

/* Layers. off is where the layer starts. */
int fs_decode_link(struct fs_decode_ctx *c, int linktype, uint32_t off);
int fs_decode_ethernet(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_ethertype(struct fs_decode_ctx *c, uint16_t type, uint32_t off);
int fs_decode_vlan(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_mpls(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_pppoe(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_sll(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_sll2(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_null(struct fs_decode_ctx *c, uint32_t off, bool network_order);
int fs_decode_ppp(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_chdlc(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_radiotap(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_ieee80211(struct fs_decode_ctx *c, uint32_t off, bool has_fcs);
int fs_decode_ip(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_ipv4(struct fs_decode_ctx *c, uint32_t off);
int fs_decode_ipv6(struct fs_decode_ctx *c, uint32_t off);
/* L4: proto, where it starts, and its length as the IP header says (may exceed caplen). */
int fs_decode_transport(struct fs_decode_ctx *c, uint8_t proto, uint32_t off, uint32_t l4_len);
/* Tunnels: return FS_OK having decoded the inner packet, 1 when the UDP payload is not a tunnel,
 * or an ignore reason. */
int fs_decode_udp_tunnel(struct fs_decode_ctx *c, uint16_t sport, uint16_t dport, uint32_t off);
/* Whether these ports make fs_decode_udp_tunnel() look for a tunnel (the ports it tries, below). */
bool fs_udp_tunnel_port(uint16_t sport, uint16_t dport);
int fs_decode_gre(struct fs_decode_ctx *c, uint32_t off, uint32_t len);

#endif
