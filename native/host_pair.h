/* A frame's host-pair hash read straight from its headers, for the frames that make up most
 * traffic: the reader of read --workers (spread.c) partitions by it without decoding the whole
 * frame, which its lane decodes again anyway. */
#ifndef FS_HOST_PAIR_H
#define FS_HOST_PAIR_H

#include <stdbool.h>
#include <stdint.h>

/* True with *hash set when the frame is Ethernet, then IPv4 or IPv6 with TCP, ICMP, or UDP that
 * enters no tunnel, and fs_decode() takes it: *hash is then fs_flow_key_host_hash() of the key it
 * makes. False for any other frame: the caller decodes it (and so a frame it refuses moves no clock). */
bool fs_frame_host_hash(int linktype, const uint8_t *data, uint32_t caplen, bool decode_tunnels, uint64_t *hash);

#endif
