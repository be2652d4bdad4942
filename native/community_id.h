/* Community ID v1 (Corelight's flow hashing, as Zeek, Suricata and Wireshark compute it): the
 * flow's 5-tuple, endpoints ordered, SHA-1, base64, "1:" before it. */
#ifndef FS_COMMUNITY_ID_H
#define FS_COMMUNITY_ID_H

#include "flow.h"

#define FS_COMMUNITY_ID_LEN 31   /* "1:" + 28 base64 characters + NUL */

/* From the flow's first packet: addresses, ports (ICMP type and code mapped to ports). */
void fs_community_id(const struct fs_flow *f, uint16_t seed, char out[FS_COMMUNITY_ID_LEN]);
/* The same from the parts (tests and the fuzzer). ip_len 4 or 16. */
void fs_community_id_of(const uint8_t *src, const uint8_t *dst, int ip_len, uint8_t proto, uint16_t sport,
                        uint16_t dport, uint16_t seed, char out[FS_COMMUNITY_ID_LEN]);

#endif
