/* The Node-API side of a TCP socket's send queue: Node says when the kernel took the bytes, not
 * when the other end acknowledged them, and a socket closed before that throws them away. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include "addon_socket.h"

napi_value fs_js_send_queue_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_double(env, argv[0], &fd) != napi_ok || !(fd >= 0 && fd < 1 << 30 && fd == (int)fd)) {
    napi_throw_type_error(env, "FS_ARG", "sendQueueBytes() needs a socket's descriptor");
    return NULL;
  }
  int queued = 0;
  if (ioctl((int)fd, SIOCOUTQ, &queued) != 0) {
    int err = errno;
    napi_value code, msg, error, number;
    napi_create_string_utf8(env, "FS_SEND_QUEUE", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &error);
    napi_create_int32(env, -err, &number);
    napi_set_named_property(env, error, "errno", number);
    napi_throw(env, error);
    return NULL;
  }
  napi_value v;
  napi_create_int32(env, queued, &v);
  return v;
}
