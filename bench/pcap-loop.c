/* The ceiling: libpcap reading a file and touching every packet, nothing else, through a 1 MiB
 * buffer as flowseek reads (pcap_open_offline's own stream gets glibc's 4 KiB buffer: a read system
 * call for every few records, slower than flowseek itself).
 * Usage: pcap-loop FILE   (prints packets and bytes) */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s FILE\n", argv[0]); return 2; }
  char err[PCAP_ERRBUF_SIZE];
  FILE *fp = fopen(argv[1], "rb");
  static char buf[1 << 20];
  if (!fp) { perror(argv[1]); return 1; }
  setvbuf(fp, buf, _IOFBF, sizeof(buf));
  pcap_t *pc = pcap_fopen_offline(fp, err);
  if (!pc) { fprintf(stderr, "%s\n", err); return 1; }
  struct pcap_pkthdr *h;
  const u_char *d;
  unsigned long packets = 0, bytes = 0, sum = 0;
  while (pcap_next_ex(pc, &h, &d) == 1) {
    packets++;
    bytes += h->len;
    if (h->caplen) sum += d[h->caplen - 1]; /* read the packet, so it is really loaded */
  }
  pcap_close(pc);
  printf("%lu packets, %lu bytes (%lu)\n", packets, bytes, sum & 1);
  return 0;
}
