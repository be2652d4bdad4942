/* The binding of text_rows.c: a meter told textOutput(plan) hands over its flows as CSV or JSON
 * Lines bytes made on the thread that ran its step, instead of a batch of columns. */
#ifndef FS_ADDON_TEXT_H
#define FS_ADDON_TEXT_H

#include <node_api.h>
#include "run.h"
#include "text_rows.h"

struct fs_text_out {
  struct fs_text_plan plan;
  struct fs_text_buf buf;           /* the rows of the last step */
  uint64_t first;                   /* their first id */
  size_t flows;
  uint32_t *ends;                   /* omit_id: where each row ends in buf */
  size_t rows, ends_cap;
  bool failed;
};

/* Reads textOutput()'s plan (throws and returns false when it is not one). */
bool fs_text_plan_read(napi_env env, napi_value spec, struct fs_text_plan *plan);
/* Every column's block is one the meter fills (its option is on); else throws, frees the plan. */
bool fs_text_plan_fits(napi_env env, struct fs_text_plan *plan, const struct fs_meter *m);
/* After a step, on its thread: the first n finished flows as rows; a lane's ids are the next n of
 * its spread's, a single meter's are its flows' own. */
void fs_text_encode(struct fs_text_out *t, struct fs_runner *r, size_t n);
/* { length, first, bytes[, ends] } of the last encode, or NULL with an exception pending. */
napi_value fs_text_part(napi_env env, struct fs_text_out *t);
void fs_text_out_free(struct fs_text_out *t);
/* textBuffers(): { lent, reused }, the buffers handed to JavaScript as they are and those among them
 * that had come back from an earlier part (tests). */
napi_value fs_js_text_buffers(napi_env env, napi_callback_info info);
/* textCell(format, buffer): a detection text's bytes as that format writes them (tests). */
napi_value fs_js_text_cell(napi_env env, napi_callback_info info);

#endif
