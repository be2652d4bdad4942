/* Page compression for the Parquet writer: zstd and snappy from Debian's libraries (gzip is
 * Node's own zlib). Synchronous: a page is at most about a megabyte. */
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <snappy-c.h>
#include <zstd.h>
#include "compress.h"

/* compress(codec: "zstd" | "snappy", data: Uint8Array, level?: number) -> Buffer */
napi_value fs_js_compress(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, "FS_ARG", "compress(codec, data[, level])");
    return NULL;
  }
  char codec[16] = "";
  size_t codec_len = 0;
  if (napi_get_value_string_utf8(env, argv[0], codec, sizeof codec, &codec_len) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "compress: codec must be a string");
    return NULL;
  }
  bool is_typed = false;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (!is_typed) {
    napi_throw_type_error(env, "FS_ARG", "compress: data must be a Uint8Array");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL);
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, "FS_ARG", "compress: data must be a Uint8Array");
    return NULL;
  }
  int32_t level = 3;
  if (argc >= 3) napi_get_value_int32(env, argv[2], &level);

  size_t bound;
  bool zstd = strcmp(codec, "zstd") == 0;
  if (zstd) bound = ZSTD_compressBound(length);
  else if (strcmp(codec, "snappy") == 0) bound = snappy_max_compressed_length(length);
  else {
    napi_throw_range_error(env, "FS_ARG", "compress: codec must be zstd or snappy");
    return NULL;
  }
  char *out = malloc(bound ? bound : 1);
  if (!out) {
    napi_throw_error(env, "FS_NOMEM", "compress: out of memory");
    return NULL;
  }
  size_t n = bound;
  const char *failure = NULL;
  if (zstd) {
    n = ZSTD_compress(out, bound, data ? data : "", length, level);
    if (ZSTD_isError(n)) failure = ZSTD_getErrorName(n);
  } else if (snappy_compress(data ? data : "", length, out, &n) != SNAPPY_OK) {
    failure = "snappy failed";
  }
  napi_value result = NULL;
  if (failure) napi_throw_error(env, "FS_COMPRESS", failure);
  else napi_create_buffer_copy(env, n, out, NULL, &result);
  free(out);
  return result;
}
