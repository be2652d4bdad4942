/* Tunnels entered from UDP by port (GTP-U 2152, TZSP 37008, CAPWAP data 5247, VXLAN 4789) and
 * GRE (IP protocol 47). A valid tunnel header makes the inner packet the one metered, with
 * tunnel_id set; an inner packet that does not decode is ignored. A payload that is not a tunnel
 * header (return 1) is metered as the plain outer packet. */
#include <string.h>
#include "decode.h"

#define PORT_GTPU 2152
#define PORT_TZSP 37008
#define PORT_CAPWAP_DATA 5247
#define PORT_VXLAN 4789
#define GTP_TPDU 0xff
#define MAX_GTP_EXT 16
#define MAX_TZSP_TAGS 64

static int enter(struct fs_decode_ctx *c, uint8_t tunnel) {
  if (++c->depth > FS_MAX_DEPTH) return FS_IGN_DEPTH;
  c->pkt->tunnel_id = tunnel;
  return FS_OK;
}

static int gtpu(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 8)) return 1;
  uint8_t flags = c->data[off], type = c->data[off + 1];
  if ((flags >> 5) != 1 || type != GTP_TPDU) return 1;
  uint32_t pos = off + 8;
  if (flags & 0x07) {
    if (!fs_has(c, pos, 4)) return FS_IGN_TUNNEL;
    uint8_t next = c->data[pos + 3];
    pos += 4;
    for (int n = 0; (flags & 0x04) && next != 0; n++) {
      if (n >= MAX_GTP_EXT || !fs_has(c, pos, 1)) return FS_IGN_TUNNEL;
      uint32_t len = (uint32_t)c->data[pos] * 4;
      if (len == 0 || !fs_has(c, pos, len)) return FS_IGN_TUNNEL;
      next = c->data[pos + len - 1];
      pos += len;
    }
  }
  int rc = enter(c, FS_TUNNEL_GTP);
  return rc != FS_OK ? rc : fs_decode_ip(c, pos);
}

static int tzsp(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 4)) return 1;
  const uint8_t *h = c->data + off;
  uint16_t encap = fs_rd16(h + 2);
  if (h[0] != 1 || h[1] != 0 || (encap != 1 && encap != 18)) return 1;
  uint32_t pos = off + 4;
  for (int n = 0;; n++) {
    if (n >= MAX_TZSP_TAGS || !fs_has(c, pos, 1)) return FS_IGN_TUNNEL;
    uint8_t tag = c->data[pos];
    if (tag == 1) { pos += 1; break; }        /* END */
    if (tag == 0) { pos += 1; continue; }     /* PADDING */
    if (!fs_has(c, pos, 2)) return FS_IGN_TUNNEL;
    pos += 2u + c->data[pos + 1];
  }
  int rc = enter(c, FS_TUNNEL_TZSP);
  if (rc != FS_OK) return rc;
  return encap == 1 ? fs_decode_link(c, FS_DLT_EN10MB, pos) : fs_decode_ieee80211(c, pos, false);
}

/* CAPWAP data, as NFStream decodes it: a 24-byte 802.11 header is assumed and its frame control
 * is not trusted (Cisco controllers send it byte-swapped); MACs are address 2 and 3; after the
 * 8-byte LLC/SNAP the IP version nibble decides. Too short for that: the plain UDP packet. */
static int capwap(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 2)) return 1;
  const uint8_t *h = c->data + off;
  if ((h[0] & 0x0f) != 0) return 1;           /* preamble type 0: a CAPWAP header follows */
  uint32_t wifi = off + (uint32_t)(h[1] >> 3) * 4;
  if (!fs_has(c, wifi, 24 + 8 + 1)) return 1;
  int rc = enter(c, FS_TUNNEL_CAPWAP);
  if (rc != FS_OK) return rc;
  const uint8_t *w = c->data + wifi;
  memcpy(c->pkt->src_mac, w + 10, 6);
  memcpy(c->pkt->dst_mac, w + 16, 6);
  c->guessed_ip = c->capwap_guess = fs_rd16(w + 24 + 6) != FS_ETH_IPV4;
  return fs_decode_ip(c, wifi + 24 + 8);
}

static int vxlan(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 8) || !(c->data[off] & 0x08)) return 1;
  int rc = enter(c, FS_TUNNEL_VXLAN);
  return rc != FS_OK ? rc : fs_decode_link(c, FS_DLT_EN10MB, off + 8);
}

bool fs_udp_tunnel_port(uint16_t sport, uint16_t dport) {
  return sport == PORT_GTPU || dport == PORT_GTPU || sport == PORT_TZSP || dport == PORT_TZSP ||
         sport == PORT_CAPWAP_DATA || dport == PORT_CAPWAP_DATA || dport == PORT_VXLAN;
}

int fs_decode_udp_tunnel(struct fs_decode_ctx *c, uint16_t sport, uint16_t dport, uint32_t off) {
  if (sport == PORT_GTPU || dport == PORT_GTPU) return gtpu(c, off);
  if (sport == PORT_TZSP || dport == PORT_TZSP) return tzsp(c, off);
  if (sport == PORT_CAPWAP_DATA || dport == PORT_CAPWAP_DATA) return capwap(c, off);
  if (dport == PORT_VXLAN) return vxlan(c, off);
  return 1;
}

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000

int fs_decode_gre(struct fs_decode_ctx *c, uint32_t off, uint32_t len) {
  (void)len;
  if (!fs_has(c, off, 4)) return 1;
  uint16_t flags = fs_rd16(c->data + off), proto = fs_rd16(c->data + off + 2);
  if ((flags & 0x0007) != 0) return 1;         /* version 0 only (not PPTP's enhanced GRE) */
  if (proto != FS_ETH_IPV4 && proto != FS_ETH_IPV6 && proto != FS_ETH_TEB && proto != FS_ETH_MPLS_UC) return 1;
  uint32_t hlen = 4 + ((flags & GRE_C) ? 4 : 0) + ((flags & GRE_K) ? 4 : 0) + ((flags & GRE_S) ? 4 : 0);
  int rc = enter(c, FS_TUNNEL_GRE);
  return rc != FS_OK ? rc : fs_decode_ethertype(c, proto, off + hlen);
}
