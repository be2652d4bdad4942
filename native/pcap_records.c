#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "decode.h"
#include "pcap_records.h"

/* libpcap's most for every link type the meter decodes (max_snaplen_for_dlt): a type that allows
 * more (D-Bus, USBPCAP) is not decoded, and libpcap reads its files */
#define MAX_CAPLEN 262144u

static uint32_t rd32(const uint8_t *p, bool swapped) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swapped ? __builtin_bswap32(v) : v;
}

bool fs_pcap_records_open(struct fs_pcap_records *r, int fd, uint64_t size, uint8_t *buf) {
  uint8_t h[24];
  memset(r, 0, sizeof(*r));
  if (size < sizeof(h) || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h)) return false;
  switch (rd32(h, false)) {
    case 0xa1b2c3d4: break;
    case 0xd4c3b2a1: r->swapped = true; break;
    case 0xa1b23c4d: r->nsec = true; break;
    case 0x4d3cb2a1: r->swapped = r->nsec = true; break;
    default: return false; /* pcapng, or a variant libpcap knows */
  }
  /* format 2.4 only: older files may have caplen and len swapped, which libpcap undoes */
  uint16_t major = r->swapped ? (uint16_t)(h[4] << 8 | h[5]) : (uint16_t)(h[5] << 8 | h[4]);
  uint16_t minor = r->swapped ? (uint16_t)(h[6] << 8 | h[7]) : (uint16_t)(h[7] << 8 | h[6]);
  if (major != 2 || minor != 4) return false;
  if (!fs_decode_linktype_supported((int)(rd32(h + 20, r->swapped) & 0x03ffffff))) return false;
  /* as libpcap 1.10 takes it: only a length of 0 or past INT_MAX is replaced by its most */
  r->snaplen = rd32(h + 16, r->swapped);
  if (r->snaplen == 0 || r->snaplen > INT32_MAX) r->snaplen = MAX_CAPLEN;
  r->fd = fd;
  r->buf = buf;
  r->size = size;
  r->next_read = sizeof(h);
  return true;
}

/* More of the file after what is left in buf; false at its end (the size it had, or where it
 * was cut: a read that finds nothing ends what is read). */
static bool refill(struct fs_pcap_records *r) {
  uint32_t left = r->have - r->at;
  if (r->next_read >= r->size) return false;
  memmove(r->buf, r->buf + r->at, left);
  r->have = left;
  r->at = 0;
  uint64_t want = FS_PCAP_RECORDS_BUFFER - left;
  if (want > r->size - r->next_read) want = r->size - r->next_read;
  ssize_t got;
  do got = pread(r->fd, r->buf + left, (size_t)want, (off_t)r->next_read); while (got < 0 && errno == EINTR);
  if (got <= 0) {
    if (got < 0) snprintf(r->err, sizeof(r->err), "error reading dump file: %s", strerror(errno));
    r->size = r->next_read;
    return false;
  }
  r->have += (uint32_t)got;
  r->next_read += (uint64_t)got;
  return true;
}

int fs_pcap_records_next(struct fs_pcap_records *r, struct pcap_pkthdr *h, const uint8_t **data) {
  for (;;) {
    uint32_t left = r->have - r->at;
    const uint8_t *p = r->buf + r->at;
    uint32_t caplen = left >= 16 ? rd32(p + 8, r->swapped) : 0;
    if (left >= 16 && caplen > MAX_CAPLEN) {
      /* in libpcap's words, which name the snapshot length when the record passes it too */
      if (caplen > r->snaplen) {
        snprintf(r->err, sizeof(r->err), "invalid packet capture length %u, bigger than snaplen of %u", caplen, r->snaplen);
      } else {
        snprintf(r->err, sizeof(r->err), "invalid packet capture length %u, bigger than maximum of %u", caplen, MAX_CAPLEN);
      }
      return -1;
    }
    if (left >= 16 && left - 16 >= caplen) {
      /* as libpcap 1.10 reads them: seconds and the fraction are signed 32-bit (a fraction past
       * 2^31 is negative; one of a second or more adds whole seconds), and a microsecond file's
       * fraction is scaled to nanoseconds, as libpcap opened at nanosecond precision scales it */
      uint32_t frac = rd32(p + 4, r->swapped);
      h->ts.tv_sec = (int32_t)rd32(p, r->swapped);
      h->ts.tv_usec = r->nsec ? (long)(int32_t)frac : (long)(int32_t)frac * 1000;
      /* libpcap hands over at most the file's snapshot length, and skips the rest of the record */
      h->caplen = caplen > r->snaplen ? r->snaplen : caplen;
      h->len = rd32(p + 12, r->swapped);
      *data = p + 16;
      r->at += 16 + caplen;
      return 1;
    }
    if (refill(r)) continue;
    if (r->err[0]) return -1;
    if (left == 0) return 0;
    if (left < 16) snprintf(r->err, sizeof(r->err), "truncated dump file; tried to read 16 header bytes, only got %u", left);
    else {
      /* libpcap reads a record longer than the snapshot length in two steps, and names the one cut */
      uint32_t tried = caplen > r->snaplen && left - 16 < r->snaplen ? r->snaplen : caplen;
      snprintf(r->err, sizeof(r->err), "truncated dump file; tried to read %u captured bytes, only got %u", tried, left - 16);
    }
    return -1;
  }
}
