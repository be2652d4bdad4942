#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "flow_extra.h"

bool fs_extra_enabled(const struct fs_feature_config *cfg) {
  return cfg->activity || cfg->payload_bytes || cfg->header_packets;
}

void fs_extra_run_add(struct fs_run *r, uint64_t v) {
  r->n++;
  if (r->n == 1 || v < r->min) r->min = v;
  if (v > r->max) r->max = v;
  double old = r->mean;
  r->mean += ((double)v - old) / (double)r->n;
  r->m2 += ((double)v - old) * ((double)v - r->mean);
}

double fs_extra_run_stddev(const struct fs_run *r) {
  return r->n > 1 ? sqrt(r->m2 / (double)(r->n - 1)) : 0.0;
}

struct fs_run fs_extra_active_final(const struct fs_flow_extra *x) {
  struct fs_run r = x->active;
  if (x->active_end_us > x->active_start_us) fs_extra_run_add(&r, x->active_end_us - x->active_start_us);
  return r;
}

/* CICFlowMeter's rule: a gap longer than the threshold closes the active period (if it lasted at
 * all) and counts as one idle period; otherwise the active period goes on. */
static void activity(struct fs_flow_extra *x, uint64_t t, const struct fs_feature_config *cfg) {
  if (t - x->active_end_us > cfg->activity_gap_us) {
    if (x->active_end_us > x->active_start_us) fs_extra_run_add(&x->active, x->active_end_us - x->active_start_us);
    fs_extra_run_add(&x->idle, t - x->active_end_us);
    x->active_start_us = t;
  }
  x->active_end_us = t;
}

/* L4 payload in packet order, both directions, only what was captured and lies inside the IP
 * length (an Ethernet trailer is not payload). */
static void payload(struct fs_flow_extra *x, const struct fs_packet *p, const struct fs_feature_config *cfg) {
  if (x->payload_len >= cfg->payload_bytes || !p->l4_payload) return;
  uint32_t n = p->l4_payload_caplen < p->payload_size ? p->l4_payload_caplen : p->payload_size;
  uint32_t room = cfg->payload_bytes - x->payload_len;
  if (n > room) n = room;
  memcpy(fs_extra_payload(x) + x->payload_len, p->l4_payload, n);
  x->payload_len += n;
}

static void zero(uint8_t *row, uint32_t from, uint32_t to, uint32_t n) {
  for (uint32_t i = from; i < to && i < n; i++) row[i] = 0;
}

/* IP and transport headers, addresses and ports zeroed so a model cannot learn the endpoints; the
 * checksums too, since they are sums over the addresses. */
static void header(struct fs_flow_extra *x, const struct fs_packet *p, const struct fs_feature_config *cfg) {
  if (x->header_count >= cfg->header_packets) return;
  uint8_t *row = fs_extra_headers(x, cfg) + (size_t)x->header_count * cfg->header_width;
  x->header_count++;
  uint32_t n = p->l4_offset + p->l4_header_len;
  if (n > p->ip_caplen) n = p->ip_caplen;
  if (n > cfg->header_width) n = cfg->header_width;
  memcpy(row, p->ip, n);
  if (p->ip_version == 6) {
    zero(row, 8, 40, n);
  } else {
    zero(row, 10, 12, n);
    zero(row, 12, 20, n);
  }
  uint32_t l4 = p->l4_offset;
  if (p->protocol == 6 || p->protocol == 17) zero(row, l4, l4 + 4, n);
  if (p->protocol == 6) zero(row, l4 + 16, l4 + 18, n);
  if (p->protocol == 17) zero(row, l4 + 6, l4 + 8, n);
}

int fs_extra_packet(struct fs_flow *f, const struct fs_packet *p, uint64_t time_us, const struct fs_feature_config *cfg) {
  struct fs_flow_extra *x = f->x;
  if (!x) {
    size_t data = cfg->payload_bytes + (size_t)cfg->header_packets * cfg->header_width;
    x = f->x = calloc(1, sizeof(*x) + data);
    if (!x) return -1;
    x->active_start_us = x->active_end_us = time_us;
  }
  if (cfg->activity) activity(x, time_us, cfg);
  if (cfg->payload_bytes) payload(x, p, cfg);
  if (cfg->header_packets) header(x, p, cfg);
  return 0;
}
