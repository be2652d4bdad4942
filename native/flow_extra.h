/* flowseek's own per-flow features, beyond NFStream's: CICFlowMeter-style activity periods, the
 * first bytes of L4 payload and the first packets' headers (inputs for deep-learning models).
 * One allocation per flow, made at its first packet and only when one of them is on; the byte
 * buffers are sized once and stop changing when full. */
#ifndef FS_FLOW_EXTRA_H
#define FS_FLOW_EXTRA_H

#include "flow_features.h"

/* Running min / max / mean / sum of squares (Welford) of periods in microseconds. */
struct fs_run {
  uint64_t n, min, max;
  double mean, m2;
};

struct fs_flow_extra {
  uint64_t active_start_us, active_end_us;
  struct fs_run active, idle;
  uint32_t payload_len;     /* bytes of payload_bytes filled */
  uint16_t header_count;    /* rows of the header matrix filled */
  uint8_t data[];           /* payload_bytes bytes, then header_packets x header_width */
};

bool fs_extra_enabled(const struct fs_feature_config *cfg);
/* Every packet of the flow, the first included (its time in microseconds). Returns -1 when the
 * first packet's allocation fails. */
int fs_extra_packet(struct fs_flow *f, const struct fs_packet *p, uint64_t time_us, const struct fs_feature_config *cfg);
void fs_extra_run_add(struct fs_run *r, uint64_t v);
/* The active periods including the one still open at the flow's end (CICFlowMeter adds it then). */
struct fs_run fs_extra_active_final(const struct fs_flow_extra *x);
double fs_extra_run_stddev(const struct fs_run *r);
static inline uint8_t *fs_extra_payload(struct fs_flow_extra *x) { return x->data; }
static inline uint8_t *fs_extra_headers(struct fs_flow_extra *x, const struct fs_feature_config *cfg) {
  return x->data + cfg->payload_bytes;
}

#endif
