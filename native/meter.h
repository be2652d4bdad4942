/* The meter: decoded packets in, finished flows out (into an output queue the batch drains).
 * Clock, expiry and export order follow NFStream exactly (test/10.oracle compares with its output;
 * the README says where flowseek differs on purpose). */
#ifndef FS_METER_H
#define FS_METER_H

#include <stdbool.h>
#include <stddef.h>
#include "flow_features.h"
#include "flow_table.h"
#include "dpi.h"
#include "events.h"

#define FS_IDLE_SCAN_INTERVAL_MS 10
#define FS_IDLE_SCAN_BUDGET 1000
/* new flows reported to JavaScript in one batch at most (a flood of SYNs stays bounded) */
#define FS_NEW_KEYS_MAX 65536

/* The run's clock: packet time forced monotonic (an older packet takes the newest time seen), and
 * an idle scan due every FS_IDLE_SCAN_INTERVAL_MS of it. One rule for a meter and for the reader
 * that feeds several (spread.c), so their flows end alike. */
struct fs_clock {
  uint64_t tick_ms, scan_tick_ms;
  uint32_t tick_ns;              /* within tick_ms */
  /* packets timed more than FS_HELD_NOTE_MS before the clock, given its time (NFStream's rule): a
   * capture's few reordered packets are not counted, a packet timed years ahead makes every later
   * one counted here, and the run says so */
  uint64_t held, held_max_ms;
};

#define FS_HELD_NOTE_MS 1000

/* Moves the clock to (ms, ns) if that is later; true when an idle scan falls due (and is taken). */
static inline bool fs_clock_advance(struct fs_clock *c, uint64_t ms, uint32_t ns) {
  if (ms > c->tick_ms || (ms == c->tick_ms && ns > c->tick_ns)) {
    c->tick_ms = ms;
    c->tick_ns = ns;
  }
  if (c->tick_ms - c->scan_tick_ms < FS_IDLE_SCAN_INTERVAL_MS) return false;
  c->scan_tick_ms = c->tick_ms;
  return true;
}

/* A packet's time: as fs_clock_advance, a packet held back counted (a tick of the wall clock, or
 * one a reader forced, is no packet and goes to fs_clock_advance). */
static inline bool fs_clock_packet(struct fs_clock *c, uint64_t ms, uint32_t ns) {
  if (ms < c->tick_ms && c->tick_ms - ms > FS_HELD_NOTE_MS) {
    c->held++;
    if (c->tick_ms - ms > c->held_max_ms) c->held_max_ms = c->tick_ms - ms;
  }
  return fs_clock_advance(c, ms, ns);
}

struct fs_meter_config {
  uint64_t idle_timeout_ms;
  uint64_t active_timeout_ms;
  uint64_t max_flows;            /* 0: unlimited */
  uint64_t max_active_flows;     /* 0: unlimited; at the limit the oldest open flow ends */
  /* output only (batch.c) */
  bool community_id;
  uint16_t community_id_seed;
  uint8_t time_precision;        /* 0 ms only, 1 adds microsecond, 2 nanosecond timestamps */
  bool packet_events;            /* a JavaScript plugin is loaded: record every packet (events.h) */
  bool events_one_per_flow;      /* a plugin may end flows: at most one event per flow per batch */
  uint8_t *end_ports;            /* ...of flows with one of these ports (a 65536-bit set, the meter
                                  * frees it); NULL: of every flow */
  bool decode_tunnels;
  bool report_new_flows;         /* system visibility: keep the key of each new TCP/UDP flow for JS */
  struct fs_feature_config features;
  uint32_t n_partitions;         /* workers: host-pair hash % n == partition */
  uint32_t partition;
};

struct fs_meter_counters {
  uint64_t packets;              /* every frame handed to the meter */
  uint64_t processed;            /* metered into a flow */
  uint64_t ignored[FS_IGN__COUNT];
  uint64_t flows_created;
  uint64_t flows_exported;
  uint64_t flows_idle, flows_active, flows_flushed, flows_evicted;
  uint64_t alloc_failures;
  uint64_t oversize_records;     /* wire length above 65535: sizes wrap to 16 bits, as NFStream's */
  uint64_t detecting;            /* open flows holding nDPI's state: detection not over yet */
  uint64_t retimed, retimed_max_ms; /* the clock's held and held_max_ms, as of the counters' copy */
};

struct fs_meter {
  struct fs_meter_config cfg;
  struct fs_flow_table table;
  struct fs_dpi_module *dpi;     /* NULL with detection off */
  struct fs_clock clock;
  bool stopped;                  /* max_flows reached */
  struct fs_meter_counters n;
  struct fs_events *events;      /* NULL unless cfg.packet_events */
  uint64_t events_lost;          /* out of memory */
  uint32_t event_batch;          /* which batch of events is filling (flows carry the last they joined) */
  /* events_one_per_flow: events of flows a plugin may end, in the batch filling. While there are
   * some, no other flow ends before the plugins saw them (a hook's end takes the export place of
   * its packet, as in NFStream): the frame is deferred, or the idle scan held for the next batch. */
  uint32_t watched_events;
  bool scan_held;                /* an idle scan fell due while watched events were pending */
  struct fs_flow_key *new_keys;  /* report_new_flows: keys of flows begun since the last batch */
  size_t new_len, new_cap;
  uint64_t new_keys_dropped;     /* beyond FS_NEW_KEYS_MAX in one batch */
  uint8_t *out;                  /* finished flows, in export order, table.stride bytes apart (fs_meter_out) */
  size_t out_len, out_cap;
};

/* Finished flow r of the output queue. */
static inline struct fs_flow *fs_meter_out(const struct fs_meter *m, size_t r) {
  return (struct fs_flow *)(m->out + r * m->table.stride);
}

int fs_meter_init(struct fs_meter *m, const struct fs_meter_config *cfg);
void fs_meter_free(struct fs_meter *m);
#define FS_FRAME_DEFER 1
/* One captured frame. Returns FS_FRAME_DEFER, having counted nothing, when a plugin that may end
 * flows must see the events so far first (events_one_per_flow): hand the same frame in again
 * after the batch; minus the fs_ignore reason it was counted under when not decoded; 0 otherwise. */
int fs_meter_frame(struct fs_meter *m, int linktype, uint64_t time_ms, uint32_t time_ns, const uint8_t *data,
                   uint32_t caplen, uint32_t wirelen);
/* The batch took the events: clear them, and start a new event batch. */
void fs_meter_events_taken(struct fs_meter *m);
/* At the start of a batch, after the plugins' ends: the idle scan held back (see watched_events). */
void fs_meter_resume(struct fs_meter *m);
/* Whether open flows must wait for the plugins before they end (see watched_events). */
static inline bool fs_meter_holding(const struct fs_meter *m) {
  return m->watched_events > 0;
}
/* Live capture with no packet: the clock moves on and idle flows end. */
void fs_meter_clock(struct fs_meter *m, uint64_t now_ms);
/* End of input: every open flow ends, in creation order. */
void fs_meter_flush(struct fs_meter *m);
/* The same, for at most `most` flows (a batch at a time, so the output queue stays small);
 * returns how many ended. */
size_t fs_meter_flush_some(struct fs_meter *m, size_t most);
/* Drop the first n finished flows from the output queue (the batch has copied them). */
void fs_meter_consume(struct fs_meter *m, size_t n);
/* A batch copied the first n finished flows, the events and the new flow keys: all three go. */
void fs_meter_batch_taken(struct fs_meter *m, size_t n);

/* A plugin asked to end this flow (slot idx, if it still holds flow uid): expiration_id -1. */
void fs_meter_expire_custom(struct fs_meter *m, uint32_t idx, uint64_t uid);

/* flow_expire.c */
/* NFStream's timeouts for a flow at time t (the run's clock): idle since its last packet for the
 * idle timeout, or older than the active timeout. The one place they are compared (inline: it runs
 * for every packet); the idle scan walks flows in creation order with the same idle rule. */
static inline bool fs_flow_timed_out(const struct fs_meter *m, const struct fs_flow *f, uint64_t t, int8_t *reason) {
  if (t - f->s[FS_BI].last_ms >= m->cfg.idle_timeout_ms) { *reason = FS_EXP_IDLE; return true; }
  if (t - f->s[FS_BI].first_ms >= m->cfg.active_timeout_ms) { *reason = FS_EXP_ACTIVE; return true; }
  return false;
}
void fs_expire_flow(struct fs_meter *m, uint32_t idx, int8_t reason);
void fs_expire_idle_scan(struct fs_meter *m);
/* Whether the idle scan would end a flow now. */
bool fs_idle_scan_due(const struct fs_meter *m);

#endif
