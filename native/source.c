#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "decode.h"
#include "source.h"

static void warn(struct fs_source *s, const char *fmt, const char *a, const char *b) {
  size_t used = strlen(s->warnings);
  if (used + 2 >= sizeof(s->warnings)) return;
  snprintf(s->warnings + used, sizeof(s->warnings) - used, fmt, a, b);
}

static pcap_t *open_one(const char *file, const char *bpf, char *err) {
  char perr[PCAP_ERRBUF_SIZE] = "";
  /* nanosecond timestamps whatever the file's precision (libpcap scales microsecond files) */
  /* a 1 MiB stdio buffer: libpcap reads each record with two freads, and with the default 4 KiB
   * buffer the read system calls alone cost as much as the meter */
  FILE *fp = fopen(file, "rb");
  if (!fp) {
    snprintf(err, FS_ERRLEN, "%s: cannot read as a capture file (%s)", file, strerror(errno));
    return NULL;
  }
  setvbuf(fp, NULL, _IOFBF, 1 << 20);
  pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
  if (!pc) {
    fclose(fp);
    snprintf(err, FS_ERRLEN, "%s: cannot read as a capture file (%s)", file, perr);
    return NULL;
  }
  if (bpf && *bpf) {
    struct bpf_program prog;
    if (pcap_compile(pc, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
      snprintf(err, FS_ERRLEN, "bad BPF filter \"%s\": %s", bpf, pcap_geterr(pc));
      pcap_close(pc);
      return NULL;
    }
    int rc = pcap_setfilter(pc, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
      snprintf(err, FS_ERRLEN, "cannot apply BPF filter: %s", pcap_geterr(pc));
      pcap_close(pc);
      return NULL;
    }
  }
  return pc;
}

int fs_source_open(struct fs_source *s, char **files, uint32_t n_files, uint32_t snaplen, const char *bpf,
                   char *err) {
  memset(s, 0, sizeof(*s));
  atomic_init(&s->stop_requested, false);
  s->files = files;
  s->n_files = n_files;
  s->snaplen = snaplen;
  s->bpf = bpf && *bpf ? strdup(bpf) : NULL;
  for (uint32_t i = 0; i < n_files; i++) {
    /* a FIFO or /dev/stdin can be opened once only: it is checked when its turn comes */
    struct stat st;
    if (stat(files[i], &st) == 0 && !S_ISREG(st.st_mode)) continue;
    pcap_t *pc = open_one(files[i], s->bpf, err);
    if (!pc) { free(s->bpf); s->bpf = NULL; return -1; }
    pcap_close(pc);
  }
  s->cur = 0;
  return 0;
}

static bool next_file(struct fs_source *s) {
  char err[FS_ERRLEN];
  while (s->cur < s->n_files) {
    s->pc = open_one(s->files[s->cur], s->bpf, err);
    s->cur++;
    if (!s->pc) { warn(s, "%s%s\n", err, ""); s->read_errors++; continue; }
    s->linktype = pcap_datalink(s->pc);
    if (fs_mmap_open(&s->mm, s->files[s->cur - 1]) == 1 && s->bpf) {
      s->has_prog = pcap_compile(s->pc, &s->prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
      if (!s->has_prog) fs_mmap_close(&s->mm); /* cannot filter the map: libpcap reads it */
    }
    if (!fs_decode_linktype_supported(s->linktype)) {
      const char *name = pcap_datalink_val_to_name(s->linktype);
      warn(s, "%s: link type %s is not decoded; its packets are counted as ignored\n", s->files[s->cur - 1],
           name ? name : "unknown");
      s->unsupported_linktype_files++;
    }
    return true;
  }
  return false;
}

/* End of this file (or it is cut short): the next one opens on the next read. */
static void fs_source_close_file(struct fs_source *s) {
  fs_source_kernel_stats(s);
  fs_mmap_close(&s->mm);
  if (s->has_prog) pcap_freecode(&s->prog);
  s->has_prog = false;
  if (s->pc) pcap_close(s->pc);
  s->pc = NULL;
}

/* Every source hands over nanoseconds in tv_usec (libpcap opened at nanosecond precision scales
 * microsecond files; the memory map does the same). libpcap reads a classic pcap's seconds as
 * signed 32 bits: a time past 2038 comes back negative and is taken as the unsigned value the file
 * holds. Times stay below 2^53 ms, exact in JS. */
uint64_t fs_source_time_ms(const struct timeval *tv, uint32_t *ns_in_ms) {
  uint64_t sec = tv->tv_sec < 0 ? (uint64_t)(uint32_t)tv->tv_sec : (uint64_t)tv->tv_sec;
  uint64_t nsec = tv->tv_usec < 0 ? 0 : (uint64_t)tv->tv_usec;
  const uint64_t max_ms = (1ULL << 53) - 1;
  if (sec > max_ms / 1000) { *ns_in_ms = 0; return max_ms; }
  *ns_in_ms = (uint32_t)(nsec % 1000000);
  return sec * 1000 + nsec / 1000000;
}

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define LIVE_BATCH_MS 1000

/* Keeps a frame for the next run: libpcap's buffer is reused at the next read. */
static void defer(struct fs_source *s, uint64_t ms, uint32_t ns, const uint8_t *data, uint32_t caplen, uint32_t wirelen) {
  uint8_t *copy = malloc(caplen ? caplen : 1);
  if (!copy) return; /* out of memory: the frame is lost, as a read error would lose it */
  memcpy(copy, data, caplen);
  s->deferred = (struct fs_deferred){ .data = copy, .ms = ms, .ns = ns, .caplen = caplen, .wirelen = wirelen };
}

int fs_source_read(struct fs_source *s, struct fs_frame *fr) {
  if (s->file_ended) { fs_source_close_file(s); s->file_ended = false; }
  if (!s->pc && !next_file(s)) return FS_READ_END;
  struct pcap_pkthdr *h;
  const u_char *data;
  struct pcap_pkthdr mh;
  int rc;
  do {
    if (s->mm.base) {
      rc = fs_mmap_next(&s->mm, &mh, &data);
      h = &mh;
    } else {
      rc = pcap_next_ex(s->pc, &h, &data);
    }
  } while (rc == 1 && s->mm.base && s->has_prog && !pcap_offline_filter(&s->prog, h, data));
  if (rc == 1) {
    fr->caplen = s->snaplen && h->caplen > s->snaplen ? s->snaplen : h->caplen;
    fr->wirelen = h->len;
    fr->data = data;
    fr->linktype = s->linktype;
    fr->mapped = s->mm.base != NULL;
    s->bytes_read += h->caplen + 16;
    struct timeval ts = h->ts;
    if (s->ts_micro) ts.tv_usec *= 1000;
    fr->ms = fs_source_time_ms(&ts, &fr->ns);
    return FS_READ_FRAME;
  }
  if (rc == 0 && s->live) return FS_READ_IDLE;
  if (rc == PCAP_ERROR) {
    warn(s, "%s: %s; flows up to this point are kept\n", s->live ? "capture" : s->files[s->cur - 1],
         s->mm.base ? s->mm.err : pcap_geterr(s->pc));
    s->read_errors++;
  }
  /* its frames may still be in use (a spreading reader hands them to other threads): the file
   * closes at the next read */
  s->file_ended = true;
  return FS_READ_FILE_END;
}

void fs_source_run(struct fs_source *s, struct fs_meter *m, size_t want) {
  uint32_t every = s->live && !s->yield_ms ? LIVE_BATCH_MS : s->yield_ms;
  uint64_t started = every ? wall_ms() : 0;
  uint32_t n = 0;
  if (s->deferred.data) { /* the frame that waited for the last batch's hooks */
    struct fs_deferred d = s->deferred;
    s->deferred.data = NULL;
    if (fs_meter_frame(m, s->linktype, d.ms, d.ns, d.data, d.caplen, d.wirelen) == FS_FRAME_DEFER) {
      s->deferred = d; /* the events were not taken yet */
      return;
    }
    free(d.data);
  }
  while (!s->done && m->out_len < want && !(m->events && fs_events_full(m->events))) {
    /* the clock is read once every 1024 packets when reading files */
    if (every && (s->live || (++n & 1023) == 0) && wall_ms() - started >= every) break;
    if (m->stopped) { s->done = true; break; }
    if (s->draining) {
      /* end of input: open flows leave a batch at a time, not all at once */
      fs_meter_flush_some(m, want - m->out_len);
      if (m->table.head == FS_NIL) s->done = true;
      break;
    }
    /* live, packets already in the kernel's ring are read before the flows are flushed */
    if (atomic_load(&s->stop_requested) && (!s->live || fs_source_live_drained(s, wall_ms()))) { s->draining = true; continue; }
    struct fs_frame fr;
    int rc = fs_source_read(s, &fr);
    if (rc == FS_READ_FRAME) {
      if (fs_meter_frame(m, fr.linktype, fr.ms, fr.ns, fr.data, fr.caplen, fr.wirelen) == FS_FRAME_DEFER) {
        defer(s, fr.ms, fr.ns, fr.data, fr.caplen, fr.wirelen);
        break;
      }
    } else if (rc == FS_READ_IDLE) { /* no packet within the timeout; the wall clock still ends idle flows */
      if (atomic_load(&s->stop_requested)) s->idle_since_stop++;
      fs_meter_clock(m, wall_ms());
      fs_source_wait(s);
    } else if (rc == FS_READ_END) {
      s->draining = true;
    }
  }
  fs_source_kernel_stats(s);
}

void fs_source_close(struct fs_source *s) {
  fs_source_close_file(s);
  free(s->deferred.data);
  s->deferred.data = NULL;
  free(s->bpf);
  s->bpf = NULL;
}
