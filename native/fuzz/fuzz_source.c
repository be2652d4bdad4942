/* libFuzzer harness over the file reader: the input is a capture file (classic pcap, pcapng or
 * anything), read through fs_source_open and run.c's loop into a meter, as `flowseek read` does.
 *
 * Byte 0 picks the options: bit 1 a BPF filter, bit 2 a snapshot length of 64, bit 3 statistics
 * and SPLT on (bit 0 chose a memory-mapped reader, since removed: inputs kept from then still
 * run). The rest is the file, held in a memfd and opened by its /proc path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../run.h"

static struct fs_meter *meters[2];

static struct fs_meter *meter_for(int features) {
  if (meters[features]) return meters[features];
  struct fs_meter_config cfg = {0};
  cfg.idle_timeout_ms = 1000;
  cfg.active_timeout_ms = 5000;
  cfg.decode_tunnels = true;
  cfg.features.stats = features;
  cfg.features.splt = features ? 5 : 0;
  struct fs_meter *m = calloc(1, sizeof(*m));
  if (!m || fs_meter_init(m, &cfg) != 0) abort();
  return meters[features] = m;
}

/* One read of the whole file into the meter, as the addon's batches do. The run borrows the
 * cached meter (its nDPI module is slow to make) and gives it back. */
static void read_all(char *path, uint8_t opts) {
  struct fs_runner r = {0};
  char err[FS_ERRLEN];
  char *files[1] = { path };
  if (fs_source_open(&r.source, files, 1, (opts & 4) ? 64 : 0, (opts & 2) ? "tcp or udp or vlan" : NULL, err) != 0) return;
  struct fs_meter *m = meter_for((opts & 8) != 0);
  r.meter = *m;
  r.open = true;
  while (!r.done) {
    fs_run_step(&r, 64);
    fs_run_taken(&r, r.meter.out_len);
  }
  *m = r.meter;
  fs_source_close(&r.source);
  m->clock = (struct fs_clock){0};
  m->stopped = false;
  memset(&m->n, 0, sizeof(m->n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int fd = memfd_create("capture", MFD_CLOEXEC);
  if (fd < 0) abort();
  if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) abort();
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  read_all(path, data[0]);
  close(fd);
  return 0;
}
