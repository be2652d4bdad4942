/* Page compression for the Parquet writer: zstd and snappy from Debian's libraries (gzip is
 * Node's own zlib). Synchronous: a page is at most about a megabyte. */
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include <zstd.h>
#include "compress.h"

const char *fs_compress(enum fs_codec codec, const void *data, size_t length, int level, char **out, size_t *out_len) {
  size_t bound = codec == FS_ZSTD ? ZSTD_compressBound(length) : snappy_max_compressed_length(length);
  *out = malloc(bound ? bound : 1);
  if (!*out) return "out of memory";
  size_t n = bound;
  const char *failure = NULL;
  if (codec == FS_ZSTD) {
    n = ZSTD_compress(*out, bound, data ? data : "", length, level);
    if (ZSTD_isError(n)) failure = ZSTD_getErrorName(n);
  } else if (snappy_compress(data ? data : "", length, *out, &n) != SNAPPY_OK) {
    failure = "snappy failed";
  }
  if (failure) { free(*out); *out = NULL; return failure; }
  *out_len = n;
  return NULL;
}
