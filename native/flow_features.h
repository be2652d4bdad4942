/* Per-packet flow features: counters, timing, Welford statistics, TCP flags, SPLT.
 * No allocation on the per-packet path (SPLT is allocated once, when the flow is created). */
#ifndef FS_FLOW_FEATURES_H
#define FS_FLOW_FEATURES_H

#include <stdbool.h>
#include "flow.h"

enum fs_accounting { FS_ACCT_RAW = 0, FS_ACCT_IP = 1, FS_ACCT_TRANSPORT = 2, FS_ACCT_PAYLOAD = 3 };

struct fs_feature_config {
  uint8_t accounting;
  bool stats;
  uint16_t splt;          /* 0: off */
  uint8_t dissections;    /* 0: no application detection */
  /* flowseek's own (flow_extra.c) */
  bool activity;          /* CICFlowMeter-style active / idle periods */
  uint64_t activity_gap_us;
  uint32_t payload_bytes; /* first L4 payload bytes kept (0: off) */
  uint16_t header_packets;/* first packets whose headers are kept (0: off) */
  uint16_t header_width;  /* bytes kept of each of those headers */
};

static inline uint64_t fs_packet_time_us(const struct fs_packet *p) { return p->time_ms * 1000 + p->time_ns / 1000; }
uint32_t fs_packet_size(const struct fs_packet *p, uint8_t accounting);
/* First packet of a flow. Returns -1 when the SPLT arrays cannot be allocated. */
int fs_features_init(struct fs_flow *f, const struct fs_packet *p, const struct fs_feature_config *cfg);
/* A later packet; direction 0 = src2dst, 1 = dst2src. */
void fs_features_update(struct fs_flow *f, const struct fs_packet *p, int direction,
                        const struct fs_feature_config *cfg);
/* The packet's direction relative to the flow's first packet (NFStream: ports, then addresses). */
int fs_packet_direction(const struct fs_flow *f, const struct fs_packet *p);
void fs_features_release(struct fs_flow *f);

#endif
