#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "batch.h"

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

#define NAME(name, expr) #name,
#define COUNT(name, expr) +1
static const char *const base_names[] = { BASE_COLUMNS(NAME) };
static const char *const stats_names[] = { STATS_COLUMNS(NAME) };
enum { N_BASE = 0 BASE_COLUMNS(COUNT), N_STATS = 0 STATS_COLUMNS(COUNT) };

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
  napi_value b, s;
  NAPI(napi_create_object(env, out));
  NAPI(names_array(env, base_names, N_BASE, &b));
  NAPI(names_array(env, stats_names, N_STATS, &s));
  NAPI(napi_set_named_property(env, *out, "base", b));
  NAPI(napi_set_named_property(env, *out, "stats", s));
  return napi_ok;
}

static napi_status typed(napi_env env, napi_typedarray_type type, size_t elem, size_t len, void **data,
                         napi_value *out) {
  napi_value ab;
  NAPI(napi_create_arraybuffer(env, elem * (len ? len : 1), data, &ab));
  return napi_create_typedarray(env, type, len, ab, 0, out);
}

static void fmt_ip(const uint8_t *ip, uint8_t version, char *buf) {
  if (version == 6) inet_ntop(AF_INET6, ip, buf, INET6_ADDRSTRLEN);
  else inet_ntop(AF_INET, ip, buf, INET6_ADDRSTRLEN);
}

static napi_status string_column(napi_env env, napi_value strings, const char *name, const struct fs_meter *m,
                                 size_t n, int kind) {
  napi_value arr;
  NAPI(napi_create_array_with_length(env, n, &arr));
  char buf[64];
  for (size_t r = 0; r < n; r++) {
    const struct fs_flow *f = &m->out[r];
    const uint8_t *mac = (kind & 1) ? f->dst_mac : f->src_mac;
    switch (kind) {
    case 0: fmt_ip(f->src_ip, f->ip_version, buf); break;
    case 1: fmt_ip(f->dst_ip, f->ip_version, buf); break;
    case 2: case 3: fmt_mac(mac, 6, buf); break;
    default: fmt_mac(mac, 3, buf); break;
    }
    napi_value s;
    NAPI(napi_create_string_latin1(env, buf, NAPI_AUTO_LENGTH, &s));
    NAPI(napi_set_element(env, arr, (uint32_t)r, s));
  }
  return napi_set_named_property(env, strings, name, arr);
}

napi_status fs_batch_build(napi_env env, const struct fs_meter *m, size_t n, napi_value *out) {
  NAPI(napi_create_object(env, out));
  napi_value v;
  NAPI(napi_create_uint32(env, (uint32_t)n, &v));
  NAPI(napi_set_named_property(env, *out, "length", v));

  double *col;
  NAPI(typed(env, napi_float64_array, sizeof(double), n * N_BASE, (void **)&col, &v));
  NAPI(napi_set_named_property(env, *out, "base", v));
  {
    size_t c = 0;
#define FILL(name, expr) for (size_t r = 0; r < n; r++) { const struct fs_flow *f = &m->out[r]; col[c * n + r] = (double)(expr); } c++;
    BASE_COLUMNS(FILL)
    if (m->cfg.features.stats) {
      NAPI(typed(env, napi_float64_array, sizeof(double), n * N_STATS, (void **)&col, &v));
      NAPI(napi_set_named_property(env, *out, "stats", v));
      c = 0;
      STATS_COLUMNS(FILL)
    }
#undef FILL
  }

  napi_value strings;
  NAPI(napi_create_object(env, &strings));
  NAPI(string_column(env, strings, "src_ip", m, n, 0));
  NAPI(string_column(env, strings, "dst_ip", m, n, 1));
  NAPI(string_column(env, strings, "src_mac", m, n, 2));
  NAPI(string_column(env, strings, "dst_mac", m, n, 3));
  NAPI(string_column(env, strings, "src_oui", m, n, 4));
  NAPI(string_column(env, strings, "dst_oui", m, n, 5));
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
    NAPI(typed(env, napi_int8_array, 1, n * k, (void **)&dir, &a));
    NAPI(napi_set_named_property(env, splt, "direction", a));
    NAPI(typed(env, napi_int32_array, 4, n * k, (void **)&ps, &a));
    NAPI(napi_set_named_property(env, splt, "ps", a));
    NAPI(typed(env, napi_float64_array, 8, n * k, (void **)&piat, &a));
    NAPI(napi_set_named_property(env, splt, "piat_ms", a));
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
