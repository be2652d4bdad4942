/* Output written early to the disk: a file published whole is synced before its rename, and with
 * every byte still dirty at that moment the sync waited for all of them (0.18 s for 300 MB of JSON
 * Lines here; seconds for gigabytes on a slow disk). Started as the bytes come, the write-out runs
 * beside the metering and the last sync waits only for the tail. */
#ifndef FS_ADDON_WRITEBACK_H
#define FS_ADDON_WRITEBACK_H

#include <node_api.h>

/* startWriteback(fd, offset, length): Promise<void>, settled once the kernel was asked to start
 * writing that range out (sync_file_range, on a pool thread: the request may wait for the disk's
 * queue); it rejects with the errno's code where the file system cannot (the caller stops asking). */
napi_value fs_js_start_writeback(napi_env env, napi_callback_info info);

#endif
