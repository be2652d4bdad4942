/* libFuzzer harness over the file readers: the input is a capture file (classic pcap, pcapng or
 * anything), read through fs_source_open and run.c's loop into a meter, as `flowseek read` does.
 *
 * Byte 0 picks the path and options: bit 0 libpcap instead of the record reader (pcap_records.c;
 * fs_pcap_records_open is wrapped at link time, -Wl,--wrap=fs_pcap_records_open, to refuse the
 * file), bit 1 a BPF filter, bit 2 a snapshot length of 64, bit 3 statistics and SPLT on. The rest
 * is the file, held in a memfd and opened by its /proc path.
 *
 * Then, for every input, the same bytes are read frame by frame through both paths and compared:
 * a classic pcap must give the same frames (times, lengths, bytes) from the record reader as from
 * libpcap, and the same damage where either finds some. A difference aborts with both described. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../run.h"

static int force_libpcap;
bool __real_fs_pcap_records_open(struct fs_pcap_records *r, int fd, uint64_t size, uint8_t *buf);
bool __wrap_fs_pcap_records_open(struct fs_pcap_records *r, int fd, uint64_t size, uint8_t *buf) {
  if (force_libpcap) return false;
  return __real_fs_pcap_records_open(r, fd, size, buf);
}

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
  force_libpcap = opts & 1;
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

struct seen { uint64_t ms; uint32_t ns, caplen, wirelen; uint64_t sum; };

/* Frames of one path (at most max), until the end or the first damaged record; *records: the
 * record reader read them. With a filter, as the meter reads them. */
static size_t frames(char *path, int libpcap, const char *bpf, struct seen *out, size_t max, bool *records, char *why) {
  struct fs_source s;
  char err[FS_ERRLEN];
  char *files[1] = { path };
  force_libpcap = libpcap;
  *records = false;
  why[0] = '\0';
  if (fs_source_open(&s, files, 1, 0, bpf, err) != 0) return 0;
  size_t n = 0;
  struct fs_frame fr;
  while (n < max && fs_source_read(&s, &fr) == FS_READ_FRAME) {
    *records |= s.records;
    uint64_t sum = 1469598103934665603ULL; /* FNV-1a of the captured bytes */
    for (uint32_t i = 0; i < fr.caplen; i++) sum = (sum ^ fr.data[i]) * 1099511628211ULL;
    out[n++] = (struct seen){ fr.ms, fr.ns, fr.caplen, fr.wirelen, sum };
  }
  *records |= s.records;
  bool damaged = s.read_errors != 0;
  snprintf(why, FS_ERRLEN, "%s", s.warnings);
  fs_source_close(&s);
  return damaged ? n | ((size_t)1 << 62) : n;
}

#define MAX_FRAMES 4096
static struct seen a[MAX_FRAMES], b[MAX_FRAMES];

static void compare(char *path, const char *bpf) {
  bool records, unused;
  char why_a[FS_ERRLEN], why_b[FS_ERRLEN];
  size_t na = frames(path, 0, bpf, a, MAX_FRAMES, &records, why_a), nb = frames(path, 1, bpf, b, MAX_FRAMES, &unused, why_b);
  if (!records) return; /* not a classic pcap the record reader takes: both reads were libpcap's */
  size_t ca = na & ~((size_t)1 << 62), cb = nb & ~((size_t)1 << 62);
  size_t common = ca < cb ? ca : cb;
  for (size_t i = 0; i < common; i++) {
    if (a[i].ms != b[i].ms || a[i].ns != b[i].ns || a[i].caplen != b[i].caplen || a[i].wirelen != b[i].wirelen || a[i].sum != b[i].sum) {
      fprintf(stderr, "frame %zu differs: records %llu ms %u ns caplen %u len %u / libpcap %llu ms %u ns caplen %u len %u\n", i,
              (unsigned long long)a[i].ms, a[i].ns, a[i].caplen, a[i].wirelen, (unsigned long long)b[i].ms, b[i].ns,
              b[i].caplen, b[i].wirelen);
      abort();
    }
  }
  /* one path stopping early while the other read on, or damage only one of them finds */
  if ((ca != cb && common < MAX_FRAMES) || (na >> 62) != (nb >> 62) || strcmp(why_a, why_b) != 0) {
    fprintf(stderr, "the record reader read %zu frames%s, libpcap %zu%s\nrecords: %slibpcap: %s", ca,
            (na >> 62) ? " then a damaged record" : "", cb, (nb >> 62) ? " then a damaged record" : "", why_a, why_b);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int fd = memfd_create("capture", MFD_CLOEXEC);
  if (fd < 0) abort();
  if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) abort();
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  read_all(path, data[0]);
  compare(path, (data[0] & 2) ? "tcp or udp or vlan" : NULL);
  close(fd);
  return 0;
}
