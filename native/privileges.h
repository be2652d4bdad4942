#ifndef FS_PRIVILEGES_H
#define FS_PRIVILEGES_H
#include <node_api.h>

napi_value fs_js_drop_privileges(napi_env env, napi_callback_info info);

#endif
