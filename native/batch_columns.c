#include <arpa/inet.h>
#include <math.h>
#include <string.h>
#include "batch_columns.h"
#include "flow_extra.h"

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

/* a time since 1970 in ms and ns as an int64 count of 1/per_ms of a millisecond: past what that
 * holds (2262 in ns; year 294,247 in us) the largest, not wrapped into the past */
static uint64_t since_1970(uint64_t ms, uint32_t ns, uint64_t per_ms) {
  if (ms > (uint64_t)INT64_MAX / per_ms) return INT64_MAX;
  uint64_t v = ms * per_ms + ns / (1000000 / per_ms);
  return v > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v;
}

static uint64_t scope_us(const struct fs_scope *s, bool last) {
  return last ? since_1970(s->last_ms, s->last_ns, 1000) : since_1970(s->first_ms, s->first_ns, 1000);
}

static double rate(const struct fs_flow *f, uint64_t count) {
  uint64_t d = scope_us(&f->s[FS_BI], true) - scope_us(&f->s[FS_BI], false);
  return d ? (double)count * 1e6 / (double)d : 0.0;
}

const char *const fs_cols_base_names[FS_COLS_N_BASE] = { BASE_COLUMNS(FS_COLS_NAME) };
const char *const fs_cols_stats_names[FS_COLS_N_STATS] = { STATS_COLUMNS(FS_COLS_NAME) };
const char *const fs_cols_activity_names[FS_COLS_N_ACTIVITY] = { ACTIVITY_COLUMNS(FS_COLS_NAME) };
const char *const fs_cols_event_names[FS_COLS_N_EVENT] = { EVENT_COLUMNS(FS_COLS_NAME) };
const char *const fs_cols_address_names[FS_COLS_N_ADDRESS] = { "src_ip", "dst_ip", "src_mac", "dst_mac", "src_oui", "dst_oui" };
const char *const fs_cols_dpi_names[FS_DPI_TEXTS] = { "application_name", "application_category_name", "requested_server_name",
  "client_fingerprint", "server_fingerprint", "user_agent", "content_type", "client_ja4" };

#define FILL(name, expr) for (size_t r = 0; r < n; r++) { const struct fs_flow *f = fs_meter_out(m, r); col[c * n + r] = (double)(expr); } c++;
#define FILL_STATS(name, expr) \
  for (size_t r = 0; r < n; r++) { const struct fs_flow *f = fs_meter_out(m, r); const struct fs_scope_stats *st = fs_flow_stats(f); \
    col[c * n + r] = (double)(expr); } c++;
void fs_cols_base(const struct fs_meter *m, size_t n, double *col) {
  size_t c = 0;
  BASE_COLUMNS(FILL)
}

void fs_cols_stats(const struct fs_meter *m, size_t n, double *col) {
  size_t c = 0;
  STATS_COLUMNS(FILL_STATS)
}
#undef FILL
#undef FILL_STATS

void fs_cols_activity(const struct fs_meter *m, size_t n, double *col) {
  static const struct fs_flow_extra none;
  for (size_t r = 0; r < n; r++) {
    const struct fs_flow *f = fs_meter_out(m, r);
    const struct fs_flow_extra *x = f->x ? f->x : &none;
    struct fs_run act = fs_extra_active_final(x);
    size_t c = 0;
#define FILL(name, expr) col[c++ * n + r] = (double)(expr);
    ACTIVITY_COLUMNS(FILL)
#undef FILL
  }
}

/* BigUint64Array in JavaScript, since nanoseconds since 1970 pass 2^53 */
void fs_cols_fine_time(const struct fs_meter *m, size_t n, uint64_t *col) {
  bool ns = m->cfg.time_precision == 2;
  for (size_t r = 0; r < n; r++) {
    const struct fs_flow *f = fs_meter_out(m, r);
    for (int s = 0; s < FS_SCOPES; s++) {
      const struct fs_scope *sc = &f->s[s];
      uint64_t first = ns ? since_1970(sc->first_ms, sc->first_ns, 1000000) : scope_us(sc, false);
      uint64_t last = ns ? since_1970(sc->last_ms, sc->last_ns, 1000000) : scope_us(sc, true);
      if (!sc->packets) first = last = 0;
      col[(size_t)(3 * s) * n + r] = first;
      col[(size_t)(3 * s + 1) * n + r] = last;
      col[(size_t)(3 * s + 2) * n + r] = last - first;
    }
  }
}

void fs_cols_payload(const struct fs_meter *m, size_t n, uint8_t *bytes, double *len) {
  uint32_t w = m->cfg.features.payload_bytes;
  memset(bytes, 0, n * w);
  for (size_t r = 0; r < n; r++) {
    struct fs_flow_extra *x = fs_meter_out(m, r)->x;
    len[r] = x ? x->payload_len : 0;
    if (x) memcpy(bytes + r * w, fs_extra_payload(x), x->payload_len);
  }
}

void fs_cols_header(const struct fs_meter *m, size_t n, uint8_t *bytes, double *count) {
  const struct fs_feature_config *cfg = &m->cfg.features;
  size_t row = (size_t)cfg->header_packets * cfg->header_width;
  for (size_t r = 0; r < n; r++) {
    struct fs_flow_extra *x = fs_meter_out(m, r)->x;
    count[r] = x ? x->header_count : 0;
    if (x) memcpy(bytes + r * row, fs_extra_headers(x, cfg), row);
    else memset(bytes + r * row, 0, row);
  }
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

size_t fs_cols_address(const struct fs_flow *f, int kind, char *buf) {
  const uint8_t *mac = (kind & 1) ? f->dst_mac : f->src_mac;
  switch (kind) {
  case 0: fmt_ip(f->src_ip, f->ip_version, buf); break;
  case 1: fmt_ip(f->dst_ip, f->ip_version, buf); break;
  case 2: case 3: fmt_mac(mac, 6, buf); break;
  default: fmt_mac(mac, 3, buf); break;
  }
  return strlen(buf);
}

size_t fs_cols_addresses(const struct fs_meter *m, size_t n, int kind, char *text) {
  char *at = text;
  for (size_t r = 0; r < n; r++) {
    if (r) *at++ = '\n';
    at += fs_cols_address(fs_meter_out(m, r), kind, at);
  }
  return (size_t)(at - text);
}

void fs_cols_splt(const struct fs_meter *m, size_t n, int8_t *dir, int32_t *ps, double *piat) {
  uint32_t k = m->cfg.features.splt;
  for (size_t r = 0; r < n; r++) {
    const struct fs_flow *f = fs_meter_out(m, r);
    for (uint32_t i = 0; i < k; i++) {
      dir[r * k + i] = f->splt_dir ? f->splt_dir[i] : -1;
      ps[r * k + i] = f->splt_ps ? f->splt_ps[i] : -1;
      piat[r * k + i] = f->splt_piat_ms ? (double)f->splt_piat_ms[i] : -1;
    }
  }
}

void fs_cols_events(const struct fs_events *e, double *num, uint8_t *src, uint8_t *dst) {
  size_t n = e->len;
  for (size_t r = 0; r < n; r++) {
    const struct fs_event *v = &e->ev[r];
    size_t c = 0;
#define FILL(name, expr) num[c++ * n + r] = (double)(expr);
    EVENT_COLUMNS(FILL)
#undef FILL
    memcpy(src + 16 * r, v->src_ip, 16);
    memcpy(dst + 16 * r, v->dst_ip, 16);
  }
}
