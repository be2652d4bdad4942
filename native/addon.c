/* The Node-API surface: open a run (files, an interface, or a lane of a spread), pull batches of
 * finished flows (asynchronously on a pool thread, or synchronously on a lane's own thread), read
 * counters, close. The run itself is run.c's; options are checked in addon_options.c. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include "batch.h"
#include "flow_extra.h"
#include "addon_options.h"
#include "addon_system.h"
#include "run.h"
#include "addon_socket.h"
#include "addon_acl.h"
#include "addon_sockevents.h"
#include "addon_text.h"
#include "addon_writeback.h"

#define NAPI_OK(env, call) do { if ((call) != napi_ok) { throw_last(env); return NULL; } } while (0)

static const char *const ignore_names[FS_IGN__COUNT] = {
  "ok", "short_frame", "unsupported_linktype", "link_header", "not_ip", "ipv4_header", "ipv6_header",
  "ipv6_extension", "fragment", "tunnel_header", "too_deep", "wifi_not_data", "other_partition",
};

struct fs_handle {
  struct fs_runner run;
  char **files;
  uint32_t n_files;
  bool busy, closed;
  /* the pending next() */
  napi_async_work work;
  napi_deferred deferred;
  napi_ref self;
  size_t want;
  struct fs_text_out *text;         /* textOutput(): batches are text, made after each step */
  size_t taken_later;               /* flows of the last batch, let go at the next step */
};

static void throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "FS_NAPI", info && info->error_message ? info->error_message : "Node-API call failed");
}

static void handle_free(struct fs_handle *h) {
  if (!h->closed) {
    fs_run_close(&h->run);
    h->closed = true;
  }
  if (h->text) { fs_text_out_free(h->text); free(h->text); h->text = NULL; }
  for (uint32_t i = 0; i < h->n_files; i++) free(h->files[i]);
  free(h->files);
  h->files = NULL;
  h->n_files = 0;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  struct fs_handle *h = data;
  if (h->busy) return; /* unreachable: a pending next() holds a reference to the object */
  handle_free(h);
  free(h);
}

static struct fs_handle *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *self) {
  napi_value me;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &me, NULL) != napi_ok || napi_unwrap(env, me, &data) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "not a flowseek meter");
    return NULL;
  }
  if (self) *self = me;
  return data;
}

/* The same, for a call that cannot run while a batch is being made: an error naming the call. */
static struct fs_handle *unwrap_idle(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *self,
                                     const char *call) {
  struct fs_handle *h = unwrap(env, info, argc, argv, self);
  if (h && h->busy) {
    char msg[96];
    snprintf(msg, sizeof(msg), "%s called while a batch is pending", call);
    napi_throw_error(env, "FS_BUSY", msg);
    return NULL;
  }
  return h;
}

static napi_status set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value x;
  napi_status st = napi_create_double(env, v, &x);
  return st == napi_ok ? napi_set_named_property(env, obj, name, x) : st;
}

/* The counters so far, as an object (also attached to each batch as batch.counters). */
static napi_value make_stats(napi_env env, struct fs_handle *h) {
  struct fs_run_counters r;
  fs_run_counters(&h->run, &r);
  const struct fs_meter_counters *c = &r.n;
  napi_value o, ign, w;
  NAPI_OK(env, napi_create_object(env, &o));
  NAPI_OK(env, set_num(env, o, "packets", (double)c->packets));
  NAPI_OK(env, set_num(env, o, "processed", (double)c->processed));
  NAPI_OK(env, set_num(env, o, "flowsCreated", (double)c->flows_created));
  NAPI_OK(env, set_num(env, o, "flowsExported", (double)c->flows_exported));
  NAPI_OK(env, set_num(env, o, "flowsIdle", (double)c->flows_idle));
  NAPI_OK(env, set_num(env, o, "flowsActive", (double)c->flows_active));
  NAPI_OK(env, set_num(env, o, "flowsFlushed", (double)c->flows_flushed));
  NAPI_OK(env, set_num(env, o, "flowsEvicted", (double)c->flows_evicted));
  NAPI_OK(env, set_num(env, o, "allocFailures", (double)c->alloc_failures));
  NAPI_OK(env, set_num(env, o, "activeFlows", (double)r.active_flows));
  NAPI_OK(env, set_num(env, o, "detectingFlows", (double)r.detecting_flows));
  NAPI_OK(env, set_num(env, o, "tableBytes", (double)r.table_bytes));
  NAPI_OK(env, set_num(env, o, "bytesRead", (double)r.bytes_read));
  NAPI_OK(env, set_num(env, o, "oversizeRecords", (double)c->oversize_records));
  NAPI_OK(env, set_num(env, o, "retimed", (double)c->retimed));
  NAPI_OK(env, set_num(env, o, "retimedMaxMs", (double)c->retimed_max_ms));
  NAPI_OK(env, set_num(env, o, "readErrors", (double)r.read_errors));
  NAPI_OK(env, set_num(env, o, "readErrorsLeftOut", (double)r.read_errors_left_out));
  NAPI_OK(env, set_num(env, o, "overlappingFiles", (double)r.overlaps));
  NAPI_OK(env, set_num(env, o, "kernelReceived", (double)r.kernel_received));
  NAPI_OK(env, set_num(env, o, "kernelDropped", (double)r.kernel_dropped));
  NAPI_OK(env, napi_create_object(env, &ign));
  uint64_t total = 0;
  for (int i = 1; i < FS_IGN__COUNT; i++) {
    total += c->ignored[i];
    NAPI_OK(env, set_num(env, ign, ignore_names[i], (double)c->ignored[i]));
  }
  NAPI_OK(env, set_num(env, o, "ignored", (double)total));
  NAPI_OK(env, napi_set_named_property(env, o, "ignoredBy", ign));
  NAPI_OK(env, napi_create_string_utf8(env, r.warnings, NAPI_AUTO_LENGTH, &w));
  NAPI_OK(env, napi_set_named_property(env, o, "warnings", w));
  return o;
}

/* meter.stats(): counters so far */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  struct fs_handle *h = unwrap_idle(env, info, &argc, NULL, NULL, "stats()");
  if (!h) return NULL;
  return make_stats(env, h);
}

/* The flows a batch takes after a step. */
static size_t batch_flows(const struct fs_handle *h) {
  return h->run.meter.out_len < h->want ? h->run.meter.out_len : h->want;
}

/* One step, on the calling thread; text output is made here too (a pool thread, or a lane's own),
 * and the flows it was made of are let go here: on the main thread, their freeing (and the heap's
 * trim) held up every lane that had finished a step, and stopped the others at the heap's lock. */
static void step(struct fs_handle *h) {
  /* the last batch's flows are let go here, on the thread that runs the step, not on the main
   * thread as it made the batch: freeing them and trimming the heap took a few per cent of the
   * main thread's time with lanes writing Parquet, where it is the busiest thread */
  if (h->taken_later) { fs_run_taken(&h->run, h->taken_later); h->taken_later = 0; }
  fs_run_step(&h->run, h->want);
  if (!h->text) return;
  size_t n = batch_flows(h);
  fs_text_encode(h->text, &h->run, n);
  if (!h->text->failed) fs_run_taken(&h->run, n);
}

/* The batch of the step just run (null once the run is done), or NULL on failure. */
static napi_value take_batch(napi_env env, struct fs_handle *h) {
  struct fs_meter *m = &h->run.meter;
  size_t n = h->text ? h->text->flows : batch_flows(h);
  napi_value result = NULL;
  bool events = m->events && m->events->len;
  if (n == 0 && h->run.done && !events) {
    napi_get_null(env, &result);
    return result;
  }
  if (h->text) result = fs_text_part(env, h->text); /* its flows were taken by the step */
  else if (fs_batch_build(env, m, n, &result) != napi_ok) result = NULL;
  if (!result) return NULL;
  /* plugins end flows by their place in this batch's events before the next step (next()'s ends):
   * those flows are taken now */
  if (!h->text && m->events) fs_run_taken(&h->run, n);
  else if (!h->text) h->taken_later = n;
  napi_value stats = make_stats(env, h);
  if (stats) napi_set_named_property(env, result, "counters", stats);
  return result;
}

static void next_execute(napi_env env, void *data) {
  (void)env;
  struct fs_handle *h = data;
  step(h);
}

static void next_complete(napi_env env, napi_status status, void *data) {
  struct fs_handle *h = data;
  napi_value result = status == napi_ok ? take_batch(env, h) : NULL;
  h->busy = false;
  if (result) {
    napi_resolve_deferred(env, h->deferred, result);
  } else {
    /* the error thrown while the batch was made (out of memory) rejects the promise: a pending
     * exception would make the rejection itself fail, and the promise never settle */
    napi_value msg, err = NULL;
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &err);
    if (!err) {
      napi_create_string_utf8(env, "flowseek meter: batch failed", NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &err);
    }
    napi_reject_deferred(env, h->deferred, err);
  }
  napi_delete_async_work(env, h->work);
  napi_delete_reference(env, h->self);
}

/* next(maxFlows) and nextSync(maxFlows): the batch size, a whole number from 1 to 2^20 */
static bool read_want(napi_env env, size_t argc, napi_value *argv, struct fs_handle *h) {
  double want = 0;
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t != napi_number || napi_get_value_double(env, argv[0], &want) != napi_ok || !(want >= 1 && want <= 1 << 20) ||
      want != (double)(size_t)want) {
    napi_throw_range_error(env, "FS_ARG", "maxFlows must be a whole number from 1 to 1048576");
    return false;
  }
  h->want = (size_t)want;
  return true;
}

/* meter.next(maxFlows, [ends], [exact]): Promise<batch | null> */
static napi_value js_next(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self, promise, name;
  struct fs_handle *h = unwrap_idle(env, info, &argc, argv, &self, "next()");
  if (!h) return NULL;
  if (h->closed) { napi_throw_error(env, "FS_CLOSED", "the meter is closed"); return NULL; }
  if (!read_want(env, argc, argv, h)) return NULL;
  struct fs_meter *m = &h->run.meter;
  /* next(n, [slot, uid, slot, uid...]): flows plugins ended, before any further packet */
  bool is_typed = false;
  if (argc >= 2 && napi_is_typedarray(env, argv[1], &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type type;
    size_t len;
    void *data;
    if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) == napi_ok && type == napi_float64_array) {
      const double *d = data;
      for (size_t i = 0; i + 1 < len; i += 2) {
        if (d[i] >= 0 && d[i] < 4294967295.0 && d[i + 1] >= 1) fs_meter_expire_custom(m, (uint32_t)d[i], (uint64_t)d[i + 1]);
      }
    }
  }
  /* next(n, ends, true): a plugin ended a flow of a live capture: every flow one packet per batch from now on */
  bool exact = false;
  if (argc >= 3 && napi_get_value_bool(env, argv[2], &exact) == napi_ok && exact && m->events) {
    m->cfg.events_one_per_flow = true;
    free(m->cfg.end_ports);
    m->cfg.end_ports = NULL;
  }
  NAPI_OK(env, napi_create_reference(env, self, 1, &h->self));
  NAPI_OK(env, napi_create_promise(env, &h->deferred, &promise));
  NAPI_OK(env, napi_create_string_utf8(env, "flowseek.next", NAPI_AUTO_LENGTH, &name));
  NAPI_OK(env, napi_create_async_work(env, NULL, name, next_execute, next_complete, h, &h->work));
  NAPI_OK(env, napi_queue_async_work(env, h->work));
  h->busy = true;
  return promise;
}

/* meter.nextSync(maxFlows): batch | null, made on the calling thread (a lane's own worker thread,
 * whose event loop has nothing else to do meanwhile) */
static napi_value js_next_sync(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  struct fs_handle *h = unwrap_idle(env, info, &argc, argv, NULL, "nextSync()");
  if (!h) return NULL;
  if (h->closed) { napi_throw_error(env, "FS_CLOSED", "the meter is closed"); return NULL; }
  if (!read_want(env, argc, argv, h)) return NULL;
  step(h);
  napi_value result = take_batch(env, h);
  if (!result) throw_last(env);
  return result;
}

/* meter.stop(): safe while a batch is pending; the run flushes every open flow and ends */
static napi_value js_stop(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  struct fs_handle *h = unwrap(env, info, &argc, NULL, NULL);
  if (!h) return NULL;
  if (!h->closed) fs_run_stop(&h->run);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  struct fs_handle *h = unwrap_idle(env, info, &argc, NULL, NULL, "close()");
  if (!h) return NULL;
  handle_free(h);
  return NULL;
}

/* meter.textOutput(plan): from now on each batch is { length, first, bytes }, the flows as CSV or
 * JSON Lines rows (text_rows.h), made where the step ran */
static napi_value js_text_output(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = { NULL };
  struct fs_handle *h = unwrap_idle(env, info, &argc, argv, NULL, "textOutput()");
  if (!h) return NULL;
  if (h->closed) { napi_throw_error(env, "FS_CLOSED", "the meter is closed"); return NULL; }
  if (argc < 1) { napi_throw_type_error(env, "FS_ARG", "textOutput() needs a plan"); return NULL; }
  struct fs_text_out *t = calloc(1, sizeof(*t));
  if (!t) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return NULL; }
  if (!fs_text_plan_read(env, argv[0], &t->plan) || !fs_text_plan_fits(env, &t->plan, &h->run.meter)) { free(t); return NULL; }
  if (h->text) { fs_text_out_free(h->text); free(h->text); }
  h->text = t;
  return NULL;
}

/* The JS object of an open handle: next, nextSync, textOutput, stats, stop, close. */
static napi_value wrap_handle(napi_env env, struct fs_handle *h) {
  napi_value obj;
  napi_property_descriptor methods[] = {
    { "next", NULL, js_next, NULL, NULL, NULL, napi_default, NULL },
    { "nextSync", NULL, js_next_sync, NULL, NULL, NULL, napi_default, NULL },
    { "textOutput", NULL, js_text_output, NULL, NULL, NULL, napi_default, NULL },
    { "stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL },
    { "stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
  };
  if (napi_create_object(env, &obj) != napi_ok || napi_define_properties(env, obj, sizeof(methods) / sizeof(methods[0]), methods) != napi_ok ||
      napi_wrap(env, obj, h, finalize, NULL, NULL) != napi_ok) {
    throw_last(env);
    handle_free(h);
    free(h);
    return NULL;
  }
  return obj;
}

static struct fs_handle *handle_alloc(napi_env env) {
  struct fs_handle *h = calloc(1, sizeof(*h));
  if (!h) napi_throw_error(env, "FS_NOMEM", "out of memory");
  else h->closed = true;
  return h;
}

/* open({ files | interface, ...options }): see addon_options.c for every option */
/* libgcrypt is set up as the addon loads (init); a meter that dissects, where that failed, tries
 * again here, before any output opens (dpi.h): false, the error thrown, if it fails again */
static bool dpi_ready(napi_env env, const struct fs_open_options *o) {
  char err[FS_ERRLEN];
  if (!o->cfg.features.dissections || fs_dpi_setup(err, sizeof(err)) == 0) return true;
  napi_throw_error(env, "FS_OPEN", err);
  return false;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = { NULL };
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct fs_open_options o;
  if (argc < 1 || !fs_options_read(env, argv[0], &o)) {
    if (argc < 1) napi_throw_type_error(env, "FS_ARG", "open() needs its options");
    return NULL;
  }
  if (!dpi_ready(env, &o)) { fs_options_free(&o); return NULL; }
  struct fs_handle *h = handle_alloc(env);
  if (!h) { fs_options_free(&o); return NULL; }
  char err[FS_ERRLEN] = "";
  int opened;
  h->files = o.files; /* the handle owns the names: the source reads them in place */
  h->n_files = o.n_files;
  o.files = NULL;
  o.n_files = 0;
  struct fs_meter_config cfg = o.cfg;
  o.cfg.end_ports = NULL; /* the run owns it */
  if (o.iface) {
    struct fs_live_config live = fs_options_live(&o);
    opened = fs_run_open_live(&h->run, &cfg, &live, o.yield_ms, err);
  } else {
    opened = fs_run_open_files(&h->run, &cfg, h->files, h->n_files, o.snaplen, o.bpf, o.yield_ms, err);
  }
  fs_options_free(&o);
  if (opened != 0) {
    handle_free(h); free(h);
    napi_throw_error(env, "FS_OPEN", err);
    return NULL;
  }
  h->closed = false;
  return wrap_handle(env, h);
}

/* The holder of a spread: the thread that opened it stops it and lets it go. */
struct fs_spread_holder {
  struct fs_spread *sp;
  uint32_t id;
};

static void holder_free(struct fs_spread_holder *s) {
  if (!s->sp) return;
  fs_spread_unshare(s->id);
  fs_spread_release(s->sp, FS_SPREAD_HOLDER);
  s->sp = NULL;
}

static void holder_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  holder_free(data);
  free(data);
}

static struct fs_spread_holder *unwrap_holder(napi_env env, napi_callback_info info) {
  napi_value me;
  void *data = NULL;
  size_t argc = 0;
  if (napi_get_cb_info(env, info, &argc, NULL, &me, NULL) != napi_ok || napi_unwrap(env, me, &data) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "not a flowseek spread");
    return NULL;
  }
  return data;
}

static napi_value js_spread_stop(napi_env env, napi_callback_info info) {
  struct fs_spread_holder *s = unwrap_holder(env, info);
  if (s && s->sp) fs_spread_stop(s->sp);
  return NULL;
}

static napi_value js_spread_close(napi_env env, napi_callback_info info) {
  struct fs_spread_holder *s = unwrap_holder(env, info);
  if (s) holder_free(s);
  return NULL;
}

/* waits(): { sleeps, needless }: how often the reader waited for a lane's room, and woke to none */
static napi_value js_spread_waits(napi_env env, napi_callback_info info) {
  struct fs_spread_holder *s = unwrap_holder(env, info);
  if (!s || !s->sp) return NULL;
  uint64_t sleeps, needless;
  fs_spread_waits(s->sp, &sleeps, &needless);
  napi_value o;
  NAPI_OK(env, napi_create_object(env, &o));
  NAPI_OK(env, set_num(env, o, "sleeps", (double)sleeps));
  NAPI_OK(env, set_num(env, o, "needless", (double)needless));
  return o;
}

/* openSpread({ files, ...as open() }, n): one reading of the files for n lanes (spread.c), each
 * opened on a thread of its own by openLane(id, i, options); { id, stop(), close(), waits() } */
static napi_value js_open_spread(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], obj, v;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double lanes = 0;
  if (argc < 2 || napi_get_value_double(env, argv[1], &lanes) != napi_ok || !(lanes >= 1 && lanes <= 256) || lanes != (double)(uint32_t)lanes) {
    napi_throw_range_error(env, "FS_ARG", "openSpread() needs a number of lanes from 1 to 256");
    return NULL;
  }
  struct fs_open_options o;
  if (!fs_options_read(env, argv[0], &o)) return NULL;
  if (!o.files) { fs_options_free(&o); napi_throw_type_error(env, "FS_ARG", "openSpread() reads files, not an interface"); return NULL; }
  if (!dpi_ready(env, &o)) { fs_options_free(&o); return NULL; }
  struct fs_spread_holder *s = calloc(1, sizeof(*s));
  if (!s) { fs_options_free(&o); napi_throw_error(env, "FS_NOMEM", "out of memory"); return NULL; }
  char err[FS_ERRLEN] = "";
  s->sp = fs_spread_open(o.files, o.n_files, o.snaplen, o.bpf, o.cfg.decode_tunnels, (uint32_t)lanes, err);
  o.files = NULL; /* the spread owns them, even when it failed */
  o.n_files = 0;
  fs_options_free(&o);
  if (!s->sp) { free(s); napi_throw_error(env, "FS_OPEN", err); return NULL; }
  fs_spread_hold(s->sp);
  if (!(s->id = fs_spread_share(s->sp))) {
    for (uint32_t i = 0; i < (uint32_t)lanes; i++) fs_spread_release(s->sp, i);
    fs_spread_release(s->sp, FS_SPREAD_HOLDER);
    free(s);
    napi_throw_error(env, "FS_NOMEM", "too many spreads open");
    return NULL;
  }
  napi_property_descriptor methods[] = {
    { "stop", NULL, js_spread_stop, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_spread_close, NULL, NULL, NULL, napi_default, NULL },
    { "waits", NULL, js_spread_waits, NULL, NULL, NULL, napi_default, NULL },
  };
  if (napi_create_object(env, &obj) != napi_ok || napi_define_properties(env, obj, 3, methods) != napi_ok ||
      napi_create_uint32(env, s->id, &v) != napi_ok || napi_set_named_property(env, obj, "id", v) != napi_ok ||
      napi_wrap(env, obj, s, holder_finalize, NULL, NULL) != napi_ok) {
    throw_last(env);
    holder_free(s);
    free(s);
    return NULL;
  }
  return obj;
}

/* A lane's meter configuration: the options' own, with what a lane does not do left out. */
static bool lane_config(napi_env env, napi_value options, struct fs_meter_config *cfg, uint32_t *yield_ms) {
  struct fs_open_options o;
  if (!fs_options_read(env, options, &o)) return false;
  *cfg = o.cfg;
  *yield_ms = o.yield_ms;
  o.cfg.end_ports = NULL;
  fs_options_free(&o);
  cfg->n_partitions = 1; /* the spread partitions */
  cfg->partition = 0;
  cfg->packet_events = cfg->events_one_per_flow = false; /* plugins run in worker processes */
  free(cfg->end_ports);
  cfg->end_ports = NULL;
  return true;
}

/* openLane(id, i, options): lane i of spread id, a meter with these options (their files and
 * filter are the spread's); a meter object as open() returns */
static napi_value js_open_lane(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t id = 0, lane = 0;
  if (argc < 3 || napi_get_value_uint32(env, argv[0], &id) != napi_ok || napi_get_value_uint32(env, argv[1], &lane) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "openLane() needs a spread's id, a lane number and the options");
    return NULL;
  }
  struct fs_meter_config cfg;
  uint32_t yield_ms = 0;
  if (!lane_config(env, argv[2], &cfg, &yield_ms)) return NULL;
  struct fs_spread *sp = fs_spread_claim(id, lane);
  if (!sp) { napi_throw_error(env, "FS_ARG", "openLane(): no such spread, or its lane is taken"); return NULL; }
  struct fs_handle *h = handle_alloc(env);
  char err[FS_ERRLEN] = "";
  if (!h) { fs_spread_release(sp, lane); return NULL; }
  if (fs_run_open_lane(&h->run, &cfg, sp, lane, yield_ms, err) != 0) { free(h); napi_throw_error(env, "FS_NOMEM", err); return NULL; }
  h->closed = false;
  return wrap_handle(env, h);
}

struct lane_opening {
  struct fs_handle *h;
  struct fs_meter_config cfg;
  struct fs_spread *sp;
  uint32_t lane, yield_ms;
  int rc;
  char err[FS_ERRLEN];
  pthread_t thread;
  bool threaded;
};

static void *open_one_lane(void *arg) {
  struct lane_opening *o = arg;
  o->rc = fs_run_open_lane(&o->h->run, &o->cfg, o->sp, o->lane, o->yield_ms, o->err);
  return NULL;
}

/* openLanes(id, options): every lane of spread id, as openLane() opens each, opened at once, one
 * thread a lane: each meter's start (nDPI's, about 30 ms) took its turn on this thread */
static napi_value js_open_lanes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t id = 0;
  if (argc < 2 || napi_get_value_uint32(env, argv[0], &id) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "openLanes() needs a spread's id and the options");
    return NULL;
  }
  uint32_t n = fs_spread_lanes(id), ready = 0;
  if (!n) { napi_throw_error(env, "FS_ARG", "openLanes(): no such spread"); return NULL; }
  struct lane_opening *o = calloc(n, sizeof(*o));
  if (!o) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return NULL; }
  const char *taken = NULL;
  for (; ready < n; ready++) {
    struct lane_opening *l = &o[ready];
    l->lane = ready;
    if (!lane_config(env, argv[1], &l->cfg, &l->yield_ms)) break;
    if (!(l->sp = fs_spread_claim(id, ready))) { taken = "openLanes(): a lane is taken"; break; }
    if (!(l->h = handle_alloc(env))) { fs_spread_release(l->sp, ready); break; }
  }
  if (ready < n) { /* nothing opened: the lanes claimed are let go */
    for (uint32_t i = 0; i < ready; i++) { fs_spread_release(o[i].sp, i); free(o[i].h); }
    free(o);
    if (taken) napi_throw_error(env, "FS_ARG", taken);
    return NULL;
  }
  for (uint32_t i = 1; i < n; i++) o[i].threaded = pthread_create(&o[i].thread, NULL, open_one_lane, &o[i]) == 0;
  for (uint32_t i = 0; i < n; i++) if (i == 0 || !o[i].threaded) open_one_lane(&o[i]); /* without a thread: here */
  for (uint32_t i = 1; i < n; i++) if (o[i].threaded) pthread_join(o[i].thread, NULL);
  char err[FS_ERRLEN] = ""; /* the first lane's that failed (o is freed before it is thrown) */
  for (uint32_t i = 0; i < n; i++) {
    if (o[i].rc != 0 && !err[0]) snprintf(err, sizeof(err), "%s", o[i].err[0] ? o[i].err : "out of memory");
    else if (o[i].rc == 0) o[i].h->closed = false;
  }
  napi_value array = NULL;
  if (!err[0] && napi_create_array_with_length(env, n, &array) != napi_ok) snprintf(err, sizeof(err), "out of memory");
  bool thrown = false;
  for (uint32_t i = 0; i < n; i++) {
    if (o[i].rc != 0) { free(o[i].h); continue; } /* its lane was let go as it failed */
    if (err[0] || thrown) { handle_free(o[i].h); free(o[i].h); continue; }
    napi_value obj = wrap_handle(env, o[i].h); /* which frees the handle when it fails */
    if (!obj || napi_set_element(env, array, i, obj) != napi_ok) thrown = true; /* the wrapped: the collector's */
  }
  free(o);
  if (err[0]) napi_throw_error(env, "FS_NOMEM", err);
  return err[0] || thrown ? NULL : array;
}

/* release(bytes): a Uint8Array that is the whole of its ArrayBuffer is detached, which frees its
 * memory now rather than at the next garbage collection (it then reads as empty); anything else
 * is left as it is */
static napi_value js_release(napi_env env, napi_callback_info info) {
  size_t argc = 1, length = 0, offset = 0, ab_length = 0;
  napi_value argv[1], ab;
  bool typed = false, detached = true;
  napi_typedarray_type type;
  void *data, *ab_data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_is_typedarray(env, argv[0], &typed) != napi_ok || !typed ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset) != napi_ok ||
      type != napi_uint8_array || offset != 0 ||
      napi_get_arraybuffer_info(env, ab, &ab_data, &ab_length) != napi_ok || ab_length != length ||
      napi_is_detached_arraybuffer(env, ab, &detached) != napi_ok || detached) {
    return NULL;
  }
  napi_detach_arraybuffer(env, ab); /* one that cannot be detached is left to the collector */
  return NULL;
}

static napi_value js_columns(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  NAPI_OK(env, fs_batch_column_names(env, &out));
  return out;
}

/* interfaces(): [{ name, description, up, running, loopback }] from pcap_findalldevs */
static napi_value js_interfaces(napi_env env, napi_callback_info info) {
  (void)info;
  char perr[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t *all = NULL;
  if (pcap_findalldevs(&all, perr) != 0) {
    napi_throw_error(env, "FS_OPEN", perr);
    return NULL;
  }
  napi_value arr, v;
  uint32_t i = 0;
  napi_create_array(env, &arr);
  for (pcap_if_t *d = all; d; d = d->next, i++) {
    napi_value o;
    napi_create_object(env, &o);
    napi_create_string_utf8(env, d->name, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, o, "name", v);
    napi_create_string_utf8(env, d->description ? d->description : "", NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, o, "description", v);
    napi_get_boolean(env, (d->flags & PCAP_IF_UP) != 0, &v);
    napi_set_named_property(env, o, "up", v);
    napi_get_boolean(env, (d->flags & PCAP_IF_RUNNING) != 0, &v);
    napi_set_named_property(env, o, "running", v);
    napi_get_boolean(env, (d->flags & PCAP_IF_LOOPBACK) != 0, &v);
    napi_set_named_property(env, o, "loopback", v);
    napi_set_element(env, arr, i, o);
  }
  pcap_freealldevs(all);
  return arr;
}

/* checkFilter(expression): null, or libpcap's words on why it cannot compile it for an Ethernet
 * link (its syntax, a port out of range...), so a bad --bpf is a usage error before anything
 * opens; one valid there but not on a capture's own link type still fails when that opens */
static napi_value js_check_filter(napi_env env, napi_callback_info info) {
  size_t argc = 1, len = 0;
  napi_value argv[1], out = NULL;
  char expr[4096];
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], expr, sizeof(expr), &len) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "checkFilter() needs the filter's text");
    return NULL;
  }
  pcap_t *p = len < sizeof(expr) - 1 ? pcap_open_dead(DLT_EN10MB, 262144) : NULL;
  struct bpf_program prog;
  if (!p) {
    NAPI_OK(env, napi_create_string_utf8(env, len >= sizeof(expr) - 1 ? "longer than 4095 bytes" : "out of memory", NAPI_AUTO_LENGTH, &out));
  } else if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    NAPI_OK(env, napi_create_string_utf8(env, pcap_geterr(p), NAPI_AUTO_LENGTH, &out));
  } else {
    pcap_freecode(&prog);
  }
  if (p) pcap_close(p);
  if (!out) NAPI_OK(env, napi_get_null(env, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    { "open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
    { "openSpread", NULL, js_open_spread, NULL, NULL, NULL, napi_default, NULL },
    { "openLane", NULL, js_open_lane, NULL, NULL, NULL, napi_default, NULL },
    { "openLanes", NULL, js_open_lanes, NULL, NULL, NULL, napi_default, NULL },
    { "columns", NULL, js_columns, NULL, NULL, NULL, napi_default, NULL },
    { "compress", NULL, fs_js_compress, NULL, NULL, NULL, napi_default, NULL },
    { "textCell", NULL, fs_js_text_cell, NULL, NULL, NULL, napi_default, NULL },
    { "textBuffers", NULL, fs_js_text_buffers, NULL, NULL, NULL, napi_default, NULL },
    { "startWriteback", NULL, fs_js_start_writeback, NULL, NULL, NULL, napi_default, NULL },
    { "release", NULL, js_release, NULL, NULL, NULL, napi_default, NULL },
    { "interfaces", NULL, js_interfaces, NULL, NULL, NULL, napi_default, NULL },
    { "checkFilter", NULL, js_check_filter, NULL, NULL, NULL, napi_default, NULL },
    { "dropPrivileges", NULL, fs_js_drop_privileges, NULL, NULL, NULL, napi_default, NULL },
    { "startPool", NULL, fs_js_start_pool, NULL, NULL, NULL, napi_default, NULL },
    { "socketChanges", NULL, fs_js_socket_changes, NULL, NULL, NULL, napi_default, NULL },
    { "socketLookup", NULL, fs_js_socket_lookup, NULL, NULL, NULL, napi_default, NULL },
    { "sendQueueBytes", NULL, fs_js_send_queue_bytes, NULL, NULL, NULL, napi_default, NULL },
    { "copyAccessAcl", NULL, fs_js_copy_access_acl, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
  /* now, while the descriptors that loaded the addon are free again: a failure is said by the
   * open of a meter that needs it (dpi_ready) */
  char why[FS_ERRLEN];
  fs_dpi_setup(why, sizeof(why));
  fs_sockevents_init(env, exports);
  napi_value v;
  napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, exports, "libpcapVersion", v);
  napi_create_uint32(env, fs_dpi_state_size(), &v);
  napi_set_named_property(env, exports, "ndpiFlowStateBytes", v);
  napi_create_uint32(env, (uint32_t)fs_flow_bytes(false), &v);
  napi_set_named_property(env, exports, "flowRecordBytes", v);
  napi_create_uint32(env, (uint32_t)(fs_flow_bytes(true) - fs_flow_bytes(false)), &v);
  napi_set_named_property(env, exports, "flowStatsBytes", v);
  napi_create_uint32(env, (uint32_t)sizeof(struct fs_flow_key), &v);
  napi_set_named_property(env, exports, "flowKeyBytes", v);
  napi_create_uint32(env, (uint32_t)sizeof(struct fs_flow_extra), &v);
  napi_set_named_property(env, exports, "flowExtraBytes", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
