#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "community_id.h"
#include "flow_extra.h"

#define NAPI(call) do { napi_status st_ = (call); if (st_ != napi_ok) return st_; } while (0)

/* "aa:bb:cc..." of the first n bytes (snprintf was a visible share of a whole read) */
static void fmt_mac(const uint8_t *mac, int n, char *buf) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < n; i++) {
    buf[3 * i] = hex[mac[i] >> 4];
    buf[3 * i + 1] = hex[mac[i] & 15];
    buf[3 * i + 2] = ':';
  }
  buf[3 * n - 1] = '\0';
}

static double sd(double m2, uint64_t n, uint64_t k) { return n > k ? sqrt(m2 / (double)(n - k)) : 0.0; }

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
  X(n##_min_ps, f->s[i].ps_min) X(n##_mean_ps, f->s[i].ps_mean) \
  X(n##_stddev_ps, sd(f->s[i].ps_m2, f->s[i].packets, 1)) X(n##_max_ps, f->s[i].ps_max)
#define SCOPE_PIAT(X, n, i) \
  X(n##_min_piat_ms, f->s[i].piat_min_ms) X(n##_mean_piat_ms, f->s[i].piat_mean_ms) \
  X(n##_stddev_piat_ms, sd(f->s[i].piat_m2, f->s[i].packets, 2)) X(n##_max_piat_ms, f->s[i].piat_max_ms)
#define SCOPE_FLAGS(X, n, i) \
  X(n##_syn_packets, f->s[i].flags[FS_F_SYN]) X(n##_cwr_packets, f->s[i].flags[FS_F_CWR]) \
  X(n##_ece_packets, f->s[i].flags[FS_F_ECE]) X(n##_urg_packets, f->s[i].flags[FS_F_URG]) \
  X(n##_ack_packets, f->s[i].flags[FS_F_ACK]) X(n##_psh_packets, f->s[i].flags[FS_F_PSH]) \
  X(n##_rst_packets, f->s[i].flags[FS_F_RST]) X(n##_fin_packets, f->s[i].flags[FS_F_FIN])

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

static uint64_t scope_us(const struct fs_scope *s, bool last) {
  return last ? s->last_ms * 1000 + s->last_ns / 1000 : s->first_ms * 1000 + s->first_ns / 1000;
}

static double rate(const struct fs_flow *f, uint64_t count) {
  uint64_t d = scope_us(&f->s[FS_BI], true) - scope_us(&f->s[FS_BI], false);
  return d ? (double)count * 1e6 / (double)d : 0.0;
}

#define NAME(name, expr) #name,
#define COUNT(name, expr) +1
static const char *const base_names[] = { BASE_COLUMNS(NAME) };
static const char *const stats_names[] = { STATS_COLUMNS(NAME) };
static const char *const activity_names[] = { ACTIVITY_COLUMNS(NAME) };
enum { N_BASE = 0 BASE_COLUMNS(COUNT), N_STATS = 0 STATS_COLUMNS(COUNT), N_ACTIVITY = 0 ACTIVITY_COLUMNS(COUNT) };

static napi_status names_array(napi_env env, const char *const *names, size_t n, napi_value *out) {
  NAPI(napi_create_array_with_length(env, n, out));
  for (size_t i = 0; i < n; i++) {
    napi_value s;
    NAPI(napi_create_string_utf8(env, names[i], NAPI_AUTO_LENGTH, &s));
    NAPI(napi_set_element(env, *out, (uint32_t)i, s));
  }
  return napi_ok;
}

napi_status fs_batch_column_names(napi_env env, napi_value *out) {
  napi_value b, s, a;
  NAPI(napi_create_object(env, out));
  NAPI(names_array(env, base_names, N_BASE, &b));
  NAPI(names_array(env, stats_names, N_STATS, &s));
  NAPI(names_array(env, activity_names, N_ACTIVITY, &a));
  NAPI(napi_set_named_property(env, *out, "base", b));
  NAPI(napi_set_named_property(env, *out, "stats", s));
  NAPI(napi_set_named_property(env, *out, "activity", a));
  return napi_ok;
}

/* A typed array of len elements as obj[name]; *data is where to fill it. */
static napi_status typed(napi_env env, napi_value obj, const char *name, napi_typedarray_type type, size_t elem, size_t len,
                         void **data) {
  napi_value ab, arr;
  NAPI(napi_create_arraybuffer(env, elem * (len ? len : 1), data, &ab));
  NAPI(napi_create_typedarray(env, type, len, ab, 0, &arr));
  return napi_set_named_property(env, obj, name, arr);
}

/* Dotted quad by hand: inet_ntop formats IPv4 through sprintf, a visible share of a whole read. */
static void fmt_ip(const uint8_t *ip, uint8_t version, char *buf) {
  if (version == 6) { inet_ntop(AF_INET6, ip, buf, INET6_ADDRSTRLEN); return; }
  for (int i = 0; i < 4; i++) {
    unsigned v = ip[i];
    if (v >= 100) *buf++ = (char)('0' + v / 100);
    if (v >= 10) *buf++ = (char)('0' + v / 10 % 10);
    *buf++ = (char)('0' + v % 10);
    *buf++ = i < 3 ? '.' : '\0';
  }
}

/* Addresses of every flow as ONE string, "\n" between values, split in JavaScript: one Node-API
 * call per column instead of one per value (creating 6 strings per flow one call at a time was a
 * tenth of a whole --dissections 0 read, on the main thread). */
static napi_status string_column(napi_env env, napi_value strings, const char *name, const struct fs_meter *m,
                                 size_t n, int kind) {
  char *text = malloc(n * 48 + 1), *at = text;
  if (!text) return napi_generic_failure;
  for (size_t r = 0; r < n; r++) {
    const struct fs_flow *f = &m->out[r];
    const uint8_t *mac = (kind & 1) ? f->dst_mac : f->src_mac;
    if (r) *at++ = '\n';
    switch (kind) {
    case 0: fmt_ip(f->src_ip, f->ip_version, at); break;
    case 1: fmt_ip(f->dst_ip, f->ip_version, at); break;
    case 2: case 3: fmt_mac(mac, 6, at); break;
    default: fmt_mac(mac, 3, at); break;
    }
    at += strlen(at);
  }
  napi_value s;
  napi_status st = napi_create_string_latin1(env, text, (size_t)(at - text), &s);
  free(text);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, strings, name, s);
}

static napi_status activity_columns(napi_env env, const struct fs_meter *m, size_t n, napi_value out) {
  double *col;
  NAPI(typed(env, out, "activity", napi_float64_array, sizeof(double), n * N_ACTIVITY, (void **)&col));
  static const struct fs_flow_extra none;
  for (size_t r = 0; r < n; r++) {
    const struct fs_flow *f = &m->out[r];
    const struct fs_flow_extra *x = f->x ? f->x : &none;
    struct fs_run act = fs_extra_active_final(x);
    size_t c = 0;
#define FILL(name, expr) col[c++ * n + r] = (double)(expr);
    ACTIVITY_COLUMNS(FILL)
#undef FILL
  }
  return napi_ok;
}

/* first, last, duration per scope, in microseconds or nanoseconds: BigUint64Array, since
 * nanoseconds since 1970 pass 2^53 */
static napi_status fine_time_columns(napi_env env, const struct fs_meter *m, size_t n, napi_value out) {
  uint64_t *col;
  NAPI(typed(env, out, "fineTime", napi_biguint64_array, 8, n * 3 * FS_SCOPES, (void **)&col));
  bool ns = m->cfg.time_precision == 2;
  for (size_t r = 0; r < n; r++) {
    const struct fs_flow *f = &m->out[r];
    for (int s = 0; s < FS_SCOPES; s++) {
      const struct fs_scope *sc = &f->s[s];
      uint64_t first = ns ? sc->first_ms * 1000000 + sc->first_ns : scope_us(sc, false);
      uint64_t last = ns ? sc->last_ms * 1000000 + sc->last_ns : scope_us(sc, true);
      if (!sc->packets) first = last = 0;
      col[(size_t)(3 * s) * n + r] = first;
      col[(size_t)(3 * s + 1) * n + r] = last;
      col[(size_t)(3 * s + 2) * n + r] = last - first;
    }
  }
  return napi_ok;
}

/* out[name] = { [n: items,] width, bytes: Uint8Array(rows * items * width), [count]: Float64Array(rows) }
 * (items 0: one array of width bytes a row, and no n); the caller fills bytes and the counts. */
static napi_status byte_block(napi_env env, napi_value out, const char *name, const char *count, size_t rows, uint32_t items,
                              uint32_t width, uint8_t **bytes, double **counts) {
  napi_value o, a;
  NAPI(napi_create_object(env, &o));
  NAPI(typed(env, o, "bytes", napi_uint8_array, 1, rows * (items ? items : 1) * width, (void **)bytes));
  NAPI(typed(env, o, count, napi_float64_array, 8, rows, (void **)counts));
  NAPI(napi_create_uint32(env, width, &a));
  NAPI(napi_set_named_property(env, o, "width", a));
  if (items) {
    NAPI(napi_create_uint32(env, items, &a));
    NAPI(napi_set_named_property(env, o, "n", a));
  }
  return napi_set_named_property(env, out, name, o);
}

/* { width, bytes: Uint8Array(n * width), len: Float64Array(n) } */
static napi_status payload_column(napi_env env, const struct fs_meter *m, size_t n, napi_value out) {
  uint32_t w = m->cfg.features.payload_bytes;
  uint8_t *bytes;
  double *len;
  NAPI(byte_block(env, out, "payload", "len", n, 0, w, &bytes, &len));
  memset(bytes, 0, n * w);
  for (size_t r = 0; r < n; r++) {
    struct fs_flow_extra *x = m->out[r].x;
    len[r] = x ? x->payload_len : 0;
    if (x) memcpy(bytes + r * w, fs_extra_payload(x), x->payload_len);
  }
  return napi_ok;
}

/* { n: packets, width, bytes: Uint8Array(n * packets * width), count: Float64Array(n) } */
static napi_status header_column(napi_env env, const struct fs_meter *m, size_t n, napi_value out) {
  const struct fs_feature_config *cfg = &m->cfg.features;
  size_t row = (size_t)cfg->header_packets * cfg->header_width;
  uint8_t *bytes;
  double *count;
  NAPI(byte_block(env, out, "header", "count", n, cfg->header_packets, cfg->header_width, &bytes, &count));
  for (size_t r = 0; r < n; r++) {
    struct fs_flow_extra *x = m->out[r].x;
    count[r] = x ? x->header_count : 0;
    if (x) memcpy(bytes + r * row, fs_extra_headers(x, cfg), row);
    else memset(bytes + r * row, 0, row);
  }
  return napi_ok;
}

/* Packet events: { n, names, num: Float64Array(n * names), src, dst: Uint8Array(n * 16), ip: Uint8Array }
 * num is column after column; ip_off / ip_len locate each packet's IP bytes in ip. */
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

static napi_status events_object(napi_env env, const struct fs_events *e, napi_value batch) {
  static const char *const names[] = { EVENT_COLUMNS(NAME) };
  enum { K = 0 EVENT_COLUMNS(COUNT) };
  size_t n = e->len;
  napi_value o, a;
  double *num;
  uint8_t *src, *dst, *ip;
  NAPI(napi_create_object(env, &o));
  NAPI(napi_create_uint32(env, (uint32_t)n, &a));
  NAPI(napi_set_named_property(env, o, "n", a));
  NAPI(names_array(env, names, K, &a));
  NAPI(napi_set_named_property(env, o, "names", a));
  NAPI(typed(env, o, "num", napi_float64_array, 8, n * K, (void **)&num));
  NAPI(typed(env, o, "src", napi_uint8_array, 1, n * 16, (void **)&src));
  NAPI(typed(env, o, "dst", napi_uint8_array, 1, n * 16, (void **)&dst));
  NAPI(typed(env, o, "ip", napi_uint8_array, 1, e->arena_len, (void **)&ip));
  if (e->arena_len) memcpy(ip, e->arena, e->arena_len);
  for (size_t r = 0; r < n; r++) {
    const struct fs_event *v = &e->ev[r];
    size_t c = 0;
#define FILL(name, expr) num[c++ * n + r] = (double)(expr);
    EVENT_COLUMNS(FILL)
#undef FILL
    memcpy(src + 16 * r, v->src_ip, 16);
    memcpy(dst + 16 * r, v->dst_ip, 16);
  }
  return napi_set_named_property(env, batch, "events", o);
}

napi_status fs_batch_build(napi_env env, const struct fs_meter *m, size_t n, napi_value *out) {
  NAPI(napi_create_object(env, out));
  napi_value v;
  NAPI(napi_create_uint32(env, (uint32_t)n, &v));
  NAPI(napi_set_named_property(env, *out, "length", v));

  double *col;
  NAPI(typed(env, *out, "base", napi_float64_array, sizeof(double), n * N_BASE, (void **)&col));
  {
    size_t c = 0;
#define FILL(name, expr) for (size_t r = 0; r < n; r++) { const struct fs_flow *f = &m->out[r]; col[c * n + r] = (double)(expr); } c++;
    BASE_COLUMNS(FILL)
    if (m->cfg.features.stats) {
      NAPI(typed(env, *out, "stats", napi_float64_array, sizeof(double), n * N_STATS, (void **)&col));
      c = 0;
      STATS_COLUMNS(FILL)
    }
#undef FILL
  }
  if (m->new_len) { /* opaque to JavaScript: handed back to socketLookup() as they are */
    napi_value keys;
    void *data;
    NAPI(napi_create_buffer_copy(env, m->new_len * sizeof(*m->new_keys), m->new_keys, &data, &keys));
    NAPI(napi_set_named_property(env, *out, "newFlowKeys", keys));
  }
  if (m->events) {
    NAPI(events_object(env, m->events, *out));
    double *uids;
    NAPI(typed(env, *out, "uids", napi_float64_array, 8, n, (void **)&uids));
    for (size_t r = 0; r < n; r++) uids[r] = (double)m->out[r].uid;
  }
  if (m->cfg.features.activity) NAPI(activity_columns(env, m, n, *out));
  if (m->cfg.time_precision) NAPI(fine_time_columns(env, m, n, *out));
  if (m->cfg.features.payload_bytes) NAPI(payload_column(env, m, n, *out));
  if (m->cfg.features.header_packets) NAPI(header_column(env, m, n, *out));

  napi_value strings;
  NAPI(napi_create_object(env, &strings));
  NAPI(string_column(env, strings, "src_ip", m, n, 0));
  NAPI(string_column(env, strings, "dst_ip", m, n, 1));
  NAPI(string_column(env, strings, "src_mac", m, n, 2));
  NAPI(string_column(env, strings, "dst_mac", m, n, 3));
  NAPI(string_column(env, strings, "src_oui", m, n, 4));
  NAPI(string_column(env, strings, "dst_oui", m, n, 5));
  if (m->cfg.community_id) {
    napi_value arr;
    NAPI(napi_create_array_with_length(env, n, &arr));
    for (size_t r = 0; r < n; r++) {
      char id[FS_COMMUNITY_ID_LEN];
      fs_community_id(&m->out[r], m->cfg.community_id_seed, id);
      napi_value sv;
      NAPI(napi_create_string_latin1(env, id, NAPI_AUTO_LENGTH, &sv));
      NAPI(napi_set_element(env, arr, (uint32_t)r, sv));
    }
    NAPI(napi_set_named_property(env, strings, "community_id", arr));
  }
  if (m->dpi) {
    static const char *const dpi_names[FS_DPI_TEXTS] = { "application_name", "application_category_name",
      "requested_server_name", "client_fingerprint", "server_fingerprint", "user_agent", "content_type", "client_ja4" };
    for (int i = 0; i < FS_DPI_TEXTS; i++) {
      napi_value arr;
      NAPI(napi_create_array_with_length(env, n, &arr));
      for (size_t r = 0; r < n; r++) {
        napi_value s;
        NAPI(napi_create_string_utf8(env, fs_dpi_text(m->out[r].dpi, (enum fs_dpi_text)i), NAPI_AUTO_LENGTH, &s));
        NAPI(napi_set_element(env, arr, (uint32_t)r, s));
      }
      NAPI(napi_set_named_property(env, strings, dpi_names[i], arr));
    }
  }
  NAPI(napi_set_named_property(env, *out, "strings", strings));

  uint32_t k = m->cfg.features.splt;
  if (k) {
    int8_t *dir; int32_t *ps; double *piat;
    napi_value splt, a;
    NAPI(napi_create_object(env, &splt));
    NAPI(typed(env, splt, "direction", napi_int8_array, 1, n * k, (void **)&dir));
    NAPI(typed(env, splt, "ps", napi_int32_array, 4, n * k, (void **)&ps));
    NAPI(typed(env, splt, "piat_ms", napi_float64_array, 8, n * k, (void **)&piat));
    for (size_t r = 0; r < n; r++) {
      const struct fs_flow *f = &m->out[r];
      for (uint32_t i = 0; i < k; i++) {
        dir[r * k + i] = f->splt_dir ? f->splt_dir[i] : -1;
        ps[r * k + i] = f->splt_ps ? f->splt_ps[i] : -1;
        piat[r * k + i] = f->splt_piat_ms ? (double)f->splt_piat_ms[i] : -1;
      }
    }
    NAPI(napi_create_uint32(env, k, &a));
    NAPI(napi_set_named_property(env, splt, "n", a));
    NAPI(napi_set_named_property(env, *out, "splt", splt));
  }
  return napi_ok;
}
