#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "decode.h"
#include "host_pair.h"
#include "spread.h"

#define MASK (FS_LANE_SLOTS - 1)
/* the longest either side sleeps before looking again (a lane then returns a short batch) */
#define WAIT_MS 20
/* the reader's counters reach JavaScript this often */
#define REPORT_EVERY 8192
/* frames read between two looks at the oldest frame the lanes hold (a power of two) */
#define NEEDED_EVERY 1024
/* entries between a frame's prefetch by its lane and its turn */
#define PREFETCH_AHEAD 8

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
  l->filled = t + 1;
  if (e->kind == FS_LANE_END || (l->filled & (FS_LANE_PUBLISH - 1)) == 0) publish_tail(l, e->kind == FS_LANE_END);
  return true;
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

/* The oldest frame of the file's map that a lane still holds (NULL: none): the map's pages from
 * there on stay. Entries are in the file's order, so a lane's first frame at or after its published
 * head is its oldest (that head lags the lane: the answer errs on the side of keeping). */
static const uint8_t *oldest_held(struct fs_spread *sp, struct fs_lane **holder) {
  const uint8_t *oldest = NULL;
  for (uint32_t i = 0; i < sp->n_lanes; i++) {
    struct fs_lane *l = &sp->lanes[i];
    if (atomic_load_explicit(&l->gone, memory_order_relaxed)) continue; /* reads nothing more */
    for (size_t h = atomic_load(&l->head); h != l->filled; h++) {
      const struct fs_lane_entry *e = &l->slots[h & MASK];
      if (e->kind != FS_LANE_FRAME || e->owned || !e->data) continue;
      if (!oldest || e->data < oldest) { oldest = e->data; *holder = l; }
      break;
    }
  }
  return oldest;
}

/* Reader: the map keeps the frames the lanes hold, and no more than FS_SPREAD_WINDOW bytes of them:
 * past that, the lane holding the oldest waits for it to take half of what it holds (a lane far
 * behind the others would otherwise hold the file's pages for them all). */
static void keep_needed(struct fs_spread *sp) {
  struct fs_lane *holder = NULL;
  fs_mmap_needed(&sp->src.mm, oldest_held(sp, &holder));
  if (holder && sp->src.mm.off - sp->src.mm.needed > FS_SPREAD_WINDOW) {
    size_t held = holder->filled - atomic_load(&holder->head);
    wait_room(sp, holder, held / 2);
    fs_mmap_needed(&sp->src.mm, oldest_held(sp, &holder));
  }
}

/* what the reader counted, with its clock's packets held back */
static void publish(struct fs_spread *sp, const struct fs_spread_counts *c, const struct fs_clock *clock) {
  pthread_mutex_lock(&sp->counters_lock);
  sp->counters.n = *c;
  sp->counters.n.retimed = clock->held;
  sp->counters.n.retimed_max_ms = clock->held_max_ms;
  sp->counters.bytes_read = sp->src.bytes_read;
  sp->counters.read_errors = sp->src.read_errors;
  sp->counters.overlaps = sp->src.overlaps;
  if (strcmp(sp->counters.warnings, sp->src.warnings) != 0) strcpy(sp->counters.warnings, sp->src.warnings);
  pthread_mutex_unlock(&sp->counters_lock);
}

/* The reader: a single meter's reading, decoding and clock, with the flow table split. */
static void *reader_main(void *arg) {
  struct fs_spread *sp = arg;
  pthread_setname_np(pthread_self(), "flowseek-reader"); /* per-thread CPU in /proc names it */
  struct fs_spread_counts c = {0};
  struct fs_clock clock = {0};
  uint32_t since = 0;
  uint64_t lost_before = 0;         /* the lanes' frames lost to cuts, as of the last file's end */
  while (!atomic_load(&sp->stop) && !atomic_load(&sp->abort)) {
    struct fs_frame fr;
    int rc = fs_source_read(&sp->src, &fr);
    if (rc == FS_READ_END) break;
    if (rc == FS_READ_FILE_END) {
      /* the file's map goes at the next read: every lane must be done with its frames */
      for (uint32_t i = 0; i < sp->n_lanes; i++) wait_room(sp, &sp->lanes[i], 0);
      /* cut after the reader had read past the cut: only the lanes met it, finding frames gone (a
       * cut the reader met is its own read error, said already) */
      uint64_t lost = atomic_load(&sp->lane_lost);
      if (!sp->src.mm.cut && (lost != lost_before || fs_mmap_cut_unseen(&sp->src.mm))) fs_source_cut_late(&sp->src, lost - lost_before);
      lost_before = lost;
      continue;
    }
    if (rc != FS_READ_FRAME) continue;
    /* the next frames' headers, asked for now, arrive while this one is handled: the reader's time
     * went mostly to waiting for them (sampled: 10 % less of it, and the lanes, which read the same
     * lines after it, gained too). A record header is 16 bytes; 26 more reach the IPv4 addresses;
     * 512 bytes on is about the frame after (the bench capture averages 450 bytes a frame). */
    if (fr.mapped) {
      __builtin_prefetch(fr.data + fr.caplen + 16 + 26);
      __builtin_prefetch(fr.data + fr.caplen + 16 + 26 + 512);
    }
    c.packets++;
    if (fr.wirelen > 0xffff) c.oversize_records++;
    /* most frames' lane is read from their headers; the rest are decoded as their lane will */
    uint64_t host;
    int d = FS_OK;
    if (!fs_frame_host_hash(fr.linktype, fr.data, fr.caplen, sp->decode_tunnels, &host)) {
      struct fs_packet p;
      struct fs_flow_key k;
      if ((d = fs_decode(fr.linktype, fr.data, fr.caplen, fr.wirelen, sp->decode_tunnels, &p)) == FS_OK) {
        fs_flow_key_make(&p, &k);
        host = fs_flow_key_host_hash(&k);
      }
    }
    if (d == FS_OK) {
      uint32_t lane = (uint32_t)(host % sp->n_lanes);
      /* the run's one clock, as a single meter keeps it */
      bool scan = fs_clock_packet(&clock, fr.ms, fr.ns);
      struct fs_lane_entry e = { .data = fr.data, .time_ms = clock.tick_ms, .time_ns = clock.tick_ns, .caplen = fr.caplen,
                                 .wirelen = fr.wirelen, .linktype = (int16_t)fr.linktype, .kind = FS_LANE_FRAME };
      if (!fr.mapped) { /* libpcap reuses its buffer at the next read: the lane gets a copy */
        uint8_t *copy = malloc(fr.caplen ? fr.caplen : 1);
        if (copy) memcpy(copy, fr.data, fr.caplen);
        e.data = copy;
        e.owned = true;
      }
      if (!e.data) c.copy_failures++;
      else if (!push(sp, &sp->lanes[lane], &e) && e.owned) free((void *)e.data);
      /* the other lanes' clocks reach this tick where their idle scans fall due */
      if (scan) push_all(sp, &(struct fs_lane_entry){ .time_ms = clock.tick_ms, .kind = FS_LANE_CLOCK }, lane);
    } else {
      c.ignored[d]++;
    }
    if (!fr.mapped) publish_tails(sp); /* a FIFO's next read may wait: the lanes have this frame first */
    /* the map gives back pages no lane holds a frame of: a fixed distance behind the read was
     * either too short for a lane running behind (its pages, given back, faulted in again and
     * stayed: the process grew toward the file's size) or memory held for nothing */
    if ((c.packets & (NEEDED_EVERY - 1)) == 0 && sp->src.mm.base) keep_needed(sp);
    if (++since == REPORT_EVERY) { since = 0; publish(sp, &c, &clock); }
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

void fs_spread_refused(struct fs_spread *sp, const struct fs_lane_entry *e, uint32_t reason) {
  /* the map is the reader's, but what is read here was set when it was opened, and it stays open
   * until every lane is done with its frames */
  if (!e->owned && fs_mmap_past_cut(&sp->src.mm, e->data, e->caplen)) {
    atomic_fetch_add_explicit(&sp->lane_lost, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sp->lane_lost_bytes, 16 + (uint64_t)e->caplen, memory_order_relaxed);
  } else if (reason < FS_IGN__COUNT) {
    atomic_fetch_add_explicit(&sp->lane_ignored[reason], 1, memory_order_relaxed);
  }
}

void fs_spread_counters(struct fs_spread *sp, struct fs_spread_counters *out) {
  pthread_mutex_lock(&sp->counters_lock);
  *out = sp->counters;
  pthread_mutex_unlock(&sp->counters_lock);
  for (int i = 0; i < FS_IGN__COUNT; i++) out->n.ignored[i] += atomic_load_explicit(&sp->lane_ignored[i], memory_order_relaxed);
  uint64_t lost = atomic_load_explicit(&sp->lane_lost, memory_order_relaxed);
  uint64_t lost_bytes = atomic_load_explicit(&sp->lane_lost_bytes, memory_order_relaxed);
  out->n.packets -= lost < out->n.packets ? lost : out->n.packets;
  out->bytes_read -= lost_bytes < out->bytes_read ? lost_bytes : out->bytes_read;
}

static void lane_free(struct fs_lane *l) {
  if (!l->slots) return;
  /* frames the lane never took (the last release comes after every lane's and the reader's last
   * word: their own counts, published or not, are the truth) */
  for (size_t h = l->taken, t = l->filled; h != t; h++) {
    if (l->slots[h & MASK].owned) free((void *)l->slots[h & MASK].data);
  }
  free(l->slots);
  l->slots = NULL;
  pthread_cond_destroy(&l->has_data);
  pthread_cond_destroy(&l->has_room);
  pthread_mutex_destroy(&l->lock);
}

static void spread_free(struct fs_spread *sp) {
  for (uint32_t i = 0; i < sp->n_lanes; i++) lane_free(&sp->lanes[i]);
  free(sp->lanes);
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
    atomic_store(&l->gone, true);
    wake(l, &l->has_room); /* a reader waiting on this lane looks again */
  }
  if (atomic_fetch_sub(&sp->refs, 1) != 1) return;
  atomic_store(&sp->abort, true);
  atomic_store(&sp->src.stop_requested, true);
  pthread_join(sp->reader, NULL);
  spread_free(sp);
}

static int lane_init(struct fs_lane *l) {
  pthread_condattr_t ca;
  if (!(l->slots = malloc(FS_LANE_SLOTS * sizeof(*l->slots)))) return -1;
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
  sp->src.map_handed_on = true; /* the lanes read frames behind the reader: the map keeps what they hold (oldest_held) */
  sp->n_lanes = n_lanes;
  for (uint32_t i = 0; i < n_lanes; i++) {
    if (lane_init(&lanes[i]) != 0) { snprintf(err, FS_ERRLEN, "out of memory"); spread_free(sp); return NULL; }
  }
  sp->decode_tunnels = decode_tunnels;
  atomic_init(&sp->refs, n_lanes);
  atomic_init(&sp->next_id, 0);
  for (int i = 0; i < FS_IGN__COUNT; i++) atomic_init(&sp->lane_ignored[i], 0);
  atomic_init(&sp->lane_lost, 0);
  atomic_init(&sp->lane_lost_bytes, 0);
  atomic_init(&sp->reader_sleeps, 0);
  atomic_init(&sp->reader_needless_wakes, 0);
  if ((errno = pthread_create(&sp->reader, NULL, reader_main, sp)) != 0) {
    snprintf(err, FS_ERRLEN, "cannot start the reading thread: %s", strerror(errno));
    spread_free(sp);
    return NULL;
  }
  return sp;
}
