/* Classic pcap records from a memory map, checked as libpcap checks them: a record header or body
 * cut short is a truncated file; a captured length above 256 KiB is refused.
 *
 * A file truncated while it is mapped (a ring buffer, logrotate's copytruncate) turns a read of
 * its vanished pages into SIGBUS. A process-wide handler catches the faults that fall in one of
 * these maps: it maps a zero page over the faulting page, so the read goes on, and raises the
 * map's flag. The reader reads each page of a record (and the page after) once before handing it
 * on and then looks at the flag: once raised, the file's size now bounds the records read, so
 * they are those of the file as it was cut and no zeroed record is metered (a cut that comes
 * between that look and the meter's reading of the record can still zero one). Faults anywhere
 * else go to the handler that was there before. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "decode.h"
#include "source_mmap.h"

#define MAX_CAPLEN 262144u
/* pages given back in steps of this much, once a step lies behind the read (and what is needed) */
#define RELEASE_STEP ((size_t)1 << 20)
#define PREFETCH_AHEAD 8192
/* page tables filled a chunk ahead in one call: cheaper than a fault every few pages */
#define POPULATE_STEP ((size_t)1 << 20)
/* maps open at once in this process (a meter or a lane reader has one); past it, libpcap reads */
#define GUARDS 64

struct guard {
  atomic_uintptr_t base;            /* 0: free, or being set up */
  atomic_size_t size;               /* rounded up to whole pages */
  atomic_bool truncated;
  atomic_bool taken;
  _Atomic(atomic_size_t *) gate;    /* the reader's fast-path bound: a fault zeroes it */
};

static struct guard guards[GUARDS];
static struct sigaction previous;
static size_t page_size;
static bool guard_ok;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc) {
  uintptr_t a = (uintptr_t)si->si_addr;
  /* si_code <= 0: sent by kill() or sigqueue(), not a fault; si_addr means nothing then */
  for (int i = 0; i < GUARDS && si->si_code > 0; i++) {
    uintptr_t b = atomic_load(&guards[i].base);
    if (!b || a < b || a - b >= atomic_load(&guards[i].size)) continue;
    void *pg = (void *)(a & ~(uintptr_t)(page_size - 1));
    if (mmap(pg, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) break;
    atomic_store(&guards[i].truncated, true);
    atomic_size_t *gate = atomic_load(&guards[i].gate);
    if (gate) atomic_store(gate, 0); /* the reader's next record takes the slow path, which looks */
    return;
  }
  /* not ours: the handler before us, or the default action once the fault repeats */
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(sig, si, uc);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
  } else {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &dfl, NULL);
  }
}

static void guard_install(void) {
  long ps = sysconf(_SC_PAGESIZE);
  page_size = ps > 0 ? (size_t)ps : 4096;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  guard_ok = sigaction(SIGBUS, &sa, &previous) == 0;
}

/* A slot for a map of size bytes at base; GUARDS if none is free. */
static uint32_t guard_take(const void *base, size_t size, atomic_size_t *gate) {
  pthread_once(&guard_once, guard_install);
  if (!guard_ok) return GUARDS;
  for (uint32_t i = 0; i < GUARDS; i++) {
    bool no = false;
    if (!atomic_compare_exchange_strong(&guards[i].taken, &no, true)) continue;
    atomic_store(&guards[i].truncated, false);
    atomic_store(&guards[i].gate, gate);
    atomic_store(&guards[i].size, (size + page_size - 1) & ~(page_size - 1));
    atomic_store(&guards[i].base, (uintptr_t)base);
    return i;
  }
  return GUARDS;
}

/* The map is no longer looked at; the slot is freed once it is unmapped. */
static void guard_drop(uint32_t i) {
  atomic_store(&guards[i].base, 0);
}

static void guard_free(uint32_t i) {
  atomic_store(&guards[i].taken, false);
}

static uint32_t rd32(const uint8_t *p, bool swapped) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swapped ? __builtin_bswap32(v) : v;
}

int fs_mmap_open(struct fs_mmap_file *f, int fd, bool handed_on) {
  memset(f, 0, sizeof(*f));
  f->fd = -1;
  f->guard = GUARDS;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) return 0;
  void *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (base == MAP_FAILED) return 0;
  uint32_t magic;
  memcpy(&magic, base, 4);
  switch (magic) {
    case 0xa1b2c3d4: break;
    case 0xd4c3b2a1: f->swapped = true; break;
    case 0xa1b23c4d: f->nsec = true; break;
    case 0x4d3cb2a1: f->swapped = f->nsec = true; break;
    default: munmap(base, (size_t)st.st_size); return 0;
  }
  /* format 2.4 only: older files may have caplen and len swapped, which libpcap undoes */
  const uint8_t *h = base;
  uint16_t major = f->swapped ? (uint16_t)(h[4] << 8 | h[5]) : (uint16_t)(h[5] << 8 | h[4]);
  uint16_t minor = f->swapped ? (uint16_t)(h[6] << 8 | h[7]) : (uint16_t)(h[7] << 8 | h[6]);
  if (major != 2 || minor != 4) { munmap(base, (size_t)st.st_size); return 0; }
  /* a link type the meter does not decode may allow records past MAX_CAPLEN (USBPCAP, D-Bus):
   * libpcap, which knows each type's most, reads those files */
  if (!fs_decode_linktype_supported((int)(rd32(h + 20, f->swapped) & 0x03ffffff))) { munmap(base, (size_t)st.st_size); return 0; }
  /* unguarded, a file cut short would kill the process: libpcap reads it instead */
  if ((f->guard = guard_take(base, (size_t)st.st_size, &f->gate)) == GUARDS) { munmap(base, (size_t)st.st_size); return 0; }
  madvise(base, (size_t)st.st_size, MADV_SEQUENTIAL);
  f->snaplen = rd32((const uint8_t *)base + 16, f->swapped);
  if (f->snaplen == 0 || f->snaplen > MAX_CAPLEN) f->snaplen = MAX_CAPLEN;
  f->base = base;
  f->fd = fd;
  f->size = f->limit = (size_t)st.st_size;
  f->off = 24;
  f->needed = handed_on ? 0 : SIZE_MAX; /* handed on: nothing is given back until a holder says */
  return 1;
}

void fs_mmap_needed(struct fs_mmap_file *f, const uint8_t *data) {
  size_t at = f->off;
  if (data && data >= f->base + 16 && (size_t)(data - 16 - f->base) < at) at = (size_t)(data - 16 - f->base);
  f->needed = at;
}

static void populate(struct fs_mmap_file *f) {
  size_t len = f->size - f->populated < POPULATE_STEP ? f->size - f->populated : POPULATE_STEP;
#ifdef MADV_POPULATE_READ
  /* an older kernel refuses it (and a truncated file's vanished pages do): the pages then fault
   * in as they are read */
  if (!f->no_populate && madvise((void *)(f->base + f->populated), len, MADV_POPULATE_READ) != 0) f->no_populate = true;
#endif
  f->populated += len;
}

/* Whether the file still holds its first end bytes: the slow path, once a page. It reads once
 * each page up to the one after end's (a cut inside end's page leaves its tail as zeros without
 * a fault; the page after shows it), then looks at the flag. Once a fault showed the file was cut,
 * its size then bounds what is read, so the records read are those of the file as it was cut. */
static bool __attribute__((noinline)) within_slow(struct fs_mmap_file *f, size_t end) {
  if (!f->cut) {
    size_t want = ((end - 1) & ~(page_size - 1)) + 2 * page_size, p = f->touched;
    if (want > f->size) want = f->size;
    for (; p < want; p += page_size) (void)*(volatile const uint8_t *)(f->base + p);
    f->touched = p;
    /* raised before a fault zeroes the gate: looked at after the gate is set, a fault is never missed */
    atomic_store(&f->gate, p);
    if (atomic_load(&guards[f->guard].truncated)) {
      struct stat st;
      f->cut = true;
      atomic_store(&f->gate, 0); /* every record from now on is checked against the limit */
      if (fstat(f->fd, &st) == 0 && (size_t)st.st_size < f->limit) f->limit = (size_t)st.st_size;
      else f->limit = f->off; /* cut, then grown again, or unknown: nothing more is trusted */
    }
  }
  return end <= f->limit;
}

/* The fast path, a record within pages already read, one compare. */
static inline bool within(struct fs_mmap_file *f, size_t end) {
  return end + page_size <= atomic_load_explicit(&f->gate, memory_order_relaxed) || within_slow(f, end);
}

/* A header of zeros is what a page the file no longer holds reads as, without a fault when the cut
 * falls inside the page (its tail reads as zeros): the file's size says whether it was cut. Once
 * so, every record is checked against the size (within_slow). */
static void __attribute__((noinline)) zeros_seen(struct fs_mmap_file *f) {
  struct stat st;
  if (f->cut || fstat(f->fd, &st) != 0 || (size_t)st.st_size >= f->limit) return;
  f->cut = true;
  f->limit = (size_t)st.st_size;
  atomic_store(&f->gate, 0);
}

static int cut_short(struct fs_mmap_file *f) {
  snprintf(f->err, sizeof(f->err), "the file was truncated while it was read (%zu bytes left of %zu)", f->limit, f->size);
  f->off = f->size; /* nothing more is read from it */
  return -1;
}

int fs_mmap_next(struct fs_mmap_file *f, struct pcap_pkthdr *h, const uint8_t **data) {
  size_t left = f->size - f->off;
  if (left == 0) return 0;
  if (left < 16) {
    snprintf(f->err, sizeof(f->err), "truncated dump file; tried to read 16 header bytes, only got %zu", left);
    return -1;
  }
  const uint8_t *r = f->base + f->off;
  /* a header on a vanished page reads as zeros; the flag, looked at below, tells */
  uint32_t sec = rd32(r, f->swapped), frac = rd32(r + 4, f->swapped);
  uint32_t caplen = rd32(r + 8, f->swapped), len = rd32(r + 12, f->swapped);
  if (__builtin_expect((sec | frac | caplen | len) == 0, 0)) zeros_seen(f);
  if (caplen > MAX_CAPLEN) {
    if (!within(f, f->off + 16)) return cut_short(f);
    snprintf(f->err, sizeof(f->err), "invalid packet capture length %u, bigger than maximum of %u", caplen, MAX_CAPLEN);
    return -1;
  }
  if (left - 16 < caplen) {
    if (!within(f, f->off + 16)) return cut_short(f);
    snprintf(f->err, sizeof(f->err), "truncated dump file; tried to read %u captured bytes, only got %zu", caplen, left - 16);
    return -1;
  }
  if (!within(f, f->off + 16 + caplen)) return cut_short(f);
  /* as libpcap 1.10 does: seconds and the fraction are signed 32-bit. A fraction past 2^31 is
   * negative (fs_source_time_ms counts it as 0); one of a second or more adds whole seconds. */
  h->ts.tv_sec = (int32_t)sec;
  h->ts.tv_usec = f->nsec ? (long)(int32_t)frac : (long)(int32_t)frac * 1000; /* nanoseconds, as libpcap at nano precision */
  h->caplen = caplen;
  h->len = len;
  /* libpcap hands over at most the file's snapshot length, and skips the rest of the record */
  if (h->caplen > f->snaplen) h->caplen = f->snaplen;
  *data = r + 16;
  f->off += 16 + (size_t)caplen;
  /* the hardware prefetcher stops at page boundaries: ask for the records a few pages ahead */
  if (f->off + PREFETCH_AHEAD < f->size) __builtin_prefetch(f->base + f->off + PREFETCH_AHEAD);
  /* pages read long ago leave this process's resident set (they stay in the page cache): the
   * memory a read shows is the meter's, not the size of the file. Never the record handed on: a
   * page given back and read again faults in once more, and stays */
  if (f->off + POPULATE_STEP > f->populated && f->populated < f->size) populate(f);
  /* nor a record another thread still needs: given back, its pages would fault in again when it is
   * read, and stay for the rest of the file */
  if ((size_t)(r - f->base) - f->released > RELEASE_STEP && f->released + RELEASE_STEP <= f->needed) {
    madvise((void *)(f->base + f->released), RELEASE_STEP, MADV_DONTNEED);
    f->released += RELEASE_STEP;
  }
  return 1;
}

bool fs_mmap_cut_unseen(const struct fs_mmap_file *f) {
  return f->base && f->guard < GUARDS && atomic_load(&guards[f->guard].truncated) && !f->cut;
}

bool fs_mmap_past_cut(const struct fs_mmap_file *f, const uint8_t *data, uint32_t caplen) {
  if (!f->base || data < f->base || (size_t)(data - f->base) >= f->size) return false;
  /* no fault seen: only a record that reads as zeros is looked at (the tail of the page the cut
   * falls in reads so without one); a frame refused for what it holds costs no system call */
  if (!atomic_load(&guards[f->guard].truncated)) {
    static const uint8_t zeros[16];
    if (memcmp(data, zeros, caplen < sizeof(zeros) ? caplen : sizeof(zeros)) != 0) return false;
  }
  struct stat st;
  return fstat(f->fd, &st) == 0 && (size_t)(data - f->base) + caplen > (size_t)st.st_size;
}

void fs_mmap_close(struct fs_mmap_file *f) {
  if (f->base) {
    guard_drop(f->guard);
    munmap((void *)f->base, f->size);
    guard_free(f->guard);
  }
  memset(f, 0, sizeof(*f));
  f->fd = -1;
}
