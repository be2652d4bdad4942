/* What the kernel still holds of a TCP socket's output (addon_socket.c): a socket whose last bytes
 * were handed over is not yet a collector that has them. */
#ifndef FS_ADDON_SOCKET_H
#define FS_ADDON_SOCKET_H
#include <node_api.h>

/* sendQueueBytes(fd): the bytes sent and not yet acknowledged by the other end, plus those not yet
 * sent (ioctl SIOCOUTQ); a closing socket counts its FIN as one more until it is acknowledged.
 * Throws an error with the errno (negative, as Node's own errors carry it) and its words. */
napi_value fs_js_send_queue_bytes(napi_env env, napi_callback_info info);

#endif
