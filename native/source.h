/* Where frames come from: capture files read in sequence through libpcap (pcap and pcapng),
 * one clock and one flow table across all of them. */
#ifndef FS_SOURCE_H
#define FS_SOURCE_H

#include <pcap/pcap.h>
#include <stdatomic.h>
#include "meter.h"
#include "pcap_records.h"

#define FS_ERRLEN 1024

/* a regular file's size as the first of its readers found it, plus one (0: not opened yet) */
typedef _Atomic uint64_t fs_shared_size;

/* The read errors of files that several sources read (lanes that read the files themselves): a
 * file's is said once, by the first of them to meet one there (a run said a truncated file once a
 * lane), and the files whose line found no room in that source's warnings are counted for all. */
struct fs_shared_read_errors {
  atomic_bool *said;                /* one a file */
  atomic_uint left_out;
};

struct fs_source {
  char **files;                     /* not the source's: its opener's */
  uint32_t n_files, cur;
  pcap_t *pc;
  int linktype;
  uint32_t snaplen;                 /* 0: keep what the file captured */
  char *bpf;                        /* NULL: none */
  char *inbuf;                      /* the stdio buffer libpcap's reads go through (files) */
  uint8_t *recbuf;                  /* classic pcap files: the records' buffer (pcap_records.h) */
  bool records;                     /* the current file's records are read by rec, not libpcap */
  struct fs_pcap_records rec;
  bool has_prog;                    /* rec's records are filtered by prog (the BPF filter) */
  struct bpf_program prog;
  uint64_t opened_size;             /* the current file's size when it was opened (0: not a regular file) */
  fs_shared_size *sizes;            /* NULL, or one a file: read again (fs_source_open_again) */
  int in_fd;                        /* the current file's descriptor (libpcap's stream's) */
  bool file_ended;                  /* the current file is over: closed at the next read */
  atomic_bool stop_requested;       /* set from another thread (SIGINT); the run flushes and ends */
  uint32_t read_errors;             /* files cut short or unreadable mid-run */
  uint32_t read_errors_left_out;    /* of them, files not named in warnings for want of room */
  struct fs_shared_read_errors *shared_errors; /* NULL, or the lanes' (fs_source_open_again) */
  uint32_t overlaps;                /* files that started before the last one read ended (each noted) */
  uint64_t bytes_read;              /* captured bytes, for progress */
  char warnings[4 * FS_ERRLEN];     /* what went wrong in a file that was otherwise read */
  bool notes_cut;                   /* notes were left out of warnings (source.c: NOTES_END), and said to be */
  uint32_t unsupported_linktype_files;
  bool file_fresh;                  /* no frame read yet from the current file */
  bool any_frame;                   /* a frame was read: last_* and last_file hold */
  uint32_t last_file;               /* the file of the last frame read */
  uint64_t last_ms;                 /* the last frame's time: a file that starts earlier overlaps */
  uint32_t last_ns;
  bool live;                        /* an interface, not files: wall clock drives expiry */
  bool ts_micro;                    /* live: the interface gives microseconds, not nanoseconds */
  int fd;                           /* live: the capture socket, to wait on */
  uint64_t kernel_received, kernel_dropped;  /* live: pcap_stats, as of the last batch */
  uint64_t stop_seen_ms;            /* live: when the stop was first seen (0: not yet) */
  uint32_t idle_since_stop;         /* live: reads that found nothing since the stop */
};

struct fs_live_config {
  const char *iface;
  uint32_t snaplen;
  bool promisc;
  uint32_t buffer_bytes;            /* 0: libpcap's default */
  const char *bpf;
  uint16_t fanout_group;            /* 0: no fanout */
};

/* Checks every file opens as a capture and that the BPF filter compiles for it; on failure
 * returns -1 with a one-line message in err. "-" is standard input. Regular files are put in the
 * time order of their first packets, in place in files (stable; a FIFO, standard input or a file
 * without packets keeps its place), with a warning when that changed the order. */
int fs_source_open(struct fs_source *s, char **files, uint32_t n_files, uint32_t snaplen, const char *bpf,
                   char *err);
/* The files of an open source, in the order it put them, for one more reader of them (a lane of
 * read --workers that reads them itself): nothing is checked or put in order again, and first
 * keeps the files (it must outlive this source). Each file is read up to the size the first of
 * its readers found when it opened it: sizes is one slot a file, zeros at first, shared by them; so
 * are errors (NULL: this source says its own). */
int fs_source_open_again(struct fs_source *s, const struct fs_source *first, fs_shared_size *sizes,
                         struct fs_shared_read_errors *errors, char *err);
/* One frame as read: data stays valid until the next read. */
struct fs_frame {
  const uint8_t *data;
  uint64_t ms;
  uint32_t ns, caplen, wirelen;
  int linktype;
};

enum { FS_READ_END = 0, FS_READ_FRAME = 1, FS_READ_FILE_END = 2, FS_READ_IDLE = 3 };
/* The next frame of the files (or the interface): FS_READ_FRAME; FS_READ_FILE_END when a file is
 * over (a damaged one is warned about); FS_READ_IDLE live, with no packet yet; FS_READ_END when
 * there is no more input. */
int fs_source_read(struct fs_source *s, struct fs_frame *fr);
void fs_source_close(struct fs_source *s);
/* Files with a read error that the warnings do not name (no room left): this source's, or, where the
 * errors are shared, all its fellow readers'. */
uint32_t fs_source_read_errors_left_out(const struct fs_source *s);

/* source_live.c: opens and activates a capture on an interface; -1 with a message a person can act
 * on (no such interface, permission, interface down, bad filter). */
int fs_source_open_live(struct fs_source *s, const struct fs_live_config *c, char *err);
/* A packet's time in ms since the epoch, as the meter takes it. */
uint64_t fs_source_time_ms(const struct timeval *tv, uint32_t *ns_in_ms);
/* Live: waits up to 100 ms for packets. */
void fs_source_wait(struct fs_source *s);
/* Live, after a stop: true once what the kernel held when it came has been read (the ring was
 * found empty twice, a poll timeout apart), or after a second at most under a flood. */
bool fs_source_live_drained(struct fs_source *s, uint64_t now_ms);
/* Refreshes kernel_received / kernel_dropped. */
void fs_source_kernel_stats(struct fs_source *s);

#endif
