/* SHA-1 (FIPS 180-4) of one buffer: Community ID v1 is defined on it. Not for security. */
#ifndef FS_SHA1_H
#define FS_SHA1_H
#include <stddef.h>
#include <stdint.h>
void fs_sha1(const void *data, size_t len, uint8_t out[20]);
#endif
