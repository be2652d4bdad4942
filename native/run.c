#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "run.h"

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int open_meter(struct fs_runner *r, const struct fs_meter_config *cfg, char *err) {
  memset(r, 0, sizeof(*r));
  if (fs_meter_init(&r->meter, cfg) == 0) return 0;
  fs_meter_free(&r->meter);
  snprintf(err, FS_ERRLEN, "out of memory");
  return -1;
}

int fs_run_open_files(struct fs_runner *r, const struct fs_meter_config *cfg, char **files, uint32_t n_files, uint32_t snaplen,
                      const char *bpf, uint32_t yield_ms, char *err) {
  if (open_meter(r, cfg, err) != 0) return -1;
  if (fs_source_open(&r->source, files, n_files, snaplen, bpf, err) != 0) { fs_meter_free(&r->meter); return -1; }
  r->yield_ms = yield_ms;
  r->open = true;
  return 0;
}

int fs_run_open_live(struct fs_runner *r, const struct fs_meter_config *cfg, const struct fs_live_config *live, uint32_t yield_ms,
                     char *err) {
  if (open_meter(r, cfg, err) != 0) return -1;
  if (fs_source_open_live(&r->source, live, err) != 0) { fs_meter_free(&r->meter); return -1; }
  r->yield_ms = yield_ms;
  r->open = true;
  return 0;
}

int fs_run_open_lane(struct fs_runner *r, const struct fs_meter_config *cfg, struct fs_spread *sp, uint32_t lane, uint32_t yield_ms,
                     char *err) {
  if (open_meter(r, cfg, err) != 0) { fs_spread_release(sp, lane); return -1; }
  if (sp->each_reads && fs_source_open_again(&r->source, &sp->src, sp->sizes, &sp->read_errors, err) != 0) {
    fs_meter_free(&r->meter);
    fs_spread_release(sp, lane);
    return -1;
  }
  r->reads_itself = sp->each_reads;
  r->yield_ms = yield_ms;
  r->spread = sp;
  r->lane = lane;
  r->open = true;
  return 0;
}

/* Keeps a frame for the next step: libpcap's buffer is reused at the next read. */
static void defer(struct fs_runner *r, const struct fs_frame *fr) {
  uint8_t *copy = malloc(fr->caplen ? fr->caplen : 1);
  if (!copy) return; /* out of memory: the frame is lost, as a read error would lose it */
  memcpy(copy, fr->data, fr->caplen);
  r->deferred = (struct fs_run_deferred){ .data = copy, .ms = fr->ms, .ns = fr->ns, .caplen = fr->caplen, .wirelen = fr->wirelen };
}

/* The frame that waited for the last batch's hooks: false if it must wait again. */
static bool take_deferred(struct fs_runner *r) {
  struct fs_run_deferred d = r->deferred;
  r->deferred.data = NULL;
  if (fs_meter_frame(&r->meter, r->source.linktype, d.ms, d.ns, d.data, d.caplen, d.wirelen) == FS_FRAME_DEFER) {
    r->deferred = d; /* the events were not taken yet */
    return false;
  }
  free(d.data);
  return true;
}

/* One entry of the lane's ring into the meter; false when none came for a moment. */
static bool lane_entry(struct fs_runner *r) {
  struct fs_lane_entry *e = fs_lane_peek(r->spread, r->lane);
  if (!e) return false;
  if (e->kind == FS_LANE_FRAME) {
    /* the reader forced its time; a lane has no plugins, so nothing defers it (the frame's counts
     * are the reader's: fs_run_counters; a frame the reader did not decode and this lane could
     * not goes to them too) */
    int rc = fs_meter_frame(&r->meter, e->linktype, e->time_ms, e->time_ns, e->data, e->caplen, e->wirelen);
    if (rc < 0) fs_spread_refused(r->spread, (uint32_t)-rc);
  } else if (e->kind == FS_LANE_CLOCK) {
    fs_meter_clock(&r->meter, e->time_ms);
  } else {
    r->draining = true;
  }
  fs_lane_done_with(r->spread, r->lane);
  return true;
}

/* A lane that reads the files itself: every frame moves the run's clock as the reader would move
 * it; the lane's own frames are metered, and an idle scan due on another lane's frame is taken.
 * After a stop, the lanes end at one frame (fs_spread_stop_at): a lane ahead of the others had read
 * frames of theirs, which they read and meter before they end. False while the lane waits for the
 * others to see the stop. */
static bool lane_read(struct fs_runner *r) {
  if (atomic_load_explicit(&r->spread->stop, memory_order_relaxed)) {
    fs_lane_read_so_far(r->spread, r->lane, &r->reading, true);
    uint64_t at = fs_spread_stop_at(r->spread);
    if (at == UINT64_MAX) { /* a moment, not a spin: the others see it at their next frame */
      nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
      return false;
    }
    if (r->reading.packets >= at) { r->draining = true; return true; }
  }
  struct fs_frame fr;
  int rc = fs_source_read(&r->source, &fr);
  if (rc == FS_READ_END) {
    r->draining = true;
    fs_lane_read_so_far(r->spread, r->lane, &r->reading, true); /* nothing more to wait for */
  }
  if (rc != FS_READ_FRAME) return true;
  bool scan = false;
  int lane = fs_spread_route(r->spread, &fr, &r->clock, &r->reading, &scan);
  if (lane == (int)r->lane) {
    r->reading.own++;
    /* what its meter refuses is counted with the reading's own, as the reader counts a lane's */
    rc = fs_meter_frame(&r->meter, fr.linktype, r->clock.tick_ms, r->clock.tick_ns, fr.data, fr.caplen, fr.wirelen);
    if (rc < 0 && -rc < FS_IGN__COUNT) r->reading.ignored[-rc]++;
  } else if (lane >= 0 && scan) {
    fs_meter_clock(&r->meter, r->clock.tick_ms);
  }
  fs_lane_read_so_far(r->spread, r->lane, &r->reading, false);
  return true;
}

static bool lane_input(struct fs_runner *r) {
  return r->reads_itself ? lane_read(r) : lane_entry(r);
}

/* One frame of the files or the interface into the meter; false when the step must end (a frame
 * deferred for the plugins). */
static bool source_input(struct fs_runner *r) {
  struct fs_source *s = &r->source;
  struct fs_frame fr;
  int rc = fs_source_read(s, &fr);
  if (rc == FS_READ_FRAME) {
    if (fs_meter_frame(&r->meter, fr.linktype, fr.ms, fr.ns, fr.data, fr.caplen, fr.wirelen) != FS_FRAME_DEFER) return true;
    defer(r, &fr);
    return false;
  }
  if (rc == FS_READ_IDLE) { /* no packet within the timeout; the wall clock still ends idle flows */
    fs_meter_clock(&r->meter, wall_ms());
    fs_source_wait(s);
  } else if (rc == FS_READ_END) {
    r->draining = true;
  }
  return true;
}

/* A lane reads no stop flag here: one fed by the spread's reader gets the end from it, one that
 * reads the files itself stops in lane_read. A live capture first reads what the kernel held when
 * the stop came. */
static bool stop_seen(struct fs_runner *r) {
  struct fs_source *s = &r->source;
  if (r->spread) return false; /* lane_read stops a lane that reads the files itself, at one frame with the others */
  return atomic_load(&s->stop_requested) && (!s->live || fs_source_live_drained(s, wall_ms()));
}

void fs_run_step(struct fs_runner *r, size_t want) {
  struct fs_meter *m = &r->meter;
  uint32_t every = r->yield_ms;
  bool live = !r->spread && r->source.live;
  uint64_t started = every ? wall_ms() : 0;
  uint32_t n = 0;
  fs_meter_resume(m);
  if (r->deferred.data && !take_deferred(r)) return;
  while (!r->done && m->out_len < want && !(m->events && fs_events_full(m->events)) && !m->scan_held) {
    /* the clock is read once every 1024 packets of a file; at every packet of a stream (standard
     * input, a FIFO), whose packets may come a few a second */
    bool stream = !r->spread && r->source.pc && r->source.opened_size == 0; /* opened at the first read */
    if (every && (live || stream || (++n & 1023) == 0) && wall_ms() - started >= every) break;
    if (m->stopped) { /* --max-flows: nothing more is taken */
      if (r->spread) fs_lane_leave(r->spread, r->lane);
      r->done = true;
      break;
    }
    if (r->draining) {
      if (fs_meter_holding(m)) break; /* the plugins' ends come first */
      /* end of input: open flows leave a batch at a time, not all at once */
      fs_meter_flush_some(m, want - m->out_len);
      if (m->table.head == FS_NIL) r->done = true;
      break;
    }
    if (stop_seen(r)) { r->draining = true; continue; }
    if (!(r->spread ? lane_input(r) : source_input(r))) break;
  }
  if (!r->spread) fs_source_kernel_stats(&r->source);
}

void fs_run_taken(struct fs_runner *r, size_t n) {
  fs_meter_batch_taken(&r->meter, n);
}

void fs_run_stop(struct fs_runner *r) {
  if (!r->open) return;
  if (r->spread) fs_spread_stop(r->spread);
  else atomic_store(&r->source.stop_requested, true);
}

void fs_run_counters(const struct fs_runner *r, struct fs_run_counters *out) {
  memset(out, 0, sizeof(*out));
  out->n = r->meter.n;
  out->n.retimed = r->meter.clock.held;
  out->n.retimed_max_ms = r->meter.clock.held_max_ms;
  if (r->open) {
    out->active_flows = r->meter.table.count;
    out->detecting_flows = r->meter.n.detecting;
    out->table_bytes = fs_table_memory(&r->meter.table);
  }
  if (r->spread) {
    /* a lane: its reading (the reader's, or its own) counted the frames, their bytes and what was
     * not metered */
    struct fs_spread_counters c;
    if (r->reads_itself) fs_spread_lane_counters(r->spread, &r->reading, &r->clock, &r->source, &c);
    else fs_spread_counters(r->spread, &c);
    out->n.packets = c.n.packets;
    out->n.oversize_records = c.n.oversize_records;
    out->n.retimed = c.n.retimed; /* a lane's own clock only sees times the reader forced */
    out->n.retimed_max_ms = c.n.retimed_max_ms;
    memcpy(out->n.ignored, c.n.ignored, sizeof(out->n.ignored));
    out->bytes_read = c.bytes_read;
    out->read_errors = c.read_errors;
    out->read_errors_left_out = c.read_errors_left_out;
    out->overlaps = c.overlaps;
    memcpy(out->warnings, c.warnings, sizeof(out->warnings));
    return;
  }
  out->bytes_read = r->source.bytes_read;
  out->read_errors = r->source.read_errors;
  out->read_errors_left_out = fs_source_read_errors_left_out(&r->source);
  out->overlaps = r->source.overlaps;
  out->kernel_received = r->source.kernel_received;
  out->kernel_dropped = r->source.kernel_dropped;
  memcpy(out->warnings, r->source.warnings, sizeof(out->warnings));
}

void fs_run_close(struct fs_runner *r) {
  if (!r->open) return;
  /* a lane's own reading first: the spread holds the files it reads */
  if (!r->spread || r->reads_itself) fs_source_close(&r->source);
  if (r->spread) fs_spread_release(r->spread, r->lane);
  r->spread = NULL;
  free(r->deferred.data);
  r->deferred.data = NULL;
  fs_meter_free(&r->meter);
  r->open = false;
}

/* The shared spreads: few at once (one per `read --workers N`), so a short list. */
#define SHARED_MAX 64

static struct shared {
  uint32_t id;                      /* 0: a free place */
  struct fs_spread *sp;
  uint8_t *claimed;                 /* one per lane */
} shared[SHARED_MAX];
static uint32_t last_id;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

uint32_t fs_spread_share(struct fs_spread *sp) {
  uint8_t *claimed = calloc(sp->n_lanes ? sp->n_lanes : 1, 1);
  if (!claimed) return 0;
  pthread_mutex_lock(&shared_lock);
  uint32_t id = 0;
  for (int i = 0; i < SHARED_MAX; i++) {
    if (shared[i].id) continue;
    if (++last_id == 0) last_id = 1;
    shared[i] = (struct shared){ .id = id = last_id, .sp = sp, .claimed = claimed };
    break;
  }
  pthread_mutex_unlock(&shared_lock);
  if (!id) free(claimed);
  return id;
}

struct fs_spread *fs_spread_claim(uint32_t id, uint32_t lane) {
  struct fs_spread *sp = NULL;
  pthread_mutex_lock(&shared_lock);
  for (int i = 0; i < SHARED_MAX; i++) {
    if (!id || shared[i].id != id || lane >= shared[i].sp->n_lanes || shared[i].claimed[lane]) continue;
    shared[i].claimed[lane] = 1;
    sp = shared[i].sp;
  }
  pthread_mutex_unlock(&shared_lock);
  return sp;
}

uint32_t fs_spread_lanes(uint32_t id) {
  uint32_t n = 0;
  pthread_mutex_lock(&shared_lock);
  for (int i = 0; i < SHARED_MAX; i++) if (id && shared[i].id == id) n = shared[i].sp->n_lanes;
  pthread_mutex_unlock(&shared_lock);
  return n;
}

void fs_spread_unshare(uint32_t id) {
  struct shared s = { 0 };
  pthread_mutex_lock(&shared_lock);
  for (int i = 0; i < SHARED_MAX; i++) {
    if (!id || shared[i].id != id) continue;
    s = shared[i];
    shared[i] = (struct shared){ 0 };
  }
  pthread_mutex_unlock(&shared_lock);
  if (!s.id) return;
  for (uint32_t l = 0; l < s.sp->n_lanes; l++) if (!s.claimed[l]) fs_spread_release(s.sp, l);
  free(s.claimed);
}
