#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addon_options.h"

enum kind { NUM, BOOL, STR, LIST };

/* every option the binding knows; `need` options must be given (they have no neutral value) */
static const struct spec {
  const char *name;
  enum kind kind;
  double lo, hi;
  bool integer, need;
} SPECS[] = {
  { "files", LIST, 0, 0, false, false },
  { "interface", STR, 0, 0, false, false },
  { "idleTimeoutMs", NUM, 0, 9007199254740991.0, true, true },
  { "activeTimeoutMs", NUM, 0, 9007199254740991.0, true, true },
  { "maxFlows", NUM, 0, 9007199254740991.0, true, true },
  { "maxActiveFlows", NUM, 0, 9007199254740991.0, true, false },
  { "decodeTunnels", BOOL, 0, 0, false, true },
  { "reportNewFlows", BOOL, 0, 0, false, false },
  { "accounting", NUM, 0, 3, true, true },
  { "stats", BOOL, 0, 0, false, true },
  { "dissections", NUM, 0, 255, true, true },
  { "splt", NUM, 0, 255, true, true },
  { "activity", BOOL, 0, 0, false, false },
  { "activityGapMs", NUM, 0, 1e12, false, false },
  { "payloadBytes", NUM, 0, 65535, true, false },
  { "headerPackets", NUM, 0, 255, true, false },
  { "headerWidth", NUM, 1, 1024, true, false },
  { "packetEvents", BOOL, 0, 0, false, false },
  { "eventsOnePerFlow", BOOL, 0, 0, false, false },
  { "endPorts", LIST, 0, 65535, true, false },
  { "communityId", BOOL, 0, 0, false, false },
  { "communityIdSeed", NUM, 0, 65535, true, false },
  { "timePrecision", NUM, 0, 2, true, false },
  { "partitions", NUM, 1, 4294967295.0, true, false },
  { "partition", NUM, 0, 4294967294.0, true, false },
  { "snaplen", NUM, 0, 262144, true, true },
  { "bpf", STR, 0, 0, false, false },
  { "yieldMs", NUM, 0, 3600000, true, false },
  { "promisc", BOOL, 0, 0, false, false },
  { "bufferBytes", NUM, 0, 4294967295.0, true, false },
  { "fanoutGroup", NUM, 0, 65535, true, false },
};
#define N_SPECS (sizeof(SPECS) / sizeof(SPECS[0]))

/* the values given, by spec; a value undefined counts as not given */
struct given {
  bool has[N_SPECS];
  napi_value v[N_SPECS];
};

static bool fail(napi_env env, bool range, const char *fmt, const char *name, double lo, double hi) {
  char msg[160];
  snprintf(msg, sizeof(msg), fmt, name, lo, hi);
  if (range) napi_throw_range_error(env, "FS_ARG", msg);
  else napi_throw_type_error(env, "FS_ARG", msg);
  return false;
}

static bool number_ok(napi_env env, const struct spec *s, napi_value v, double *out) {
  if (napi_get_value_double(env, v, out) != napi_ok) return fail(env, false, "option %s must be a number", s->name, 0, 0);
  if (!(*out >= s->lo && *out <= s->hi) || (s->integer && floor(*out) != *out)) {
    return fail(env, true, s->integer ? "option %s must be a whole number from %.0f to %.0f" : "option %s must be a number from %g to %g",
                s->name, s->lo, s->hi);
  }
  return true;
}

static bool check_one(napi_env env, const struct spec *s, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return fail(env, false, "option %s cannot be read", s->name, 0, 0);
  double d;
  switch (s->kind) {
    case NUM:
      if (t != napi_number) return fail(env, false, "option %s must be a number", s->name, 0, 0);
      return number_ok(env, s, v, &d);
    case BOOL:
      return t == napi_boolean || fail(env, false, "option %s must be true or false", s->name, 0, 0);
    case STR:
      return t == napi_string || fail(env, false, "option %s must be a string", s->name, 0, 0);
    case LIST: {
      bool arr = false;
      uint32_t n = 0;
      if (napi_is_array(env, v, &arr) != napi_ok || !arr || napi_get_array_length(env, v, &n) != napi_ok) {
        return fail(env, false, "option %s must be an array", s->name, 0, 0);
      }
      for (uint32_t i = 0; i < n; i++) {
        napi_value e;
        napi_valuetype et;
        if (napi_get_element(env, v, i, &e) != napi_ok || napi_typeof(env, e, &et) != napi_ok) return fail(env, false, "option %s cannot be read", s->name, 0, 0);
        bool strings = strcmp(s->name, "files") == 0;
        if (strings && et != napi_string) return fail(env, false, "option %s must hold strings", s->name, 0, 0);
        if (!strings && (et != napi_number || !number_ok(env, s, e, &d))) {
          if (et != napi_number) return fail(env, false, "option %s must hold numbers", s->name, 0, 0);
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

/* Every property of o is a known option with a good value; the given ones into g. */
static bool check_all(napi_env env, napi_value o, struct given *g) {
  memset(g, 0, sizeof(*g));
  napi_valuetype t;
  napi_value names;
  uint32_t n = 0;
  if (napi_typeof(env, o, &t) != napi_ok || t != napi_object || napi_get_property_names(env, o, &names) != napi_ok ||
      napi_get_array_length(env, names, &n) != napi_ok) {
    napi_throw_type_error(env, "FS_ARG", "the options must be an object");
    return false;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value key, v;
    char name[64] = "";
    size_t len;
    if (napi_get_element(env, names, i, &key) != napi_ok || napi_get_value_string_utf8(env, key, name, sizeof(name), &len) != napi_ok ||
        napi_get_property(env, o, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok) {
      napi_throw_type_error(env, "FS_ARG", "the options cannot be read");
      return false;
    }
    size_t k = 0;
    while (k < N_SPECS && strcmp(SPECS[k].name, name) != 0) k++;
    if (k == N_SPECS) return fail(env, false, "unknown option %s", name, 0, 0);
    if (t == napi_undefined) continue;
    if (!check_one(env, &SPECS[k], v)) return false;
    g->has[k] = true;
    g->v[k] = v;
  }
  for (size_t k = 0; k < N_SPECS; k++) {
    if (SPECS[k].need && !g->has[k]) return fail(env, false, "option %s is required", SPECS[k].name, 0, 0);
  }
  return true;
}

static size_t at(const char *name) {
  size_t k = 0;
  while (k < N_SPECS && strcmp(SPECS[k].name, name) != 0) k++;
  return k;
}

/* checked already: these only read */
static double num(napi_env env, const struct given *g, const char *name) {
  size_t k = at(name);
  double d = 0;
  if (k < N_SPECS && g->has[k]) napi_get_value_double(env, g->v[k], &d);
  return d;
}

static bool flag(napi_env env, const struct given *g, const char *name) {
  size_t k = at(name);
  bool b = false;
  if (k < N_SPECS && g->has[k]) napi_get_value_bool(env, g->v[k], &b);
  return b;
}

static bool has(const struct given *g, const char *name) {
  size_t k = at(name);
  return k < N_SPECS && g->has[k];
}

/* NULL if not given; false when out of memory (thrown) */
static bool string(napi_env env, const struct given *g, const char *name, char **out) {
  *out = NULL;
  size_t k = at(name), len;
  if (k == N_SPECS || !g->has[k]) return true;
  if (napi_get_value_string_utf8(env, g->v[k], NULL, 0, &len) != napi_ok || !(*out = malloc(len + 1))) {
    napi_throw_error(env, "FS_NOMEM", "out of memory");
    return false;
  }
  napi_get_value_string_utf8(env, g->v[k], *out, len + 1, &len);
  return true;
}

static bool read_files(napi_env env, napi_value v, struct fs_open_options *o) {
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  if (!(o->files = calloc(n ? n : 1, sizeof(char *)))) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return false; }
  for (uint32_t i = 0; i < n; i++) {
    napi_value f;
    size_t len;
    napi_get_element(env, v, i, &f);
    napi_get_value_string_utf8(env, f, NULL, 0, &len);
    if (!(o->files[i] = malloc(len + 1))) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return false; }
    o->n_files = i + 1;
    napi_get_value_string_utf8(env, f, o->files[i], len + 1, &len);
  }
  return true;
}

static bool read_ports(napi_env env, napi_value v, struct fs_meter_config *cfg) {
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  if (!(cfg->end_ports = calloc(8192, 1))) { napi_throw_error(env, "FS_NOMEM", "out of memory"); return false; }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    double port = 0;
    napi_get_element(env, v, i, &e);
    napi_get_value_double(env, e, &port);
    cfg->end_ports[(unsigned)port >> 3] |= (uint8_t)(1u << ((unsigned)port & 7));
  }
  return true;
}

bool fs_options_read(napi_env env, napi_value opts, struct fs_open_options *o) {
  memset(o, 0, sizeof(*o));
  struct given g;
  if (!check_all(env, opts, &g)) return false;
  bool files = has(&g, "files"), iface = has(&g, "interface");
  if (files == iface) {
    napi_throw_type_error(env, "FS_ARG", "the options need files (a list of at least one) or interface, not both");
    return false;
  }
  struct fs_meter_config *c = &o->cfg;
  c->idle_timeout_ms = (uint64_t)num(env, &g, "idleTimeoutMs");
  c->active_timeout_ms = (uint64_t)num(env, &g, "activeTimeoutMs");
  c->max_flows = (uint64_t)num(env, &g, "maxFlows");
  c->max_active_flows = (uint64_t)num(env, &g, "maxActiveFlows");
  c->decode_tunnels = flag(env, &g, "decodeTunnels");
  c->report_new_flows = flag(env, &g, "reportNewFlows");
  c->features.accounting = (uint8_t)num(env, &g, "accounting");
  c->features.stats = flag(env, &g, "stats");
  c->features.dissections = (uint8_t)num(env, &g, "dissections");
  c->features.splt = (uint16_t)num(env, &g, "splt");
  c->features.activity = flag(env, &g, "activity");
  if (c->features.activity && !has(&g, "activityGapMs")) return fail(env, false, "option %s is required with activity", "activityGapMs", 0, 0);
  c->features.activity_gap_us = (uint64_t)(num(env, &g, "activityGapMs") * 1000);
  c->features.payload_bytes = (uint32_t)num(env, &g, "payloadBytes");
  c->features.header_packets = (uint16_t)num(env, &g, "headerPackets");
  if (c->features.header_packets && !has(&g, "headerWidth")) return fail(env, false, "option %s is required with headerPackets", "headerWidth", 0, 0);
  c->features.header_width = (uint16_t)num(env, &g, "headerWidth");
  c->packet_events = flag(env, &g, "packetEvents");
  c->events_one_per_flow = flag(env, &g, "eventsOnePerFlow");
  if (c->events_one_per_flow && !c->packet_events) return fail(env, false, "option %s needs packetEvents", "eventsOnePerFlow", 0, 0);
  c->community_id = flag(env, &g, "communityId");
  c->community_id_seed = (uint16_t)num(env, &g, "communityIdSeed");
  c->time_precision = (uint8_t)num(env, &g, "timePrecision");
  c->n_partitions = has(&g, "partitions") ? (uint32_t)num(env, &g, "partitions") : 1;
  c->partition = (uint32_t)num(env, &g, "partition");
  if (c->partition >= c->n_partitions) return fail(env, true, "option %s must be below partitions", "partition", 0, 0);
  o->snaplen = (uint32_t)num(env, &g, "snaplen");
  o->yield_ms = (uint32_t)num(env, &g, "yieldMs");
  o->promisc = flag(env, &g, "promisc");
  o->buffer_bytes = (uint32_t)num(env, &g, "bufferBytes");
  o->fanout_group = (uint16_t)num(env, &g, "fanoutGroup");
  if (iface) {
    if (!has(&g, "promisc")) return fail(env, false, "option %s is required with interface", "promisc", 0, 0);
    /* the command line's defaults come from JavaScript (src/option-table.ts, src/streamer.ts): none here */
    if (!has(&g, "yieldMs")) return fail(env, false, "option %s is required with interface", "yieldMs", 0, 0);
    if (o->yield_ms < 10 || o->yield_ms > 1000) return fail(env, true, "option %s must be from 10 to 1000 with interface", "yieldMs", 0, 0);
    if (o->snaplen < 1) return fail(env, true, "option %s must be at least 1 with interface", "snaplen", 0, 0);
  }
  if (!string(env, &g, "interface", &o->iface) || !string(env, &g, "bpf", &o->bpf)) { fs_options_free(o); return false; }
  if (files) {
    napi_value v = g.v[at("files")];
    uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    if (n == 0) { fs_options_free(o); return fail(env, false, "option %s must list at least one file", "files", 0, 0); }
    if (!read_files(env, v, o)) { fs_options_free(o); return false; }
  }
  if (c->events_one_per_flow && has(&g, "endPorts") && !read_ports(env, g.v[at("endPorts")], c)) { fs_options_free(o); return false; }
  return true;
}

void fs_options_free(struct fs_open_options *o) {
  for (uint32_t i = 0; i < o->n_files; i++) free(o->files[i]);
  free(o->files);
  free(o->iface);
  free(o->bpf);
  free(o->cfg.end_ports);
  memset(o, 0, sizeof(*o));
}

struct fs_live_config fs_options_live(const struct fs_open_options *o) {
  return (struct fs_live_config){
    .iface = o->iface, .snaplen = o->snaplen, .promisc = o->promisc,
    .buffer_bytes = o->buffer_bytes, .bpf = o->bpf, .fanout_group = o->fanout_group,
  };
}
