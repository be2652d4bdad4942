#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "batch_columns.h"
#include "community_id.h"
#include "js_number.h"
#include "text_rows.h"

static int reserve(struct fs_text_buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 1 << 16;
  while (cap < b->len + extra) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

/* the callers reserve first */
static inline void put(struct fs_text_buf *b, const void *s, size_t n) { memcpy(b->p + b->len, s, n); b->len += n; }
static inline void putc1(struct fs_text_buf *b, char c) { b->p[b->len++] = c; }

static void put_u64(struct fs_text_buf *b, uint64_t v) {
  char tmp[20];
  int n = 0;
  do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) b->p[b->len++] = tmp[--n];
}

/* ByteBuilder.number(): a whole number below 2^53 digit by digit, anything else as String() */
static void put_number(struct fs_text_buf *b, double v) {
  if (v == trunc(v) && fabs(v) < 9007199254740992.0) {
    if (v < 0) { putc1(b, '-'); v = -v; }
    put_u64(b, (uint64_t)v);
    return;
  }
  b->len += fs_js_number(v, b->p + b->len);
}

#define NUMBER_MAX FS_JS_NUMBER_MAX

/* A float64 column's value: CSV leaves NaN empty; JSON has no spelling for NaN or the infinities */
static void put_value(struct fs_text_buf *b, enum fs_text_format f, double v) {
  if (f == FS_TEXT_JSONL && !isfinite(v)) put(b, "null", 4);
  else if (v == v) put_number(b, v);
}

static const char HEX[] = "0123456789abcdef";

static void put_hex(struct fs_text_buf *b, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) { b->p[b->len++] = HEX[s[i] >> 4]; b->p[b->len++] = HEX[s[i] & 15]; }
}

/* Text from C: as napi_create_string_utf8 decodes it (a byte that cannot begin a sequence, or the
 * longest start of a sequence cut short, becomes U+FFFD: the WHATWG decoder's rule, which V8
 * follows), then written back as UTF-8 with each ASCII byte through `ascii`. out needs room for
 * 6 bytes per input byte. */
enum text_mode { RAW, CSV_QUOTED, JSON };

static void put_ascii(struct fs_text_buf *b, enum text_mode mode, uint8_t c) {
  if (mode == CSV_QUOTED && c == '"') { put(b, "\"\"", 2); return; }
  if (mode == JSON && (c < 0x20 || c == '"' || c == '\\')) {
    static const char short_esc[] = { ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"', ['\\'] = '\\' };
    char e = c < sizeof(short_esc) ? short_esc[c] : 0;
    putc1(b, '\\');
    if (e) { putc1(b, e); return; }
    put(b, "u00", 3);
    putc1(b, HEX[c >> 4]);
    putc1(b, HEX[c & 15]);
    return;
  }
  putc1(b, (char)c);
}

static void put_text(struct fs_text_buf *b, enum text_mode mode, const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) { put_ascii(b, mode, c); i++; continue; }
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) { need = 2; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
    else { put(b, "\xef\xbf\xbd", 3); i++; continue; }
    size_t j = i + 1, k = 0;
    while (k < need && j < n && s[j] >= lo && s[j] <= hi) { j++; k++; lo = 0x80; hi = 0xbf; }
    if (k == need) put(b, s + i, j - i);
    else put(b, "\xef\xbf\xbd", 3); /* the bytes taken so far; the one that broke the sequence is read again */
    i = j;
  }
}

/* csvCell() and the JSON Lines writer's string rule, from the bytes */
static void put_string(struct fs_text_buf *b, enum fs_text_format f, const char *str, size_t n) {
  const uint8_t *s = (const uint8_t *)str;
  if (f == FS_TEXT_JSONL) {
    putc1(b, '"');
    put_text(b, JSON, s, n);
    putc1(b, '"');
    return;
  }
  bool quote = false;
  for (size_t i = 0; i < n && !quote; i++) quote = s[i] == '"' || s[i] == ',' || s[i] == '\r' || s[i] == '\n';
  if (quote) putc1(b, '"');
  put_text(b, quote ? CSV_QUOTED : RAW, s, n);
  if (quote) putc1(b, '"');
}

int fs_text_cell(enum fs_text_format format, const char *s, size_t len, struct fs_text_buf *out) {
  if (reserve(out, 6 * len + 2)) return -1;
  put_string(out, format, s, len);
  return 0;
}

static int grow(void **p, size_t bytes) {
  void *q = realloc(*p, bytes ? bytes : 1);
  if (!q) return -1;
  *p = q;
  return 0;
}

/* The value blocks of the batch, as batch.c would hand them to JavaScript. */
static int fill(struct fs_text_plan *pl, const struct fs_meter *m, size_t n) {
  const struct fs_feature_config *fc = &m->cfg.features;
  size_t k = fc->splt, hrow = (size_t)fc->header_packets * fc->header_width;
  if (n > pl->rows) { /* the blocks of options that are off stay a byte each */
    if (grow((void **)&pl->base, n * FS_COLS_N_BASE * sizeof(double)) ||
        grow((void **)&pl->stats, fc->stats ? n * FS_COLS_N_STATS * sizeof(double) : 0) ||
        grow((void **)&pl->activity, fc->activity ? n * FS_COLS_N_ACTIVITY * sizeof(double) : 0) ||
        grow((void **)&pl->fine, m->cfg.time_precision ? n * 3 * FS_SCOPES * sizeof(uint64_t) : 0) ||
        grow((void **)&pl->payload_len, n * sizeof(double)) || grow((void **)&pl->header_count, n * sizeof(double)) ||
        grow((void **)&pl->payload, n * fc->payload_bytes) || grow((void **)&pl->header, n * hrow) ||
        grow((void **)&pl->dir, n * k) || grow((void **)&pl->ps, n * k * sizeof(int32_t)) ||
        grow((void **)&pl->piat, n * k * sizeof(double))) return -1;
    pl->rows = n;
  }
  fs_cols_base(m, n, pl->base);
  if (fc->stats) fs_cols_stats(m, n, pl->stats);
  if (fc->activity) fs_cols_activity(m, n, pl->activity);
  if (m->cfg.time_precision) fs_cols_fine_time(m, n, pl->fine);
  if (fc->payload_bytes) fs_cols_payload(m, n, pl->payload, pl->payload_len);
  if (fc->header_packets) fs_cols_header(m, n, pl->header, pl->header_count);
  if (k) fs_cols_splt(m, n, pl->dir, pl->ps, pl->piat);
  return 0;
}

/* Room for the longest spelling of column c in one row. */
static size_t col_room(const struct fs_text_plan *pl, const struct fs_meter *m, const struct fs_text_col *c) {
  const struct fs_feature_config *fc = &m->cfg.features;
  size_t room = c->key_len + 8;
  switch (c->source) {
  case FS_TS_ADDRESS: case FS_TS_COMMUNITY: return room + FS_COLS_ADDRESS_WIDTH;
  case FS_TS_DPI: return room + 6 * 256;  /* the longest text nDPI's fields hold (dpi.c), each byte at most 6 */
  case FS_TS_SPLT: return room + (size_t)fc->splt * (NUMBER_MAX + 1);
  case FS_TS_PAYLOAD: return room + 2 * (size_t)fc->payload_bytes;
  case FS_TS_HEADER: return room + (size_t)fc->header_packets * (2 * (size_t)fc->header_width + 6);
  default: return room + NUMBER_MAX;
  }
}

static void put_col(struct fs_text_plan *pl, const struct fs_meter *m, const struct fs_text_col *c, size_t n, size_t r,
                    uint64_t id, struct fs_text_buf *b) {
  const struct fs_feature_config *fc = &m->cfg.features;
  enum fs_text_format f = pl->format;
  const struct fs_flow *fl = fs_meter_out(m, r);
  switch (c->source) {
  case FS_TS_BASE:
    if (c->index == pl->id_col && id != UINT64_MAX) put_u64(b, id);
    else put_value(b, f, pl->base[c->index * n + r]);
    break;
  case FS_TS_STATS: put_value(b, f, pl->stats[c->index * n + r]); break;
  case FS_TS_ACTIVITY: put_value(b, f, pl->activity[c->index * n + r]); break;
  case FS_TS_FINE: put_u64(b, pl->fine[c->index * n + r]); break;
  case FS_TS_PAYLOAD_LEN: put_value(b, f, pl->payload_len[r]); break;
  case FS_TS_HEADER_COUNT: put_value(b, f, pl->header_count[r]); break;
  case FS_TS_ADDRESS: {
    char text[FS_COLS_ADDRESS_WIDTH];
    size_t len = fs_cols_address(fl, c->index, text);
    put_string(b, f, text, len);
    break;
  }
  case FS_TS_COMMUNITY: {
    char text[FS_COMMUNITY_ID_LEN];
    fs_community_id(fl, m->cfg.community_id_seed, text);
    put_string(b, f, text, strlen(text));
    break;
  }
  case FS_TS_DPI: {
    const char *t = fs_dpi_text(fl->dpi, (enum fs_dpi_text)c->index);
    put_string(b, f, t, strlen(t));
    break;
  }
  case FS_TS_SPLT: {
    size_t k = fc->splt;
    put(b, f == FS_TEXT_CSV ? "\"[" : "[", f == FS_TEXT_CSV ? 2 : 1);
    for (size_t i = 0; i < k; i++) {
      if (i) putc1(b, ',');
      double v = c->index == 0 ? pl->dir[r * k + i] : c->index == 1 ? pl->ps[r * k + i] : pl->piat[r * k + i];
      if (f == FS_TEXT_JSONL && !isfinite(v)) put(b, "null", 4); else put_number(b, v);
    }
    put(b, f == FS_TEXT_CSV ? "]\"" : "]", f == FS_TEXT_CSV ? 2 : 1);
    break;
  }
  case FS_TS_PAYLOAD: {
    size_t w = fc->payload_bytes;
    if (f == FS_TEXT_JSONL) putc1(b, '"');
    put_hex(b, pl->payload + r * w, w);
    if (f == FS_TEXT_JSONL) putc1(b, '"');
    break;
  }
  case FS_TS_HEADER: {
    size_t w = fc->header_width, items = fc->header_packets;
    const char *q = f == FS_TEXT_CSV ? "\"\"" : "\"";
    size_t ql = strlen(q);
    if (f == FS_TEXT_CSV) putc1(b, '"');
    putc1(b, '[');
    for (size_t i = 0; i < items; i++) {
      if (i) putc1(b, ',');
      put(b, q, ql);
      put_hex(b, pl->header + (r * items + i) * w, w);
      put(b, q, ql);
    }
    putc1(b, ']');
    if (f == FS_TEXT_CSV) putc1(b, '"');
    break;
  }
  default: break;
  }
}

long fs_text_rows(struct fs_text_plan *pl, const struct fs_meter *m, size_t n, uint64_t first, struct fs_text_buf *out,
                  uint32_t *ends) {
  if (n == 0) return 0;
  if (fill(pl, m, n)) return -1;
  size_t room = 2;
  for (uint32_t i = 0; i < pl->n_cols; i++) room += col_room(pl, m, &pl->cols[i]) + 1;
  long written = 0;
  for (size_t r = 0; r < n; r++) {
    uint64_t id = first == UINT64_MAX ? UINT64_MAX : first + r;
    uint64_t own = id == UINT64_MAX ? fs_meter_out(m, r)->id : id;
    if (pl->max_flows && own >= pl->max_flows) continue;
    if (reserve(out, room)) return -1;
    for (uint32_t i = pl->omit_id ? 1 : 0; i < pl->n_cols; i++) {
      const struct fs_text_col *c = &pl->cols[i];
      if (pl->format == FS_TEXT_JSONL) put(out, c->key, c->key_len);
      else if (i) putc1(out, ',');
      put_col(pl, m, c, n, r, id, out);
    }
    if (pl->format == FS_TEXT_JSONL) putc1(out, '}');
    putc1(out, '\n');
    if (ends) ends[written] = (uint32_t)out->len;
    written++;
  }
  return written;
}

void fs_text_plan_free(struct fs_text_plan *pl) {
  for (uint32_t i = 0; i < pl->n_cols; i++) free(pl->cols[i].key);
  free(pl->cols);
  free(pl->base); free(pl->stats); free(pl->activity); free(pl->fine); free(pl->payload_len); free(pl->header_count);
  free(pl->payload); free(pl->header); free(pl->dir); free(pl->ps); free(pl->piat);
  memset(pl, 0, sizeof(*pl));
}
