/* The Node-API side of system visibility by kernel events: sockevents.c's functions for
 * src/system/bpf.ts and src/system/visibility.ts. */
#include <stdbool.h>
#include <stdint.h>
#include "addon_sockevents.h"
#include "sockevents.h"

static napi_value string(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* bpfStart(graceMs): null once the programs run, else why they cannot. */
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double grace = 0;
  if (argc < 1 || napi_get_value_double(env, argv[0], &grace) != napi_ok || grace < 0) {
    napi_throw_type_error(env, NULL, "bpfStart(graceMs): graceMs must be a number of milliseconds");
    return NULL;
  }
  char why[512];
  const char *failed = fs_sockevents_start((int64_t)grace, why, sizeof(why));
  if (failed) return string(env, failed);
  napi_value null;
  napi_get_null(env, &null);
  return null;
}

static napi_value js_stop(napi_env env, napi_callback_info info) {
  fs_sockevents_stop();
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static bool get_string(napi_env env, napi_value v, char *out, size_t size) {
  size_t n;
  return napi_get_value_string_utf8(env, v, out, size, &n) == napi_ok;
}

/* bpfMatch(protocol, srcIp, srcPort, dstIp, dstPort): a batch's columns in, its owners out —
 * { pid, uid: Float64Array (uid -1: none), name, cmdline: string[] }. */
static napi_value js_match(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double *col[5] = { NULL };
  size_t len[5] = { 0 };
  uint32_t rows = 0;
  bool ok = argc == 5;
  for (int i = 0; ok && i < 5; i++) {
    if (i == 1 || i == 3) {
      bool is_array = false;
      ok = napi_is_array(env, argv[i], &is_array) == napi_ok && is_array;
      uint32_t n = 0;
      if (ok) napi_get_array_length(env, argv[i], &n);
      len[i] = n;
    } else {
      napi_typedarray_type type;
      void *data;
      ok = napi_get_typedarray_info(env, argv[i], &type, &len[i], &data, NULL, NULL) == napi_ok && type == napi_float64_array;
      col[i] = data;
    }
    if (ok && i == 0) rows = (uint32_t)len[0];
    ok = ok && len[i] == rows;
  }
  if (!ok) {
    napi_throw_type_error(env, NULL, "bpfMatch: protocol, srcIp, srcPort, dstIp, dstPort columns of one length");
    return NULL;
  }
  napi_value result, pid_ab, uid_ab, names, cmdlines;
  double *pid, *uid;
  napi_create_object(env, &result);
  napi_create_arraybuffer(env, rows * sizeof(double), (void **)&pid, &pid_ab);
  napi_create_arraybuffer(env, rows * sizeof(double), (void **)&uid, &uid_ab);
  napi_create_array_with_length(env, rows, &names);
  napi_create_array_with_length(env, rows, &cmdlines);
  napi_value empty = string(env, "");
  bool any = fs_sockevents_begin();
  for (uint32_t r = 0; r < rows; r++) {
    pid[r] = 0;
    uid[r] = -1;
    uint8_t protocol = (uint8_t)col[0][r];
    char src[64], dst[64];
    napi_value v;
    struct fs_sock_owner o;
    if (any && (protocol == 6 || protocol == 17) &&
        napi_get_element(env, argv[1], r, &v) == napi_ok && get_string(env, v, src, sizeof(src)) &&
        napi_get_element(env, argv[3], r, &v) == napi_ok && get_string(env, v, dst, sizeof(dst)) &&
        fs_sockevents_owner(protocol, src, (uint16_t)col[2][r], dst, (uint16_t)col[4][r], &o)) {
      pid[r] = o.tgid;
      uid[r] = o.uid;
      napi_set_element(env, names, r, string(env, o.comm));
      napi_set_element(env, cmdlines, r, string(env, o.cmdline));
    } else {
      napi_set_element(env, names, r, empty);
      napi_set_element(env, cmdlines, r, empty);
    }
  }
  fs_sockevents_end();
  napi_value pid_arr, uid_arr;
  napi_create_typedarray(env, napi_float64_array, rows, pid_ab, 0, &pid_arr);
  napi_create_typedarray(env, napi_float64_array, rows, uid_ab, 0, &uid_arr);
  napi_set_named_property(env, result, "pid", pid_arr);
  napi_set_named_property(env, result, "uid", uid_arr);
  napi_set_named_property(env, result, "name", names);
  napi_set_named_property(env, result, "cmdline", cmdlines);
  return result;
}

/* userName(uid): the account's name, "" if none. */
static napi_value js_user_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t uid;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &uid) != napi_ok) {
    napi_throw_type_error(env, NULL, "userName(uid): uid must be a number");
    return NULL;
  }
  char name[64];
  fs_user_name(uid, name, sizeof(name));
  return string(env, name);
}

static void set_number(napi_env env, napi_value o, const char *name, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  napi_set_named_property(env, o, name, v);
}

/* bpfStats(): events read, events the ring buffer had no room for, sockets known, the reader
 * thread's CPU, and the programs' own run time in the kernel (counted while bpfRunTimeStats is on). */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  struct fs_sockevents_stats s;
  fs_sockevents_stats(&s);
  napi_value o;
  napi_create_object(env, &o);
  set_number(env, o, "events", s.events);
  set_number(env, o, "sockets", s.sockets);
  set_number(env, o, "tableFull", s.table_full);
  set_number(env, o, "lost", s.lost);
  set_number(env, o, "readerCpuMicros", s.reader_cpu_ns / 1000);
  set_number(env, o, "programRunMicros", s.program_run_ns / 1000);
  set_number(env, o, "programRuns", s.program_runs);
  return o;
}

/* bpfRunTimeStats(on): the kernel counts every BPF program's run time while this is on (for
 * bench/visibility.ts); true if it could. */
static napi_value js_run_time_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool on = false;
  if (argc >= 1) napi_get_value_bool(env, argv[0], &on);
  napi_value v;
  napi_get_boolean(env, fs_sockevents_run_time_stats(on), &v);
  return v;
}

void fs_sockevents_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    { "bpfStart", NULL, js_start, NULL, NULL, NULL, napi_default, NULL },
    { "bpfStop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL },
    { "bpfMatch", NULL, js_match, NULL, NULL, NULL, napi_default, NULL },
    { "bpfStats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL },
    { "bpfRunTimeStats", NULL, js_run_time_stats, NULL, NULL, NULL, napi_default, NULL },
    { "userName", NULL, js_user_name, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
  napi_value v;
  napi_get_boolean(env, fs_sockevents_built_in(), &v);
  napi_set_named_property(env, exports, "bpfBuiltIn", v);
}
