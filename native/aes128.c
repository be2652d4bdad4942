#include <pthread.h>
#include <string.h>
#include "aes128.h"

static uint8_t sbox[256];
static pthread_once_t sbox_once = PTHREAD_ONCE_INIT;

static uint8_t xtime(uint8_t x) { return (uint8_t)((x << 1) ^ ((x >> 7) * 0x1b)); }
static uint8_t gmul(uint8_t a, uint8_t b) {
  uint8_t p = 0;
  while (b) { if (b & 1) p ^= a; a = xtime(a); b >>= 1; }
  return p;
}
static uint8_t rotl8(uint8_t x, int n) { return (uint8_t)((x << n) | (x >> (8 - n))); }

/* The S-box from its definition: multiplicative inverse in GF(2^8), then the affine map. */
static void build_sbox(void) {
  for (int x = 0; x < 256; x++) {
    uint8_t inv = 0;
    for (int y = 1; y < 256 && x; y++) if (gmul((uint8_t)x, (uint8_t)y) == 1) { inv = (uint8_t)y; break; }
    sbox[x] = (uint8_t)(inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63);
  }
}

void fs_aes128_init(struct fs_aes128 *a, const uint8_t key[16]) {
  pthread_once(&sbox_once, build_sbox); /* meters on several threads (spread.c) */
  static const uint8_t rcon[10] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36 };
  memcpy(a->rk, key, 16);
  for (int i = 4; i < 44; i++) {
    uint8_t t[4];
    memcpy(t, a->rk + 4 * (i - 1), 4);
    if (i % 4 == 0) {
      uint8_t t0 = t[0];
      t[0] = (uint8_t)(sbox[t[1]] ^ rcon[i / 4 - 1]); t[1] = sbox[t[2]]; t[2] = sbox[t[3]]; t[3] = sbox[t0];
    }
    for (int j = 0; j < 4; j++) a->rk[4 * i + j] = (uint8_t)(a->rk[4 * (i - 4) + j] ^ t[j]);
  }
}

void fs_aes128_encrypt(const struct fs_aes128 *a, const uint8_t in[16], uint8_t out[16]) {
  uint8_t s[16], t[16];
  for (int i = 0; i < 16; i++) s[i] = (uint8_t)(in[i] ^ a->rk[i]);
  for (int round = 1; round <= 10; round++) {
    for (int i = 0; i < 16; i++) t[i] = sbox[s[i]];
    for (int c = 0; c < 4; c++) for (int r = 0; r < 4; r++) s[r + 4 * c] = t[r + 4 * ((c + r) % 4)]; /* ShiftRows */
    if (round < 10) {
      for (int c = 0; c < 4; c++) {
        uint8_t *col = s + 4 * c, a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
        col[0] = (uint8_t)(xtime(a0) ^ xtime(a1) ^ a1 ^ a2 ^ a3);
        col[1] = (uint8_t)(a0 ^ xtime(a1) ^ xtime(a2) ^ a2 ^ a3);
        col[2] = (uint8_t)(a0 ^ a1 ^ xtime(a2) ^ xtime(a3) ^ a3);
        col[3] = (uint8_t)(xtime(a0) ^ a0 ^ a1 ^ a2 ^ xtime(a3));
      }
    }
    for (int i = 0; i < 16; i++) s[i] ^= a->rk[16 * round + i];
  }
  memcpy(out, s, 16);
}
