#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "meter.h"

/* A meter runs on whichever pool thread is free for each batch, and glibc gives each thread an
 * arena of its own: a flow's memory was taken in one arena and freed into another, and each arena
 * kept the free memory of its own peak (four arenas, 170 MB held for 100 MB in use on the bench
 * capture). One arena for the process holds no more than the largest use. */
__attribute__((constructor)) static void one_arena(void) {
#ifdef __GLIBC__
  mallopt(M_ARENA_MAX, 1);
#endif
}

/* The pages of what let-go flows had allocated go back to the system: glibc keeps freed memory in
 * the heap otherwise, and the run's next peak came on top of it (204 -> 171 MB). Not after every
 * batch: a trim gives back each free run of pages with a system call of its own, and where another
 * core runs a thread of this process each call interrupts it to flush its TLB (thousands a read:
 * 0.2-0.4 s of CPU for two lanes, bench/RESULTS.md). Once this many flows went, on any meter (the
 * heap is one arena): the peak stays as low (127 MB with defaults on the 4 M-packet capture). */
#define TRIM_EVERY_FLOWS 16384
static atomic_size_t let_go_since_trim;

static void give_back(size_t flows) {
#ifdef __GLIBC__
  if (atomic_fetch_add(&let_go_since_trim, flows) + flows < TRIM_EVERY_FLOWS) return;
  atomic_store(&let_go_since_trim, 0);
  malloc_trim(0);
#else
  (void)flows;
#endif
}

int fs_meter_init(struct fs_meter *m, const struct fs_meter_config *cfg) {
  memset(m, 0, sizeof(*m));
  m->cfg = *cfg;
  if (m->cfg.n_partitions == 0) m->cfg.n_partitions = 1;
  if (cfg->features.dissections && !(m->dpi = fs_dpi_module_new(cfg->features.dissections))) return -1;
  if (fs_table_init(&m->table, fs_flow_bytes(cfg->features.stats)) != 0) { fs_dpi_module_free(m->dpi); m->dpi = NULL; return -1; }
  if (cfg->packet_events && !(m->events = calloc(1, sizeof(*m->events)))) { fs_meter_free(m); return -1; }
  m->event_batch = 1; /* never a fresh flow's 0 */
  return 0;
}

void fs_meter_free(struct fs_meter *m) {
  /* also after an init that failed, and twice: a table never made (or freed) holds no flow */
  while (m->table.slots && m->table.head != FS_NIL) {
    fs_features_release(fs_table_flow(&m->table, m->table.head));
    fs_table_remove(&m->table, m->table.head);
  }
  fs_meter_consume(m, m->out_len);
  free(m->out);
  fs_table_free(&m->table);
  fs_dpi_module_free(m->dpi);
  m->dpi = NULL;
  free(m->cfg.end_ports);
  m->cfg.end_ports = NULL;
  free(m->new_keys);
  m->new_keys = NULL;
  m->new_len = m->new_cap = 0;
  if (m->events) fs_events_free(m->events);
  free(m->events);
  m->events = NULL;
}

void fs_meter_consume(struct fs_meter *m, size_t n) {
  if (n > m->out_len) n = m->out_len;
  if (n == 0) return;
  for (size_t i = 0; i < n; i++) fs_features_release(fs_meter_out(m, i));
  memmove(m->out, fs_meter_out(m, n), (m->out_len - n) * m->table.stride);
  m->out_len -= n;
  give_back(n);
}

void fs_meter_batch_taken(struct fs_meter *m, size_t n) {
  fs_meter_consume(m, n);
  fs_meter_events_taken(m);
  m->new_len = 0;
}

/* A new flow's key for system visibility, which looks its socket up while it is likely open. */
static void note_new(struct fs_meter *m, const struct fs_flow_key *k) {
  if (m->new_len == m->new_cap) {
    size_t cap = m->new_cap ? m->new_cap * 2 : 256;
    struct fs_flow_key *grown = cap <= FS_NEW_KEYS_MAX ? realloc(m->new_keys, cap * sizeof(*grown)) : NULL;
    if (!grown) { m->new_keys_dropped++; return; }
    m->new_keys = grown;
    m->new_cap = cap;
  }
  m->new_keys[m->new_len++] = *k;
}

static void create_flow(struct fs_meter *m, const struct fs_packet *p, const struct fs_flow_key *k, uint64_t hash) {
  /* memory stays bounded: at the limit the oldest flow ends now, in creation order */
  if (m->cfg.max_active_flows && m->table.count >= m->cfg.max_active_flows && m->table.head != FS_NIL) {
    fs_expire_flow(m, m->table.head, FS_EXP_EVICTED);
    m->n.flows_evicted++;
    if (m->stopped) return;
  }
  uint32_t idx = fs_table_insert(&m->table, k, hash);
  if (idx == FS_NIL) { m->n.alloc_failures++; return; }
  struct fs_flow *f = fs_table_flow(&m->table, idx);
  if (fs_features_init(f, p, &m->cfg.features) != 0 || (m->dpi && !(f->dpi = fs_dpi_flow_start(m->dpi, p)))) {
    m->n.alloc_failures++;
    fs_features_release(f);
    fs_table_remove(&m->table, idx);
    return;
  }
  f->uid = ++m->n.flows_created;
  if (fs_flow_detecting(f)) m->n.detecting++;
  if (m->cfg.report_new_flows && (k->protocol == 6 || k->protocol == 17) && k->tunnel_id == 0) note_new(m, k);
  f->event_batch = m->event_batch;
  const uint8_t *ports = m->cfg.end_ports;
  f->watched = !ports || (ports[p->src_port >> 3] >> (p->src_port & 7) & 1) || (ports[p->dst_port >> 3] >> (p->dst_port & 7) & 1);
  if (m->events && fs_events_add(m->events, f, idx, p, 0, true, 0) != 0) m->events_lost++;
  else if (f->watched && m->cfg.events_one_per_flow) m->watched_events++;
}

/* NFStream's consume(): expiry of the packet's own flow is checked before the packet counts.
 * idx: the flow of key k in the table, or FS_NIL. */
static void consume(struct fs_meter *m, const struct fs_packet *p, const struct fs_flow_key *k, uint64_t hash, uint32_t idx) {
  if (idx == FS_NIL) { create_flow(m, p, k, hash); return; }
  struct fs_flow *f = fs_table_flow(&m->table, idx);
  uint64_t t = p->time_ms;
  int8_t reason;
  if (fs_flow_timed_out(m, f, t, &reason)) {
    fs_expire_flow(m, idx, reason);
  } else {
    uint64_t prev = f->s[FS_BI].last_ms;
    int direction = fs_packet_direction(f, p);
    fs_features_update(f, p, direction, &m->cfg.features);
    if (fs_flow_detecting(f)) {
      f->dpi = fs_dpi_flow_update(m->dpi, f->dpi, p, f->s[FS_BI].packets);
      if (!fs_flow_detecting(f)) m->n.detecting--;
    }
    f->event_batch = m->event_batch;
    if (m->events && fs_events_add(m->events, f, idx, p, direction, false, prev) != 0) m->events_lost++;
    else if (f->watched && m->cfg.events_one_per_flow) m->watched_events++;
    return;
  }
  if (!m->stopped) create_flow(m, p, k, hash);
}

/* A decoded packet from here on: the clock, then this meter's flow or another meter's tick. */
static void advance(struct fs_meter *m, struct fs_packet *p, const struct fs_flow_key *k, uint64_t hash, uint32_t idx, bool mine) {
  bool go_scan = fs_clock_packet(&m->clock, p->time_ms, p->time_ns);
  p->time_ms = m->clock.tick_ms;
  p->time_ns = m->clock.tick_ns;
  if (!mine) {
    /* another meter's packet: it only advances this meter's clock and scans */
    m->n.ignored[FS_IGN_FILTERED]++;
  } else {
    m->n.processed++;
    consume(m, p, k, hash, idx);
  }
  if (go_scan && !m->stopped) {
    if (fs_meter_holding(m) && fs_idle_scan_due(m)) m->scan_held = true;
    else fs_expire_idle_scan(m);
  }
}

/* Whether this packet, counted now, would end a flow before its own event (its flow's timeout, or
 * the oldest flow evicted for it). t: the packet's time on the run's clock. */
static bool ends_a_flow(const struct fs_meter *m, uint32_t idx, uint64_t t) {
  if (idx == FS_NIL) return m->cfg.max_active_flows && m->table.count >= m->cfg.max_active_flows && m->table.head != FS_NIL;
  const struct fs_flow *f = fs_table_flow(&m->table, idx);
  int8_t reason;
  return fs_flow_timed_out(m, f, t, &reason);
}

int fs_meter_frame(struct fs_meter *m, int linktype, uint64_t time_ms, uint32_t time_ns, const uint8_t *data,
                   uint32_t caplen, uint32_t wirelen) {
  if (m->stopped) return 0;
  struct fs_packet p;
  int rc = fs_decode(linktype, data, caplen, wirelen, m->cfg.decode_tunnels, &p);
  struct fs_flow_key k;
  uint64_t hash = 0;
  bool mine = true;
  uint32_t idx = FS_NIL;
  if (rc == FS_OK) {
    fs_flow_key_make(&p, &k);
    mine = m->cfg.n_partitions <= 1 || (fs_flow_key_host_hash(&k) % m->cfg.n_partitions) == m->cfg.partition;
    if (mine) {
      hash = fs_flow_key_hash(&k, m->table.seed);
      idx = fs_table_find(&m->table, &k, hash);
    }
    /* a plugin may end this packet's flow on its previous packet: that packet's hooks run first */
    if (idx != FS_NIL && m->cfg.events_one_per_flow && m->events && m->events->len) {
      const struct fs_flow *f = fs_table_flow(&m->table, idx);
      if (f->watched && f->event_batch == m->event_batch) return FS_FRAME_DEFER;
    }
    /* ...and no flow ends before the plugins saw the events that may end theirs */
    if (mine && fs_meter_holding(m) && ends_a_flow(m, idx, time_ms > m->clock.tick_ms ? time_ms : m->clock.tick_ms)) return FS_FRAME_DEFER;
  }
  m->n.packets++;
  if (wirelen > 0xffff) m->n.oversize_records++;
  if (rc != FS_OK) { m->n.ignored[rc]++; return -rc; }
  p.time_ms = time_ms;
  p.time_ns = time_ns;
  advance(m, &p, &k, hash, idx, mine);
  return 0;
}

void fs_meter_events_taken(struct fs_meter *m) {
  if (!m->events) return;
  fs_events_clear(m->events);
  m->event_batch++;
  m->watched_events = 0;
}

void fs_meter_resume(struct fs_meter *m) {
  if (!m->scan_held) return;
  m->scan_held = false;
  if (!m->stopped) fs_expire_idle_scan(m);
}

void fs_meter_clock(struct fs_meter *m, uint64_t now_ms) {
  if (m->stopped) return;
  if (!fs_clock_advance(&m->clock, now_ms, 0)) return;
  if (fs_meter_holding(m) && fs_idle_scan_due(m)) m->scan_held = true;
  else fs_expire_idle_scan(m);
}

void fs_meter_expire_custom(struct fs_meter *m, uint32_t idx, uint64_t uid) {
  if (uid == 0 || idx >= m->table.pool_used || m->stopped) return;
  if (fs_table_flow(&m->table, idx)->uid != uid) return; /* ended already */
  fs_expire_flow(m, idx, FS_EXP_CUSTOM);
}
