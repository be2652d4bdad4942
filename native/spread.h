/* Capture files metered by several meters, their frames spread by host-pair hash; each lane's
 * meter runs on a thread of its own (run.c drives it). Regular files are read by every lane, each
 * keeping the frames of its partition (each_reads); an input that can be read once (a FIFO,
 * standard input) is read by a reader thread that decodes each frame far enough to know its
 * partition and hands that lane a copy of it (the lane decodes it again: cheaper than handing over
 * the decoded packet). The flows are a single meter's: every lane keeps the run's one clock (moved
 * by every frame, the reader's or its own reading's: fs_spread_route), and a flow's packets all go
 * to one lane. */
#ifndef FS_SPREAD_H
#define FS_SPREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include "source.h"

/* one entry of a lane: a frame, a tick of the clock, or the end of the input */
enum { FS_LANE_FRAME = 0, FS_LANE_CLOCK = 1, FS_LANE_END = 2 };

struct fs_lane_entry {
  const uint8_t *data;              /* in the lane's arena (struct fs_lane) */
  uint64_t time_ms;                 /* forced monotonic; a clock tick's time */
  uint32_t time_ns;
  uint32_t caplen, wirelen;
  int16_t linktype;
  uint8_t kind;
};

/* A power of two: 4 MB of entries a lane. A lane busy a moment longer than the others (an idle
 * scan's rows) fills its ring; the reader then waits on it while the others run dry: rings of
 * 131,072 entries (against 32,768) left fewer such waits, and measured faster. */
#define FS_LANE_SLOTS 131072u
#define FS_LANE_WAKE_AT 1024        /* entries that wake a waiting lane: fewer sleeps, each worth its switch */
/* Each side makes its index known this many entries at a time (and before it waits, and at the
 * end): an index stored at every entry bounces its cache line between the cores at every entry,
 * and that cost more than the entry itself. */
#define FS_LANE_PUBLISH 64

/* A single-producer single-consumer ring; each side sleeps only when it must. */
struct fs_lane {
  /* each side's published index on a line of its own, and each side's own counts on another: a
   * count written at every entry beside the index the other side reads sent that line across the
   * cores at every entry */
  struct fs_lane_entry *slots;      /* read by both sides, written once */
  _Alignas(64) atomic_size_t tail;  /* written by the reader, FS_LANE_PUBLISH entries at a time */
  _Alignas(64) atomic_size_t head;  /* written by the lane, FS_LANE_PUBLISH entries done with at a time */
  _Alignas(64) size_t seen_tail;    /* the lane's last look at tail */
  size_t taken;                     /* the lane's: entries done with, published or not */
  _Alignas(64) size_t seen_head;    /* the reader's last look at head */
  size_t filled;                    /* the reader's: entries written, published or not */
  /* the reader's: the lane's frames, copied in file order into a ring of bytes, and where each
   * entry's bytes start in it, counted from the first byte ever copied */
  uint8_t *arena;
  uint64_t arena_w;                 /* bytes copied (and skipped at a wrap) so far */
  uint64_t *starts;
  _Alignas(64) atomic_int lane_waiting, reader_waiting;
  atomic_size_t reader_wants;       /* the reader sleeps until the ring holds at most this many */
  atomic_bool gone;                 /* closed, or its meter stopped: the reader skips it */
  /* each_reads: the frames this lane has read, and whether it reads on only up to fs_spread_stop_at
   * (it saw the stop, or its input ended) */
  atomic_uint_least64_t frames_read;
  atomic_bool halted;
  atomic_uint_least64_t own_read, unrouted_read; /* each_reads: of frames_read, its own and the unrouted */
  pthread_mutex_t lock;
  pthread_cond_t has_data, has_room;
};

/* what the reader counts */
struct fs_spread_counts {
  uint64_t packets, oversize_records;
  /* a lane that reads the files itself: of its packets, those of its own partition, and those no
   * lane's decode takes */
  uint64_t own, unrouted;
  uint64_t retimed, retimed_max_ms; /* the run's clock's (fs_clock held) */
  uint64_t ignored[FS_IGN__COUNT];
};

/* what the reader counted, with its source's own counters, as of its last report */
struct fs_spread_counters {
  struct fs_spread_counts n;
  uint64_t bytes_read;
  uint32_t read_errors, read_errors_left_out, overlaps;
  char warnings[4 * FS_ERRLEN];
};

struct fs_spread {
  struct fs_source src;             /* the reader thread's alone; where each lane reads, the files' order and notes */
  bool each_reads;                  /* each lane reads the files itself (regular files): no reader, no rings */
  fs_shared_size *sizes;            /* each_reads: one a file, as the first lane to open it found it */
  struct fs_shared_read_errors read_errors; /* each_reads: said once a file, whichever lane meets it */
  char **files;
  uint32_t n_files;
  uint32_t n_lanes;
  struct fs_lane *lanes;
  bool decode_tunnels;
  atomic_bool stop, abort;
  atomic_uint refs;
  atomic_uint_least64_t next_id;    /* lanes writing text take their batches' ids from here, in the order made */
  /* frames the reader handed on undecoded (host_pair.h) that their lane's decode refused, by reason */
  atomic_uint_least64_t lane_ignored[FS_IGN__COUNT];
  /* the reader's waits for room, and the wake-ups among them that found none (a lane woke it too
   * early: each costs two context switches and a lane's core, and once came by the ten thousand) */
  atomic_uint_least64_t reader_sleeps, reader_needless_wakes;
  pthread_t reader;
  pthread_mutex_t counters_lock;
  struct fs_spread_counters counters;
};

/* A frame's lane, on the run's one clock (which it moves, with *scan set when an idle scan falls
 * due there), counted in c; -1 when no lane's decode takes it (counted as ignored, and no clock
 * moves). The reader routes every frame so, and so does each lane that reads the files itself. */
int fs_spread_route(const struct fs_spread *sp, const struct fs_frame *fr, struct fs_clock *clock, struct fs_spread_counts *c,
                    bool *scan);
/* Opens the files (each checked, as fs_source_open does) and starts the reader (each lane reads
 * regular files itself: see each_reads). The spread owns
 * files (the array and each name) from here on, even when it fails: NULL with a message in err.
 * It holds one reference per lane. */
struct fs_spread *fs_spread_open(char **files, uint32_t n_files, uint32_t snaplen, const char *bpf, bool decode_tunnels,
                                 uint32_t n_lanes, char *err);
/* Lane i's next entry, waiting a moment for one; NULL if none came (the lane then returns a short
 * batch, so a waiting lane never holds its thread for long). The entry stays the lane's until
 * fs_lane_done_with(). */
struct fs_lane_entry *fs_lane_peek(struct fs_spread *sp, uint32_t lane);
void fs_lane_done_with(struct fs_spread *sp, uint32_t lane);
/* A lane that reads the files itself has read these frames (c: all of them, its own, the unrouted);
 * halted: it saw the stop (or its input ended), and reads on only to fs_spread_stop_at(). */
void fs_lane_read_so_far(struct fs_spread *sp, uint32_t lane, const struct fs_spread_counts *c, bool halted);
/* Where lanes that read the files themselves stop, so that a frame one of them read is one its own
 * lane metered: UINT64_MAX until every lane still reading has halted (lanes then wait, reading
 * nothing), then the most frames any lane read (each reads on to it; none reads past it). */
uint64_t fs_spread_stop_at(struct fs_spread *sp);
/* Lane i takes nothing more (its meter stopped at --max-flows): the reader skips it. */
void fs_lane_leave(struct fs_spread *sp, uint32_t lane);
/* The reader stops; every lane flushes and ends. */
void fs_spread_stop(struct fs_spread *sp);
/* How often the reader waited for a lane's room, and woke to find none. */
void fs_spread_waits(struct fs_spread *sp, uint64_t *sleeps, uint64_t *needless);
/* A lane's decode refused a frame for reason: counted among the reader's, under that reason. */
void fs_spread_refused(struct fs_spread *sp, uint32_t reason);
/* A copy of the reader's counters, with the frames lanes refused. */
void fs_spread_counters(struct fs_spread *sp, struct fs_spread_counters *out);
/* The same for a lane that reads the files itself: its source src, what its reading counted (c,
 * what its meter refused among it) and its clock; the notes the spread made on the files' order first.
 * Its packets are the run's so far: those every lane read for its own partition, and those no lane
 * takes. */
void fs_spread_lane_counters(const struct fs_spread *sp, const struct fs_spread_counts *c, const struct fs_clock *clock,
                             const struct fs_source *src, struct fs_spread_counters *out);
/* One more reference, for a holder that is no lane (it may stop the spread and read its counters). */
void fs_spread_hold(struct fs_spread *sp);
/* Lane i is closed (FS_SPREAD_HOLDER: a holder lets go); the last release stops the reader and frees
 * everything. */
#define FS_SPREAD_HOLDER UINT32_MAX
void fs_spread_release(struct fs_spread *sp, uint32_t lane);

#endif
