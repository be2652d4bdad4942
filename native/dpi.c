/* The only file that includes nDPI. */
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ndpi/ndpi_api.h>
#include "dpi.h"
#include "ja4.h"
#include "quic_initial.h"

struct fs_dpi_module {
  struct ndpi_detection_module_struct *ndpi;
  uint8_t n_dissections;
};

uint32_t fs_dpi_state_size(void) { return ndpi_detection_get_sizeof_ndpi_flow_struct(); }

/* nDPI's module start initialises libgcrypt (for QUIC) unless told not to, and libgcrypt's
 * initialisation is for one thread at a time: modules started on threads at once aborted 5 of 300
 * processes with two threads, 3 of 400 with four (native/fuzz/dpi_start_check.c). It is done here
 * once, as nDPI would do it, and every module is told it is done. */
static pthread_mutex_t gcrypt_lock = PTHREAD_MUTEX_INITIALIZER;
static bool gcrypt_ready, gcrypt_broken;
static char gcrypt_why[160];
static jmp_buf gcrypt_fatal;

/* libgcrypt's setup reads this file, and aborts the process when it cannot for any reason but the
 * file's absence: a process out of descriptors ended with exit 134 (--workers 2 under ulimit -n 19,
 * as the lanes' meters started), its output's temporary file left behind. */
#define FIPS_SETTING "/proc/sys/crypto/fips_enabled"

/* A fatal error of libgcrypt's during its setup: back to the setup, for libgcrypt aborts the
 * process if its handler returns. libgcrypt is not called again after one. */
static void gcrypt_fatal_error(void *opaque, int code, const char *text) {
  (void)opaque;
  (void)code;
  snprintf(gcrypt_why, sizeof(gcrypt_why), "%s", text ? text : "a fatal error");
  longjmp(gcrypt_fatal, 1);
}

/* Under gcrypt_lock. A failure of the file's open leaves libgcrypt untouched, to be tried again at
 * the next meter's open. */
static void gcrypt_setup(void) {
  if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) { gcrypt_ready = true; return; }
  /* a descriptor is free if this opens (libgcrypt opens it at once after, on this thread) */
  int fd = open(FIPS_SETTING, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT && errno != EACCES) {
    /* the words are src/system-errors.ts's EMFILE, as source.c's */
    if (errno == EMFILE) snprintf(gcrypt_why, sizeof(gcrypt_why), "this process has as many files open as it may (ulimit -n, LimitNOFILE)");
    else snprintf(gcrypt_why, sizeof(gcrypt_why), "%s cannot be read (%s)", FIPS_SETTING, strerror(errno));
    return;
  }
  if (fd >= 0) close(fd);
  gcry_set_fatalerror_handler(gcrypt_fatal_error, NULL);
  if (setjmp(gcrypt_fatal) == 0) {
    if (gcry_check_version(NULL)) {
      gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
      gcrypt_ready = true;
    } else {
      snprintf(gcrypt_why, sizeof(gcrypt_why), "it did not start");
      gcrypt_broken = true;
    }
  } else {
    gcrypt_broken = true;
  }
  gcry_set_fatalerror_handler(NULL, NULL); /* a later fatal error is libgcrypt's own again */
}

int fs_dpi_setup(char *err, size_t n) {
  pthread_mutex_lock(&gcrypt_lock);
  if (!gcrypt_ready && !gcrypt_broken) gcrypt_setup();
  bool ready = gcrypt_ready;
  if (!ready) snprintf(err, n, "libgcrypt (nDPI's, for QUIC) cannot be set up: %s", gcrypt_why);
  pthread_mutex_unlock(&gcrypt_lock);
  return ready ? 0 : -1;
}

struct fs_dpi_module *fs_dpi_module_new(uint8_t n_dissections) {
  char why[256];
  if (fs_dpi_setup(why, sizeof(why)) != 0) return NULL;
  struct fs_dpi_module *d = calloc(1, sizeof(*d));
  if (!d) return NULL;
  d->ndpi = ndpi_init_detection_module(ndpi_dont_init_libgcrypt);
  if (!d->ndpi) { free(d); return NULL; }
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(d->ndpi, &all);
  ndpi_finalize_initialization(d->ndpi);
  d->n_dissections = n_dissections;
  return d;
}

void fs_dpi_module_free(struct fs_dpi_module *d) {
  if (!d) return;
  ndpi_exit_detection_module(d->ndpi);
  free(d);
}

static struct fs_dpi_live *live(struct fs_dpi_flow *f) { return (struct fs_dpi_live *)(void *)f->text; }

static ndpi_protocol proto_of(const struct fs_dpi_flow *f) {
  ndpi_protocol p = NDPI_PROTOCOL_NULL;
  p.master_protocol = f->master;
  p.app_protocol = f->app;
  p.category = (ndpi_protocol_category_t)f->category;
  return p;
}

static void set_proto(struct fs_dpi_flow *f, ndpi_protocol p) {
  f->master = p.master_protocol;
  f->app = p.app_protocol;
  f->category = (uint16_t)p.category;
}

/* A ClientHello starts a TLS payload with record type 22 and handshake type 1; over UDP, a QUIC
 * long header with the Initial type. */
static void try_ja4(struct fs_dpi_live *l, const struct fs_packet *p) {
  if (l->ja4[0] || !p->l4_payload || p->l4_payload_caplen < 6) return;
  const uint8_t *pl = p->l4_payload;
  if (p->protocol == 6 && pl[0] == 0x16 && pl[5] == 0x01) fs_ja4_from_tls(pl, p->l4_payload_caplen, l->ja4);
  else if (p->protocol == 17 && (pl[0] & 0xf0) == 0xc0) fs_quic_initial_ja4(pl, p->l4_payload_caplen, l->ja4);
}

static void process(struct fs_dpi_module *d, struct fs_dpi_flow *f, const struct fs_packet *p) {
  try_ja4(live(f), p);
  uint16_t len = p->ip_caplen > 0xffff ? 0xffff : (uint16_t)p->ip_caplen;
  set_proto(f, ndpi_detection_process_packet(d->ndpi, live(f)->state, p->ip, len, p->time_ms));
}

static void give_up(struct fs_dpi_module *d, struct fs_dpi_flow *f) {
  uint8_t guessed = 0;
  set_proto(f, ndpi_detection_giveup(d->ndpi, live(f)->state, 1, &guessed));
  f->guessed = guessed;
}

/* Known, and nothing more to extract: detection is over. */
static int detected(struct fs_dpi_module *d, struct fs_dpi_flow *f) {
  return f->app != NDPI_PROTOCOL_UNKNOWN && !ndpi_extra_dissection_possible(d->ndpi, live(f)->state);
}

static int is_proto(const struct fs_dpi_flow *f, uint16_t id) { return f->master == id || f->app == id; }

/* Copies the strings out of nDPI's state (NFStream's choice of fields per protocol), frees the
 * state, and returns the flow shrunk to its result. nDPI's `protos` is a union written by
 * whichever dissector ran: a member is read only when the detected protocol (master or app) is
 * the one that writes it, never by testing its bytes (a Kerberos flow's domain sits where a TLS
 * flow's JA3 would). */
static struct fs_dpi_flow *finish(struct fs_dpi_module *d, struct fs_dpi_flow *f) {
  struct ndpi_flow_struct *nf = live(f)->state;
  const char *t[FS_DPI_TEXTS] = { "", "", "", "", "", "", "", live(f)->ja4 };
  char name[64];
  ndpi_protocol2name(d->ndpi, proto_of(f), name, sizeof(name));
  t[FS_DPI_APP_NAME] = name;
  t[FS_DPI_CATEGORY] = ndpi_category_get_name(d->ndpi, (ndpi_protocol_category_t)f->category);
  if (nf) {
    f->confidence = (uint8_t)nf->confidence;
    t[FS_DPI_SERVER_NAME] = nf->host_server_name;
    if (is_proto(f, NDPI_PROTOCOL_DHCP)) {
      t[FS_DPI_CLIENT_FP] = nf->protos.dhcp.fingerprint;
    } else if (is_proto(f, NDPI_PROTOCOL_HTTP)) {
      t[FS_DPI_CONTENT_TYPE] = nf->http.content_type ? nf->http.content_type : "";
      t[FS_DPI_USER_AGENT] = nf->http.user_agent ? nf->http.user_agent : "";
    } else if (is_proto(f, NDPI_PROTOCOL_SSH)) {
      t[FS_DPI_CLIENT_FP] = nf->protos.ssh.hassh_client;
      t[FS_DPI_SERVER_FP] = nf->protos.ssh.hassh_server;
    } else if (is_proto(f, NDPI_PROTOCOL_TLS) || is_proto(f, NDPI_PROTOCOL_QUIC) || is_proto(f, NDPI_PROTOCOL_DTLS)) {
      t[FS_DPI_USER_AGENT] = nf->http.user_agent ? nf->http.user_agent : "";
      t[FS_DPI_CLIENT_FP] = nf->protos.tls_quic.ja3_client;
      t[FS_DPI_SERVER_FP] = nf->protos.tls_quic.ja3_server;
    }
  }
  static const size_t cap[FS_DPI_TEXTS] = { 40, 25, 80, 48, 48, 256, 64, 37 }; /* NFStream's field sizes */
  size_t len[FS_DPI_TEXTS], total = 0;
  for (int i = 0; i < FS_DPI_TEXTS; i++) {
    len[i] = strnlen(t[i] ? t[i] : "", cap[i] - 1);
    total += len[i] + 1;
  }
  struct fs_dpi_flow *r = malloc(sizeof(*r) + total);
  if (r) {
    *r = *f;
    size_t off = 0;
    for (int i = 0; i < FS_DPI_TEXTS; i++) {
      r->text_off[i] = (uint16_t)off;
      memcpy(r->text + off, t[i] ? t[i] : "", len[i]);
      r->text[off + len[i]] = '\0';
      off += len[i] + 1;
    }
  }
  if (nf) ndpi_flow_free(nf);
  live(f)->state = NULL;
  if (!r) { /* keep the ids, lose the strings: each is the empty string at the tail's start */
    for (int i = 0; i < FS_DPI_TEXTS; i++) f->text_off[i] = 0;
    f->text[0] = '\0';
    f->completed = 1;
    return f;
  }
  free(f);
  r->completed = 1;
  return r;
}

struct fs_dpi_flow *fs_dpi_flow_start(struct fs_dpi_module *d, const struct fs_packet *p) {
  struct fs_dpi_flow *f = calloc(1, sizeof(*f) + sizeof(struct fs_dpi_live));
  if (!f) return NULL;
  struct fs_dpi_live *l = live(f);
  l->state = ndpi_flow_malloc(fs_dpi_state_size());
  if (!l->state) { free(f); return NULL; }
  memset(l->state, 0, fs_dpi_state_size());
  process(d, f, p);
  if (f->app == NDPI_PROTOCOL_UNKNOWN && d->n_dissections == 1) {
    give_up(d, f);
    return finish(d, f);
  }
  /* the state goes as soon as detection is over, not at the flow's next packet, which may never
   * come (a DNS query and its answer held it until their flow's idle timeout) */
  if (detected(d, f)) return finish(d, f);
  return f;
}

struct fs_dpi_flow *fs_dpi_flow_update(struct fs_dpi_module *d, struct fs_dpi_flow *f, const struct fs_packet *p,
                                       uint64_t packets) {
  if (f->completed) return f;
  /* still detecting: every packet that ended detection finished the flow at once (below) */
  process(d, f, p);
  if (packets == d->n_dissections) {
    if (f->app == NDPI_PROTOCOL_UNKNOWN) give_up(d, f);
    return finish(d, f);
  }
  /* finished with the state it has now, as the next packet would have finished it unprocessed */
  if (detected(d, f)) return finish(d, f);
  return f;
}

struct fs_dpi_flow *fs_dpi_flow_end(struct fs_dpi_module *d, struct fs_dpi_flow *f) {
  if (f->completed) return f;
  if (f->app == NDPI_PROTOCOL_UNKNOWN) give_up(d, f);
  return finish(d, f);
}

void fs_dpi_flow_free(struct fs_dpi_flow *f) {
  if (!f) return;
  if (!f->completed && live(f)->state) ndpi_flow_free(live(f)->state);
  free(f);
}

const char *fs_dpi_text(const struct fs_dpi_flow *f, enum fs_dpi_text which) {
  return f && f->completed ? f->text + f->text_off[which] : "";
}
