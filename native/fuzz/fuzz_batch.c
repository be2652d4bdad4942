/* libFuzzer harness over batch building: fuzz_meter.c's packets and options (same input format),
 * and at the end of each input every finished flow and every packet event laid out in columns by
 * batch_columns.c — the part of batch.c that does not touch Node-API — into buffers of exactly the
 * sizes batch.c allocates as JavaScript arrays, so a write past a column is an AddressSanitizer
 * report. A statistic that is not a finite number (NaN or infinity would not survive JSON) is
 * reported once per column on stderr, without stopping the run. */
#include <math.h>
#include <stdio.h>
#define FUZZ_BATCH
struct fs_meter;
static void fuzz_batch_columns(const struct fs_meter *m);
#include "fuzz_meter.c"
#include "../batch_columns.h"

static void *exact(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) abort();
  return p;
}

static bool reported[FS_COLS_N_BASE + FS_COLS_N_STATS + FS_COLS_N_ACTIVITY];

static void all_finite(const double *col, size_t n, size_t columns, const char *const *names, size_t first) {
  for (size_t c = 0; c < columns; c++) {
    for (size_t r = 0; r < n; r++) {
      if (isfinite(col[c * n + r]) || reported[first + c]) continue;
      reported[first + c] = true;
      fprintf(stderr, "fuzz_batch: column %s holds %f\n", names[c], col[c * n + r]);
    }
  }
}

static void fuzz_batch_columns(const struct fs_meter *m) {
  size_t n = m->out_len;
  const struct fs_feature_config *f = &m->cfg.features;
  double *d = exact(n * FS_COLS_N_BASE * sizeof(double));
  fs_cols_base(m, n, d);
  all_finite(d, n, FS_COLS_N_BASE, fs_cols_base_names, 0);
  free(d);
  if (f->stats) {
    d = exact(n * FS_COLS_N_STATS * sizeof(double));
    fs_cols_stats(m, n, d);
    all_finite(d, n, FS_COLS_N_STATS, fs_cols_stats_names, FS_COLS_N_BASE);
    free(d);
  }
  if (f->activity) {
    d = exact(n * FS_COLS_N_ACTIVITY * sizeof(double));
    fs_cols_activity(m, n, d);
    all_finite(d, n, FS_COLS_N_ACTIVITY, fs_cols_activity_names, FS_COLS_N_BASE + FS_COLS_N_STATS);
    free(d);
  }
  if (m->cfg.time_precision) {
    uint64_t *t = exact(n * 3 * FS_SCOPES * sizeof(uint64_t));
    fs_cols_fine_time(m, n, t);
    free(t);
  }
  if (f->payload_bytes) {
    uint8_t *bytes = exact(n * f->payload_bytes);
    double *len = exact(n * sizeof(double));
    fs_cols_payload(m, n, bytes, len);
    for (size_t r = 0; r < n; r++) if (len[r] > f->payload_bytes) abort();
    free(bytes);
    free(len);
  }
  if (f->header_packets) {
    uint8_t *bytes = exact(n * f->header_packets * f->header_width);
    double *count = exact(n * sizeof(double));
    fs_cols_header(m, n, bytes, count);
    for (size_t r = 0; r < n; r++) if (count[r] > f->header_packets) abort();
    free(bytes);
    free(count);
  }
  for (int kind = 0; kind < 6; kind++) {
    char *text = exact(n * FS_COLS_ADDRESS_WIDTH + 1);
    size_t len = fs_cols_addresses(m, n, kind, text);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (n && lines != n) abort(); /* one value per flow, none holding the separator */
    free(text);
  }
  if (f->splt) {
    int8_t *dir = exact(n * f->splt);
    int32_t *ps = exact(n * f->splt * sizeof(int32_t));
    double *piat = exact(n * f->splt * sizeof(double));
    fs_cols_splt(m, n, dir, ps, piat);
    free(dir);
    free(ps);
    free(piat);
  }
  if (m->events) {
    const struct fs_events *e = m->events;
    double *num = exact(e->len * FS_COLS_N_EVENT * sizeof(double));
    uint8_t *src = exact(e->len * 16), *dst = exact(e->len * 16);
    fs_cols_events(e, num, src, dst);
    /* each packet's IP bytes lie inside the arena handed over beside them */
    size_t off = 0, len = 0;
    for (size_t c = 0; c < FS_COLS_N_EVENT; c++) {
      if (!strcmp(fs_cols_event_names[c], "ip_off")) off = c;
      if (!strcmp(fs_cols_event_names[c], "ip_len")) len = c;
    }
    for (size_t r = 0; r < e->len; r++) {
      if (num[off * e->len + r] + num[len * e->len + r] > (double)e->arena_len) abort();
    }
    free(num);
    free(src);
    free(dst);
  }
}
