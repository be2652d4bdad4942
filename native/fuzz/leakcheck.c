/* Reads capture files through the whole meter (decode, table, features, nDPI, SPLT, flush) and
 * frees everything; built with AddressSanitizer, LeakSanitizer reports any byte still allocated at
 * exit. Usage: leakcheck FILE...   (exit 0 and no report: no leak) */
#include <stdio.h>
#include <stdlib.h>
#include "../run.h"

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s FILE...\n", argv[0]); return 2; }
  struct fs_meter_config cfg = {0};
  cfg.idle_timeout_ms = 120000;
  cfg.active_timeout_ms = 1800000;
  cfg.decode_tunnels = true;
  cfg.max_active_flows = 1000;  /* evictions too */
  cfg.features.stats = true;
  cfg.features.splt = 20;
  cfg.features.dissections = 20;
  cfg.features.activity = true;
  cfg.features.activity_gap_us = 1000000;
  cfg.features.payload_bytes = 784;
  cfg.features.header_packets = 8;
  cfg.features.header_width = 64;
  struct fs_runner r;
  char err[FS_ERRLEN];
  if (fs_run_open_files(&r, &cfg, argv + 1, (uint32_t)(argc - 1), 0, NULL, 0, err) != 0) { fprintf(stderr, "%s\n", err); return 1; }
  unsigned long flows = 0;
  while (!r.done) {
    fs_run_step(&r, 4096);
    flows += r.meter.out_len;
    fs_run_taken(&r, r.meter.out_len);
  }
  fs_run_close(&r);
  printf("%lu flows\n", flows);
  return 0;
}
