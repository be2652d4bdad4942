/* Ending flows: export into the output queue, the 10 ms idle scan, the end-of-input flush. */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "meter.h"

static int out_reserve(struct fs_meter *m) {
  if (m->out_len < m->out_cap) return 0;
  size_t cap = m->out_cap ? m->out_cap * 2 : 1024;
  uint8_t *o = realloc(m->out, cap * m->table.stride);
  if (!o) return -1;
  m->out = o;
  m->out_cap = cap;
  return 0;
}

void fs_expire_flow(struct fs_meter *m, uint32_t idx, int8_t reason) {
  struct fs_flow *f = fs_table_flow(&m->table, idx);
  if (fs_flow_detecting(f)) m->n.detecting--; /* detection ends with the flow, or the flow goes */
  if (m->stopped || out_reserve(m) != 0) {
    if (!m->stopped) m->n.alloc_failures++;
    fs_features_release(f);
  } else {
    if (f->dpi) f->dpi = fs_dpi_flow_end(m->dpi, f->dpi);
    f->expiration_id = reason;
    f->id = m->n.flows_exported++;
    memcpy(fs_meter_out(m, m->out_len++), f, m->table.stride);  /* the copy owns the SPLT arrays now */
    if (reason == FS_EXP_ACTIVE) m->n.flows_active++;
    else if (reason == FS_EXP_IDLE) m->n.flows_idle++;
    if (m->cfg.max_flows && m->n.flows_exported >= m->cfg.max_flows) m->stopped = true;
  }
  fs_table_remove(&m->table, idx);
}

bool fs_idle_scan_due(const struct fs_meter *m) {
  uint64_t idle = m->cfg.idle_timeout_ms;
  return m->clock.tick_ms >= idle && m->table.head != FS_NIL &&
         fs_table_flow(&m->table, m->table.head)->s[FS_BI].last_ms <= m->clock.tick_ms - idle;
}

/* From the oldest-created flow on, end idle ones; stop at the first that is not idle. */
void fs_expire_idle_scan(struct fs_meter *m) {
  uint64_t idle = m->cfg.idle_timeout_ms;
  if (m->clock.tick_ms < idle) return;
  uint64_t limit = m->clock.tick_ms - idle;
  for (int n = 0; n < FS_IDLE_SCAN_BUDGET && m->table.head != FS_NIL; n++) {
    uint32_t idx = m->table.head;
    if (fs_table_flow(&m->table, idx)->s[FS_BI].last_ms > limit) break;
    fs_expire_flow(m, idx, FS_EXP_IDLE);
  }
}

void fs_meter_flush(struct fs_meter *m) {
  fs_meter_flush_some(m, SIZE_MAX);
}

size_t fs_meter_flush_some(struct fs_meter *m, size_t most) {
  size_t n = 0;
  for (; n < most && m->table.head != FS_NIL; n++) {
    uint64_t before = m->n.flows_exported;
    fs_expire_flow(m, m->table.head, FS_EXP_IDLE);
    if (m->n.flows_exported != before) m->n.flows_flushed++;
  }
  return n;
}
