#include <stdlib.h>
#include <string.h>
#include "flow_extra.h"
#include "flow_features.h"

uint32_t fs_packet_size(const struct fs_packet *p, uint8_t accounting) {
  switch (accounting) {
  case FS_ACCT_IP: return p->ip_size;
  case FS_ACCT_TRANSPORT: return p->transport_size;
  case FS_ACCT_PAYLOAD: return p->payload_size;
  default: return p->raw_size;
  }
}

/* NFStream counts flags in the order syn, cwr, ece, urg, ack, psh, rst, fin. */
static void count_flags(struct fs_scope_stats *st, uint8_t fl) {
  st->flags[FS_F_SYN] += (fl >> 1) & 1;
  st->flags[FS_F_CWR] += (fl >> 7) & 1;
  st->flags[FS_F_ECE] += (fl >> 6) & 1;
  st->flags[FS_F_URG] += (fl >> 5) & 1;
  st->flags[FS_F_ACK] += (fl >> 4) & 1;
  st->flags[FS_F_PSH] += (fl >> 3) & 1;
  st->flags[FS_F_RST] += (fl >> 2) & 1;
  st->flags[FS_F_FIN] += fl & 1;
}

/* st: the scope's statistics, NULL without --stats */
static void scope_first(struct fs_scope *s, struct fs_scope_stats *st, uint64_t t, uint32_t ns, uint32_t size, uint8_t fl) {
  s->first_ms = s->last_ms = t;
  s->first_ns = s->last_ns = ns;
  s->packets = 1;
  s->bytes = size;
  if (!st) return;
  st->ps_min = st->ps_max = size;
  st->ps_mean = size;
  count_flags(st, fl);
}

/* s->packets already counts this packet. Welford: the same arithmetic, in the same order, as
 * NFStream, so means and variances agree to the last bit. */
static void scope_next(struct fs_scope *s, struct fs_scope_stats *st, uint64_t t, uint32_t ns, uint32_t size, uint8_t fl) {
  uint64_t piat = t - s->last_ms;
  s->last_ms = t;
  s->last_ns = ns;
  s->bytes += size;
  if (!st) return;
  count_flags(st, fl);
  if (size > st->ps_max) st->ps_max = size;
  if (size < st->ps_min) st->ps_min = size;
  double old = st->ps_mean;
  st->ps_mean += (size - old) / (double)s->packets;
  st->ps_m2 += (size - old) * (size - st->ps_mean);
  if (s->packets == 2) {
    st->piat_min_ms = st->piat_max_ms = piat;
    st->piat_mean_ms = (double)piat;
    return;
  }
  if (piat > st->piat_max_ms) st->piat_max_ms = piat;
  if (piat < st->piat_min_ms) st->piat_min_ms = piat;
  double pold = st->piat_mean_ms;
  st->piat_mean_ms += ((double)piat - pold) / (double)(s->packets - 1);
  st->piat_m2 += ((double)piat - pold) * ((double)piat - st->piat_mean_ms);
}

int fs_features_init(struct fs_flow *f, const struct fs_packet *p, const struct fs_feature_config *cfg) {
  uint32_t size = fs_packet_size(p, cfg->accounting);
  memcpy(f->src_ip, p->src_ip, 16);
  memcpy(f->dst_ip, p->dst_ip, 16);
  memcpy(f->src_mac, p->src_mac, 6);
  memcpy(f->dst_mac, p->dst_mac, 6);
  f->src_port = p->src_port;
  f->dst_port = p->dst_port;
  f->vlan_id = p->vlan_id;
  f->protocol = p->protocol;
  f->ip_version = p->ip_version;
  f->tunnel_id = p->tunnel_id;
  f->icmp_type = p->icmp_type;
  f->icmp_code = p->icmp_code;
  struct fs_scope_stats *st = cfg->stats ? fs_flow_stats(f) : NULL;
  scope_first(&f->s[FS_BI], st ? &st[FS_BI] : NULL, p->time_ms, p->time_ns, size, p->tcp_flags);
  scope_first(&f->s[FS_S2D], st ? &st[FS_S2D] : NULL, p->time_ms, p->time_ns, size, p->tcp_flags);
  if (fs_extra_enabled(cfg) && fs_extra_packet(f, p, fs_packet_time_us(p), cfg) != 0) return -1;
  if (cfg->splt) {
    size_t n = cfg->splt;
    uint8_t *mem = malloc(n * (sizeof(int64_t) + sizeof(int32_t) + sizeof(int8_t)));
    if (!mem) return -1;
    f->splt_piat_ms = (int64_t *)mem;
    f->splt_ps = (int32_t *)(mem + n * sizeof(int64_t));
    f->splt_dir = (int8_t *)(mem + n * (sizeof(int64_t) + sizeof(int32_t)));
    for (size_t i = 0; i < n; i++) { f->splt_piat_ms[i] = -1; f->splt_ps[i] = -1; f->splt_dir[i] = -1; }
    f->splt_dir[0] = 0;
    f->splt_ps[0] = (int32_t)size;
    f->splt_piat_ms[0] = 0;
  }
  return 0;
}

int fs_packet_direction(const struct fs_flow *f, const struct fs_packet *p) {
  if (f->src_port != p->src_port || f->dst_port != p->dst_port) return 1;
  if (memcmp(f->src_ip, p->src_ip, 16) != 0 || memcmp(f->dst_ip, p->dst_ip, 16) != 0) return 1;
  return 0;
}

void fs_features_update(struct fs_flow *f, const struct fs_packet *p, int direction,
                        const struct fs_feature_config *cfg) {
  uint32_t size = fs_packet_size(p, cfg->accounting);
  uint64_t t = p->time_ms;
  struct fs_scope *bi = &f->s[FS_BI];
  uint64_t n = ++bi->packets;
  if (f->splt_dir && n <= cfg->splt) {
    f->splt_dir[n - 1] = (int8_t)direction;
    f->splt_ps[n - 1] = (int32_t)size;
    f->splt_piat_ms[n - 1] = (int64_t)(t - bi->last_ms);
  }
  struct fs_scope_stats *st = cfg->stats ? fs_flow_stats(f) : NULL;
  scope_next(bi, st ? &st[FS_BI] : NULL, t, p->time_ns, size, p->tcp_flags);
  int k = direction ? FS_D2S : FS_S2D;
  struct fs_scope *s = &f->s[k];
  if (++s->packets == 1) scope_first(s, st ? &st[k] : NULL, t, p->time_ns, size, p->tcp_flags);
  else scope_next(s, st ? &st[k] : NULL, t, p->time_ns, size, p->tcp_flags);
  if (f->x) fs_extra_packet(f, p, fs_packet_time_us(p), cfg);
}

void fs_features_release(struct fs_flow *f) {
  fs_dpi_flow_free(f->dpi);
  f->dpi = NULL;
  free(f->x);
  f->x = NULL;
  free(f->splt_piat_ms); /* the allocation's start */
  f->splt_piat_ms = NULL;
  f->splt_ps = NULL;
  f->splt_dir = NULL;
}
