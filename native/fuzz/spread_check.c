/* The spread's arenas against its lanes: no lane takes a frame whose bytes the reader already
 * wrote over with a later frame's. It writes a capture of 96 MB of large frames, each one's payload
 * its number over and over, and reads it over two lanes, one of them slowed down so that the reader
 * runs far ahead of it and its arena (32 MB) wraps again and again. Then lanes that read a file
 * themselves: one opens it, it grows, the other opens it; both read it as the first found it.
 * Usage: spread_check OUT.pcap (exit 0: every frame taken whole, none overwritten, the same frames) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../spread.h"

#define FRAMES 12000
#define FRAME 8000                  /* bytes a frame: 96 MB in all, three times the old fixed window */

static struct fs_spread *sp;
static unsigned long taken[2], late[2];
static uint32_t previous[2];

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Ethernet, IPv4 and UDP from 10.0.0.x (x = i % 64: flows in both lanes) to 192.168.7.1:53 */
static int write_capture(const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  const uint32_t head[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
  fwrite(head, 4, 6, f);
  static uint8_t frame[FRAME];
  memset(frame, 0, sizeof(frame));
  memset(frame, 0x02, 12);
  put16(frame + 12, 0x0800);
  uint8_t *ip = frame + 14, *udp = ip + 20;
  ip[0] = 0x45;
  put16(ip + 2, FRAME - 14);
  ip[8] = 64;
  ip[9] = 17;
  ip[12] = 10;
  ip[16] = 192; ip[17] = 168; ip[18] = 7; ip[19] = 1;
  put16(udp, 40000);
  put16(udp + 2, 53);
  put16(udp + 4, FRAME - 34);
  for (uint32_t i = 0; i < FRAMES; i++) {
    const uint32_t rec[4] = { 1600000000 + i / 1000, (i % 1000) * 1000, FRAME, FRAME };
    ip[15] = (uint8_t)(i % 64);
    for (uint8_t *p = udp + 8; p + 4 <= frame + FRAME; p += 4) memcpy(p, &i, 4);
    fwrite(rec, 4, 4, f);
    fwrite(frame, 1, FRAME, f);
  }
  return fclose(f);
}

static void *lane_main(void *arg) {
  uint32_t lane = (uint32_t)(uintptr_t)arg;
  for (;;) {
    struct fs_lane_entry *e = fs_lane_peek(sp, lane);
    if (!e) continue;
    if (e->kind == FS_LANE_END) { fs_lane_done_with(sp, lane); break; }
    if (e->kind == FS_LANE_FRAME) {
      /* the frame's number at its payload's start, middle and end: the same, and past the last one
       * this lane took (a lane takes its frames in file order) */
      uint32_t first, mid, last;
      const uint8_t *payload = e->data + 14 + 20 + 8;
      size_t words = (FRAME - 14 - 20 - 8) / 4;
      memcpy(&first, payload, 4);
      memcpy(&mid, payload + 4 * (words / 2), 4);
      memcpy(&last, payload + 4 * (words - 1), 4);
      if (e->caplen != FRAME || first != mid || first != last || (taken[lane] && first <= previous[lane])) late[lane]++;
      previous[lane] = first;
      taken[lane]++;
      if (lane == 1 && taken[1] % 10 == 0) nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL); /* the slow lane */
    }
    fs_lane_done_with(sp, lane);
  }
  return NULL;
}

/* Frames a source reads to the end of its files. */
static unsigned long count_frames(struct fs_source *s) {
  struct fs_frame fr;
  unsigned long n = 0;
  int rc;
  while ((rc = fs_source_read(s, &fr)) != FS_READ_END) n += rc == FS_READ_FRAME;
  return n;
}

/* Two lanes' readings of one file that grows between their opens (fs_source_open_again): each reads
 * it up to the size the first found; a reading not told the sizes reads the frames added too. */
static int check_shared_size(const char *path) {
  char err[FS_ERRLEN];
  char *files[1] = { (char *)path };
  struct fs_source first, a, b, alone;
  fs_shared_size sizes[1] = { 0 };
  if (fs_source_open(&first, files, 1, 0, NULL, err) != 0 || fs_source_open_again(&a, &first, sizes, NULL, err) != 0 ||
      fs_source_open_again(&b, &first, sizes, NULL, err) != 0 || fs_source_open_again(&alone, &first, NULL, NULL, err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  struct fs_frame fr;
  if (fs_source_read(&a, &fr) != FS_READ_FRAME) return 1; /* a opened the file: its size is the run's */
  FILE *f = fopen(path, "ab");
  static uint8_t record[16 + 64];
  const uint32_t head[4] = { 1700000000, 0, 64, 64 };
  memcpy(record, head, sizeof(head));
  if (!f || fwrite(record, 1, sizeof(record), f) != sizeof(record) || fclose(f) != 0) return 1;
  unsigned long na = 1 + count_frames(&a), nb = count_frames(&b), nalone = count_frames(&alone);
  printf("shared sizes: %lu %lu frames, %lu read alone after it grew\n", na, nb, nalone);
  fs_source_close(&a);
  fs_source_close(&b);
  fs_source_close(&alone);
  fs_source_close(&first);
  return na == FRAMES && nb == FRAMES && nalone == FRAMES + 1 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s OUT.pcap\n", argv[0]); return 2; }
  if (write_capture(argv[1]) != 0) { perror(argv[1]); return 2; }
  /* the reader and its arenas, which a FIFO's lanes have (each lane reads a file itself) */
  setenv("FLOWSEEK_SPREAD", "reader", 1);
  char err[FS_ERRLEN];
  char **files = malloc(sizeof(*files));
  if (!files || !(files[0] = strdup(argv[1]))) return 2;
  if (!(sp = fs_spread_open(files, 1, 0, NULL, false, 2, err))) { fprintf(stderr, "%s\n", err); return 2; }
  pthread_t t[2];
  for (uintptr_t i = 0; i < 2; i++) pthread_create(&t[i], NULL, lane_main, (void *)i);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("taken %lu %lu, late %lu %lu\n", taken[0], taken[1], late[0], late[1]);
  fs_spread_release(sp, 0);
  fs_spread_release(sp, 1);
  int shared = check_shared_size(argv[1]);
  remove(argv[1]);
  return taken[0] + taken[1] == FRAMES && late[0] + late[1] == 0 && shared == 0 ? 0 : 1;
}
