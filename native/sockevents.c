/* The user side of system visibility by kernel events (native/bpf/sockevents.bpf.c): loads the
 * BPF object built into the addon, and a thread reads its ring buffer into a table of sockets by
 * (network namespace, protocol, local end, remote end), each with the process that connected,
 * accepted, sent, received or bound it at that moment. Flows are matched against that table, so a
 * process that is gone still labels its flows; an entry stays for a grace period after its TCP
 * socket closed, or after its UDP traffic was last reported (refreshed every 10 s while it goes
 * on). Built without FS_HAVE_BPF (no clang or libbpf at build time), bpfStart says so. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/types.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bpf/sockevents.h"
#include "sockevents.h"

#ifdef FS_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/epoll.h>
#include "sockevents.bpf.inc"
#endif

/* A socket's key: the namespace it lives in, its protocol, its two ends (IPv4 as IPv4-mapped IPv6;
 * a remote end of zeros for a bound or listening socket). */
struct se_key {
  uint32_t netns;
  uint16_t lport, rport;
  uint8_t protocol, pad[3];
  uint8_t laddr[16], raddr[16];
};

struct se_entry {
  struct se_key key;
  struct se_entry *next;
  int64_t expire_ms; /* INT64_MAX: a TCP socket not closed yet */
  uint32_t tgid, uid;
  char comm[FS_SE_COMM_LEN];
  char *cmdline;
};

#define SE_BUCKETS (1u << 17)
#define SE_MAX_ENTRIES (1u << 21)

static struct {
  pthread_mutex_t lock;
  struct se_entry **buckets;
  uint32_t entries;
  int64_t grace_ms;
  uint64_t events, dropped_full;
  int64_t reader_cpu_ns;
  volatile int running;
  bool started;
  pthread_t thread;
#ifdef FS_HAVE_BPF
  struct bpf_object *obj;
  struct ring_buffer *rb;
  struct bpf_link *links[16];
  int n_links;
  int stats_fd;
#endif
} se = {
  .lock = PTHREAD_MUTEX_INITIALIZER,
#ifdef FS_HAVE_BPF
  .stats_fd = -1,
#endif
};

static uint32_t hash_key(const struct se_key *k) {
  const uint8_t *b = (const uint8_t *)k;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < sizeof(*k); i++) h = (h ^ b[i]) * 16777619u;
  return h & (SE_BUCKETS - 1);
}

static struct se_entry **find(const struct se_key *k) {
  struct se_entry **p = &se.buckets[hash_key(k)];
  while (*p && memcmp(&(*p)->key, k, sizeof(*k)) != 0) p = &(*p)->next;
  return p;
}

#ifdef FS_HAVE_BPF
static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void free_entry(struct se_entry *e) {
  free(e->cmdline);
  free(e);
}

/* Entries past their grace period go (run by the reader thread once a second). */
static void sweep(int64_t now) {
  for (uint32_t b = 0; b < SE_BUCKETS; b++) {
    for (struct se_entry **p = &se.buckets[b]; *p;) {
      if ((*p)->expire_ms < now) {
        struct se_entry *gone = *p;
        *p = gone->next;
        free_entry(gone);
        se.entries--;
      } else {
        p = &(*p)->next;
      }
    }
  }
}

static void clear_table(void) {
  if (!se.buckets) return;
  sweep(INT64_MAX);
  free(se.buckets);
  se.buckets = NULL;
  se.entries = 0;
}

/* One event into the table (the lock held): the latest owner of a key wins. */
static void record(const struct fs_sock_event *ev, int64_t now) {
  struct se_key k;
  memset(&k, 0, sizeof(k));
  k.netns = ev->netns;
  k.protocol = ev->protocol;
  k.lport = ev->lport;
  memcpy(k.laddr, ev->laddr, 16);
  if (ev->kind != FS_SE_BIND && ev->rport != 0) {
    k.rport = ev->rport;
    memcpy(k.raddr, ev->raddr, 16);
  }
  struct se_entry **p = find(&k);
  if (ev->kind == FS_SE_CLOSE) {
    if (*p) (*p)->expire_ms = now + se.grace_ms;
    return;
  }
  struct se_entry *e = *p;
  if (!e) {
    if (se.entries >= SE_MAX_ENTRIES) {
      se.dropped_full++;
      return;
    }
    e = calloc(1, sizeof(*e));
    if (!e) return;
    e->key = k;
    *p = e;
    se.entries++;
  }
  /* a connected TCP socket stays until it closes; the rest for a grace period after they were
   * last reported (UDP peers every 10 s while traffic goes on) */
  bool tcp_open = ev->protocol == 6 && (ev->kind == FS_SE_CONNECT || ev->kind == FS_SE_ACCEPT);
  e->expire_ms = tcp_open ? INT64_MAX : now + se.grace_ms;
  e->tgid = ev->tgid;
  e->uid = ev->uid;
  memcpy(e->comm, ev->comm, sizeof(e->comm));
  e->comm[sizeof(e->comm) - 1] = 0;
  /* the command line as /proc/<pid>/cmdline, its NULs as spaces (as the poller gives it) */
  size_t n = ev->cmdline_len < FS_SE_CMDLINE_LEN ? ev->cmdline_len : FS_SE_CMDLINE_LEN - 1;
  while (n && ev->cmdline[n - 1] == 0) n--;
  char *c = malloc(n + 1);
  if (c) {
    for (size_t i = 0; i < n; i++) c[i] = ev->cmdline[i] ? ev->cmdline[i] : ' ';
    c[n] = 0;
    free(e->cmdline);
    e->cmdline = c;
  }
}

static int on_event(void *ctx, void *data, size_t size) {
  if (size < sizeof(struct fs_sock_event)) return 0;
  int64_t now = now_ms();
  pthread_mutex_lock(&se.lock);
  se.events++;
  record((const struct fs_sock_event *)data, now);
  pthread_mutex_unlock(&se.lock);
  return 0;
}

/* Reads what the ring buffer holds; from the reader thread, and before a batch is matched (so
 * that no event not yet read is missed). */
static pthread_mutex_t consume_lock = PTHREAD_MUTEX_INITIALIZER;
static void consume(void) {
  pthread_mutex_lock(&consume_lock);
  ring_buffer__consume(se.rb);
  pthread_mutex_unlock(&consume_lock);
}

static void *reader(void *arg) {
  int64_t last_sweep = now_ms();
  struct epoll_event ev;
  while (se.running) {
    /* the programs wake this thread only once events pile up: it also looks every 100 ms */
    epoll_wait(ring_buffer__epoll_fd(se.rb), &ev, 1, 100);
    consume();
    int64_t now = now_ms();
    if (now - last_sweep >= 1000) {
      pthread_mutex_lock(&se.lock);
      sweep(now);
      pthread_mutex_unlock(&se.lock);
      last_sweep = now;
    }
    struct timespec cpu;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    __atomic_store_n(&se.reader_cpu_ns, (int64_t)cpu.tv_sec * 1000000000 + cpu.tv_nsec, __ATOMIC_RELAXED);
  }
  /* what came in meanwhile */
  consume();
  return arg;
}

/* libbpf's messages, kept (not printed): the last one explains a failure */
static char last_message[256];
static int keep_message(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[sizeof(last_message)];
  vsnprintf(line, sizeof(line), fmt, args);
  line[strcspn(line, "\n")] = 0;
  if (line[0]) memcpy(last_message, line, sizeof(line));
  return 0;
}

static void unload(void) {
  for (int i = 0; i < se.n_links; i++) bpf_link__destroy(se.links[i]);
  se.n_links = 0;
  ring_buffer__free(se.rb);
  se.rb = NULL;
  bpf_object__close(se.obj);
  se.obj = NULL;
}

/* Why a load failed, in words: a missing privilege, a locked-down kernel, or libbpf's reason. */
static void failure(char *out, size_t size, const char *stage, int err) {
  if (err < 0) err = -err;
  char lockdown[128] = "";
  FILE *f = fopen("/sys/kernel/security/lockdown", "r");
  if (f) {
    if (!fgets(lockdown, sizeof(lockdown), f)) lockdown[0] = 0;
    fclose(f);
  }
  if (strstr(lockdown, "[integrity]") || strstr(lockdown, "[confidentiality]"))
    snprintf(out, size, "the kernel is locked down (%s): %s %s", strtok(lockdown, "\n"), stage, strerror(err));
  else if (err == EPERM || err == EACCES)
    snprintf(out, size, "not permitted to %s (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN): %s", stage, strerror(err));
  else
    snprintf(out, size, "could not %s: %s%s%s", stage, strerror(err), last_message[0] ? "; libbpf: " : "", last_message);
}

/* Loads and attaches every program; 0, or -1 with the reason in why. */
static int load(uint32_t netns, char *why, size_t size) {
  last_message[0] = 0;
  libbpf_set_print(keep_message);
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    snprintf(why, size, "the kernel has no BTF (/sys/kernel/btf/vmlinux): too old, or built without CONFIG_DEBUG_INFO_BTF");
    return -1;
  }
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "flowseek_sockevents");
  se.obj = bpf_object__open_mem(fs_sockevents_bpf_o, sizeof(fs_sockevents_bpf_o), &opts);
  if (!se.obj) {
    failure(why, size, "open the BPF object", errno);
    return -1;
  }
  struct bpf_map *rodata = bpf_object__find_map_by_name(se.obj, ".rodata");
  size_t rosize = 0;
  /* libbpf 1.1 declares the value const, but it is the data the load will copy in */
  uint32_t *only = rodata ? (uint32_t *)(uintptr_t)bpf_map__initial_value(rodata, &rosize) : NULL;
  if (only && rosize >= sizeof(*only)) *only = netns;
  int err = bpf_object__load(se.obj);
  if (err) {
    failure(why, size, "load the BPF programs", err);
    unload();
    return -1;
  }
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, se.obj) {
    struct bpf_link *link = bpf_program__attach(prog);
    if (!link || se.n_links == (int)(sizeof(se.links) / sizeof(se.links[0]))) {
      char stage[96];
      snprintf(stage, sizeof(stage), "attach %s", bpf_program__name(prog));
      failure(why, size, stage, link ? E2BIG : errno);
      bpf_link__destroy(link);
      unload();
      return -1;
    }
    se.links[se.n_links++] = link;
  }
  se.rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(se.obj, "events")), on_event, NULL, NULL);
  if (!se.rb) {
    failure(why, size, "open the ring buffer", errno);
    unload();
    return -1;
  }
  return 0;
}
#endif

bool fs_sockevents_built_in(void) {
#ifdef FS_HAVE_BPF
  return true;
#else
  return false;
#endif
}

/* Only this namespace's sockets are reported (the one the capture runs in). */
static uint32_t this_netns(void) {
  struct stat ns;
  return stat("/proc/self/ns/net", &ns) == 0 ? (uint32_t)ns.st_ino : 0;
}

const char *fs_sockevents_start(int64_t grace_ms, char *why, size_t size) {
#ifndef FS_HAVE_BPF
  (void)grace_ms;
  snprintf(why, size, "this flowseek was built without BPF (clang or libbpf-dev missing at build time)");
  return why;
#else
  if (se.started) {
    snprintf(why, size, "already started in this process");
    return why;
  }
  if (load(this_netns(), why, size) != 0) return why;
  se.buckets = calloc(SE_BUCKETS, sizeof(*se.buckets));
  se.grace_ms = grace_ms;
  se.events = se.dropped_full = 0;
  se.reader_cpu_ns = 0;
  se.running = 1;
  if (!se.buckets || pthread_create(&se.thread, NULL, reader, NULL) != 0) {
    se.running = 0;
    free(se.buckets);
    se.buckets = NULL;
    unload();
    snprintf(why, size, "could not start the ring buffer's reader thread");
    return why;
  }
  se.started = true;
  return NULL;
#endif
}

void fs_sockevents_stop(void) {
#ifdef FS_HAVE_BPF
  if (!se.started) return;
  se.running = 0;
  pthread_join(se.thread, NULL);
  unload();
  pthread_mutex_lock(&se.lock);
  clear_table();
  pthread_mutex_unlock(&se.lock);
  se.started = false;
#endif
}

/* An IP address as a flow column gives it, as the table keys it (IPv4 mapped into IPv6). */
static bool parse_ip(const char *s, uint8_t out[16]) {
  memset(out, 0, 16);
  if (inet_pton(AF_INET, s, out + 12) == 1) {
    out[10] = out[11] = 0xff;
    return true;
  }
  return inet_pton(AF_INET6, s, out) == 1;
}

static const struct se_entry *lookup(uint32_t netns, uint8_t protocol, const uint8_t *laddr, uint16_t lport,
                                     const uint8_t *raddr, uint16_t rport) {
  struct se_key k;
  memset(&k, 0, sizeof(k));
  k.netns = netns;
  k.protocol = protocol;
  k.lport = lport;
  k.rport = rport;
  memcpy(k.laddr, laddr, 16);
  if (raddr) memcpy(k.raddr, raddr, 16);
  return *find(&k);
}

/* A flow's socket, from either end: the connected socket, else one that sent from (or bound to)
 * any address, else the bound or listening socket of its local end. The lock held. */
static const struct se_entry *match(uint32_t netns, uint8_t protocol, const uint8_t *a, uint16_t aport, const uint8_t *b, uint16_t bport) {
  static const uint8_t any6[16] = { 0 }, any4[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0 };
  const uint8_t *any[2] = { any4, any6 };
  const struct se_entry *e;
  if ((e = lookup(netns, protocol, a, aport, b, bport)) || (e = lookup(netns, protocol, b, bport, a, aport))) return e;
  for (int w = 0; w < 2; w++) {
    if ((e = lookup(netns, protocol, any[w], aport, b, bport)) || (e = lookup(netns, protocol, any[w], bport, a, aport))) return e;
  }
  if ((e = lookup(netns, protocol, a, aport, NULL, 0)) || (e = lookup(netns, protocol, b, bport, NULL, 0))) return e;
  for (int w = 0; w < 2; w++) {
    if ((e = lookup(netns, protocol, any[w], aport, NULL, 0)) || (e = lookup(netns, protocol, any[w], bport, NULL, 0))) return e;
  }
  return NULL;
}

/* The name of a user id (getpwuid_r, so NSS users too); "" if it has none. A few cached. */
void fs_user_name(uint32_t uid, char *out, size_t size) {
  static struct { uint32_t uid; char name[64]; bool used; } cache[8];
  static unsigned next;
  for (unsigned i = 0; i < 8; i++) {
    if (cache[i].used && cache[i].uid == uid) {
      snprintf(out, size, "%s", cache[i].name);
      return;
    }
  }
  struct passwd pw, *found = NULL;
  char buf[4096];
  out[0] = 0;
  if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found) snprintf(out, size, "%s", found->pw_name);
  unsigned i = next++ % 8;
  cache[i].uid = uid;
  cache[i].used = true;
  snprintf(cache[i].name, sizeof(cache[i].name), "%s", out);
}


static uint32_t match_netns;

bool fs_sockevents_begin(void) {
#ifdef FS_HAVE_BPF
  if (se.started) consume();
#endif
  match_netns = this_netns();
  pthread_mutex_lock(&se.lock);
  return se.buckets != NULL;
}

bool fs_sockevents_owner(uint8_t protocol, const char *src_ip, uint16_t src_port, const char *dst_ip, uint16_t dst_port,
                         struct fs_sock_owner *out) {
  uint8_t a[16], b[16];
  if (!se.buckets || (protocol != 6 && protocol != 17) || !parse_ip(src_ip, a) || !parse_ip(dst_ip, b)) return false;
  const struct se_entry *e = match(match_netns, protocol, a, src_port, b, dst_port);
  if (!e) return false;
  out->tgid = e->tgid;
  out->uid = e->uid;
  out->comm = e->comm;
  out->cmdline = e->cmdline ? e->cmdline : "";
  return true;
}

void fs_sockevents_end(void) {
  pthread_mutex_unlock(&se.lock);
}

void fs_sockevents_stats(struct fs_sockevents_stats *out) {
  memset(out, 0, sizeof(*out));
#ifdef FS_HAVE_BPF
  if (se.started) {
    struct bpf_map *m = bpf_object__find_map_by_name(se.obj, "lost");
    int cpus = libbpf_num_possible_cpus();
    if (m && cpus > 0) {
      uint64_t *per_cpu = calloc((size_t)cpus, sizeof(uint64_t));
      uint32_t zero = 0;
      if (per_cpu && bpf_map_lookup_elem(bpf_map__fd(m), &zero, per_cpu) == 0)
        for (int i = 0; i < cpus; i++) out->lost += (double)per_cpu[i];
      free(per_cpu);
    }
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, se.obj) {
      struct bpf_prog_info pi;
      uint32_t n = sizeof(pi);
      memset(&pi, 0, sizeof(pi));
      if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &pi, &n) == 0) {
        out->program_run_ns += (double)pi.run_time_ns;
        out->program_runs += (double)pi.run_cnt;
      }
    }
  }
#endif
  pthread_mutex_lock(&se.lock);
  out->events = (double)se.events;
  out->sockets = se.entries;
  out->table_full = (double)se.dropped_full;
  pthread_mutex_unlock(&se.lock);
  out->reader_cpu_ns = (double)__atomic_load_n(&se.reader_cpu_ns, __ATOMIC_RELAXED);
}

bool fs_sockevents_run_time_stats(bool on) {
#ifdef FS_HAVE_BPF
  if (on && se.stats_fd < 0) se.stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (!on && se.stats_fd >= 0) {
    close(se.stats_fd);
    se.stats_fd = -1;
  }
  return on ? se.stats_fd >= 0 : true;
#else
  return false;
#endif
}
