#ifndef FS_COMPRESS_H
#define FS_COMPRESS_H
#include <stddef.h>

enum fs_codec { FS_ZSTD, FS_SNAPPY };

/* data compressed into a new allocation (*out, *out_len; the caller frees it); NULL, or what failed */
const char *fs_compress(enum fs_codec codec, const void *data, size_t length, int level, char **out, size_t *out_len);

#endif
