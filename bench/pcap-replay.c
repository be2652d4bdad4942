/* Replays a capture file into an interface as fast as it goes (no pacing): each frame sent as
 * captured, up to a count. Prints what was sent, refused (e.g. above the MTU) and the seconds.
 * Usage: pcap-replay FILE IFACE [MAX_PACKETS] */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s FILE IFACE [MAX_PACKETS]\n", argv[0]); return 2; }
  unsigned long max = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t *in = pcap_open_offline(argv[1], err);
  if (!in) { fprintf(stderr, "%s\n", err); return 1; }
  pcap_t *out = pcap_open_live(argv[2], 65535, 0, 1, err);
  if (!out) { fprintf(stderr, "%s\n", err); return 1; }
  struct pcap_pkthdr *h;
  const u_char *d;
  unsigned long sent = 0, refused = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while ((!max || sent + refused < max) && pcap_next_ex(in, &h, &d) == 1) {
    if (pcap_inject(out, d, h->caplen) == (int)h->caplen) sent++;
    else refused++;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("{\"sent\":%lu,\"refused\":%lu,\"seconds\":%.3f}\n", sent, refused,
         (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  pcap_close(out);
  pcap_close(in);
  return 0;
}
