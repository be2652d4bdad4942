/* A bidirectional flow and its direction-agnostic key. Per-scope arrays are indexed by
 * FS_BI / FS_S2D / FS_D2S (softflowd style): one direction bit, never a second lookup. */
#ifndef FS_FLOW_H
#define FS_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dpi.h"
#include "fs_packet.h"

struct fs_flow_extra;

enum { FS_BI = 0, FS_S2D = 1, FS_D2S = 2, FS_SCOPES = 3 };
/* TCP flag counters in NFStream's output order. */
enum { FS_F_SYN, FS_F_CWR, FS_F_ECE, FS_F_URG, FS_F_ACK, FS_F_PSH, FS_F_RST, FS_F_FIN, FS_FLAGS };

/* 2: flowseek's own, a flow ended early because --max-active-flows flows were open */
enum fs_expiration { FS_EXP_CUSTOM = -1, FS_EXP_IDLE = 0, FS_EXP_ACTIVE = 1, FS_EXP_EVICTED = 2 };

#define FS_NIL UINT32_MAX

/* Normalised key: the lower (ip, port) endpoint first. Zeroed before filling so padding hashes
 * the same. Fields hashed: all of it. */
struct fs_flow_key {
  uint8_t ip_lo[16], ip_hi[16];
  uint16_t port_lo, port_hi;
  uint16_t vlan_id;
  uint8_t protocol, tunnel_id, ip_version;
  uint8_t pad[7];
};

struct fs_scope {
  uint64_t first_ms, last_ms, packets, bytes;
  uint32_t first_ns, last_ns;        /* nanoseconds within first_ms / last_ms (--time-precision) */
};

/* --stats, per scope. Only a run with --stats gives its records room for them, after the record
 * (fs_flow_stats): a record is sized to the options in use (fs_flow_bytes). */
struct fs_scope_stats {
  uint32_t ps_min, ps_max;
  double ps_mean, ps_m2;             /* Welford running mean and sum of squares */
  uint64_t piat_min_ms, piat_max_ms;
  double piat_mean_ms, piat_m2;
  uint32_t flags[FS_FLAGS];
};

struct fs_flow {
  struct fs_flow_key key;
  uint64_t hash;
  uint32_t prev, next;               /* creation order, pool indices */
  uint64_t id;
  uint64_t uid;                      /* from 1 in creation order; 0 once the slot is free */
  uint32_t event_batch;              /* plugins: the last event batch a packet of this flow joined */
  uint8_t watched;                   /* plugins: a plugin may end it (one packet per event batch) */
  uint8_t src_ip[16], dst_ip[16];    /* as the first packet had them */
  uint8_t src_mac[6], dst_mac[6];
  uint16_t src_port, dst_port, vlan_id;
  uint8_t protocol, ip_version, tunnel_id;
  int8_t expiration_id;
  uint8_t icmp_type, icmp_code;      /* of the first packet (Community ID) */
  struct fs_scope s[FS_SCOPES];
  int8_t *splt_dir;                  /* one allocation for the three SPLT arrays, or NULL */
  int32_t *splt_ps;
  int64_t *splt_piat_ms;
  struct fs_dpi_flow *dpi;           /* detection state, then its result; NULL with detection off */
  struct fs_flow_extra *x;           /* flowseek's own features (flow_extra.h); NULL when none is on */
};

/* Whether the flow holds nDPI's state still (detection not over). */
static inline bool fs_flow_detecting(const struct fs_flow *f) {
  return f->dpi && !f->dpi->completed;
}

/* Bytes of one flow's record: the struct, and with --stats its scopes' statistics after it. */
static inline size_t fs_flow_bytes(bool stats) {
  return sizeof(struct fs_flow) + (stats ? FS_SCOPES * sizeof(struct fs_scope_stats) : 0);
}
/* The statistics of a record sized with stats (FS_SCOPES of them, by FS_BI / FS_S2D / FS_D2S). */
static inline struct fs_scope_stats *fs_flow_stats(const struct fs_flow *f) {
  return (struct fs_scope_stats *)(uintptr_t)(f + 1);
}

/* Builds the normalised key of a packet: both directions of a flow give the same key. */
void fs_flow_key_make(const struct fs_packet *p, struct fs_flow_key *k);
/* The flow table hash's secret words, drawn at random once per process (flow_key.c). */
struct fs_hash_secret { uint64_t w[7]; };
const struct fs_hash_secret *fs_flow_hash_secret(void);
uint64_t fs_flow_key_hash(const struct fs_flow_key *k, const struct fs_hash_secret *s);
uint64_t fs_flow_key_host_hash(const struct fs_flow_key *k);
/* The same of a key with these two addresses (16 bytes each, IPv4 in the first 4), in either order,
 * and no VLAN and no tunnel. */
uint64_t fs_address_pair_hash(const uint8_t a[16], const uint8_t b[16]);
/* The same of two IPv4 addresses (4 bytes each). */
uint64_t fs_ipv4_pair_hash(const uint8_t a[4], const uint8_t b[4]);
int fs_flow_key_equal(const struct fs_flow_key *a, const struct fs_flow_key *b);

#endif
