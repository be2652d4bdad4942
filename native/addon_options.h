/* The options of open(), openSpread() and openLane(), read from JavaScript. Every option given is
 * checked (type, range, known name) and a bad one is rejected with an error naming it, as
 * better-sqlite3's REQUIRE_ARGUMENT_* do: the binding never falls back to a default of its own.
 * The defaults are the command line's (src/options.ts). */
#ifndef FS_ADDON_OPTIONS_H
#define FS_ADDON_OPTIONS_H

#include <node_api.h>
#include "source.h"

struct fs_open_options {
  struct fs_meter_config cfg;       /* cfg.end_ports is owned */
  char **files;                     /* NULL with an interface */
  uint32_t n_files;
  char *iface, *bpf;                /* NULL: none */
  uint32_t snaplen, yield_ms;
  bool promisc;
  uint32_t buffer_bytes;
  uint16_t fanout_group;
};

/* False with an exception thrown. */
bool fs_options_read(napi_env env, napi_value o, struct fs_open_options *out);
void fs_options_free(struct fs_open_options *o);
/* For the live source: points into o. */
struct fs_live_config fs_options_live(const struct fs_open_options *o);

#endif
