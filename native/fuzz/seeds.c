/* Seed corpus for fuzz_meter: the packets of capture files (pcap or pcapng, through libpcap), in
 * groups of up to 16, each group one input in the harness's format.
 * Usage: fuzz_seeds OUT_DIR FILE... */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include "../decode.h"

static const int LINKS[] = {
  FS_DLT_EN10MB, FS_DLT_RAW, FS_DLT_RAW_LT, FS_DLT_IPV4, FS_DLT_IPV6, FS_DLT_NULL, FS_DLT_LOOP, FS_DLT_PPP,
  FS_DLT_PPP_SERIAL, FS_DLT_C_HDLC, FS_DLT_LINUX_SLL, FS_DLT_LINUX_SLL2, FS_DLT_RADIOTAP, 147,
};

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s OUT_DIR FILE...\n", argv[0]); return 2; }
  unsigned n = 0;
  for (int i = 2; i < argc; i++) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(argv[i], err);
    if (!pc) continue;
    int dlt = pcap_datalink(pc), link = 0;
    for (unsigned k = 0; k < sizeof(LINKS) / sizeof(LINKS[0]); k++) if (LINKS[k] == dlt) link = (int)k;
    struct pcap_pkthdr *h;
    const u_char *d;
    FILE *out = NULL;
    int in_group = 0;
    while (pcap_next_ex(pc, &h, &d) == 1) {
      if (!out) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/seed-%05u", argv[1], n++);
        if (!(out = fopen(path, "wb"))) { perror(path); return 1; }
        unsigned char head[2] = { (unsigned char)link, (unsigned char)(0x0f | ((n & 3) << 4)) };
        fwrite(head, 1, 2, out);
      }
      unsigned len = h->caplen > 65535 ? 65535 : h->caplen;
      unsigned char rec[3] = { (unsigned char)(len & 0xff), (unsigned char)(len >> 8), 3 };
      fwrite(rec, 1, 3, out);
      fwrite(d, 1, len, out);
      if (++in_group == 16) { fclose(out); out = NULL; in_group = 0; }
    }
    if (out) fclose(out);
    pcap_close(pc);
  }
  printf("%u seeds\n", n);
  return 0;
}
