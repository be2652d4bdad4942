/* Application detection with nDPI, NFStream's way: the first n_dissections packets of a flow (the
 * IP packet and its time) go to nDPI until it has nothing more to extract; still unknown at the
 * limit or at the flow's end, nDPI is asked to guess. nDPI's per-flow state is freed as soon as
 * detection ends; only the strings copied out stay, packed in one allocation. */
#ifndef FS_DPI_H
#define FS_DPI_H

#include <stdint.h>
#include "fs_packet.h"

enum fs_dpi_text {
  FS_DPI_APP_NAME, FS_DPI_CATEGORY, FS_DPI_SERVER_NAME, FS_DPI_CLIENT_FP, FS_DPI_SERVER_FP, FS_DPI_USER_AGENT,
  FS_DPI_CONTENT_TYPE, FS_DPI_JA4, FS_DPI_TEXTS
};

struct fs_dpi_module;

/* What a flow's detection needs while it goes on (in fs_dpi_flow's tail). */
struct fs_dpi_live {
  void *state;                       /* nDPI's flow */
  char ja4[37];                      /* JA4 of the first ClientHello seen */
};

/* A flow's detection: its live state while detecting, then only the result, in an allocation
 * sized to it (the live part gone). */
struct fs_dpi_flow {
  uint16_t master, app, category;
  uint8_t guessed, confidence, completed;
  uint16_t text_off[FS_DPI_TEXTS];   /* into text, once completed */
  _Alignas(8) char text[];           /* completed: the strings, NUL-terminated, back to back;
                                      * detecting: a struct fs_dpi_live */
};

/* libgcrypt, which nDPI uses, set up once a process, before any module starts: when the addon
 * loads, and again at a meter's open where it failed then (before any output opens, so a failure is
 * a line and exit 1, not libgcrypt's abort). 0, or -1 with why in err (n bytes). */
int fs_dpi_setup(char *err, size_t n);
/* NULL when out of memory, or libgcrypt is not set up (fs_dpi_setup says why). */
struct fs_dpi_module *fs_dpi_module_new(uint8_t n_dissections);
void fs_dpi_module_free(struct fs_dpi_module *d);
/* First packet. NULL when out of memory. */
struct fs_dpi_flow *fs_dpi_flow_start(struct fs_dpi_module *d, const struct fs_packet *p);
/* A later packet; packets = the flow's bidirectional packets including this one. May reallocate. */
struct fs_dpi_flow *fs_dpi_flow_update(struct fs_dpi_module *d, struct fs_dpi_flow *f, const struct fs_packet *p,
                                       uint64_t packets);
/* The flow ends: guess if still unknown, keep the strings, free nDPI's state. May reallocate. */
struct fs_dpi_flow *fs_dpi_flow_end(struct fs_dpi_module *d, struct fs_dpi_flow *f);
void fs_dpi_flow_free(struct fs_dpi_flow *f);
const char *fs_dpi_text(const struct fs_dpi_flow *f, enum fs_dpi_text which);
/* nDPI's flow state size in bytes, for the memory report. */
uint32_t fs_dpi_state_size(void);

#endif
