#include <stdlib.h>
#include <string.h>
#include "events.h"

static int grow(void **buf, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 1024;
  while (n < need) n *= 2;
  void *b = realloc(*buf, n * elem);
  if (!b) return -1;
  *buf = b;
  *cap = n;
  return 0;
}

int fs_events_add(struct fs_events *e, const struct fs_flow *f, uint32_t idx, const struct fs_packet *p, int direction,
                  bool first, uint64_t prev_last_ms) {
  uint32_t ip_len = p->ip ? p->ip_caplen : 0;
  if (grow((void **)&e->ev, &e->cap, e->len + 1, sizeof(*e->ev)) != 0 ||
      grow((void **)&e->arena, &e->arena_cap, e->arena_len + ip_len, 1) != 0) return -1;
  struct fs_event *v = &e->ev[e->len++];
  v->uid = f->uid;
  v->idx = idx;
  v->first = first;
  v->direction = (uint8_t)direction;
  memcpy(v->src_ip, p->src_ip, 16);
  memcpy(v->dst_ip, p->dst_ip, 16);
  v->time_ms = p->time_ms;
  v->delta_ms = first ? 0 : p->time_ms - prev_last_ms;
  v->raw_size = p->raw_size;
  v->ip_size = p->ip_size;
  v->transport_size = p->transport_size;
  v->payload_size = p->payload_size;
  v->src_port = p->src_port;
  v->dst_port = p->dst_port;
  v->vlan_id = p->vlan_id;
  v->protocol = p->protocol;
  v->ip_version = p->ip_version;
  v->tunnel_id = p->tunnel_id;
  v->tcp_flags = p->tcp_flags;
  v->ip_off = (uint32_t)e->arena_len;
  v->ip_len = ip_len;
  v->l4_off = p->ip ? p->l4_offset : 0;
  v->l4_header_len = p->ip ? p->l4_header_len : 0;
  v->payload_off = p->l4_payload && p->ip ? (uint32_t)(p->l4_payload - p->ip) : 0;
  v->payload_caplen = p->l4_payload && p->ip ? (p->l4_payload_caplen < p->payload_size ? p->l4_payload_caplen : p->payload_size) : 0;
  if (ip_len) memcpy(e->arena + e->arena_len, p->ip, ip_len);
  e->arena_len += ip_len;
  for (int s = 0; s < FS_SCOPES; s++) {
    v->packets[s] = f->s[s].packets;
    v->bytes[s] = f->s[s].bytes;
    v->first_ms[s] = f->s[s].first_ms;
    v->last_ms[s] = f->s[s].last_ms;
  }
  return 0;
}

void fs_events_clear(struct fs_events *e) {
  e->len = 0;
  e->arena_len = 0;
}

void fs_events_free(struct fs_events *e) {
  free(e->ev);
  free(e->arena);
  memset(e, 0, sizeof(*e));
}
