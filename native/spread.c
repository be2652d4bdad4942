#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include "decode.h"
#include "host_pair.h"
#include "spread.h"

#define MASK (FS_LANE_SLOTS - 1)
/* the longest either side sleeps before looking again (a lane then returns a short batch) */
#define WAIT_MS 20
/* the reader's counters reach JavaScript this often, and at least this often in time from a
 * stream (standard input, a FIFO), whose packets may come a few a second */
#define REPORT_EVERY 8192
#define REPORT_MS 250
/* entries between a frame's prefetch by its lane and its turn */
#define PREFETCH_AHEAD 8
/* a lane's ring of frame bytes (a power of two): 32 MB held about 70,000 frames of the bench
 * capture; 8 MB was slower, 128 MB no faster (bench/RESULTS.md) */
#define ARENA_BYTES ((uint64_t)32 << 20)

static uint64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 0 when signalled, ETIMEDOUT when the moment passed */
static int timed_wait(pthread_cond_t *c, pthread_mutex_t *mu) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += WAIT_MS * 1000000L;
  if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
  return pthread_cond_timedwait(c, mu, &ts);
}

static void wake(struct fs_lane *l, pthread_cond_t *c) {
  pthread_mutex_lock(&l->lock);
  pthread_cond_signal(c);
  pthread_mutex_unlock(&l->lock);
}

static void publish_tail(struct fs_lane *l, bool end);

/* Reader: waits until lane l holds at most `most` entries. False if the lane is gone or the run
 * aborted. The flag is raised under the lock before the last look, and the lane signals under the
 * same lock, so a wake-up is not lost (the timeout is a second guard). */
static bool wait_room(struct fs_spread *sp, struct fs_lane *l, size_t most) {
  size_t t = l->filled;
  if (t - l->seen_head <= most) return true;
  publish_tail(l, false); /* the lane can only make room out of what it sees */
  while (t - (l->seen_head = atomic_load(&l->head)) > most) {
    if (atomic_load(&sp->abort) || atomic_load(&l->gone)) return false;
    /* a lane asleep on a few entries (see push) is woken before the reader sleeps on it */
    if (atomic_load(&l->lane_waiting)) wake(l, &l->has_data);
    pthread_mutex_lock(&l->lock);
    atomic_store(&l->reader_wants, most);
    atomic_store(&l->reader_waiting, 1);
    if (t - atomic_load(&l->head) > most && !atomic_load(&l->gone) && !atomic_load(&sp->abort)) {
      atomic_fetch_add_explicit(&sp->reader_sleeps, 1, memory_order_relaxed);
      if (timed_wait(&l->has_room, &l->lock) == 0 && t - atomic_load(&l->head) > most && !atomic_load(&l->gone) &&
          !atomic_load(&sp->abort)) {
        atomic_fetch_add_explicit(&sp->reader_needless_wakes, 1, memory_order_relaxed);
      }
    }
    atomic_store(&l->reader_waiting, 0);
    pthread_mutex_unlock(&l->lock);
  }
  return true;
}

/* Reader: the entries written so far reach lane l. A waiting lane is woken once it has work worth
 * the switch (counted from where it is now: the reader's last look at head may be far behind), or
 * at the end; a clock tick waits for frames or the lane's own timeout, as the order of entries,
 * not their timing, makes the flows. */
static void publish_tail(struct fs_lane *l, bool end) {
  if (atomic_load_explicit(&l->tail, memory_order_relaxed) == l->filled) return; /* the reader alone stores it */
  atomic_store(&l->tail, l->filled);
  if (atomic_load(&l->lane_waiting) && (end || l->filled - (l->seen_head = atomic_load(&l->head)) >= FS_LANE_WAKE_AT)) {
    wake(l, &l->has_data);
  }
}

static bool push(struct fs_spread *sp, struct fs_lane *l, const struct fs_lane_entry *e) {
  /* a full ring is waited on until half empty: fewer sleeps and wake-ups on either side */
  if (atomic_load_explicit(&l->gone, memory_order_relaxed)) return false;
  size_t t = l->filled;
  if (t - l->seen_head >= FS_LANE_SLOTS && !wait_room(sp, l, FS_LANE_SLOTS / 2)) return false;
  l->slots[t & MASK] = *e;
  /* a frame's bytes were the last copied into the arena (arena_copy, just before) */
  l->starts[t & MASK] = l->arena_w - (e->kind == FS_LANE_FRAME ? e->caplen : 0);
  l->filled = t + 1;
  if (e->kind == FS_LANE_END || (l->filled & (FS_LANE_PUBLISH - 1)) == 0) publish_tail(l, e->kind == FS_LANE_END);
  return true;
}

/* Reader: a frame's bytes copied into lane l's arena, once the lane is done with the frames that
 * were there (each entry's bytes start where the last one's ended, and a lane takes its entries in
 * order, so its oldest entry's start bounds what is still in use); NULL if the lane is gone. A
 * frame never wraps: the arena's tail too short for it is skipped. */
static const uint8_t *arena_copy(struct fs_spread *sp, struct fs_lane *l, const uint8_t *data, uint32_t len) {
  uint64_t at = l->arena_w & (ARENA_BYTES - 1);
  uint64_t skip = at + len > ARENA_BYTES ? ARENA_BYTES - at : 0;
  /* the reader's last look at the lane's head first: it only lags, so room it shows is there, and
   * the head's cache line, which the lane writes, is fetched only when it shows too little */
  for (size_t h = l->seen_head;; h = l->seen_head = atomic_load(&l->head)) {
    uint64_t oldest = h == l->filled ? l->arena_w : l->starts[h & MASK];
    if (ARENA_BYTES - (l->arena_w - oldest) >= skip + len) break;
    if (h != atomic_load(&l->head)) continue;
    if (!wait_room(sp, l, (l->filled - h) / 2)) return NULL;
  }
  l->arena_w += skip;
  uint8_t *p = l->arena + (l->arena_w & (ARENA_BYTES - 1));
  memcpy(p, data, len);
  l->arena_w += len;
  return p;
}

/* Reader, before a read that may wait (a FIFO, standard input): every lane has what was read. */
static void publish_tails(struct fs_spread *sp) {
  for (uint32_t i = 0; i < sp->n_lanes; i++) publish_tail(&sp->lanes[i], false);
}

static void push_all(struct fs_spread *sp, const struct fs_lane_entry *e, uint32_t except) {
  for (uint32_t i = 0; i < sp->n_lanes; i++) if (i != except) push(sp, &sp->lanes[i], e);
}

/* Lane: the entries done with so far are given back; a reader waiting for that much room is woken. */
static void publish_head(struct fs_lane *l) {
  atomic_store(&l->head, l->taken);
  /* counted from the ring's true tail (the reader published it before it waited), not the lane's
   * last look at it: that look may lag far behind, and woke the reader to find no room, over and
   * over (tens of thousands of switches a run) */
  if (atomic_load(&l->reader_waiting) && atomic_load(&l->tail) - l->taken <= atomic_load(&l->reader_wants)) {
    wake(l, &l->has_room);
  }
}

struct fs_lane_entry *fs_lane_peek(struct fs_spread *sp, uint32_t lane) {
  struct fs_lane *l = &sp->lanes[lane];
  size_t h = l->taken;
  if (h == l->seen_tail && h == (l->seen_tail = atomic_load(&l->tail))) {
    publish_head(l); /* a reader waiting for an empty ring (the end of a file) sees it */
    pthread_mutex_lock(&l->lock);
    atomic_store(&l->lane_waiting, 1);
    if (h == atomic_load(&l->tail)) timed_wait(&l->has_data, &l->lock);
    atomic_store(&l->lane_waiting, 0);
    pthread_mutex_unlock(&l->lock);
    if (h == (l->seen_tail = atomic_load(&l->tail))) return NULL;
  }
  /* the frame a few entries on was last read on the reader's core: asked for now, it is here
   * by the time its turn comes (its headers, where the decode and nDPI start) */
  const uint8_t *d = l->seen_tail - h > PREFETCH_AHEAD ? l->slots[(h + PREFETCH_AHEAD) & MASK].data : NULL;
  if (d) { /* a clock tick or the end has none */
    __builtin_prefetch(d);
    __builtin_prefetch(d + 64);
  }
  return &l->slots[h & MASK];
}

void fs_lane_done_with(struct fs_spread *sp, uint32_t lane) {
  struct fs_lane *l = &sp->lanes[lane];
  l->taken++;
  if ((l->taken & (FS_LANE_PUBLISH - 1)) == 0 || atomic_load_explicit(&l->reader_waiting, memory_order_relaxed)) publish_head(l);
}

void fs_lane_leave(struct fs_spread *sp, uint32_t lane) {
  atomic_store(&sp->lanes[lane].gone, true);
}

void fs_lane_read_so_far(struct fs_spread *sp, uint32_t lane, const struct fs_spread_counts *c, bool halted) {
  /* a lane's own line, stored at every frame; read by the others only once the stop came, or for
   * their counters */
  struct fs_lane *l = &sp->lanes[lane];
  atomic_store_explicit(&l->frames_read, c->packets, memory_order_relaxed);
  atomic_store_explicit(&l->own_read, c->own, memory_order_relaxed);
  atomic_store_explicit(&l->unrouted_read, c->unrouted, memory_order_relaxed);
  if (halted) atomic_store(&l->halted, true); /* after the count: whoever sees it sees that */
}

uint64_t fs_spread_stop_at(struct fs_spread *sp) {
  uint64_t most = 0;
  for (uint32_t i = 0; i < sp->n_lanes; i++) {
    struct fs_lane *l = &sp->lanes[i];
    bool halted = atomic_load(&l->halted);
    if (!halted && !atomic_load(&l->gone)) return UINT64_MAX;
    uint64_t n = atomic_load_explicit(&l->frames_read, memory_order_relaxed);
    if (n > most) most = n;
  }
  return most;
}

/* what the reader counted, with its clock's packets held back */
/* A reading's counters (the reader's, or a lane's own): what it counted, its clock's packets held
 * back, and its source's; not the warnings */
static void read_counters(struct fs_spread_counters *out, const struct fs_spread_counts *c, const struct fs_clock *clock,
                          const struct fs_source *src) {
  out->n = *c;
  out->n.retimed = clock->held;
  out->n.retimed_max_ms = clock->held_max_ms;
  out->bytes_read = src->bytes_read;
  out->read_errors = src->read_errors;
  out->read_errors_left_out = fs_source_read_errors_left_out(src);
  out->overlaps = src->overlaps;
}

static void publish(struct fs_spread *sp, const struct fs_spread_counts *c, const struct fs_clock *clock) {
  pthread_mutex_lock(&sp->counters_lock);
  read_counters(&sp->counters, c, clock, &sp->src);
  if (strcmp(sp->counters.warnings, sp->src.warnings) != 0) strcpy(sp->counters.warnings, sp->src.warnings);
  pthread_mutex_unlock(&sp->counters_lock);
}

void fs_spread_lane_counters(const struct fs_spread *sp, const struct fs_spread_counts *c, const struct fs_clock *clock,
                             const struct fs_source *src, struct fs_spread_counters *out) {
  read_counters(out, c, clock, src);
  /* the files' order was noted when the spread opened them (sp->src, written before any lane
   * was); each lane notes the rest alike (the run says each note once: src/workers/stats.ts) */
  /* Every lane reads every frame, but a lane that could not open a file (out of descriptors) read
   * none of it while the others read theirs: the largest lane's count claimed frames whose lane
   * never metered them. The run's are each lane's own, and the most any lane read that no lane takes. */
  uint64_t own = 0, unrouted = 0;
  for (uint32_t i = 0; i < sp->n_lanes; i++) {
    own += atomic_load_explicit(&sp->lanes[i].own_read, memory_order_relaxed);
    uint64_t u = atomic_load_explicit(&sp->lanes[i].unrouted_read, memory_order_relaxed);
    if (u > unrouted) unrouted = u;
  }
  out->n.packets = own + unrouted;
  size_t n = strlen(sp->src.warnings), m = strlen(src->warnings);
  if (n + m >= sizeof(out->warnings)) n = 0; /* the lane's own (a read error among them) before a note */
  memcpy(out->warnings, sp->src.warnings, n);
  memcpy(out->warnings + n, src->warnings, m + 1);
}

int fs_spread_route(const struct fs_spread *sp, const struct fs_frame *fr, struct fs_clock *clock, struct fs_spread_counts *c,
                    bool *scan) {
  c->packets++;
  if (fr->wirelen > 0xffff) c->oversize_records++;
  /* most frames' lane is read from their headers; the rest are decoded as their lane will */
  uint64_t host;
  if (!fs_frame_host_hash(fr->linktype, fr->data, fr->caplen, sp->decode_tunnels, &host)) {
    struct fs_packet p;
    struct fs_flow_key k;
    int d = fs_decode(fr->linktype, fr->data, fr->caplen, fr->wirelen, sp->decode_tunnels, &p);
    if (d != FS_OK) { c->ignored[d]++; c->unrouted++; return -1; }
    fs_flow_key_make(&p, &k);
    host = fs_flow_key_host_hash(&k);
  }
  /* the run's one clock, as a single meter keeps it */
  *scan = fs_clock_packet(clock, fr->ms, fr->ns);
  return (int)(host % sp->n_lanes);
}

/* The reader (inputs read once: a FIFO, standard input): a single meter's reading, decoding and
 * clock, with the flow table split. */
static void *reader_main(void *arg) {
  struct fs_spread *sp = arg;
  pthread_setname_np(pthread_self(), "flowseek-reader"); /* per-thread CPU in /proc names it */
  struct fs_spread_counts c = {0};
  struct fs_clock clock = {0};
  uint32_t since = 0;
  uint64_t published_at = monotonic_ms();
  while (!atomic_load(&sp->stop) && !atomic_load(&sp->abort)) {
    struct fs_frame fr;
    int rc = fs_source_read(&sp->src, &fr);
    if (rc == FS_READ_END) break;
    if (rc != FS_READ_FRAME) continue;
    bool scan = false;
    int lane = fs_spread_route(sp, &fr, &clock, &c, &scan);
    if (lane >= 0) {
      struct fs_lane_entry e = { .data = fr.data, .time_ms = clock.tick_ms, .time_ns = clock.tick_ns, .caplen = fr.caplen,
                                 .wirelen = fr.wirelen, .linktype = (int16_t)fr.linktype, .kind = FS_LANE_FRAME };
      /* libpcap reuses its buffer at the next read: the lane gets a copy, which stays put until
       * the lane is done with it */
      if ((e.data = arena_copy(sp, &sp->lanes[lane], fr.data, fr.caplen))) push(sp, &sp->lanes[lane], &e);
      /* the other lanes' clocks reach this tick where their idle scans fall due */
      if (scan) push_all(sp, &(struct fs_lane_entry){ .time_ms = clock.tick_ms, .kind = FS_LANE_CLOCK }, (uint32_t)lane);
    }
    bool stream = sp->src.opened_size == 0;
    if (stream) publish_tails(sp); /* a FIFO's next read may wait: the lanes have this frame first */
    if (++since == REPORT_EVERY || (stream && monotonic_ms() - published_at >= REPORT_MS)) {
      since = 0;
      publish(sp, &c, &clock);
      published_at = monotonic_ms();
    }
  }
  publish(sp, &c, &clock);
  push_all(sp, &(struct fs_lane_entry){ .kind = FS_LANE_END }, UINT32_MAX);
  return NULL;
}

void fs_spread_stop(struct fs_spread *sp) {
  atomic_store(&sp->stop, true);
  atomic_store(&sp->src.stop_requested, true); /* a reader waiting on a FIFO's data gives up */
}

void fs_spread_waits(struct fs_spread *sp, uint64_t *sleeps, uint64_t *needless) {
  *sleeps = atomic_load(&sp->reader_sleeps);
  *needless = atomic_load(&sp->reader_needless_wakes);
}

void fs_spread_refused(struct fs_spread *sp, uint32_t reason) {
  if (reason < FS_IGN__COUNT) atomic_fetch_add_explicit(&sp->lane_ignored[reason], 1, memory_order_relaxed);
}

void fs_spread_counters(struct fs_spread *sp, struct fs_spread_counters *out) {
  pthread_mutex_lock(&sp->counters_lock);
  *out = sp->counters;
  pthread_mutex_unlock(&sp->counters_lock);
  for (int i = 0; i < FS_IGN__COUNT; i++) out->n.ignored[i] += atomic_load_explicit(&sp->lane_ignored[i], memory_order_relaxed);
}

static void lane_free(struct fs_lane *l) {
  if (!l->slots) return;
  free(l->slots);
  l->slots = NULL;
  free(l->starts);
  l->starts = NULL;
  free(l->arena);
  l->arena = NULL;
  pthread_cond_destroy(&l->has_data);
  pthread_cond_destroy(&l->has_room);
  pthread_mutex_destroy(&l->lock);
}

static void spread_free(struct fs_spread *sp) {
  for (uint32_t i = 0; i < sp->n_lanes; i++) lane_free(&sp->lanes[i]);
  free(sp->lanes);
  free(sp->sizes);
  free(sp->read_errors.said);
  fs_source_close(&sp->src);
  for (uint32_t i = 0; i < sp->n_files; i++) free(sp->files[i]);
  free(sp->files);
  pthread_mutex_destroy(&sp->counters_lock);
  free(sp);
}

void fs_spread_hold(struct fs_spread *sp) {
  atomic_fetch_add(&sp->refs, 1);
}

void fs_spread_release(struct fs_spread *sp, uint32_t lane) {
  if (lane != FS_SPREAD_HOLDER) {
    struct fs_lane *l = &sp->lanes[lane];
    atomic_store(&l->gone, true); /* lanes reading the files themselves wait for it no more at a stop */
    if (!sp->each_reads) wake(l, &l->has_room); /* a reader waiting on this lane looks again */
  }
  if (atomic_fetch_sub(&sp->refs, 1) != 1) return;
  atomic_store(&sp->abort, true);
  atomic_store(&sp->src.stop_requested, true);
  if (!sp->each_reads) pthread_join(sp->reader, NULL);
  spread_free(sp);
}

/* Files are read by every lane, each its own way through them: a lane then reads only its own
 * copy's pages, not frames another core just wrote, and no thread hands frames on (each lane's
 * reading of a 2.2 GB capture cost about 0.3 s of CPU; the reader that copied frames into the
 * lanes' rings cost a whole second: bench/RESULTS.md). A FIFO or standard input can be read only
 * once: one reader then hands each lane its frames (FLOWSEEK_SPREAD=reader chooses it for files
 * too, for tests and benchmarks). */
static bool each_can_read(const struct fs_spread *sp) {
  const char *chosen = getenv("FLOWSEEK_SPREAD");
  if (chosen && strcmp(chosen, "reader") == 0) return false;
  for (uint32_t i = 0; i < sp->n_files; i++) {
    struct stat st;
    if (strcmp(sp->files[i], "-") == 0 || stat(sp->files[i], &st) != 0 || !S_ISREG(st.st_mode)) return false;
  }
  return true;
}

static int lane_init(struct fs_lane *l) {
  pthread_condattr_t ca;
  l->slots = malloc(FS_LANE_SLOTS * sizeof(*l->slots));
  l->starts = malloc(FS_LANE_SLOTS * sizeof(*l->starts));
  l->arena = aligned_alloc(2 << 20, ARENA_BYTES);
  if (!l->slots || !l->starts || !l->arena) {
    free(l->slots); free(l->starts); free(l->arena);
    l->slots = NULL; l->starts = NULL; l->arena = NULL; /* lane_free: nothing to free */
    return -1;
  }
  /* in huge pages where the kernel gives them: the lane reads it all, over and over */
  madvise(l->arena, ARENA_BYTES, MADV_HUGEPAGE);
  pthread_mutex_init(&l->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&l->has_data, &ca);
  pthread_cond_init(&l->has_room, &ca);
  pthread_condattr_destroy(&ca);
  return 0;
}

struct fs_spread *fs_spread_open(char **files, uint32_t n_files, uint32_t snaplen, const char *bpf, bool decode_tunnels,
                                 uint32_t n_lanes, char *err) {
  struct fs_spread *sp = calloc(1, sizeof(*sp));
  /* lanes keep each side's index on its own cache line: calloc does not align to 64 */
  struct fs_lane *lanes = n_lanes ? aligned_alloc(64, ((n_lanes * sizeof(*lanes) + 63) / 64) * 64) : NULL;
  if (!sp || !lanes) {
    for (uint32_t i = 0; i < n_files; i++) free(files[i]);
    free(files); free(sp); free(lanes);
    snprintf(err, FS_ERRLEN, "out of memory");
    return NULL;
  }
  memset(lanes, 0, n_lanes * sizeof(*lanes));
  sp->lanes = lanes;
  sp->files = files;
  sp->n_files = n_files;
  pthread_mutex_init(&sp->counters_lock, NULL);
  if (fs_source_open(&sp->src, sp->files, n_files, snaplen, bpf, err) != 0) {
    sp->n_lanes = 0;
    spread_free(sp);
    return NULL;
  }
  sp->n_lanes = n_lanes;
  sp->decode_tunnels = decode_tunnels;
  atomic_init(&sp->refs, n_lanes);
  atomic_init(&sp->next_id, 0);
  for (int i = 0; i < FS_IGN__COUNT; i++) atomic_init(&sp->lane_ignored[i], 0);
  atomic_init(&sp->reader_sleeps, 0);
  atomic_init(&sp->reader_needless_wakes, 0);
  for (uint32_t i = 0; i < n_lanes; i++) {
    atomic_init(&lanes[i].gone, false);
    atomic_init(&lanes[i].frames_read, 0);
    atomic_init(&lanes[i].halted, false);
    atomic_init(&lanes[i].own_read, 0);
    atomic_init(&lanes[i].unrouted_read, 0);
  }
  sp->each_reads = each_can_read(sp);
  if (sp->each_reads) {
    sp->sizes = calloc(n_files ? n_files : 1, sizeof(*sp->sizes));
    sp->read_errors.said = calloc(n_files ? n_files : 1, sizeof(*sp->read_errors.said));
    atomic_init(&sp->read_errors.left_out, 0);
    if (!sp->sizes || !sp->read_errors.said) { snprintf(err, FS_ERRLEN, "out of memory"); spread_free(sp); return NULL; }
    return sp;
  }
  for (uint32_t i = 0; i < n_lanes; i++) {
    if (lane_init(&lanes[i]) != 0) { snprintf(err, FS_ERRLEN, "out of memory"); spread_free(sp); return NULL; }
  }
  if ((errno = pthread_create(&sp->reader, NULL, reader_main, sp)) != 0) {
    snprintf(err, FS_ERRLEN, "cannot start the reading thread: %s", strerror(errno));
    spread_free(sp);
    return NULL;
  }
  return sp;
}
