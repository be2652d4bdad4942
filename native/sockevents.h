#ifndef FS_SOCKEVENTS_NAPI_H
#define FS_SOCKEVENTS_NAPI_H
#include <node_api.h>

/* bpfStart, bpfStop, bpfMatch, bpfStats, bpfRunTimeStats, userName and bpfBuiltIn on exports */
void fs_sockevents_init(napi_env env, napi_value exports);

#endif
