#ifndef FS_COMPRESS_H
#define FS_COMPRESS_H
#include <node_api.h>

napi_value fs_js_compress(napi_env env, napi_callback_info info);

#endif
