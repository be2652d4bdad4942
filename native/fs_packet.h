/* One decoded packet: what the flow table and the features need, nothing more.
 * Filled by fs_decode(); never points past the capture buffer it was decoded from. */
#ifndef FS_PACKET_H
#define FS_PACKET_H

#include <stdint.h>

/* Tunnel ids: 0..3 are nDPI's / NFStream's enumeration; 4 and 5 are flowseek's own. */
enum fs_tunnel {
  FS_TUNNEL_NONE = 0,
  FS_TUNNEL_GTP = 1,
  FS_TUNNEL_CAPWAP = 2,
  FS_TUNNEL_TZSP = 3,
  FS_TUNNEL_VXLAN = 4,
  FS_TUNNEL_GRE = 5,
};

/* Why a packet was not metered. Order is the order of the summary's counters. */
enum fs_ignore {
  FS_OK = 0,
  FS_IGN_SHORT_FRAME,      /* caplen below 28 bytes after the link start */
  FS_IGN_LINKTYPE,         /* a link type flowseek does not decode */
  FS_IGN_LINK_HEADER,      /* link / VLAN / MPLS / PPPoE header cut short or malformed */
  FS_IGN_NOT_IP,           /* the payload is not IPv4 or IPv6 */
  FS_IGN_IPV4_HEADER,      /* IPv4 header short, bad IHL, total length below header */
  FS_IGN_IPV6_HEADER,      /* IPv6 header short or payload not captured */
  FS_IGN_IPV6_EXT,         /* IPv6 extension chain malformed, or no next header (59) */
  FS_IGN_FRAGMENT,         /* non-first IPv4 / IPv6 fragment */
  FS_IGN_TUNNEL,           /* a tunnel header cut short */
  FS_IGN_DEPTH,            /* too many nested layers */
  FS_IGN_WIFI,             /* 802.11: not a data frame, protected, or bad FCS */
  FS_IGN_FILTERED,         /* not this meter's hash partition (workers) */
  FS_IGN__COUNT
};

struct fs_packet {
  uint64_t time_ms;
  uint32_t time_ns;                 /* nanoseconds within that millisecond (the capture's precision) */
  uint8_t src_ip[16], dst_ip[16];   /* IPv4 in the first 4 bytes, rest zero */
  uint8_t src_mac[6], dst_mac[6];   /* zero where the link has none */
  uint16_t src_port, dst_port;
  uint16_t vlan_id;
  uint8_t protocol;
  uint8_t ip_version;
  uint8_t tunnel_id;
  uint8_t tcp_flags;                /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
  uint8_t icmp_type, icmp_code;     /* ICMP / ICMPv6 where captured (Community ID), else 0 */
  uint32_t raw_size;                /* wire length from the capture header */
  uint32_t ip_size;                 /* IPv4 total length; IPv6 payload length */
  uint32_t transport_size;          /* IP length minus IP header(s); 0 unless TCP, UDP or ICMP(v6) */
  uint32_t payload_size;            /* L4 payload */
  const uint8_t *ip;                /* start of the (innermost) IP header, for DPI */
  uint32_t ip_caplen;               /* bytes captured from ip */
  uint32_t l4_offset;               /* transport header start, from ip */
  uint32_t l4_header_len;           /* transport header length as far as captured (TCP doff, UDP/ICMP 8) */
  const uint8_t *l4_payload;        /* TCP or UDP payload where captured, else NULL (for JA4) */
  uint32_t l4_payload_caplen;
};

#endif
