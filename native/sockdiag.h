#ifndef FS_SOCKDIAG_H
#define FS_SOCKDIAG_H
#include <node_api.h>

napi_value fs_js_socket_changes(napi_env env, napi_callback_info info);
napi_value fs_js_socket_lookup(napi_env env, napi_callback_info info);

#endif
