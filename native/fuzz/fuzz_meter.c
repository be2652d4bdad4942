/* libFuzzer harness over the whole packet path: decode (every link type, tunnels), flow table,
 * features (statistics, SPLT, every accounting mode), nDPI and JA4, expiry and the final flush.
 *
 * Input: byte 0 picks the link type, byte 1 the options (bit 0 decode tunnels, 1 statistics,
 * 2 SPLT, 3 detection (bit 1 also turns on activity, payload and header bytes), 4-5 accounting mode, 6 oversize wire lengths); then packets, each
 * [length lo][length hi][time step] and its bytes. Every packet is copied into a buffer of exactly
 * its length, so a read past its end is caught by AddressSanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../decode.h"
#include "../meter.h"
#include "../community_id.h"
#include "../flow.h"
#include "../host_pair.h"

static const int LINKS[] = {
  FS_DLT_EN10MB, FS_DLT_RAW, FS_DLT_RAW_LT, FS_DLT_IPV4, FS_DLT_IPV6, FS_DLT_NULL, FS_DLT_LOOP, FS_DLT_PPP,
  FS_DLT_PPP_SERIAL, FS_DLT_C_HDLC, FS_DLT_LINUX_SLL, FS_DLT_LINUX_SLL2, FS_DLT_RADIOTAP, 147 /* unknown */,
};
#define N_LINKS (sizeof(LINKS) / sizeof(LINKS[0]))

/* nDPI's module is costly to create: one meter per option set, emptied after every input */
static struct fs_meter *meters[128];

static struct fs_meter *meter_for(uint8_t opts) {
  opts &= 0x3f;
  if (meters[opts]) return meters[opts];
  struct fs_meter_config cfg = {0};
  cfg.idle_timeout_ms = 1000;
  cfg.active_timeout_ms = 5000;
  cfg.decode_tunnels = opts & 1;
  cfg.report_new_flows = (opts & 0x81) != 0; /* system visibility's new flow keys */
  cfg.features.stats = (opts & 2) != 0;
  cfg.features.splt = (opts & 4) ? 5 : 0;
  cfg.packet_events = (opts & 4) != 0; /* plugins: packet events and early ends asked back */
  cfg.events_one_per_flow = (opts & 0x14) == 0x14;
  if (cfg.events_one_per_flow && (cfg.end_ports = calloc(8192, 1))) cfg.end_ports[53 >> 3] |= 1 << (53 & 7);
  cfg.features.dissections = (opts & 8) ? 20 : 0;
  cfg.features.accounting = (opts >> 4) & 3;
  if (opts & 2) { /* flowseek's own features ride with the statistics */
    cfg.features.activity = true;
    cfg.features.activity_gap_us = 100000;
    cfg.features.payload_bytes = 64;
    cfg.features.header_packets = 3;
    cfg.features.header_width = 40;
  }
#ifdef FUZZ_BATCH /* fuzz_batch.c: the finer time columns too */
  cfg.time_precision = (opts & 0x20) ? 2 : (opts & 0x10) ? 1 : 0;
#endif
  struct fs_meter *m = calloc(1, sizeof(*m));
  if (!m || fs_meter_init(m, &cfg) != 0) abort();
  return meters[opts] = m;
}

/* The reader of read --workers takes most frames' lane from their headers (host_pair.h): it must
 * be the lane their full decode gives, or a flow's packets would be split between two meters; and
 * the decode must take the frame, or it would move the run's clock where one meter's stays. */
static void check_host_pair(int link, const uint8_t *pkt, uint32_t len, bool tunnels) {
  uint64_t fast;
  if (!fs_frame_host_hash(link, pkt, len, tunnels, &fast)) return;
  struct fs_packet p;
  struct fs_flow_key k;
  if (fs_decode(link, pkt, len, len, tunnels, &p) != FS_OK) abort();
  fs_flow_key_make(&p, &k);
  if (fs_flow_key_host_hash(&k) != fast) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  int link = LINKS[data[0] % N_LINKS];
  struct fs_meter *m = meter_for(data[1]);
  bool oversize = (data[1] & 0x40) != 0;
  uint64_t t = 1000000;
  size_t at = 2;
  while (at + 3 <= size) {
    size_t len = (size_t)data[at] | ((size_t)data[at + 1] << 8);
    t += (uint64_t)data[at + 2] * 37;
    at += 3;
    if (len > size - at) len = size - at;
    uint8_t *pkt = malloc(len ? len : 1);
    if (!pkt) abort();
    memcpy(pkt, data + at, len);
    if (m->events && m->events->len && (data[at - 1] & 7) == 0) { /* a plugin ends the last packet's flow */
      const struct fs_event *v = &m->events->ev[m->events->len - 1];
      fs_meter_expire_custom(m, v->idx, v->uid);
    }
    check_host_pair(link, pkt, (uint32_t)len, m->cfg.decode_tunnels);
    uint32_t ns = (uint32_t)(data[at - 1] * 3907u % 1000000u), wire = (uint32_t)len + (oversize ? 70000 : 0);
    if (fs_meter_frame(m, link, t, ns, pkt, (uint32_t)len, wire) == FS_FRAME_DEFER) {
      fs_meter_events_taken(m); /* the batch a plugin would have seen */
      fs_meter_frame(m, link, t, ns, pkt, (uint32_t)len, wire);
    }
    free(pkt);
    at += len;
  }
  fs_meter_flush(m);
#ifdef FUZZ_BATCH
  fuzz_batch_columns(m); /* every finished flow and event laid out in columns, as for JavaScript */
#endif
  if (m->events) fs_events_clear(m->events);
  for (size_t i = 0; i < m->out_len; i++) {
    char id[FS_COMMUNITY_ID_LEN];
    fs_community_id(fs_meter_out(m, i), 0, id);
  }
  fs_meter_consume(m, m->out_len);
  m->new_len = 0; /* the batch took them */
  /* the next input starts from a clean clock and counters */
  m->clock = (struct fs_clock){0};
  m->stopped = false;
  memset(&m->n, 0, sizeof(m->n));
  return 0;
}
