/* Finished flows as CSV or JSON Lines rows, made next to the meter: no JavaScript runs per flow.
 * The bytes are those src/writers/csv.ts and jsonl.ts make from the batch of the same flows (the
 * values come from the same fs_cols_* functions; numbers are spelled as String() spells them;
 * text is decoded as Node-API decodes UTF-8, a bad sequence becoming U+FFFD). No Node-API here. */
#ifndef FS_TEXT_ROWS_H
#define FS_TEXT_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "meter.h"

enum fs_text_format { FS_TEXT_CSV, FS_TEXT_JSONL };

/* where a column's values come from: a numeric block of the batch (base, stats, activity: float64;
 * fine: uint64), a string column, or a list or byte column */
enum fs_text_source {
  FS_TS_BASE, FS_TS_STATS, FS_TS_ACTIVITY, FS_TS_FINE, FS_TS_ADDRESS, FS_TS_COMMUNITY, FS_TS_DPI,
  FS_TS_SPLT, FS_TS_PAYLOAD, FS_TS_PAYLOAD_LEN, FS_TS_HEADER, FS_TS_HEADER_COUNT,
};

struct fs_text_col {
  uint8_t source;                   /* enum fs_text_source */
  uint16_t index;                   /* the column within its block; the address kind; the text; SPLT 0 dir, 1 ps, 2 piat */
  char *key;                        /* JSON Lines: the key as it opens the value ({"id": or ,"name":) */
  size_t key_len;
};

/* The columns, in the output's order; owns the keys and the scratch blocks the values pass through. */
struct fs_text_plan {
  enum fs_text_format format;
  uint32_t n_cols;
  struct fs_text_col *cols;
  int32_t id_col;                   /* the base block's id column: a lane's ids replace the flows' own */
  uint64_t max_flows;               /* rows whose id reaches this are left out (0: none) */
  bool omit_id;                     /* each row without its first column, the id (given later, by
                                     * whoever puts the rows of several processes in order) */
  bool lend;                        /* each part's bytes are its buffer itself, given back once released */
  /* scratch, grown to the largest batch */
  size_t rows;
  double *base, *stats, *activity, *payload_len, *header_count, *piat;
  uint64_t *fine;
  uint8_t *payload, *header;
  int8_t *dir;
  int32_t *ps;
};

struct fs_text_buf {
  char *p;
  size_t len, cap;
};

/* The rows of m->out[0..n) appended to out; ids first, first + 1, ... (UINT64_MAX: the flows'
 * own). ends (n entries, or NULL): where each row written ends in out. The rows written, or -1
 * when memory runs out. */
long fs_text_rows(struct fs_text_plan *plan, const struct fs_meter *m, size_t n, uint64_t first, struct fs_text_buf *out,
                  uint32_t *ends);
void fs_text_plan_free(struct fs_text_plan *plan);

/* A detection text as either format writes it (for the test of the decoding rule). */
int fs_text_cell(enum fs_text_format format, const char *s, size_t len, struct fs_text_buf *out);

#endif
