#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "decode.h"
#include "spread.h"

#define MASK (FS_LANE_SLOTS - 1)
/* the longest either side sleeps before looking again (a lane then returns a short batch) */
#define WAIT_MS 20
/* the reader's counters reach JavaScript this often */
#define REPORT_EVERY 8192

static void timed_wait(pthread_cond_t *c, pthread_mutex_t *mu) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += WAIT_MS * 1000000L;
  if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
  pthread_cond_timedwait(c, mu, &ts);
}

static void wake(struct fs_lane *l, pthread_cond_t *c) {
  pthread_mutex_lock(&l->lock);
  pthread_cond_signal(c);
  pthread_mutex_unlock(&l->lock);
}

/* Reader: waits until lane l holds at most `most` entries. False if the lane is gone or the run
 * aborted. The flag is raised under the lock before the last look, and the lane signals under the
 * same lock, so a wake-up is not lost (the timeout is a second guard). */
static bool wait_room(struct fs_spread *sp, struct fs_lane *l, size_t most) {
  size_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
  if (t - l->seen_head <= most) return true;
  while (t - (l->seen_head = atomic_load(&l->head)) > most) {
    if (atomic_load(&sp->abort) || atomic_load(&l->gone)) return false;
    /* a lane asleep on a few entries (see push) is woken before the reader sleeps on it */
    if (atomic_load(&l->lane_waiting)) wake(l, &l->has_data);
    pthread_mutex_lock(&l->lock);
    atomic_store(&l->reader_wants, most);
    atomic_store(&l->reader_waiting, 1);
    if (t - atomic_load(&l->head) > most && !atomic_load(&l->gone) && !atomic_load(&sp->abort)) timed_wait(&l->has_room, &l->lock);
    atomic_store(&l->reader_waiting, 0);
    pthread_mutex_unlock(&l->lock);
  }
  return true;
}

static bool push(struct fs_spread *sp, struct fs_lane *l, const struct fs_lane_entry *e) {
  /* a full ring is waited on until half empty: fewer sleeps and wake-ups on either side */
  if (atomic_load(&l->gone)) return false;
  size_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
  if (t - l->seen_head >= FS_LANE_SLOTS && !wait_room(sp, l, FS_LANE_SLOTS / 2)) return false;
  l->slots[t & MASK] = *e;
  atomic_store(&l->tail, t + 1);
  /* a waiting lane is woken once it has work worth the switch (counted from where it is now: the
   * reader's last look at head may be far behind), or at the end; a clock tick waits for frames or
   * the lane's own timeout, as the order of entries, not their timing, makes the flows */
  if (atomic_load(&l->lane_waiting) &&
      (e->kind == FS_LANE_END || t + 1 - (l->seen_head = atomic_load(&l->head)) >= FS_LANE_WAKE_AT)) {
    wake(l, &l->has_data);
  }
  return true;
}

static void push_all(struct fs_spread *sp, const struct fs_lane_entry *e, uint32_t except) {
  for (uint32_t i = 0; i < sp->n_lanes; i++) if (i != except) push(sp, &sp->lanes[i], e);
}

struct fs_lane_entry *fs_lane_peek(struct fs_spread *sp, uint32_t lane) {
  struct fs_lane *l = &sp->lanes[lane];
  size_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
  if (h == l->seen_tail && h == (l->seen_tail = atomic_load(&l->tail))) {
    pthread_mutex_lock(&l->lock);
    atomic_store(&l->lane_waiting, 1);
    if (h == atomic_load(&l->tail)) timed_wait(&l->has_data, &l->lock);
    atomic_store(&l->lane_waiting, 0);
    pthread_mutex_unlock(&l->lock);
    if (h == (l->seen_tail = atomic_load(&l->tail))) return NULL;
  }
  return &l->slots[h & MASK];
}

void fs_lane_done_with(struct fs_spread *sp, uint32_t lane) {
  struct fs_lane *l = &sp->lanes[lane];
  size_t h = atomic_load_explicit(&l->head, memory_order_relaxed) + 1;
  atomic_store(&l->head, h);
  if (atomic_load(&l->reader_waiting) && l->seen_tail - h <= atomic_load(&l->reader_wants)) wake(l, &l->has_room);
}

void fs_lane_leave(struct fs_spread *sp, uint32_t lane) {
  atomic_store(&sp->lanes[lane].gone, true);
}

static void publish(struct fs_spread *sp, const struct fs_spread_counts *c) {
  pthread_mutex_lock(&sp->counters_lock);
  sp->counters.n = *c;
  sp->counters.bytes_read = sp->src.bytes_read;
  sp->counters.read_errors = sp->src.read_errors;
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
  while (!atomic_load(&sp->stop) && !atomic_load(&sp->abort)) {
    struct fs_frame fr;
    int rc = fs_source_read(&sp->src, &fr);
    if (rc == FS_READ_END) break;
    if (rc == FS_READ_FILE_END) {
      /* the file's map goes at the next read: every lane must be done with its frames */
      for (uint32_t i = 0; i < sp->n_lanes; i++) wait_room(sp, &sp->lanes[i], 0);
      continue;
    }
    if (rc != FS_READ_FRAME) continue;
    c.packets++;
    if (fr.wirelen > 0xffff) c.oversize_records++;
    struct fs_lane_entry e = { .kind = FS_LANE_FRAME };
    const uint8_t *data = fr.data;
    if (!fr.mapped) { /* libpcap reuses its buffer at the next read: the lane gets a copy */
      if (!(e.copy = malloc(fr.caplen ? fr.caplen : 1))) { c.copy_failures++; continue; }
      memcpy(e.copy, fr.data, fr.caplen);
      data = e.copy;
    }
    /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): e.copy keeps the copy; the analyzer forgets it once &e.p escapes */
    int d = fs_decode(fr.linktype, data, fr.caplen, fr.wirelen, sp->decode_tunnels, &e.p);
    if (d == FS_OK) {
      fs_flow_key_make(&e.p, &e.k);
      e.hash = fs_flow_key_hash(&e.k, fs_flow_hash_secret());
      uint32_t lane = (uint32_t)(fs_flow_key_host_hash(&e.k) % sp->n_lanes);
      /* the run's one clock, as a single meter keeps it */
      bool scan = fs_clock_advance(&clock, fr.ms, fr.ns);
      e.p.time_ms = clock.tick_ms;
      e.p.time_ns = clock.tick_ns;
      if (!push(sp, &sp->lanes[lane], &e)) free(e.copy);
      /* the other lanes' clocks reach this tick where their idle scans fall due */
      if (scan) push_all(sp, &(struct fs_lane_entry){ .p.time_ms = clock.tick_ms, .kind = FS_LANE_CLOCK }, lane);
    } else {
      c.ignored[d]++;
      free(e.copy);
    }
    if (++since == REPORT_EVERY) { since = 0; publish(sp, &c); }
  }
  publish(sp, &c);
  push_all(sp, &(struct fs_lane_entry){ .kind = FS_LANE_END }, UINT32_MAX);
  return NULL;
}

void fs_spread_stop(struct fs_spread *sp) {
  atomic_store(&sp->stop, true);
  atomic_store(&sp->src.stop_requested, true); /* a reader waiting on a FIFO's data gives up */
}

void fs_spread_counters(struct fs_spread *sp, struct fs_spread_counters *out) {
  pthread_mutex_lock(&sp->counters_lock);
  *out = sp->counters;
  pthread_mutex_unlock(&sp->counters_lock);
}

static void lane_free(struct fs_lane *l) {
  if (!l->slots) return;
  /* frames the lane never took */
  for (size_t h = atomic_load(&l->head), t = atomic_load(&l->tail); h != t; h++) {
    free(l->slots[h & MASK].copy);
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
  sp->src.map_keep = (size_t)32 << 20; /* the lanes read frames behind the reader, up to their rings' lag */
  sp->n_lanes = n_lanes;
  for (uint32_t i = 0; i < n_lanes; i++) {
    if (lane_init(&lanes[i]) != 0) { snprintf(err, FS_ERRLEN, "out of memory"); spread_free(sp); return NULL; }
  }
  sp->decode_tunnels = decode_tunnels;
  atomic_init(&sp->refs, n_lanes);
  atomic_init(&sp->next_id, 0);
  if ((errno = pthread_create(&sp->reader, NULL, reader_main, sp)) != 0) {
    snprintf(err, FS_ERRLEN, "cannot start the reading thread: %s", strerror(errno));
    spread_free(sp);
    return NULL;
  }
  return sp;
}
