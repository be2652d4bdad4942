/* Finished flows to JavaScript: one columnar batch per call. Numeric columns are float64
 * (every value here is an integer below 2^53, or a mean/stddev); addresses are strings. */
#ifndef FS_BATCH_H
#define FS_BATCH_H

#include <node_api.h>
#include "meter.h"

/* Builds the JS batch from m->out[0..n): a NativeBatch (src/native.ts), { length, base, stats?,
 * strings, splt?, activity?, fineTime?, payload?, header?, events?, uids?, newFlowKeys?, counters };
 * the column names come from fs_batch_column_names. */
napi_status fs_batch_build(napi_env env, const struct fs_meter *m, size_t n, napi_value *out);
/* The names of the numeric columns, in column order (for the schema test), and of the string
 * columns the text rows take by index. */
napi_status fs_batch_column_names(napi_env env, napi_value *out);

#endif
