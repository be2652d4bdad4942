/* The TLS ClientHello inside a client's QUIC version 1 Initial packet (RFC 9000, RFC 9001): keys
 * from the destination connection id, header protection removed, payload decrypted and its
 * AES-GCM tag verified (a packet that fails it is not read), CRYPTO data reassembled. */
#ifndef FS_QUIC_INITIAL_H
#define FS_QUIC_INITIAL_H
#include <stdint.h>
#include "ja4.h"
/* Returns 1 and fills out when the UDP payload is a client Initial whose CRYPTO data holds a
 * whole ClientHello. */
int fs_quic_initial_ja4(const uint8_t *udp_payload, uint32_t len, char out[FS_JA4_LEN + 1]);
#endif
