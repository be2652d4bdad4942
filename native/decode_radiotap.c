/* Radiotap + 802.11 data frames (also used for CAPWAP's and TZSP's inner 802.11). */
#include <string.h>
#include "decode.h"

#define RT_PRESENT_TSFT 0x00000001u
#define RT_PRESENT_FLAGS 0x00000002u
#define RT_PRESENT_EXT 0x80000000u
#define RT_FLAG_FCS 0x10
#define RT_FLAG_BADFCS 0x40

static uint32_t rd32le(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

int fs_decode_radiotap(struct fs_decode_ctx *c, uint32_t off) {
  if (!fs_has(c, off, 8)) return FS_IGN_LINK_HEADER;
  const uint8_t *h = c->data + off;
  uint32_t rt_len = (uint32_t)h[2] | ((uint32_t)h[3] << 8);
  if (h[0] != 0 || rt_len < 8 || !fs_has(c, off, rt_len)) return FS_IGN_LINK_HEADER;
  uint32_t present = rd32le(h + 4);
  /* Fields start after the chain of present words; only TSFT precedes Flags. */
  uint32_t pos = 8, word = present;
  while ((word & RT_PRESENT_EXT) && pos + 4 <= rt_len) { word = rd32le(h + pos); pos += 4; }
  bool has_fcs = false;
  if (present & RT_PRESENT_FLAGS) {
    if (present & RT_PRESENT_TSFT) pos = ((pos + 7) & ~7u) + 8;
    if (pos >= rt_len) return FS_IGN_LINK_HEADER;
    uint8_t flags = h[pos];
    if (flags & RT_FLAG_BADFCS) return FS_IGN_WIFI;
    has_fcs = (flags & RT_FLAG_FCS) != 0;
  }
  return fs_decode_ieee80211(c, off + rt_len, has_fcs);
}

#define WLAN_TYPE_DATA 2
#define WLAN_TO_DS 0x01
#define WLAN_FROM_DS 0x02
#define WLAN_PROTECTED 0x40
#define WLAN_ORDER 0x80

int fs_decode_ieee80211(struct fs_decode_ctx *c, uint32_t off, bool has_fcs) {
  (void)has_fcs; /* IP lengths come from the IP header, so a trailing FCS is never counted */
  if (!fs_has(c, off, 24)) return FS_IGN_LINK_HEADER;
  const uint8_t *h = c->data + off;
  uint8_t type = (h[0] >> 2) & 0x3, subtype = h[0] >> 4, flags = h[1];
  if (type != WLAN_TYPE_DATA || (subtype & 0x4) /* null data: no body */) return FS_IGN_WIFI;
  if (flags & WLAN_PROTECTED) return FS_IGN_WIFI;
  bool to_ds = flags & WLAN_TO_DS, from_ds = flags & WLAN_FROM_DS;
  uint32_t hlen = 24 + (to_ds && from_ds ? 6 : 0);
  if (subtype & 0x8) hlen += 2 + ((flags & WLAN_ORDER) ? 4 : 0); /* QoS control, HT control */
  if (!fs_has(c, off, hlen + 8)) return FS_IGN_LINK_HEADER;
  const uint8_t *a1 = h + 4, *a2 = h + 10, *a3 = h + 16, *a4 = h + 24;
  const uint8_t *da = to_ds ? a3 : a1;
  const uint8_t *sa = from_ds ? (to_ds ? a4 : a3) : a2;
  memcpy(c->pkt->dst_mac, da, 6);
  memcpy(c->pkt->src_mac, sa, 6);
  const uint8_t *llc = h + hlen;
  if (llc[0] != 0xaa || llc[1] != 0xaa) return FS_IGN_NOT_IP;
  return fs_decode_ethertype(c, fs_rd16(llc + 6), off + hlen + 8);
}
