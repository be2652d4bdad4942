/* Classic pcap records from a memory map, checked as libpcap checks them: a record header or body
 * cut short is a truncated file; a captured length above 256 KiB is refused. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "source_mmap.h"

#define MAX_CAPLEN 262144u
#define RELEASE_STEP ((size_t)32 << 20)
#define PREFETCH_AHEAD 8192
/* page tables filled a chunk ahead in one call: cheaper than a fault every few pages */
#define POPULATE_STEP ((size_t)4 << 20)

static uint32_t rd32(const uint8_t *p, bool swapped) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swapped ? __builtin_bswap32(v) : v;
}

int fs_mmap_open(struct fs_mmap_file *f, const char *path) {
  memset(f, 0, sizeof(*f));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) { close(fd); return 0; }
  void *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
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
  madvise(base, (size_t)st.st_size, MADV_SEQUENTIAL);
  f->snaplen = rd32((const uint8_t *)base + 16, f->swapped);
  if (f->snaplen == 0 || f->snaplen > MAX_CAPLEN) f->snaplen = MAX_CAPLEN;
  f->base = base;
  f->size = (size_t)st.st_size;
  f->off = 24;
  return 1;
}

static void populate(struct fs_mmap_file *f) {
  size_t len = f->size - f->populated < POPULATE_STEP ? f->size - f->populated : POPULATE_STEP;
#ifdef MADV_POPULATE_READ
  /* an older kernel refuses it: the pages then fault in as they are read */
  if (!f->no_populate && madvise((void *)(f->base + f->populated), len, MADV_POPULATE_READ) != 0) f->no_populate = true;
#endif
  f->populated += len;
}

int fs_mmap_next(struct fs_mmap_file *f, struct pcap_pkthdr *h, const uint8_t **data) {
  size_t left = f->size - f->off;
  if (left == 0) return 0;
  if (left < 16) {
    snprintf(f->err, sizeof(f->err), "truncated dump file; tried to read 16 header bytes, only got %zu", left);
    return -1;
  }
  const uint8_t *r = f->base + f->off;
  uint32_t sec = rd32(r, f->swapped), frac = rd32(r + 4, f->swapped);
  uint32_t caplen = rd32(r + 8, f->swapped), len = rd32(r + 12, f->swapped);
  if (caplen > MAX_CAPLEN) {
    snprintf(f->err, sizeof(f->err), "invalid packet capture length %u, bigger than maximum of %u", caplen, MAX_CAPLEN);
    return -1;
  }
  if (left - 16 < caplen) {
    snprintf(f->err, sizeof(f->err), "truncated dump file; tried to read %u captured bytes, only got %zu", caplen, left - 16);
    return -1;
  }
  /* as libpcap does: seconds are signed 32-bit (fs_source_time_ms takes them back as unsigned) */
  h->ts.tv_sec = (int32_t)sec;
  h->ts.tv_usec = f->nsec ? (long)frac : (long)frac * 1000; /* nanoseconds, as libpcap at nano precision */
  h->caplen = caplen;
  h->len = len;
  /* libpcap hands over at most the file's snapshot length, and skips the rest of the record */
  if (h->caplen > f->snaplen) h->caplen = f->snaplen;
  *data = r + 16;
  f->off += 16 + (size_t)caplen;
  /* the hardware prefetcher stops at page boundaries: ask for the records a few pages ahead */
  if (f->off + PREFETCH_AHEAD < f->size) __builtin_prefetch(f->base + f->off + PREFETCH_AHEAD);
  /* pages read long ago leave this process's resident set (they stay in the page cache): the
   * memory a read shows is the meter's, not the size of the file */
  if (f->off + POPULATE_STEP > f->populated && f->populated < f->size) populate(f);
  if (f->off - f->released > 2 * RELEASE_STEP) {
    madvise((void *)(f->base + f->released), RELEASE_STEP, MADV_DONTNEED);
    f->released += RELEASE_STEP;
  }
  return 1;
}

void fs_mmap_close(struct fs_mmap_file *f) {
  if (f->base) munmap((void *)f->base, f->size);
  memset(f, 0, sizeof(*f));
}
