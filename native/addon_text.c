#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addon_text.h"
#include "batch_columns.h"

static const char *const source_names[] = {
  [FS_TS_BASE] = "base", [FS_TS_STATS] = "stats", [FS_TS_ACTIVITY] = "activity", [FS_TS_FINE] = "fine",
  [FS_TS_ADDRESS] = "address", [FS_TS_COMMUNITY] = "community", [FS_TS_DPI] = "dpi", [FS_TS_SPLT] = "splt",
  [FS_TS_PAYLOAD] = "payload", [FS_TS_PAYLOAD_LEN] = "payload_len", [FS_TS_HEADER] = "header",
  [FS_TS_HEADER_COUNT] = "header_count",
};
#define N_SOURCES (sizeof(source_names) / sizeof(source_names[0]))

/* how many columns each source has (an index past it is refused) */
static uint32_t source_width(enum fs_text_source s) {
  switch (s) {
  case FS_TS_BASE: return FS_COLS_N_BASE;
  case FS_TS_STATS: return FS_COLS_N_STATS;
  case FS_TS_ACTIVITY: return FS_COLS_N_ACTIVITY;
  case FS_TS_FINE: return 3 * FS_SCOPES;
  case FS_TS_ADDRESS: return FS_COLS_N_ADDRESS;
  case FS_TS_DPI: return FS_DPI_TEXTS;
  case FS_TS_SPLT: return 3;
  default: return 1;
  }
}

static bool fail(napi_env env, const char *what) {
  char msg[128];
  snprintf(msg, sizeof(msg), "textOutput(): %s", what);
  napi_throw_type_error(env, "FS_ARG", msg);
  return false;
}

static bool get_prop(napi_env env, napi_value o, const char *name, napi_valuetype type, napi_value *out) {
  napi_valuetype t;
  return napi_get_named_property(env, o, name, out) == napi_ok && napi_typeof(env, *out, &t) == napi_ok && t == type;
}

/* a string property into buf (NUL-terminated); false when missing or too long */
static bool get_string(napi_env env, napi_value o, const char *name, char *buf, size_t cap, size_t *len) {
  napi_value v;
  return get_prop(env, o, name, napi_string, &v) && napi_get_value_string_utf8(env, v, buf, cap, len) == napi_ok && *len < cap - 1;
}

static bool get_number(napi_env env, napi_value o, const char *name, double *out) {
  napi_value v;
  return get_prop(env, o, name, napi_number, &v) && napi_get_value_double(env, v, out) == napi_ok;
}

/* { format: 'csv' | 'jsonl', idColumn, maxFlows, columns: [{ source, index, key }] } */
bool fs_text_plan_read(napi_env env, napi_value spec, struct fs_text_plan *pl) {
  memset(pl, 0, sizeof(*pl));
  char buf[512];
  size_t len;
  double id_col, max_flows;
  napi_value cols;
  bool is_array = false;
  if (!get_string(env, spec, "format", buf, sizeof(buf), &len) || (strcmp(buf, "csv") != 0 && strcmp(buf, "jsonl") != 0)) {
    return fail(env, "format must be csv or jsonl");
  }
  pl->format = strcmp(buf, "csv") == 0 ? FS_TEXT_CSV : FS_TEXT_JSONL;
  if (!get_number(env, spec, "idColumn", &id_col) || !(id_col >= 0 && id_col < FS_COLS_N_BASE) || id_col != (int32_t)id_col) {
    return fail(env, "idColumn must be a base column");
  }
  if (!get_number(env, spec, "maxFlows", &max_flows) || !(max_flows >= 0 && max_flows <= 9007199254740992.0)) {
    return fail(env, "maxFlows must be a whole number of flows");
  }
  pl->id_col = (int32_t)id_col;
  pl->max_flows = (uint64_t)max_flows;
  napi_value omit;
  bool omit_id = false;
  if (get_prop(env, spec, "omitId", napi_boolean, &omit)) napi_get_value_bool(env, omit, &omit_id);
  pl->omit_id = omit_id;
  napi_value lend;
  bool lend_bytes = false;
  if (get_prop(env, spec, "lendBuffers", napi_boolean, &lend)) napi_get_value_bool(env, lend, &lend_bytes);
  pl->lend = lend_bytes;
  uint32_t n = 0;
  if (napi_get_named_property(env, spec, "columns", &cols) != napi_ok || napi_is_array(env, cols, &is_array) != napi_ok ||
      !is_array || napi_get_array_length(env, cols, &n) != napi_ok || n == 0 || n > 4096) {
    return fail(env, "columns must be an array of 1 to 4096 columns");
  }
  if (!(pl->cols = calloc(n, sizeof(*pl->cols)))) return fail(env, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    struct fs_text_col *c = &pl->cols[i];
    pl->n_cols = i + 1; /* freed with the plan from here on */
    napi_value col;
    double index;
    uint32_t s = 0;
    if (napi_get_element(env, cols, i, &col) != napi_ok || !get_string(env, col, "source", buf, sizeof(buf), &len)) break;
    while (s < N_SOURCES && strcmp(buf, source_names[s]) != 0) s++;
    if (s == N_SOURCES || !get_number(env, col, "index", &index) || !(index >= 0 && index < source_width(s)) ||
        index != (uint32_t)index || !get_string(env, col, "key", buf, sizeof(buf), &len)) break;
    c->source = (uint8_t)s;
    c->index = (uint16_t)index;
    c->key_len = len;
    if (!(c->key = malloc(len ? len : 1))) { fs_text_plan_free(pl); return fail(env, "out of memory"); }
    memcpy(c->key, buf, len);
    if (i + 1 < n) continue;
    /* rows without their id: the id must be the first column, a base one */
    if (pl->omit_id && (pl->cols[0].source != FS_TS_BASE || pl->cols[0].index != pl->id_col)) {
      fs_text_plan_free(pl);
      return fail(env, "omitId needs the id as the first column");
    }
    return true;
  }
  char what[96];
  snprintf(what, sizeof(what), "column %u needs a known source, an index within it and a key", pl->n_cols - 1);
  fs_text_plan_free(pl);
  return fail(env, what);
}

bool fs_text_plan_fits(napi_env env, struct fs_text_plan *pl, const struct fs_meter *m) {
  const struct fs_feature_config *fc = &m->cfg.features;
  for (uint32_t i = 0; i < pl->n_cols; i++) {
    bool on;
    switch (pl->cols[i].source) {
    case FS_TS_STATS: on = fc->stats; break;
    case FS_TS_ACTIVITY: on = fc->activity; break;
    case FS_TS_FINE: on = m->cfg.time_precision != 0; break;
    case FS_TS_COMMUNITY: on = m->cfg.community_id; break;
    case FS_TS_DPI: on = m->dpi != NULL; break;
    case FS_TS_SPLT: on = fc->splt > 0; break;
    case FS_TS_PAYLOAD: case FS_TS_PAYLOAD_LEN: on = fc->payload_bytes > 0; break;
    case FS_TS_HEADER: case FS_TS_HEADER_COUNT: on = fc->header_packets > 0; break;
    default: on = true; break;
    }
    if (!on) {
      char what[96];
      snprintf(what, sizeof(what), "column %u: the meter was opened without its option", i);
      fs_text_plan_free(pl);
      return fail(env, what);
    }
  }
  return true;
}

/* Buffers lent to JavaScript come back here once their bytes are written (release() detaches them)
 * or collected, for the next step of any meter: a fresh buffer for every part cost a page fault per
 * 4 kB as the rows filled it, and a copy into JavaScript's memory cost as much again. A few are kept,
 * the rest freed. */
#define SPARE_MAX 4
#define SPARE_BYTES ((size_t)32 << 20)
static struct { char *p; size_t cap; } spare[SPARE_MAX];
static int n_spare;
static size_t spare_bytes;
static uint64_t n_lent, n_reused;   /* textBuffers(): buffers lent, and lent again after coming back */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;

static void take_spare(struct fs_text_buf *b) {
  pthread_mutex_lock(&spare_lock);
  if (n_spare > 0) {
    n_spare--;
    *b = (struct fs_text_buf){ .p = spare[n_spare].p, .cap = spare[n_spare].cap };
    spare_bytes -= b->cap;
    n_reused++;
  }
  pthread_mutex_unlock(&spare_lock);
}

static void give_back(napi_env env, void *data, void *hint) {
  (void)env;
  size_t cap = (size_t)(uintptr_t)hint;
  pthread_mutex_lock(&spare_lock);
  if (n_spare < SPARE_MAX && spare_bytes + cap <= SPARE_BYTES) {
    spare[n_spare].p = data;
    spare[n_spare++].cap = cap;
    spare_bytes += cap;
    data = NULL;
  }
  pthread_mutex_unlock(&spare_lock);
  free(data);
}

void fs_text_encode(struct fs_text_out *t, struct fs_runner *r, size_t n) {
  const struct fs_meter *m = &r->meter;
  if (!t->buf.p && t->plan.lend) take_spare(&t->buf);
  uint64_t first = UINT64_MAX;
  if (r->spread && n) first = atomic_fetch_add(&r->spread->next_id, n);
  t->first = first != UINT64_MAX ? first : n ? fs_meter_out(m, 0)->id : 0;
  t->flows = n;
  t->buf.len = 0;
  t->rows = 0;
  uint32_t *ends = NULL;
  if (t->plan.omit_id && n > t->ends_cap) {
    uint32_t *e = realloc(t->ends, n * sizeof(*e));
    if (!e) { t->failed = true; return; }
    t->ends = e;
    t->ends_cap = n;
  }
  if (t->plan.omit_id) ends = t->ends;
  long rows = fs_text_rows(&t->plan, m, n, first, &t->buf, ends);
  t->failed = rows < 0;
  t->rows = rows < 0 ? 0 : (size_t)rows;
}

/* The rows as a Buffer: the buffer itself where the plan lends it (the next step takes another),
 * else a copy. */
static bool bytes_of(napi_env env, struct fs_text_out *t, napi_value *v) {
  void *data;
  if (t->plan.lend && t->buf.len &&
      napi_create_external_buffer(env, t->buf.len, t->buf.p, give_back, (void *)(uintptr_t)t->buf.cap, v) == napi_ok) {
    t->buf = (struct fs_text_buf){ 0 };
    pthread_mutex_lock(&spare_lock);
    n_lent++;
    pthread_mutex_unlock(&spare_lock);
    return true;
  }
  return napi_create_buffer_copy(env, t->buf.len, t->buf.len ? t->buf.p : "", &data, v) == napi_ok;
}

napi_value fs_text_part(napi_env env, struct fs_text_out *t) {
  if (t->failed) {
    napi_throw_error(env, "FS_NOMEM", "out of memory while writing flows as text");
    return NULL;
  }
  napi_value o, v;
  if (napi_create_object(env, &o) != napi_ok ||
      napi_create_double(env, (double)t->flows, &v) != napi_ok || napi_set_named_property(env, o, "length", v) != napi_ok ||
      napi_create_double(env, (double)t->first, &v) != napi_ok || napi_set_named_property(env, o, "first", v) != napi_ok ||
      !bytes_of(env, t, &v) || napi_set_named_property(env, o, "bytes", v) != napi_ok) {
    return NULL;
  }
  if (t->plan.omit_id) {
    napi_value ab, arr;
    void *ends;
    if (napi_create_arraybuffer(env, t->rows * sizeof(uint32_t), &ends, &ab) != napi_ok ||
        napi_create_typedarray(env, napi_uint32_array, t->rows, ab, 0, &arr) != napi_ok ||
        napi_set_named_property(env, o, "ends", arr) != napi_ok) return NULL;
    if (t->rows) memcpy(ends, t->ends, t->rows * sizeof(uint32_t));
  }
  /* a large batch's buffer is not kept for the next */
  if (t->buf.cap > ((size_t)8 << 20)) { free(t->buf.p); t->buf = (struct fs_text_buf){ 0 }; }
  return o;
}

void fs_text_out_free(struct fs_text_out *t) {
  fs_text_plan_free(&t->plan);
  free(t->buf.p);
  free(t->ends);
  memset(t, 0, sizeof(*t));
}

napi_value fs_js_text_cell(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  char fmt[8] = "";
  size_t flen = 0, len = 0;
  void *bytes = NULL, *data;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], fmt, sizeof(fmt), &flen) != napi_ok ||
      napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], &bytes, &len) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "textCell() needs 'csv' or 'jsonl' and a Buffer");
    return NULL;
  }
  struct fs_text_buf b = { 0 };
  if (fs_text_cell(strcmp(fmt, "csv") == 0 ? FS_TEXT_CSV : FS_TEXT_JSONL, len ? bytes : "", len, &b) != 0) {
    free(b.p);
    napi_throw_error(env, "FS_NOMEM", "out of memory");
    return NULL;
  }
  napi_status st = napi_create_buffer_copy(env, b.len, b.len ? b.p : "", &data, &out);
  free(b.p);
  return st == napi_ok ? out : NULL;
}

napi_value fs_js_text_buffers(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o, v;
  pthread_mutex_lock(&spare_lock);
  double lent = (double)n_lent, reused = (double)n_reused;
  pthread_mutex_unlock(&spare_lock);
  if (napi_create_object(env, &o) != napi_ok || napi_create_double(env, lent, &v) != napi_ok ||
      napi_set_named_property(env, o, "lent", v) != napi_ok || napi_create_double(env, reused, &v) != napi_ok ||
      napi_set_named_property(env, o, "reused", v) != napi_ok) return NULL;
  return o;
}
