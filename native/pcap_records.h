/* Classic pcap records read straight from a regular file into one buffer, checked as libpcap
 * checks them: libpcap reads each record with two freads through stdio, which cost as much as
 * the read itself (every byte is copied twice: into stdio's buffer, then into libpcap's).
 * libpcap still opens the file (its link type, a BPF filter); pcapng, FIFOs and anything else go
 * through libpcap alone. */
#ifndef FS_PCAP_RECORDS_H
#define FS_PCAP_RECORDS_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>

struct fs_pcap_records {
  int fd;                           /* not ours to close: libpcap's stream's */
  uint8_t *buf;                     /* the source's; holds a read's bytes and a record cut by its end */
  uint32_t have, at;                /* bytes in buf, and where the next record starts in it */
  uint64_t next_read;               /* the file's offset of buf's end */
  uint64_t size;                    /* what is read of the file: its size when opened */
  bool swapped, nsec;
  uint32_t snaplen;
  char err[160];
};

/* Room a source gives a reader (fs_pcap_records_open's buf). */
#define FS_PCAP_RECORDS_BUFFER (((size_t)1 << 20) + 262144 + 16)

/* True when fd (a regular file of size bytes, as libpcap opened it) is a classic pcap whose link
 * type the meter decodes: its records then come from fs_pcap_records_next(). False: libpcap
 * reads it. */
bool fs_pcap_records_open(struct fs_pcap_records *r, int fd, uint64_t size, uint8_t *buf);
/* 1: a record in *h and *data (valid until the next call); 0: the end of the file; -1: a damaged
 * record, or a file that ends early (err says which, in libpcap's words). */
int fs_pcap_records_next(struct fs_pcap_records *r, struct pcap_pkthdr *h, const uint8_t **data);

#endif
