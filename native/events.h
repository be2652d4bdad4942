/* Packet events for JavaScript plugins: one record per metered packet — its fields and its flow's
 * counters as they stand once the packet is counted — with the IP bytes in an arena. They exist
 * only while a plugin is loaded; without one the meter never touches this. */
#ifndef FS_EVENTS_H
#define FS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include "flow.h"

#define FS_EVENTS_BATCH 4096     /* a batch goes to JavaScript at this many events, */
#define FS_EVENTS_ARENA (16u << 20) /* or this many bytes of IP packets (jumbo frames stay bounded) */

struct fs_event {
  uint64_t uid;                  /* the flow's, unique in the run */
  uint32_t idx;                  /* its table slot, for an early end requested back */
  uint8_t first, direction;
  uint8_t src_ip[16], dst_ip[16];
  uint64_t time_ms, delta_ms;    /* delta: since the flow's previous packet (0 for its first) */
  uint32_t raw_size, ip_size, transport_size, payload_size;
  uint16_t src_port, dst_port, vlan_id;
  uint8_t protocol, ip_version, tunnel_id, tcp_flags;
  uint32_t ip_off, ip_len;       /* the packet's IP bytes in the arena */
  /* within those bytes: the transport header and its length, the L4 payload as payload_bytes
   * takes it (captured, inside the IP length; 0 bytes when there is none) */
  uint32_t l4_off, l4_header_len, payload_off, payload_caplen;
  uint64_t packets[3], bytes[3], first_ms[3], last_ms[3];
};

struct fs_events {
  struct fs_event *ev;
  size_t len, cap;
  uint8_t *arena;
  size_t arena_len, arena_cap;
};

static inline bool fs_events_full(const struct fs_events *e) {
  return e->len >= FS_EVENTS_BATCH || e->arena_len >= FS_EVENTS_ARENA;
}

/* After the packet has been counted in f. Returns -1 when memory runs out (the event is lost). */
int fs_events_add(struct fs_events *e, const struct fs_flow *f, uint32_t idx, const struct fs_packet *p, int direction,
                  bool first, uint64_t prev_last_ms);
void fs_events_clear(struct fs_events *e);
void fs_events_free(struct fs_events *e);

#endif
