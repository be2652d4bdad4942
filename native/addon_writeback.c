#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "addon_writeback.h"

struct writeback {
  int fd;
  int err;
  off_t offset, length;
  napi_deferred deferred;
  napi_async_work work;
};

static void execute(napi_env env, void *data) {
  (void)env;
  struct writeback *w = data;
  w->err = sync_file_range(w->fd, w->offset, w->length, SYNC_FILE_RANGE_WRITE) == 0 ? 0 : errno;
}

static void complete(napi_env env, napi_status status, void *data) {
  struct writeback *w = data;
  napi_value v = NULL;
  if (status == napi_ok && w->err == 0) {
    napi_get_undefined(env, &v);
    napi_resolve_deferred(env, w->deferred, v);
  } else {
    napi_value code, msg;
    const char *name = w->err == ENOSYS ? "ENOSYS" : w->err == EINVAL ? "EINVAL" : w->err == ESPIPE ? "ESPIPE" : w->err == EIO ? "EIO" : "EWRITEBACK";
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, strerror(w->err ? w->err : EIO), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &v);
    napi_reject_deferred(env, w->deferred, v);
  }
  napi_delete_async_work(env, w->work);
  free(w);
}

napi_value fs_js_start_writeback(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], promise, name;
  double fd = -1, offset = -1, length = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_double(env, argv[0], &fd) != napi_ok || napi_get_value_double(env, argv[1], &offset) != napi_ok ||
      napi_get_value_double(env, argv[2], &length) != napi_ok || !(fd >= 0 && fd < 1 << 30 && fd == (int)fd) ||
      !(offset >= 0 && offset < 9007199254740992.0) || !(length >= 0 && length < 9007199254740992.0)) {
    napi_throw_type_error(env, "FS_ARG", "startWriteback() needs a descriptor, an offset and a length");
    return NULL;
  }
  struct writeback *w = calloc(1, sizeof(*w));
  if (!w) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return NULL; }
  *w = (struct writeback){ .fd = (int)fd, .offset = (off_t)offset, .length = (off_t)length };
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "flowseek.writeback", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, w, &w->work) != napi_ok) {
    free(w);
    napi_throw_error(env, "FS_NAPI", "startWriteback(): cannot queue the request");
    return NULL;
  }
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_async_work(env, w->work);
    free(w);
    napi_throw_error(env, "FS_NAPI", "startWriteback(): cannot queue the request");
    return NULL;
  }
  return promise;
}
