/* Node-API functions beside the meter's (addon_system.c). */
#ifndef FS_ADDON_SYSTEM_H
#define FS_ADDON_SYSTEM_H
#include <node_api.h>

napi_value fs_js_compress(napi_env env, napi_callback_info info);
napi_value fs_js_drop_privileges(napi_env env, napi_callback_info info);
napi_value fs_js_start_pool(napi_env env, napi_callback_info info);
napi_value fs_js_socket_changes(napi_env env, napi_callback_info info);
napi_value fs_js_socket_lookup(napi_env env, napi_callback_info info);

#endif
