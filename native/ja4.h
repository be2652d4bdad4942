/* JA4 client fingerprint of a TLS ClientHello (FoxIO's public JA4 specification): over TCP when the
 * whole ClientHello is in one segment ('t'), and inside a QUIC version 1 Initial packet ('q'), which
 * quic_initial.c decrypts and checks first. */
#ifndef FS_JA4_H
#define FS_JA4_H
#include <stdint.h>

#define FS_JA4_LEN 36   /* t13d1516h2_8daaf6152771_b186095e22b6 */

/* payload: the TCP payload. Returns 1 and fills out (FS_JA4_LEN + 1 bytes) when it starts with a
 * complete TLS handshake record holding a ClientHello, else 0. */
int fs_ja4_from_tls(const uint8_t *payload, uint32_t len, char out[FS_JA4_LEN + 1]);
/* The same from a bare handshake message (QUIC carries it in CRYPTO frames); proto 't' or 'q'. */
int fs_ja4_from_handshake(const uint8_t *hs, uint32_t len, char proto, char out[FS_JA4_LEN + 1]);
#endif
