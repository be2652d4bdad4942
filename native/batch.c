#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "batch_columns.h"
#include "community_id.h"

#define NAPI(call) do { napi_status st_ = (call); if (st_ != napi_ok) return st_; } while (0)

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
  NAPI(names_array(env, fs_cols_base_names, FS_COLS_N_BASE, &b));
  NAPI(names_array(env, fs_cols_stats_names, FS_COLS_N_STATS, &s));
  NAPI(names_array(env, fs_cols_activity_names, FS_COLS_N_ACTIVITY, &a));
  NAPI(napi_set_named_property(env, *out, "base", b));
  NAPI(napi_set_named_property(env, *out, "stats", s));
  NAPI(napi_set_named_property(env, *out, "activity", a));
  /* the string columns, in the order the text rows' plan numbers them (text_rows.h) */
  napi_value strings, addr, dpi;
  NAPI(napi_create_object(env, &strings));
  NAPI(names_array(env, fs_cols_address_names, FS_COLS_N_ADDRESS, &addr));
  NAPI(names_array(env, fs_cols_dpi_names, FS_DPI_TEXTS, &dpi));
  NAPI(napi_set_named_property(env, strings, "addresses", addr));
  NAPI(napi_set_named_property(env, strings, "dpi", dpi));
  return napi_set_named_property(env, *out, "strings", strings);
}

/* A typed array of len elements as obj[name]; *data is where to fill it. */
static napi_status typed(napi_env env, napi_value obj, const char *name, napi_typedarray_type type, size_t elem, size_t len,
                         void **data) {
  napi_value ab, arr;
  NAPI(napi_create_arraybuffer(env, elem * (len ? len : 1), data, &ab));
  NAPI(napi_create_typedarray(env, type, len, ab, 0, &arr));
  return napi_set_named_property(env, obj, name, arr);
}

/* Addresses of every flow as ONE string, "\n" between values, split in JavaScript: one Node-API
 * call per column instead of one per value (creating 6 strings per flow one call at a time was a
 * tenth of a whole --dissections 0 read, on the main thread). */
static napi_status string_column(napi_env env, napi_value strings, const char *name, const struct fs_meter *m,
                                 size_t n, int kind) {
  char *text = malloc(n * FS_COLS_ADDRESS_WIDTH + 1);
  if (!text) return napi_generic_failure;
  size_t len = fs_cols_addresses(m, n, kind, text);
  napi_value s;
  napi_status st = napi_create_string_latin1(env, text, len, &s);
  free(text);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, strings, name, s);
}

/* A detection text of every flow as an array of strings. Most values repeat within a batch (an
 * empty string, an application or category name): a value met again is the same JavaScript
 * string, not a new one, so a batch makes a few hundred strings instead of a few thousand per
 * column (fewer objects for the young generation to copy while the batch is written). */
#define TEXT_SEEN 64
static napi_status text_column(napi_env env, napi_value strings, const char *name, const struct fs_meter *m, size_t n,
                               enum fs_dpi_text which) {
  struct { const char *text; napi_value s; } seen[TEXT_SEEN] = { { NULL, NULL } };
  napi_value arr;
  NAPI(napi_create_array_with_length(env, n, &arr));
  for (size_t r = 0; r < n; r++) {
    const char *t = fs_dpi_text(fs_meter_out(m, r)->dpi, which);
    uint32_t h = 2166136261u; /* FNV-1a of the first bytes: enough to spread a few distinct values */
    for (int k = 0; k < 16 && t[k]; k++) h = (h ^ (uint8_t)t[k]) * 16777619u;
    h %= TEXT_SEEN;
    if (!seen[h].text || strcmp(seen[h].text, t) != 0) {
      seen[h].text = t;
      NAPI(napi_create_string_utf8(env, t, NAPI_AUTO_LENGTH, &seen[h].s));
    }
    NAPI(napi_set_element(env, arr, (uint32_t)r, seen[h].s));
  }
  return napi_set_named_property(env, strings, name, arr);
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

/* Packet events: { n, names, num: Float64Array(n * names), src, dst: Uint8Array(n * 16), ip: Uint8Array }
 * num is column after column; ip_off / ip_len locate each packet's IP bytes in ip. */
static napi_status events_object(napi_env env, const struct fs_events *e, napi_value batch) {
  size_t n = e->len;
  napi_value o, a;
  double *num;
  uint8_t *src, *dst, *ip;
  NAPI(napi_create_object(env, &o));
  NAPI(napi_create_uint32(env, (uint32_t)n, &a));
  NAPI(napi_set_named_property(env, o, "n", a));
  NAPI(names_array(env, fs_cols_event_names, FS_COLS_N_EVENT, &a));
  NAPI(napi_set_named_property(env, o, "names", a));
  NAPI(typed(env, o, "num", napi_float64_array, 8, n * FS_COLS_N_EVENT, (void **)&num));
  NAPI(typed(env, o, "src", napi_uint8_array, 1, n * 16, (void **)&src));
  NAPI(typed(env, o, "dst", napi_uint8_array, 1, n * 16, (void **)&dst));
  NAPI(typed(env, o, "ip", napi_uint8_array, 1, e->arena_len, (void **)&ip));
  if (e->arena_len) memcpy(ip, e->arena, e->arena_len);
  fs_cols_events(e, num, src, dst);
  return napi_set_named_property(env, batch, "events", o);
}

napi_status fs_batch_build(napi_env env, const struct fs_meter *m, size_t n, napi_value *out) {
  NAPI(napi_create_object(env, out));
  napi_value v;
  NAPI(napi_create_uint32(env, (uint32_t)n, &v));
  NAPI(napi_set_named_property(env, *out, "length", v));

  double *col;
  NAPI(typed(env, *out, "base", napi_float64_array, sizeof(double), n * FS_COLS_N_BASE, (void **)&col));
  fs_cols_base(m, n, col);
  if (m->cfg.features.stats) {
    NAPI(typed(env, *out, "stats", napi_float64_array, sizeof(double), n * FS_COLS_N_STATS, (void **)&col));
    fs_cols_stats(m, n, col);
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
    for (size_t r = 0; r < n; r++) uids[r] = (double)fs_meter_out(m, r)->uid;
  }
  if (m->cfg.features.activity) {
    NAPI(typed(env, *out, "activity", napi_float64_array, sizeof(double), n * FS_COLS_N_ACTIVITY, (void **)&col));
    fs_cols_activity(m, n, col);
  }
  if (m->cfg.time_precision) {
    uint64_t *fine;
    NAPI(typed(env, *out, "fineTime", napi_biguint64_array, 8, n * 3 * FS_SCOPES, (void **)&fine));
    fs_cols_fine_time(m, n, fine);
  }
  if (m->cfg.features.payload_bytes) {
    uint8_t *bytes;
    double *len;
    NAPI(byte_block(env, *out, "payload", "len", n, 0, m->cfg.features.payload_bytes, &bytes, &len));
    fs_cols_payload(m, n, bytes, len);
  }
  if (m->cfg.features.header_packets) {
    uint8_t *bytes;
    double *count;
    NAPI(byte_block(env, *out, "header", "count", n, m->cfg.features.header_packets, m->cfg.features.header_width, &bytes, &count));
    fs_cols_header(m, n, bytes, count);
  }

  napi_value strings;
  NAPI(napi_create_object(env, &strings));
  for (int kind = 0; kind < FS_COLS_N_ADDRESS; kind++) NAPI(string_column(env, strings, fs_cols_address_names[kind], m, n, kind));
  if (m->cfg.community_id) {
    napi_value arr;
    NAPI(napi_create_array_with_length(env, n, &arr));
    for (size_t r = 0; r < n; r++) {
      char id[FS_COMMUNITY_ID_LEN];
      fs_community_id(fs_meter_out(m, r), m->cfg.community_id_seed, id);
      napi_value sv;
      NAPI(napi_create_string_latin1(env, id, NAPI_AUTO_LENGTH, &sv));
      NAPI(napi_set_element(env, arr, (uint32_t)r, sv));
    }
    NAPI(napi_set_named_property(env, strings, "community_id", arr));
  }
  if (m->dpi) {
    for (int i = 0; i < FS_DPI_TEXTS; i++) NAPI(text_column(env, strings, fs_cols_dpi_names[i], m, n, (enum fs_dpi_text)i));
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
    fs_cols_splt(m, n, dir, ps, piat);
    NAPI(napi_create_uint32(env, k, &a));
    NAPI(napi_set_named_property(env, splt, "n", a));
    NAPI(napi_set_named_property(env, *out, "splt", splt));
  }
  return napi_ok;
}
