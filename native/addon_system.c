/* The Node-API side of the functions that are not the meter's: page compression (compress.c),
 * dropping privileges (privileges.c), the host's sockets (sockdiag.c), starting libuv's pool. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "addon_system.h"
#include "compress.h"
#include "privileges.h"
#include "sockdiag.h"

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
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "FS_ARG", "compress: data must be a Uint8Array");
    return NULL;
  }
  int32_t level = 3;
  if (argc >= 3 && napi_get_value_int32(env, argv[2], &level) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "compress: level must be a number");
    return NULL;
  }
  enum fs_codec c;
  if (strcmp(codec, "zstd") == 0) c = FS_ZSTD;
  else if (strcmp(codec, "snappy") == 0) c = FS_SNAPPY;
  else {
    napi_throw_range_error(env, "FS_ARG", "compress: codec must be zstd or snappy");
    return NULL;
  }
  char *out = NULL;
  size_t n = 0;
  const char *failure = fs_compress(c, data, length, level, &out, &n);
  napi_value result = NULL;
  if (failure) napi_throw_error(env, "FS_COMPRESS", failure);
  else napi_create_buffer_copy(env, n, out, NULL, &result);
  free(out);
  return result;
}

/* dropPrivileges(): a sentence saying what is kept; throws if the drop failed */
napi_value fs_js_drop_privileges(napi_env env, napi_callback_info info) {
  (void)info;
  const char *what = fs_drop_privileges();
  if (!what) {
    napi_throw_error(env, "FS_PRIVILEGES", "could not drop privileges after opening the capture");
    return NULL;
  }
  napi_value v;
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value strings(napi_env env, const char (*texts)[96], size_t n) {
  napi_value arr;
  napi_create_array_with_length(env, n, &arr);
  for (size_t i = 0; i < n; i++) {
    napi_value s;
    napi_create_string_latin1(env, texts[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, arr, (uint32_t)i, s);
  }
  return arr;
}

/* { added: string[], inodes: Float64Array } */
static napi_value added_object(napi_env env, const struct fs_sockets *p) {
  napi_value result, inodes, ab;
  void *data = NULL;
  napi_create_object(env, &result);
  napi_create_arraybuffer(env, p->n * sizeof(double), &data, &ab);
  if (p->n) memcpy(data, p->inode, p->n * sizeof(double));
  napi_create_typedarray(env, napi_float64_array, p->n, ab, 0, &inodes);
  napi_set_named_property(env, result, "added", strings(env, (const char (*)[96])p->text, p->n));
  napi_set_named_property(env, result, "inodes", inodes);
  return result;
}

/* socketChanges(reset?): the host's TCP/UDP sockets that appeared (a key and inode each) and the
 * keys that went away since the last call — the first call (or after reset) reports every socket
 * as added. { added: string[], inodes: Float64Array, gone: string[] }, or null when sock_diag is
 * unavailable. JavaScript sees only the changes: a poll of thousands of idle sockets costs it
 * nothing. */
napi_value fs_js_socket_changes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool reset = false;
  if (argc >= 1) napi_get_value_bool(env, argv[0], &reset);
  struct fs_sockets added, gone;
  if (fs_socket_changes(reset, &added, &gone) != 0) {
    napi_get_null(env, &result);
    return result;
  }
  result = added_object(env, &added);
  napi_set_named_property(env, result, "gone", strings(env, (const char (*)[96])gone.text, gone.n));
  fs_sockets_free(&added);
  fs_sockets_free(&gone);
  return result;
}

/* socketLookup(keys): the sockets of new flows, keys as the meter reported them (newFlowKeys:
 * 48 bytes a flow, opaque to JavaScript): { added: string[], inodes: Float64Array } as
 * socketChanges() reports new sockets; null when sock_diag is unavailable. The cost is per new
 * flow, not per socket on the host. */
napi_value fs_js_socket_lookup(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  void *data = NULL;
  size_t len = 0;
  bool is_buffer = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "socketLookup() needs the meter's newFlowKeys buffer");
    return NULL;
  }
  struct fs_sockets found;
  if (fs_socket_lookup(data, len, &found) != 0) {
    napi_get_null(env, &result);
    return result;
  }
  result = added_object(env, &found);
  fs_sockets_free(&found);
  return result;
}

/* startPool(): libuv starts its pool's threads at the first work queued, and when it cannot (their
 * stacks do not fit under ulimit -v, or ulimit -u is reached) it aborts the process without a word,
 * after the output was opened. So the threads are tried first, as many and with stacks as large as
 * libuv's (UV_THREADPOOL_SIZE, 4 by default; 8 MB each), all at once; if one cannot start, the
 * promise is rejected with why. Else a no-op is queued, which starts the pool now, while the room is
 * there, and the promise is resolved once it ran. */
#define POOL_STACK ((size_t)8 << 20)
#define POOL_MAX 1024

static void *probe_thread(void *arg) { return arg; }

/* 0, or the errno of the first thread that could not start */
static int probe_pool(void) {
  const char *size = getenv("UV_THREADPOOL_SIZE");
  long n = size ? strtol(size, NULL, 10) : 4;
  if (n < 1) n = 1;
  if (n > POOL_MAX) n = POOL_MAX;
  pthread_t threads[POOL_MAX];
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return ENOMEM;
  pthread_attr_setstacksize(&attr, POOL_STACK);
  int err = 0;
  long started = 0;
  for (; started < n; started++) {
    if ((err = pthread_create(&threads[started], &attr, probe_thread, NULL)) != 0) break;
  }
  for (long i = 0; i < started; i++) pthread_join(threads[i], NULL);
  pthread_attr_destroy(&attr);
  return err;
}

struct pool_start {
  napi_deferred deferred;
  napi_async_work work;
};

static void pool_noop(napi_env env, void *data) { (void)env; (void)data; }

static void pool_started(napi_env env, napi_status status, void *data) {
  struct pool_start *p = data;
  napi_value v;
  napi_get_undefined(env, &v);
  if (status == napi_ok) napi_resolve_deferred(env, p->deferred, v);
  else {
    napi_value msg, err;
    napi_create_string_utf8(env, "the thread pool did not run", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, p->deferred, err);
  }
  napi_delete_async_work(env, p->work);
  free(p);
}

napi_value fs_js_start_pool(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value promise, name, msg, code, err;
  struct pool_start *p = calloc(1, sizeof(*p));
  if (!p) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return NULL; }
  if (napi_create_promise(env, &p->deferred, &promise) != napi_ok) { free(p); return NULL; }
  int failed = probe_pool();
  if (failed) {
    napi_create_string_utf8(env, strerror(failed), NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, "FS_THREADS", NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &err);
    napi_reject_deferred(env, p->deferred, err);
    free(p);
    return promise;
  }
  if (napi_create_string_utf8(env, "flowseek.startPool", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, pool_noop, pool_started, p, &p->work) != napi_ok ||
      napi_queue_async_work(env, p->work) != napi_ok) {
    napi_create_string_utf8(env, "could not queue work on the thread pool", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, p->deferred, err);
    if (p->work) napi_delete_async_work(env, p->work);
    free(p);
  }
  return promise;
}
