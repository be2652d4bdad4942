/* Direction-agnostic flow key and its seeded hash. */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include "flow.h"

/* memcmp's order of two addresses in two word compares (the library call ran on every packet) */
static inline uint64_t be64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline int addr_cmp(const uint8_t *a, const uint8_t *b) {
  uint64_t a0 = be64(a), b0 = be64(b);
  if (a0 != b0) return a0 < b0 ? -1 : 1;
  uint64_t a1 = be64(a + 8), b1 = be64(b + 8);
  return (a1 > b1) - (a1 < b1);
}

void fs_flow_key_make(const struct fs_packet *p, struct fs_flow_key *k) {
  memset(k, 0, sizeof(*k));
  int c = addr_cmp(p->src_ip, p->dst_ip);
  int src_low = c < 0 || (c == 0 && p->src_port <= p->dst_port);
  memcpy(k->ip_lo, src_low ? p->src_ip : p->dst_ip, 16);
  memcpy(k->ip_hi, src_low ? p->dst_ip : p->src_ip, 16);
  k->port_lo = src_low ? p->src_port : p->dst_port;
  k->port_hi = src_low ? p->dst_port : p->src_port;
  k->vlan_id = p->vlan_id;
  k->protocol = p->protocol;
  k->tunnel_id = p->tunnel_id;
  k->ip_version = p->ip_version;
}

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/* 64x64 -> 128-bit multiply, halves folded: every output bit depends on every input bit. */
static inline uint64_t mum(uint64_t a, uint64_t b) {
  __uint128_t r = (__uint128_t)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static struct fs_hash_secret secret;
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;

/* Suricata seeds its flow hash at random for the same reason: with a public constant, anyone can
 * compute keys that land in one slot chain offline and send them, and every lookup then walks the
 * chain. One draw per process: every meter of the process and spread.c's reader (which hashes for
 * its lanes) then agree. getrandom() without blocking; if the kernel has no entropy yet (early
 * boot) or refuses, time, pid and an address stand in (unpredictable enough for a hash table). */
static void draw_secret(void) {
  if (getrandom(&secret, sizeof(secret), GRND_NONBLOCK) == (ssize_t)sizeof(secret)) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 48) ^ (uint64_t)(uintptr_t)&ts;
  for (int i = 0; i < 7; i++) secret.w[i] = mix64(seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1));
}

const struct fs_hash_secret *fs_flow_hash_secret(void) {
  pthread_once(&secret_once, draw_secret);
  return &secret;
}

/* Hashes all 48 bytes of the key (both addresses, both ports, vlan, protocol, tunnel, version):
 * three independent wide multiplies of word pairs, folded by a fourth (a per-word multiply chain
 * was 6 % of a --dissections 0 read). A secret word goes into every operand: were one pair's
 * operands known, keys whose two words multiply to the same 128-bit product (found by factoring,
 * no search) would all share a hash, whatever the seed. */
uint64_t fs_flow_key_hash(const struct fs_flow_key *k, const struct fs_hash_secret *s) {
  uint64_t w[sizeof(*k) / 8];
  memcpy(w, k, sizeof(w));
  uint64_t a = mum(w[0] ^ s->w[0], w[1] ^ s->w[1]);
  uint64_t b = mum(w[2] ^ s->w[2], w[3] ^ s->w[3]);
  uint64_t c = mum(w[4] ^ s->w[4], w[5] ^ s->w[5]);
  return mum(a ^ c, b ^ s->w[6]);
}

/* Workers on files split flows by host pair, not by 5-tuple: nDPI's caches (a host seen as TINC,
 * Ookla, STUN...) then see every flow between two hosts in one meter, and labels match a single
 * meter's. Not seeded: worker processes each compute their own share and must agree without
 * talking; crafted host pairs can at worst load one worker or lane more (each one's table is
 * seeded), and the same run splits alike every time. */
static uint64_t words_hash(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1, uint16_t vlan_id, uint8_t tunnel_id) {
  /* sums and XORs of the two addresses' words are the same in either order, so the reader hashes a
   * frame's pair without ordering it first; four independent multiplies, then one mix (the reader
   * runs this on every frame of a --workers read) */
  uint64_t h = ((a0 + b0) * 0xbf58476d1ce4e5b9ULL) ^ ((a0 ^ b0) * 0x94d049bb133111ebULL) ^
               ((a1 + b1) * 0x9e3779b97f4a7c15ULL) ^ ((a1 ^ b1) * 0xd6e8feb86659fd93ULL);
  return mix64(h ^ vlan_id ^ ((uint64_t)tunnel_id << 16));
}

static uint64_t host_hash(const uint8_t x[16], const uint8_t y[16], uint16_t vlan_id, uint8_t tunnel_id) {
  uint64_t a[2], b[2];
  memcpy(a, x, 16);
  memcpy(b, y, 16);
  return words_hash(a[0], a[1], b[0], b[1], vlan_id, tunnel_id);
}

uint64_t fs_flow_key_host_hash(const struct fs_flow_key *k) {
  return host_hash(k->ip_lo, k->ip_hi, k->vlan_id, k->tunnel_id);
}

uint64_t fs_address_pair_hash(const uint8_t a[16], const uint8_t b[16]) {
  return host_hash(a, b, 0, 0);
}

/* A key's first address word when it holds IPv4: the 4 bytes, then zeros. Made from a 4-byte load:
 * building the 16 bytes on the stack and loading 8 stalled on the stores (store forwarding). */
static uint64_t ipv4_word(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return v;
#else
  return (uint64_t)v << 32;
#endif
}

uint64_t fs_ipv4_pair_hash(const uint8_t a[4], const uint8_t b[4]) {
  return words_hash(ipv4_word(a), 0, ipv4_word(b), 0, 0, 0);
}

/* Six words compared without a library call (it ran once per packet at least). */
int fs_flow_key_equal(const struct fs_flow_key *a, const struct fs_flow_key *b) {
  uint64_t x[6], y[6];
  memcpy(x, a, sizeof(x));
  memcpy(y, b, sizeof(y));
  return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]) | (x[5] ^ y[5])) == 0;
}

_Static_assert(sizeof(struct fs_flow_key) == 48, "key is hashed as 6 words");
