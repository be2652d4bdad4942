/* The Node-API side of system visibility by kernel events (addon_sockevents.c). */
#ifndef FS_ADDON_SOCKEVENTS_H
#define FS_ADDON_SOCKEVENTS_H
#include <node_api.h>

/* bpfStart, bpfStop, bpfMatch, bpfStats, bpfRunTimeStats, userName and bpfBuiltIn on exports */
void fs_sockevents_init(napi_env env, napi_value exports);

#endif
