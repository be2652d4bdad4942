#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "decode.h"
#include "source.h"

/* a stream's read looks at the stop request this often while no data comes */
#define STREAM_POLL_MS 50
/* each file is read through a stdio buffer of this size (one a source, reused file after file) */
#define INPUT_BUFFER ((size_t)1 << 20)

/* Notes (files out of order or overlapping, a link type not decoded) fill the warnings up to here:
 * past it, only a read error (which fails the run) is kept, so the run always says why it failed.
 * Forty files that overlap once filled the buffer, and a truncated file's error went unsaid. */
#define NOTES_END (sizeof(((struct fs_source *)0)->warnings) * 3 / 4)
#define NOTES_CUT_LINE "(more notes of this kind are left out)\n"

/* A warning line, whole or not at all, with the names' control characters (a newline in a file's
 * name split the line in two) shown as '?'. */
static bool append(struct fs_source *s, size_t end, const char *fmt, const char *a, const char *b) {
  size_t used = strlen(s->warnings);
  if (used + 2 >= end) return false;
  int n = snprintf(s->warnings + used, end - used, fmt, a, b);
  if (n < 0 || (size_t)n >= end - used) { s->warnings[used] = '\0'; return false; }
  for (char *c = s->warnings + used; *c; c++) if ((unsigned char)*c < 0x20 && !(c[1] == '\0' && *c == '\n')) *c = '?';
  return true;
}

static void warn(struct fs_source *s, const char *fmt, const char *a, const char *b) {
  if (append(s, NOTES_END, fmt, a, b) || s->notes_cut) return;
  s->notes_cut = true;
  append(s, sizeof(s->warnings), "%s%s" NOTES_CUT_LINE, "", ""); /* read errors leave it room */
}

/* A read error: the run fails, and says why whatever notes came before. Past the room left, the
 * file is counted, not named (sixty truncated files were cut to thirty lines, and nothing said so);
 * the line that says notes were left out keeps its room until it is said. Lanes that read the same
 * files say a file's error once. */
static void warn_error(struct fs_source *s, const char *fmt, const char *a, const char *b) {
  s->read_errors++;
  struct fs_shared_read_errors *shared = s->live ? NULL : s->shared_errors;
  if (shared && atomic_exchange(&shared->said[s->cur - 1], true)) return; /* another lane's to say */
  if (append(s, sizeof(s->warnings) - (s->notes_cut ? 0 : sizeof(NOTES_CUT_LINE)), fmt, a, b)) return;
  if (shared) atomic_fetch_add(&shared->left_out, 1);
  else s->read_errors_left_out++;
}

uint32_t fs_source_read_errors_left_out(const struct fs_source *s) {
  return s->shared_errors ? atomic_load(&s->shared_errors->left_out) : s->read_errors_left_out;
}

/* An input as libpcap reads it. A regular file is read as it was when opened: what it grows by
 * afterwards is left, so a capture still being written ends at a record it held then, not inside
 * the one being written. A FIFO or standard input is read so that a stop request ends a read that
 * waits for data: its reads wait in poll() a moment at a time and end the file once a stop was
 * asked for. */
struct stream {
  int fd;
  bool owned;                       /* standard input is not closed */
  const atomic_bool *stop;
  bool regular;
  uint64_t size;                    /* regular: the size when opened */
  uint64_t left;                    /* regular: bytes of it not yet read */
};

static ssize_t stream_read(void *cookie, char *buf, size_t n) {
  struct stream *st = cookie;
  if (st->regular) {
    if (n > st->left) n = (size_t)st->left;
    if (n == 0) return 0;
    ssize_t got;
    do got = read(st->fd, buf, n); while (got < 0 && errno == EINTR);
    if (got > 0) st->left -= (uint64_t)got;
    return got;
  }
  for (;;) {
    if (atomic_load(st->stop)) return 0;
    struct pollfd p = { .fd = st->fd, .events = POLLIN };
    int ready = poll(&p, 1, STREAM_POLL_MS);
    if (ready < 0 && errno != EINTR) return -1;
    if (ready <= 0) continue;
    ssize_t got = read(st->fd, buf, n);
    if (got >= 0) return got;
    if (errno != EAGAIN && errno != EINTR) return -1;
  }
}

static int stream_close(void *cookie) {
  struct stream *st = cookie;
  int rc = st->owned ? close(st->fd) : 0;
  free(st);
  return rc;
}

/* The input opened once, for libpcap, as a stream (above); *in is it, until the FILE closes. A FIFO
 * opens without waiting for its writer (O_NONBLOCK); poll() then waits for the first data. A
 * regular file read by several sources (lanes, fs_source_open_again) is read by each up to the
 * size the first of them found (size_slot: that size plus one, 0 until then), so that a capture
 * still being written is the same capture to all of them. */
static FILE *open_input(const char *file, const atomic_bool *stop, fs_shared_size *size_slot, struct stream **in) {
  bool std_in = strcmp(file, "-") == 0;
  int fd = std_in ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return NULL;
  struct stat st;
  bool regular = !std_in && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  uint64_t size = regular ? (uint64_t)st.st_size : 0;
  if (regular && size_slot) {
    uint64_t first = 0;
    if (!atomic_compare_exchange_strong(size_slot, &first, size + 1)) size = first - 1;
  }
  struct stream *c = malloc(sizeof(*c));
  if (!c) { if (!std_in) close(fd); errno = ENOMEM; return NULL; }
  *c = (struct stream){ .fd = fd, .owned = !std_in, .stop = stop, .regular = regular, .size = size, .left = size };
  *in = c;
  FILE *fp = fopencookie(c, "rb", (cookie_io_functions_t){ .read = stream_read, .close = stream_close });
  if (!fp) { stream_close(c); errno = ENOMEM; }
  return fp;
}

/* Opens one capture; with first, also reads its first packet's time (unfiltered) into *first_ms /
 * *first_ns, *has_first false when it has none. */
static pcap_t *open_one(const char *file, const char *bpf, const atomic_bool *stop, fs_shared_size *size_slot, char *buf,
                        char *err, struct stream **in, bool *has_first, uint64_t *first_ms, uint32_t *first_ns) {
  char perr[PCAP_ERRBUF_SIZE] = "";
  const char *name = strcmp(file, "-") == 0 ? "standard input" : file;
  FILE *fp = open_input(file, stop, size_slot, in);
  if (!fp) {
    /* not opened: the file is not to blame for a process out of descriptors or memory (the words
     * are src/system-errors.ts's EMFILE, held to them by test/58) */
    if (errno == EMFILE) snprintf(err, FS_ERRLEN, "%s: cannot be opened: this process has as many files open as it may (ulimit -n, LimitNOFILE)", name);
    else snprintf(err, FS_ERRLEN, "%s: cannot be opened (%s)", name, strerror(errno));
    return NULL;
  }
  /* the source's stdio buffer (INPUT_BUFFER): libpcap reads each record with two freads, and with
   * one glibc allocates (a few KiB, whatever size setvbuf asks for) the read system calls alone cost
   * as much as the meter */
  if (buf) setvbuf(fp, buf, _IOFBF, INPUT_BUFFER);
  /* nanosecond timestamps whatever the file's precision (libpcap scales microsecond files) */
  pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
  if (!pc) {
    fclose(fp);
    /* libpcap says "truncated dump file; tried to read 4 file header bytes, only got 0" */
    if (strstr(perr, "header bytes, only got 0")) snprintf(err, FS_ERRLEN, "%s: is empty, not a capture file", name);
    else snprintf(err, FS_ERRLEN, "%s: cannot read as a capture file (%s)", name, perr);
    return NULL;
  }
  if (has_first) {
    struct pcap_pkthdr *h;
    const u_char *data;
    *has_first = pcap_next_ex(pc, &h, &data) == 1;
    if (*has_first) *first_ms = fs_source_time_ms(&h->ts, first_ns);
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

static const char *file_name(const struct fs_source *s, uint32_t i) {
  return strcmp(s->files[i], "-") == 0 ? "standard input" : s->files[i];
}

struct first_packet {
  uint64_t ms;
  uint32_t ns, at;                  /* at: its place in the list as given */
  char *file;
};

static int by_first_packet(const void *a, const void *b) {
  const struct first_packet *x = a, *y = b;
  if (x->ms != y->ms) return x->ms < y->ms ? -1 : 1;
  if (x->ns != y->ns) return x->ns < y->ns ? -1 : 1;
  return x->at < y->at ? -1 : x->at > y->at; /* stable */
}

/* A shell glob lists files by name, not time; read in that order, the meter (whose clock only
 * goes forward) would time every packet of an earlier file at the later file's last packet. The
 * timed files take the timed files' places in time order. */
static int order_by_time(struct fs_source *s, struct first_packet *timed, uint32_t n) {
  if (n < 2) return 0;
  uint32_t *places = malloc(n * sizeof(*places));
  if (!places) return -1;
  for (uint32_t i = 0; i < n; i++) places[i] = timed[i].at;
  qsort(timed, n, sizeof(*timed), by_first_packet);
  bool moved = false;
  for (uint32_t i = 0; i < n; i++) {
    moved |= timed[i].at != places[i];
    s->files[places[i]] = timed[i].file;
  }
  free(places);
  if (moved) {
    warn(s, "the capture files were not given in time order: they are read in the order of their first packets, "
            "from %s%s\n", timed[0].file, "");
  }
  return 0;
}

/* What an open source holds besides its current file. */
static void source_free(struct fs_source *s) {
  free(s->bpf);
  s->bpf = NULL;
  free(s->inbuf);
  s->inbuf = NULL;
  free(s->recbuf);
  s->recbuf = NULL;
}

/* What every source starts with; -1 (out of memory, said in err) with nothing held. The records'
 * buffer comes with the first regular file read (next_file): a source that only checks the files
 * (a spread's, whose lanes read them) or reads a FIFO holds none. */
static int source_init(struct fs_source *s, char **files, uint32_t n_files, uint32_t snaplen, const char *bpf, char *err) {
  memset(s, 0, sizeof(*s));
  atomic_init(&s->stop_requested, false);
  s->files = files;
  s->n_files = n_files;
  s->snaplen = snaplen;
  s->bpf = bpf && *bpf ? strdup(bpf) : NULL;
  s->inbuf = malloc(INPUT_BUFFER);
  if ((bpf && *bpf && !s->bpf) || !s->inbuf) { snprintf(err, FS_ERRLEN, "out of memory"); source_free(s); return -1; }
  return 0;
}

int fs_source_open(struct fs_source *s, char **files, uint32_t n_files, uint32_t snaplen, const char *bpf,
                   char *err) {
  if (source_init(s, files, n_files, snaplen, bpf, err) != 0) return -1;
  struct first_packet *timed = n_files ? malloc(n_files * sizeof(*timed)) : NULL;
  if (n_files && !timed) { snprintf(err, FS_ERRLEN, "out of memory"); source_free(s); return -1; }
  uint32_t n_timed = 0;
  for (uint32_t i = 0; i < n_files; i++) {
    /* a FIFO or standard input can be read once only: it is checked when its turn comes */
    struct stat st;
    if (strcmp(files[i], "-") == 0 || (stat(files[i], &st) == 0 && !S_ISREG(st.st_mode))) continue;
    struct first_packet *t = &timed[n_timed];
    bool has_first = false;
    struct stream *in;
    pcap_t *pc = open_one(files[i], s->bpf, &s->stop_requested, NULL, s->inbuf, err, &in, &has_first, &t->ms, &t->ns);
    if (!pc) { free(timed); source_free(s); return -1; }
    pcap_close(pc);
    if (has_first) { t->at = i; t->file = files[i]; n_timed++; }
  }
  if (order_by_time(s, timed, n_timed) != 0) {
    snprintf(err, FS_ERRLEN, "out of memory");
    free(timed); source_free(s);
    return -1;
  }
  free(timed);
  s->cur = 0;
  return 0;
}

int fs_source_open_again(struct fs_source *s, const struct fs_source *first, fs_shared_size *sizes,
                         struct fs_shared_read_errors *errors, char *err) {
  if (source_init(s, first->files, first->n_files, first->snaplen, first->bpf, err) != 0) return -1;
  s->sizes = sizes;
  s->shared_errors = errors;
  return 0;
}

static bool next_file(struct fs_source *s) {
  char err[FS_ERRLEN];
  while (s->cur < s->n_files && !atomic_load(&s->stop_requested)) {
    struct stream *in = NULL;
    s->pc = open_one(s->files[s->cur], s->bpf, &s->stop_requested, s->sizes ? &s->sizes[s->cur] : NULL, s->inbuf, err, &in,
                     NULL, NULL, NULL);
    s->cur++;
    if (!s->pc) {
      /* a stream that a stop request ended before its header came is no error */
      if (!atomic_load(&s->stop_requested)) warn_error(s, "%s%s\n", err, "");
      continue;
    }
    s->linktype = pcap_datalink(s->pc);
    s->file_fresh = true;
    s->opened_size = in->regular ? in->size : 0;
    s->in_fd = in->fd;
    /* a classic pcap file's records are read straight from it (pcap_records.h), filtered by the
     * same program libpcap would run; one that cannot be compiled again leaves it to libpcap */
    if (in->regular && !s->recbuf) s->recbuf = malloc(FS_PCAP_RECORDS_BUFFER); /* none: libpcap reads it */
    s->records = in->regular && s->recbuf && fs_pcap_records_open(&s->rec, in->fd, in->size, s->recbuf);
    if (s->records && s->bpf) {
      s->has_prog = pcap_compile(s->pc, &s->prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
      s->records = s->has_prog;
    }
    if (!fs_decode_linktype_supported(s->linktype)) {
      const char *name = pcap_datalink_val_to_name(s->linktype);
      char number[32];
      snprintf(number, sizeof(number), "number %d", s->linktype);
      warn(s, "%s: link type %s is not decoded; its packets are counted as ignored\n", file_name(s, s->cur - 1),
           name ? name : number);
      s->unsupported_linktype_files++;
    }
    return true;
  }
  return false;
}

/* End of this file (or it is cut short): the next one opens on the next read. */
static void fs_source_close_file(struct fs_source *s) {
  fs_source_kernel_stats(s);
  if (s->has_prog) pcap_freecode(&s->prog);
  s->has_prog = false;
  s->records = false;
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

/* A file's first frame: one that starts before the last file read ends overlaps it in time, and
 * the meter's clock, which only goes forward, holds its earlier packets at that file's last time. */
static void first_frame(struct fs_source *s, const struct fs_frame *fr) {
  s->file_fresh = false;
  if (s->any_frame && (fr->ms < s->last_ms || (fr->ms == s->last_ms && fr->ns < s->last_ns))) {
    s->overlaps++;
    if (strcmp(s->files[s->cur - 1], s->files[s->last_file]) == 0) {
      warn(s, "%s: given more than once: its packets are read again, timed as its last one%s\n", file_name(s, s->cur - 1), "");
    } else {
      warn(s, "%s: starts before %s ends: the packets it has from before then are timed as that file's last one\n",
           file_name(s, s->cur - 1), file_name(s, s->last_file));
    }
  }
  s->any_frame = true;
  s->last_file = s->cur - 1;
}

/* A file that ends, at a record's end or inside one, short of the size it had when it was opened
 * was cut while it was read (a ring buffer's file, logrotate's copytruncate): said so, not as a
 * damaged file, whichever read it (libpcap, or the record reader, whose read then finds nothing). */
static bool cut_while_read(struct fs_source *s, char *why, size_t n) {
  struct stat st;
  if (s->live || !s->pc || s->opened_size == 0) return false;
  if (fstat(s->in_fd, &st) != 0 || (uint64_t)st.st_size >= s->opened_size) return false;
  snprintf(why, n, "the file was truncated while it was read (%llu bytes left of %llu)", (unsigned long long)st.st_size,
           (unsigned long long)s->opened_size);
  return true;
}

int fs_source_read(struct fs_source *s, struct fs_frame *fr) {
  if (s->file_ended) { fs_source_close_file(s); s->file_ended = false; }
  if (!s->pc && !next_file(s)) return FS_READ_END;
  struct pcap_pkthdr *h, rh;
  const u_char *data;
  const char *why = NULL;
  int rc;
  if (s->records) {
    do rc = fs_pcap_records_next(&s->rec, &rh, &data); while (rc == 1 && s->has_prog && !pcap_offline_filter(&s->prog, &rh, data));
    h = &rh;
    if (rc < 0) why = s->rec.err;
    rc = rc == 0 ? PCAP_ERROR_BREAK : rc < 0 ? PCAP_ERROR : rc; /* as pcap_next_ex says them */
  } else {
    rc = pcap_next_ex(s->pc, &h, &data);
  }
  if (rc == 1) {
    fr->caplen = s->snaplen && h->caplen > s->snaplen ? s->snaplen : h->caplen;
    fr->wirelen = h->len;
    fr->data = data;
    fr->linktype = s->linktype;
    s->bytes_read += h->caplen + 16;
    struct timeval ts = h->ts;
    if (s->ts_micro) ts.tv_usec *= 1000;
    fr->ms = fs_source_time_ms(&ts, &fr->ns);
    if (__builtin_expect(s->file_fresh, 0)) first_frame(s, fr);
    s->last_ms = fr->ms;
    s->last_ns = fr->ns;
    return FS_READ_FRAME;
  }
  if (rc == 0 && s->live) {
    if (atomic_load(&s->stop_requested)) s->idle_since_stop++; /* see fs_source_live_drained */
    return FS_READ_IDLE;
  }
  char cut[128];
  if (rc < 0 && cut_while_read(s, cut, sizeof(cut))) {
    warn_error(s, "%s: %s; flows up to this point are kept\n", file_name(s, s->cur - 1), cut);
  } else if (rc == PCAP_ERROR && !(atomic_load(&s->stop_requested) && s->opened_size == 0 && !s->live)) {
    /* a stream that a stop request cut short mid-record is an interrupted read, not a damaged file */
    if (!why) why = pcap_geterr(s->pc);
    /* libpcap's words for a pcapng whose interfaces differ in link type read as if the file were
     * damaged: it is valid, and beyond what libpcap reads */
    if (strstr(why, "different from the type of the first interface")) {
      why = "its interfaces have different link types (pcapng), and libpcap reads none past the first type's";
    }
    warn_error(s, "%s: %s; flows up to this point are kept\n", s->live ? "capture" : file_name(s, s->cur - 1), why);
  }
  /* the file closes at the next read */
  s->file_ended = true;
  return FS_READ_FILE_END;
}

void fs_source_close(struct fs_source *s) {
  fs_source_close_file(s);
  source_free(s);
}
