/* Classic pcap files read from a memory map, for a reader that hands records to other threads
 * (read --workers: native/spread.c): a record stays where it was read until they are done with it.
 * The libpcap handle is still opened beside it (link type, BPF); records come from here. One meter,
 * pcapng, FIFOs and anything else go through libpcap alone (native/source.c). */
#ifndef FS_SOURCE_MMAP_H
#define FS_SOURCE_MMAP_H

#include <pcap/pcap.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fs_mmap_file {
  const uint8_t *base;
  size_t size, off;
  bool swapped, nsec;
  uint32_t snaplen;
  int fd;                           /* libpcap's: not ours to close */
  uint32_t guard;                   /* this map's slot in the SIGBUS guard */
  size_t touched;                   /* bytes from the start whose pages were read once (page-aligned) */
  atomic_size_t gate;               /* records ending a page before it need no look; a fault zeroes it */
  size_t limit;                     /* the size when opened; once it was cut, the size then */
  bool cut;                         /* a fault showed the file was cut short */
  size_t released;                  /* bytes from the start already given back (page-aligned) */
  size_t needed;                    /* the oldest record still needed by whoever it was handed to (its
                                     * offset): nothing from there on is given back; SIZE_MAX: no one */
  size_t populated;                 /* bytes from the start whose page tables were filled ahead */
  bool no_populate;
  char err[256];
};

/* 1: mapped, a classic pcap; 0: not one (not a regular file, or too many maps): use libpcap.
 * fd is the file libpcap already opened (a file is opened once: a FIFO cannot be opened twice);
 * its 24-byte header was already checked by libpcap. Pages read leave the process's resident set
 * (they stay in the page cache) once they lie behind the read; where records are handed on to
 * other threads (handed_on), only once they lie behind the oldest record fs_mmap_needed() names. */
int fs_mmap_open(struct fs_mmap_file *f, int fd, bool handed_on);
/* 1: a record in *h / *data; 0: end of file; -1: a damaged record, or the file was cut short
 * while it was read (message in f->err). */
int fs_mmap_next(struct fs_mmap_file *f, struct pcap_pkthdr *h, const uint8_t **data);
/* The record at data (handed on) and every later one are still needed: pages from its own on stay
 * mapped until a later call moves the mark on. NULL: none handed on is held, the next record read
 * is the oldest needed. */
void fs_mmap_needed(struct fs_mmap_file *f, const uint8_t *data);
/* A record handed on (data, caplen) that its reader refused: whether the file was cut while it was
 * read and the record lies past the cut (its vanished pages read as zeros: it is not the file's).
 * Any thread, while the map is open. */
bool fs_mmap_past_cut(const struct fs_mmap_file *f, const uint8_t *data, uint32_t caplen);
/* Whether a fault showed the file was cut, and the reading did not meet the cut itself (a thread
 * it handed records to did: its error is not said yet). */
bool fs_mmap_cut_unseen(const struct fs_mmap_file *f);
void fs_mmap_close(struct fs_mmap_file *f);

#endif
