/* The Node-API surface: open a meter over capture files, pull batches of finished flows
 * asynchronously (the meter runs on a pool thread), read counters, close. JS validates options
 * first; this file still checks every argument it reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include "batch.h"
#include "compress.h"
#include "flow_extra.h"
#include "privileges.h"
#include "sockdiag.h"
#include "source.h"
#include "spread.h"

#define NAPI_OK(env, call) do { if ((call) != napi_ok) { throw_last(env); return NULL; } } while (0)

static const char *const ignore_names[FS_IGN__COUNT] = {
  "ok", "short_frame", "unsupported_linktype", "link_header", "not_ip", "ipv4_header", "ipv6_header",
  "ipv6_extension", "fragment", "tunnel_header", "too_deep", "wifi_not_data", "other_partition",
};

struct fs_handle {
  struct fs_meter meter;
  struct fs_source source;          /* unused when the meter is a lane of a spread */
  struct fs_spread *spread;
  uint32_t lane;
  char **files;
  uint32_t n_files;
  bool busy, closed;
  /* the pending next() */
  napi_async_work work;
  napi_deferred deferred;
  napi_ref self;
  size_t want;
};

static void throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "FS_NAPI", info && info->error_message ? info->error_message : "Node-API call failed");
}

static bool get_prop(napi_env env, napi_value obj, const char *name, napi_valuetype want, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return false;
  if (napi_get_named_property(env, obj, name, out) != napi_ok) return false;
  napi_valuetype t;
  return napi_typeof(env, *out, &t) == napi_ok && t == want;
}

static double num_opt(napi_env env, napi_value obj, const char *name, double dflt) {
  napi_value v;
  double d;
  if (!get_prop(env, obj, name, napi_number, &v) || napi_get_value_double(env, v, &d) != napi_ok) return dflt;
  return d;
}

static bool bool_opt(napi_env env, napi_value obj, const char *name, bool dflt) {
  napi_value v;
  bool b;
  if (!get_prop(env, obj, name, napi_boolean, &v) || napi_get_value_bool(env, v, &b) != napi_ok) return dflt;
  return b;
}

static char *str_opt(napi_env env, napi_value obj, const char *name) {
  napi_value v;
  size_t len;
  if (!get_prop(env, obj, name, napi_string, &v) || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
    return NULL;
  char *s = malloc(len + 1);
  if (s && napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) { free(s); return NULL; }
  return s;
}

static void files_free(char **files, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) free(files[i]);
  free(files);
}

static void handle_free(struct fs_handle *h) {
  if (!h->closed) {
    if (h->spread) fs_spread_release(h->spread, h->lane);
    else fs_source_close(&h->source);
    h->spread = NULL;
    fs_meter_free(&h->meter);
    h->closed = true;
  }
  files_free(h->files, h->n_files);
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
  struct fs_meter_counters c_ = h->meter.n;
  const struct fs_meter_counters *c = &c_;
  /* a lane: the reader counted the frames, their bytes and what was not metered */
  struct fs_spread_counters r;
  uint64_t bytes_read = h->source.bytes_read, read_errors = h->source.read_errors;
  const char *warnings = h->source.warnings;
  if (h->spread) {
    fs_spread_counters(h->spread, &r);
    c_.packets = r.n.packets;
    c_.oversize_records = r.n.oversize_records;
    memcpy(c_.ignored, r.n.ignored, sizeof(c_.ignored));
    c_.alloc_failures += r.n.copy_failures;
    bytes_read = r.bytes_read;
    read_errors = r.read_errors;
    warnings = r.warnings;
  }
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
  NAPI_OK(env, set_num(env, o, "activeFlows", h->closed ? 0 : (double)h->meter.table.count));
  NAPI_OK(env, set_num(env, o, "detectingFlows", h->closed ? 0 : (double)h->meter.n.detecting));
  NAPI_OK(env, set_num(env, o, "tableBytes", h->closed ? 0 : (double)fs_table_memory(&h->meter.table)));
  NAPI_OK(env, set_num(env, o, "bytesRead", (double)bytes_read));
  NAPI_OK(env, set_num(env, o, "oversizeRecords", (double)c->oversize_records));
  NAPI_OK(env, set_num(env, o, "readErrors", (double)read_errors));
  NAPI_OK(env, set_num(env, o, "kernelReceived", (double)h->source.kernel_received));
  NAPI_OK(env, set_num(env, o, "kernelDropped", (double)h->source.kernel_dropped));
  NAPI_OK(env, napi_create_object(env, &ign));
  uint64_t total = 0;
  for (int i = 1; i < FS_IGN__COUNT; i++) {
    total += c->ignored[i];
    NAPI_OK(env, set_num(env, ign, ignore_names[i], (double)c->ignored[i]));
  }
  NAPI_OK(env, set_num(env, o, "ignored", (double)total));
  NAPI_OK(env, napi_set_named_property(env, o, "ignoredBy", ign));
  NAPI_OK(env, napi_create_string_utf8(env, warnings, NAPI_AUTO_LENGTH, &w));
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

static void next_execute(napi_env env, void *data) {
  (void)env;
  struct fs_handle *h = data;
  if (h->spread) fs_spread_run(h->spread, h->lane, &h->meter, h->want);
  else fs_source_run(&h->source, &h->meter, h->want);
}

static bool handle_done(const struct fs_handle *h) {
  return h->spread ? h->spread->lanes[h->lane].done : h->source.done;
}

static void next_complete(napi_env env, napi_status status, void *data) {
  struct fs_handle *h = data;
  napi_value result = NULL;
  size_t n = h->meter.out_len < h->want ? h->meter.out_len : h->want;
  if (status == napi_ok) {
    bool events = h->meter.events && h->meter.events->len;
    if (n == 0 && handle_done(h) && !events) napi_get_null(env, &result);
    else if (fs_batch_build(env, &h->meter, n, &result) == napi_ok) {
      fs_meter_consume(&h->meter, n);
      fs_meter_events_taken(&h->meter);
      h->meter.new_len = 0;
      napi_value stats = make_stats(env, h);
      if (stats) napi_set_named_property(env, result, "counters", stats);
    } else result = NULL;
  }
  h->busy = false;
  if (result) {
    napi_resolve_deferred(env, h->deferred, result);
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, "flowseek meter: batch failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, h->deferred, err);
  }
  napi_delete_async_work(env, h->work);
  napi_delete_reference(env, h->self);
}

/* meter.next(maxFlows, [ends], [exact]): Promise<batch | null> */
static napi_value js_next(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self, promise, name;
  struct fs_handle *h = unwrap_idle(env, info, &argc, argv, &self, "next()");
  if (!h) return NULL;
  if (h->closed) { napi_throw_error(env, "FS_CLOSED", "the meter is closed"); return NULL; }
  double want = 4096;
  if (argc >= 1) {
    napi_valuetype t;
    if (napi_typeof(env, argv[0], &t) == napi_ok && t == napi_number) napi_get_value_double(env, argv[0], &want);
  }
  h->want = want >= 1 && want <= 1 << 20 ? (size_t)want : 4096;
  /* next(n, [slot, uid, slot, uid...]): flows plugins ended, before any further packet */
  bool is_typed = false;
  if (argc >= 2 && napi_is_typedarray(env, argv[1], &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type type;
    size_t len;
    void *data;
    if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) == napi_ok && type == napi_float64_array) {
      const double *d = data;
      for (size_t i = 0; i + 1 < len; i += 2) {
        if (d[i] >= 0 && d[i] < 4294967295.0 && d[i + 1] >= 1) fs_meter_expire_custom(&h->meter, (uint32_t)d[i], (uint64_t)d[i + 1]);
      }
    }
  }
  /* next(n, ends, true): a plugin ended a flow of a live capture: every flow one packet per batch from now on */
  bool exact = false;
  if (argc >= 3 && napi_get_value_bool(env, argv[2], &exact) == napi_ok && exact && h->meter.events) {
    h->meter.cfg.events_one_per_flow = true;
    free(h->meter.cfg.end_ports);
    h->meter.cfg.end_ports = NULL;
  }
  NAPI_OK(env, napi_create_reference(env, self, 1, &h->self));
  NAPI_OK(env, napi_create_promise(env, &h->deferred, &promise));
  NAPI_OK(env, napi_create_string_utf8(env, "flowseek.next", NAPI_AUTO_LENGTH, &name));
  NAPI_OK(env, napi_create_async_work(env, NULL, name, next_execute, next_complete, h, &h->work));
  NAPI_OK(env, napi_queue_async_work(env, h->work));
  h->busy = true;
  return promise;
}

/* meter.stop(): safe while a batch is pending; the run flushes every open flow and ends */
static napi_value js_stop(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  struct fs_handle *h = unwrap(env, info, &argc, NULL, NULL);
  if (!h) return NULL;
  if (h->closed) return NULL;
  if (h->spread) fs_spread_stop(h->spread);
  else atomic_store(&h->source.stop_requested, true);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  struct fs_handle *h = unwrap_idle(env, info, &argc, NULL, NULL, "close()");
  if (!h) return NULL;
  handle_free(h);
  return NULL;
}

/* The meter's settings from the options object (JS validated them; out-of-range values fall
 * back to defaults here). */
static void read_config(napi_env env, napi_value o, struct fs_meter_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->idle_timeout_ms = (uint64_t)num_opt(env, o, "idleTimeoutMs", 120000);
  cfg->active_timeout_ms = (uint64_t)num_opt(env, o, "activeTimeoutMs", 1800000);
  cfg->max_flows = (uint64_t)num_opt(env, o, "maxFlows", 0);
  cfg->max_active_flows = (uint64_t)num_opt(env, o, "maxActiveFlows", 0);
  cfg->decode_tunnels = bool_opt(env, o, "decodeTunnels", true);
  cfg->report_new_flows = bool_opt(env, o, "reportNewFlows", false);
  cfg->features.accounting = (uint8_t)num_opt(env, o, "accounting", 0);
  cfg->features.stats = bool_opt(env, o, "stats", false);
  double dissections = num_opt(env, o, "dissections", 0);
  cfg->features.dissections = dissections >= 0 && dissections <= 255 ? (uint8_t)dissections : 0;
  double splt = num_opt(env, o, "splt", 0);
  cfg->features.splt = splt >= 0 && splt <= 255 ? (uint16_t)splt : 0;
  cfg->features.activity = bool_opt(env, o, "activity", false);
  double gap = num_opt(env, o, "activityGapMs", 5000);
  cfg->features.activity_gap_us = gap >= 0 && gap <= 1e12 ? (uint64_t)(gap * 1000) : 5000000;
  double payload = num_opt(env, o, "payloadBytes", 0);
  cfg->features.payload_bytes = payload >= 0 && payload <= 65535 ? (uint32_t)payload : 0;
  double hp = num_opt(env, o, "headerPackets", 0), hw = num_opt(env, o, "headerWidth", 64);
  cfg->features.header_packets = hp >= 0 && hp <= 255 ? (uint16_t)hp : 0;
  cfg->features.header_width = hw >= 1 && hw <= 1024 ? (uint16_t)hw : 64;
  cfg->packet_events = bool_opt(env, o, "packetEvents", false);
  cfg->events_one_per_flow = cfg->packet_events && bool_opt(env, o, "eventsOnePerFlow", false);
  napi_value ports_v;
  bool ports_arr = false;
  if (cfg->events_one_per_flow && get_prop(env, o, "endPorts", napi_object, &ports_v) &&
      napi_is_array(env, ports_v, &ports_arr) == napi_ok && ports_arr && (cfg->end_ports = calloc(8192, 1))) {
    uint32_t n = 0;
    napi_get_array_length(env, ports_v, &n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      double port = -1;
      if (napi_get_element(env, ports_v, i, &e) == napi_ok) napi_get_value_double(env, e, &port);
      if (port >= 0 && port <= 65535) cfg->end_ports[(unsigned)port >> 3] |= (uint8_t)(1u << ((unsigned)port & 7));
    }
  }
  cfg->community_id = bool_opt(env, o, "communityId", false);
  double seed = num_opt(env, o, "communityIdSeed", 0);
  cfg->community_id_seed = seed >= 0 && seed <= 65535 ? (uint16_t)seed : 0;
  double precision = num_opt(env, o, "timePrecision", 0);
  cfg->time_precision = precision == 1 || precision == 2 ? (uint8_t)precision : 0;
  double parts = num_opt(env, o, "partitions", 1), part = num_opt(env, o, "partition", 0);
  cfg->n_partitions = parts >= 1 ? (uint32_t)parts : 1;
  cfg->partition = part >= 0 && part < cfg->n_partitions ? (uint32_t)part : 0;
  if (cfg->features.accounting > 3) cfg->features.accounting = 0;
}

/* A copy of the options' file names (none for an interface, files_v NULL); false with an
 * exception thrown. */
static bool read_files(napi_env env, napi_value files_v, char ***out, uint32_t *n_out) {
  uint32_t n = 0;
  if (files_v && napi_get_array_length(env, files_v, &n) != napi_ok) n = 0;
  char **files = calloc(n ? n : 1, sizeof(char *));
  if (!files) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return false; }
  for (uint32_t i = 0; i < n; i++) {
    napi_value f;
    size_t len;
    if (napi_get_element(env, files_v, i, &f) != napi_ok || napi_get_value_string_utf8(env, f, NULL, 0, &len) != napi_ok) {
      files_free(files, i);
      napi_throw_type_error(env, "FS_ARG", "files must be strings");
      return false;
    }
    if (!(files[i] = malloc(len + 1))) { files_free(files, i); napi_throw_error(env, "FS_NOMEM", "out of memory"); return false; }
    napi_get_value_string_utf8(env, f, files[i], len + 1, &len);
  }
  *out = files;
  *n_out = n;
  return true;
}

/* A new handle holding a copy of the options' files; NULL with an exception thrown. */
static struct fs_handle *handle_new(napi_env env, napi_value files_v) {
  struct fs_handle *h = calloc(1, sizeof(*h));
  if (!h) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return NULL; }
  h->closed = true;
  if (!read_files(env, files_v, &h->files, &h->n_files)) { free(h); return NULL; }
  return h;
}

/* The JS object of an open handle: next, stats, stop, close. */
static napi_value wrap_handle(napi_env env, struct fs_handle *h) {
  napi_value obj;
  napi_property_descriptor methods[] = {
    { "next", NULL, js_next, NULL, NULL, NULL, napi_default, NULL },
    { "stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL },
    { "stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
  };
  if (napi_create_object(env, &obj) != napi_ok || napi_define_properties(env, obj, 4, methods) != napi_ok ||
      napi_wrap(env, obj, h, finalize, NULL, NULL) != napi_ok) {
    throw_last(env);
    handle_free(h);
    free(h);
    return NULL;
  }
  return obj;
}

/* The options' files array, or NULL with a type error thrown. */
static bool files_opt(napi_env env, size_t argc, napi_value *argv, napi_value *files_v) {
  bool is_arr = false;
  uint32_t n = 0;
  if (argc < 1 || !get_prop(env, argv[0], "files", napi_object, files_v) || napi_is_array(env, *files_v, &is_arr) != napi_ok ||
      !is_arr || napi_get_array_length(env, *files_v, &n) != napi_ok || n == 0) {
    napi_throw_type_error(env, "FS_ARG", "open() needs { files: string[] } with at least one file, or { interface: string }");
    return false;
  }
  return true;
}

/* open({ files | interface, idleTimeoutMs, activeTimeoutMs, maxFlows, maxActiveFlows, decodeTunnels,
 *        accounting, stats, splt, dissections, snaplen, bpf, partitions, partition, yieldMs,
 *        promisc, bufferBytes, fanoutGroup }) */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], files_v = NULL;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *iface = argc >= 1 ? str_opt(env, argv[0], "interface") : NULL;
  if (!iface && !files_opt(env, argc, argv, &files_v)) return NULL;
  struct fs_handle *h = handle_new(env, files_v);
  if (!h) { free(iface); return NULL; }
  napi_value o = argv[0];
  struct fs_meter_config cfg;
  read_config(env, o, &cfg);
  uint32_t snaplen = (uint32_t)num_opt(env, o, "snaplen", 0);
  char *bpf = str_opt(env, o, "bpf");
  char err[FS_ERRLEN] = "";
  if (fs_meter_init(&h->meter, &cfg) != 0) {
    free(bpf); free(iface); handle_free(h); free(h);
    napi_throw_error(env, "FS_NOMEM", "out of memory");
    return NULL;
  }
  int opened;
  /* a batch at least this often: live 10 ms to 1 s (1 s without it); files any time (never without) */
  double yield = num_opt(env, o, "yieldMs", 0);
  if (iface) {
    double fanout = num_opt(env, o, "fanoutGroup", 0), buffer = num_opt(env, o, "bufferBytes", 0);
    struct fs_live_config live = {
      .iface = iface, .snaplen = snaplen ? snaplen : 1536, .promisc = bool_opt(env, o, "promisc", true),
      .buffer_bytes = buffer > 0 && buffer < 4294967295.0 ? (uint32_t)buffer : 0, .bpf = bpf,
      .fanout_group = fanout > 0 && fanout <= 65535 ? (uint16_t)fanout : 0,
    };
    opened = fs_source_open_live(&h->source, &live, err);
    if (opened == 0 && yield >= 10 && yield <= 1000) h->source.yield_ms = (uint32_t)yield;
    free(iface);
  } else {
    opened = fs_source_open(&h->source, h->files, h->n_files, snaplen, bpf, err);
    if (opened == 0 && yield > 0 && yield < 3600000) h->source.yield_ms = (uint32_t)yield;
  }
  free(bpf);
  if (opened != 0) {
    fs_meter_free(&h->meter);
    handle_free(h); free(h);
    napi_throw_error(env, "FS_OPEN", err);
    return NULL;
  }
  h->closed = false;
  return wrap_handle(env, h);
}

/* openLanes({ files, ...as open() }, n): n meters over one reading of the files (spread.c), each
 * keeping the flows of one host-pair partition, each run on its own pool thread by next(). */
static napi_value js_open_lanes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], files_v, arr;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!files_opt(env, argc, argv, &files_v)) return NULL;
  double lanes = 0;
  if (argc < 2 || napi_get_value_double(env, argv[1], &lanes) != napi_ok || !(lanes >= 1 && lanes <= 256)) {
    napi_throw_type_error(env, "FS_ARG", "openLanes() needs a number of lanes from 1 to 256");
    return NULL;
  }
  uint32_t n = (uint32_t)lanes, n_files;
  char **files;
  if (!read_files(env, files_v, &files, &n_files)) return NULL;
  struct fs_meter_config cfg;
  read_config(env, argv[0], &cfg);
  cfg.n_partitions = 1; /* the reader partitions */
  cfg.partition = 0;
  cfg.packet_events = cfg.events_one_per_flow = false; /* plugins run in worker processes */
  free(cfg.end_ports);
  cfg.end_ports = NULL;
  char *bpf = str_opt(env, argv[0], "bpf");
  char err[FS_ERRLEN] = "";
  struct fs_spread *sp = fs_spread_open(files, n_files, (uint32_t)num_opt(env, argv[0], "snaplen", 0), bpf, cfg.decode_tunnels, n, err);
  free(bpf);
  if (!sp) { napi_throw_error(env, "FS_OPEN", err); return NULL; }
  NAPI_OK(env, napi_create_array_with_length(env, n, &arr));
  /* each lane from here on holds one of the spread's references, whatever happens */
  for (uint32_t i = 0; i < n; i++) {
    struct fs_handle *h = calloc(1, sizeof(*h));
    if (!h || fs_meter_init(&h->meter, &cfg) != 0) {
      free(h);
      for (uint32_t j = i; j < n; j++) fs_spread_release(sp, j);
      napi_throw_error(env, "FS_NOMEM", "out of memory");
      return NULL; /* the lanes made so far are freed with their objects */
    }
    h->spread = sp;
    h->lane = i;
    napi_value obj = wrap_handle(env, h); /* on failure it released lane i */
    if (!obj || napi_set_element(env, arr, i, obj) != napi_ok) {
      if (obj) throw_last(env);
      for (uint32_t j = i + 1; j < n; j++) fs_spread_release(sp, j);
      return NULL;
    }
  }
  return arr;
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    { "open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
    { "openLanes", NULL, js_open_lanes, NULL, NULL, NULL, napi_default, NULL },
    { "columns", NULL, js_columns, NULL, NULL, NULL, napi_default, NULL },
    { "compress", NULL, fs_js_compress, NULL, NULL, NULL, napi_default, NULL },
    { "interfaces", NULL, js_interfaces, NULL, NULL, NULL, napi_default, NULL },
    { "dropPrivileges", NULL, fs_js_drop_privileges, NULL, NULL, NULL, napi_default, NULL },
    { "socketChanges", NULL, fs_js_socket_changes, NULL, NULL, NULL, napi_default, NULL },
    { "socketLookup", NULL, fs_js_socket_lookup, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
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
