/* Finished flows laid out in columns, without Node-API: batch.c allocates the JavaScript arrays
 * and these fill them (the fuzz harness fills plain buffers of the same sizes). Each numeric
 * block is column after column: value (column c, row r) at [c * n + r]. */
#ifndef FS_BATCH_COLUMNS_H
#define FS_BATCH_COLUMNS_H

#include <stddef.h>
#include <stdint.h>
#include "events.h"
#include "meter.h"

/* Base columns: name and value for flow f. Order is the schema's (src/schema.ts). */
#define BASE_COLUMNS(X) \
  X(id, f->id) X(expiration_id, f->expiration_id) X(src_port, f->src_port) X(dst_port, f->dst_port) \
  X(protocol, f->protocol) X(ip_version, f->ip_version) X(vlan_id, f->vlan_id) X(tunnel_id, f->tunnel_id) \
  X(application_is_guessed, f->dpi ? f->dpi->guessed : 0) X(application_confidence, f->dpi ? f->dpi->confidence : 0) \
  SCOPE_BASE(X, bidirectional, FS_BI) SCOPE_BASE(X, src2dst, FS_S2D) SCOPE_BASE(X, dst2src, FS_D2S)
#define SCOPE_BASE(X, n, i) \
  X(n##_first_seen_ms, f->s[i].first_ms) X(n##_last_seen_ms, f->s[i].last_ms) \
  X(n##_duration_ms, f->s[i].last_ms - f->s[i].first_ms) X(n##_packets, f->s[i].packets) \
  X(n##_bytes, f->s[i].bytes)

#define STATS_COLUMNS(X) \
  SCOPE_PS(X, bidirectional, FS_BI) SCOPE_PS(X, src2dst, FS_S2D) SCOPE_PS(X, dst2src, FS_D2S) \
  SCOPE_PIAT(X, bidirectional, FS_BI) SCOPE_PIAT(X, src2dst, FS_S2D) SCOPE_PIAT(X, dst2src, FS_D2S) \
  SCOPE_FLAGS(X, bidirectional, FS_BI) SCOPE_FLAGS(X, src2dst, FS_S2D) SCOPE_FLAGS(X, dst2src, FS_D2S)
#define SCOPE_PS(X, n, i) \
  X(n##_min_ps, st[i].ps_min) X(n##_mean_ps, st[i].ps_mean) \
  X(n##_stddev_ps, sd(st[i].ps_m2, f->s[i].packets, 1)) X(n##_max_ps, st[i].ps_max)
#define SCOPE_PIAT(X, n, i) \
  X(n##_min_piat_ms, st[i].piat_min_ms) X(n##_mean_piat_ms, st[i].piat_mean_ms) \
  X(n##_stddev_piat_ms, sd(st[i].piat_m2, f->s[i].packets, 2)) X(n##_max_piat_ms, st[i].piat_max_ms)
#define SCOPE_FLAGS(X, n, i) \
  X(n##_syn_packets, st[i].flags[FS_F_SYN]) X(n##_cwr_packets, st[i].flags[FS_F_CWR]) \
  X(n##_ece_packets, st[i].flags[FS_F_ECE]) X(n##_urg_packets, st[i].flags[FS_F_URG]) \
  X(n##_ack_packets, st[i].flags[FS_F_ACK]) X(n##_psh_packets, st[i].flags[FS_F_PSH]) \
  X(n##_rst_packets, st[i].flags[FS_F_RST]) X(n##_fin_packets, st[i].flags[FS_F_FIN])

/* --activity-features: rates over the flow's duration (microsecond precision; 0 for a flow of
 * one instant) and CICFlowMeter's active / idle periods, in milliseconds. */
#define ACTIVITY_COLUMNS(X) \
  X(bidirectional_bytes_per_s, rate(f, f->s[FS_BI].bytes)) X(bidirectional_packets_per_s, rate(f, f->s[FS_BI].packets)) \
  X(src2dst_bytes_per_s, rate(f, f->s[FS_S2D].bytes)) X(src2dst_packets_per_s, rate(f, f->s[FS_S2D].packets)) \
  X(dst2src_bytes_per_s, rate(f, f->s[FS_D2S].bytes)) X(dst2src_packets_per_s, rate(f, f->s[FS_D2S].packets)) \
  X(active_min_ms, act.min / 1e3) X(active_mean_ms, act.mean / 1e3) X(active_max_ms, act.max / 1e3) \
  X(active_stddev_ms, fs_extra_run_stddev(&act) / 1e3) \
  X(idle_min_ms, x->idle.min / 1e3) X(idle_mean_ms, x->idle.mean / 1e3) X(idle_max_ms, x->idle.max / 1e3) \
  X(idle_stddev_ms, fs_extra_run_stddev(&x->idle) / 1e3)

/* Packet events: num (n * FS_COLS_N_EVENT), src and dst (n * 16); ip_off / ip_len locate each
 * packet's IP bytes in the events' arena. */
#define EVENT_COLUMNS(X) \
  X(uid, v->uid) X(idx, v->idx) X(first, v->first) X(direction, v->direction) X(time, v->time_ms) \
  X(delta_time, v->delta_ms) X(raw_size, v->raw_size) X(ip_size, v->ip_size) X(transport_size, v->transport_size) \
  X(payload_size, v->payload_size) X(src_port, v->src_port) X(dst_port, v->dst_port) X(vlan_id, v->vlan_id) \
  X(protocol, v->protocol) X(ip_version, v->ip_version) X(tunnel_id, v->tunnel_id) X(tcp_flags, v->tcp_flags) \
  X(ip_off, v->ip_off) X(ip_len, v->ip_len) X(l4_off, v->l4_off) X(l4_header_len, v->l4_header_len) \
  X(payload_off, v->payload_off) X(payload_caplen, v->payload_caplen) \
  EVENT_SCOPE(X, bidirectional, FS_BI) EVENT_SCOPE(X, src2dst, FS_S2D) EVENT_SCOPE(X, dst2src, FS_D2S)
#define EVENT_SCOPE(X, s, i) \
  X(s##_packets, v->packets[i]) X(s##_bytes, v->bytes[i]) X(s##_first_seen_ms, v->first_ms[i]) \
  X(s##_last_seen_ms, v->last_ms[i]) X(s##_duration_ms, v->last_ms[i] - v->first_ms[i])

#define FS_COLS_NAME(name, expr) #name,
/* NOLINTNEXTLINE(bugprone-macro-parentheses): expands to "0 +1 +1 ...", the column count */
#define FS_COLS_COUNT(name, expr) +1
enum {
  FS_COLS_N_BASE = 0 BASE_COLUMNS(FS_COLS_COUNT), FS_COLS_N_STATS = 0 STATS_COLUMNS(FS_COLS_COUNT),
  FS_COLS_N_ACTIVITY = 0 ACTIVITY_COLUMNS(FS_COLS_COUNT), FS_COLS_N_EVENT = 0 EVENT_COLUMNS(FS_COLS_COUNT),
};
/* bytes of one address or MAC in an address column, its separator included */
#define FS_COLS_ADDRESS_WIDTH 48

extern const char *const fs_cols_base_names[FS_COLS_N_BASE];
extern const char *const fs_cols_stats_names[FS_COLS_N_STATS];
extern const char *const fs_cols_activity_names[FS_COLS_N_ACTIVITY];
extern const char *const fs_cols_event_names[FS_COLS_N_EVENT];
/* the string columns: addresses by kind (fs_cols_address), detection texts by enum fs_dpi_text */
#define FS_COLS_N_ADDRESS 6
extern const char *const fs_cols_address_names[FS_COLS_N_ADDRESS];
extern const char *const fs_cols_dpi_names[FS_DPI_TEXTS];

/* m->out[0..n) into col: n * FS_COLS_N_BASE, n * FS_COLS_N_STATS, n * FS_COLS_N_ACTIVITY doubles */
void fs_cols_base(const struct fs_meter *m, size_t n, double *col);
void fs_cols_stats(const struct fs_meter *m, size_t n, double *col);
void fs_cols_activity(const struct fs_meter *m, size_t n, double *col);
/* first, last, duration per scope in microseconds (nanoseconds with time_precision 2): n * 9 */
void fs_cols_fine_time(const struct fs_meter *m, size_t n, uint64_t *col);
/* bytes: n * payload_bytes; len: n */
void fs_cols_payload(const struct fs_meter *m, size_t n, uint8_t *bytes, double *len);
/* bytes: n * header_packets * header_width; count: n */
void fs_cols_header(const struct fs_meter *m, size_t n, uint8_t *bytes, double *count);
/* One address column as text, "\n" between rows, into text (n * FS_COLS_ADDRESS_WIDTH + 1 bytes);
 * kind 0 src_ip, 1 dst_ip, 2 src_mac, 3 dst_mac, 4 src_oui, 5 dst_oui. Returns its length. */
/* One flow's address of that kind into buf (FS_COLS_ADDRESS_WIDTH bytes), NUL-terminated; its length. */
size_t fs_cols_address(const struct fs_flow *f, int kind, char *buf);
size_t fs_cols_addresses(const struct fs_meter *m, size_t n, int kind, char *text);
/* n * splt each */
void fs_cols_splt(const struct fs_meter *m, size_t n, int8_t *dir, int32_t *ps, double *piat);
/* e->len rows: num (column after column), src and dst addresses (16 bytes a row) */
void fs_cols_events(const struct fs_events *e, double *num, uint8_t *src, uint8_t *dst);

#endif
