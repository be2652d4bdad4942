/* Builds the benchmark capture: every Ethernet capture given, one after another, repeated until
 * the packet target is reached; each copy's IPv4 and IPv6 addresses XORed with its round number
 * (both directions alike, so each copy makes new flows) and its times placed after the previous
 * file's, keeping the gaps within a file.  Usage: make-capture OUT TARGET_PACKETS FILE... */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void rewrite(u_char *d, uint32_t caplen, uint32_t round) {
  uint32_t off = 12;
  if (caplen < 14) return;
  uint16_t type = (uint16_t)(d[12] << 8 | d[13]);
  while ((type == 0x8100 || type == 0x88a8) && caplen >= off + 6) {
    off += 4;
    type = (uint16_t)(d[off] << 8 | d[off + 1]);
  }
  off += 2;
  if (type == 0x0800 && caplen >= off + 20) {
    for (int a = 12; a < 20; a += 4) { d[off + a] ^= (u_char)(round >> 8); d[off + a + 1] ^= (u_char)round; }
  } else if (type == 0x86dd && caplen >= off + 40) {
    for (int a = 8; a < 40; a += 16) { d[off + a + 12] ^= (u_char)(round >> 8); d[off + a + 13] ^= (u_char)round; }
  }
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s OUT TARGET_PACKETS FILE...\n", argv[0]); return 2; }
  unsigned long target = strtoul(argv[2], NULL, 10), written = 0;
  pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
  pcap_dumper_t *out = pcap_dump_open(dead, argv[1]);
  if (!out) { fprintf(stderr, "%s\n", pcap_geterr(dead)); return 1; }
  double cursor = 1.7e9;
  for (uint32_t round = 1; written < target; round++) {
    unsigned long before = written;
    for (int i = 3; i < argc && written < target; i++) {
      char err[PCAP_ERRBUF_SIZE];
      pcap_t *pc = pcap_open_offline(argv[i], err);
      if (!pc) continue;
      if (pcap_datalink(pc) != DLT_EN10MB) { pcap_close(pc); continue; }
      struct pcap_pkthdr *h;
      const u_char *d;
      double first = -1, last = cursor;
      static u_char buf[262144];
      while (written < target && pcap_next_ex(pc, &h, &d) == 1) {
        double t = (double)h->ts.tv_sec + h->ts.tv_usec / 1e6;
        if (first < 0) first = t;
        double nt = cursor + (t > first ? t - first : 0);
        if (nt > last) last = nt;
        struct pcap_pkthdr nh = *h;
        nh.ts.tv_sec = (time_t)last;
        nh.ts.tv_usec = (suseconds_t)((last - (double)(time_t)last) * 1e6);
        uint32_t n = h->caplen < sizeof(buf) ? h->caplen : (uint32_t)sizeof(buf);
        memcpy(buf, d, n);
        nh.caplen = n;
        rewrite(buf, n, round);
        pcap_dump((u_char *)out, &nh, buf);
        written++;
      }
      pcap_close(pc);
      cursor = last + 1;
    }
    if (written == before) { fprintf(stderr, "no Ethernet packets in the inputs\n"); return 1; }
  }
  pcap_dump_close(out);
  printf("%lu packets\n", written);
  return 0;
}
