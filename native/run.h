/* The run layer: a meter and where its frames come from (capture files, an interface, or a lane of
 * a spread), driven by one loop; stop, "done" and the run's counters live here too. No Node-API:
 * the binding (addon.c) only converts. */
#ifndef FS_RUN_H
#define FS_RUN_H

#include "source.h"
#include "spread.h"

struct fs_run_deferred {
  uint8_t *data;
  uint64_t ms;
  uint32_t ns, caplen, wirelen;
};

struct fs_runner {
  struct fs_meter meter;
  struct fs_source source;          /* files or an interface; a lane's own reading of the files */
  struct fs_spread *spread;         /* a lane: of these files, the frames of its host-pair partition */
  uint32_t lane;
  bool reads_itself;                /* a lane that reads the files (source), not frames from the spread's reader */
  struct fs_clock clock;            /* reads_itself: the run's clock, moved by every lane's frames */
  struct fs_spread_counts reading;  /* reads_itself: every frame read, as the reader counts them */
  uint32_t yield_ms;                /* files: a batch at least this often (progress), 0 never; live: this often */
  bool done;                        /* every flow handed over: no batch will follow */
  bool draining;                    /* input over: open flows are being flushed */
  bool open;
  struct fs_run_deferred deferred;  /* plugins: a frame held back for the next batch */
};

/* The run's counters: the meter's, with the reader's where a spread reads for the lanes. */
struct fs_run_counters {
  struct fs_meter_counters n;
  uint64_t active_flows, detecting_flows, table_bytes, bytes_read, kernel_received, kernel_dropped;
  uint32_t read_errors, read_errors_left_out, overlaps;
  char warnings[4 * FS_ERRLEN];
};

/* Each opens the meter with cfg (which it owns from here on, end_ports included, even on failure)
 * and its input; -1 with a message in err. */
int fs_run_open_files(struct fs_runner *r, const struct fs_meter_config *cfg, char **files, uint32_t n_files, uint32_t snaplen,
                      const char *bpf, uint32_t yield_ms, char *err);
int fs_run_open_live(struct fs_runner *r, const struct fs_meter_config *cfg, const struct fs_live_config *live, uint32_t yield_ms,
                     char *err);
/* Lane `lane` of sp: the run holds that lane's reference from here on (released by fs_run_close,
 * or now on failure). A lane's step, too, returns at least every yield_ms (0: never). */
int fs_run_open_lane(struct fs_runner *r, const struct fs_meter_config *cfg, struct fs_spread *sp, uint32_t lane, uint32_t yield_ms,
                     char *err);

/* The one drive loop: feeds frames to the meter until it holds at least want finished flows, the
 * input ends (then every open flow is flushed, a batch at a time, and r->done is set), a plugin
 * must see the packets so far, or the yield interval passes. A lane also returns when no frame came
 * for a moment. */
void fs_run_step(struct fs_runner *r, size_t want);
/* The batch copied the first n finished flows, the events and the new flow keys. */
void fs_run_taken(struct fs_runner *r, size_t n);
/* Safe from any thread while a step runs: the input ends and every open flow is flushed. */
void fs_run_stop(struct fs_runner *r);
void fs_run_counters(const struct fs_runner *r, struct fs_run_counters *out);
void fs_run_close(struct fs_runner *r);

/* Spreads shared between threads (each lane is driven on a thread of its own): registered under a
 * number, each lane claimed once. */
uint32_t fs_spread_share(struct fs_spread *sp);
/* The spread of number id if its lane is unclaimed (now claimed); NULL otherwise. */
struct fs_spread *fs_spread_claim(uint32_t id, uint32_t lane);
/* The lanes of shared spread id (0: none such). */
uint32_t fs_spread_lanes(uint32_t id);
/* No lane is claimed any more: the lanes never claimed are released. */
void fs_spread_unshare(uint32_t id);

#endif
