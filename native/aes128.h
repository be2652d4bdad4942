/* AES-128 encryption of one block (FIPS-197): all QUIC Initial decryption needs (header
 * protection is AES-ECB, and GCM's payload keystream is AES in counter mode). */
#ifndef FS_AES128_H
#define FS_AES128_H
#include <stdint.h>
struct fs_aes128 { uint8_t rk[176]; };
void fs_aes128_init(struct fs_aes128 *a, const uint8_t key[16]);
void fs_aes128_encrypt(const struct fs_aes128 *a, const uint8_t in[16], uint8_t out[16]);
#endif
