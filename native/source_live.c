/* Live capture: one libpcap handle on an interface, optionally one member of a PACKET_FANOUT
 * group so the kernel splits flows (both directions alike, by hash) among worker processes. */
#include <errno.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "source.h"

#define LIVE_TIMEOUT_MS 100

void fs_source_wait(struct fs_source *s) {
  struct pollfd p = { .fd = s->fd, .events = POLLIN };
  poll(&p, 1, LIVE_TIMEOUT_MS);
}

static const char *activate_error(int rc) {
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE: return "no such interface (see: flowseek interfaces)";
    case PCAP_ERROR_PERM_DENIED:
      return "permission denied: capturing needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN";
    case PCAP_ERROR_IFACE_NOT_UP: return "the interface is down";
    case PCAP_ERROR_PROMISC_PERM_DENIED: return "permission denied for promiscuous mode (try --no-promisc)";
    default: return NULL;
  }
}

static int apply_filter(pcap_t *pc, const char *iface, const char *bpf, char *err) {
  bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
  char perr[PCAP_ERRBUF_SIZE];
  if (pcap_lookupnet(iface, &net, &mask, perr) != 0) mask = PCAP_NETMASK_UNKNOWN;
  struct bpf_program prog;
  if (pcap_compile(pc, &prog, bpf, 1, mask) != 0) {
    snprintf(err, FS_ERRLEN, "bad BPF filter \"%s\": %s", bpf, pcap_geterr(pc));
    return -1;
  }
  int rc = pcap_setfilter(pc, &prog);
  pcap_freecode(&prog);
  if (rc != 0) snprintf(err, FS_ERRLEN, "cannot apply BPF filter: %s", pcap_geterr(pc));
  return rc;
}

static int join_fanout(pcap_t *pc, uint16_t group, char *err) {
  /* hash mode: both directions of a flow land on one member; defrag: fragments are
   * reassembled before hashing, so a fragmented datagram is not split among members */
  int val = (int)group | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
  if (setsockopt(pcap_fileno(pc), SOL_PACKET, PACKET_FANOUT, &val, sizeof(val)) != 0) {
    snprintf(err, FS_ERRLEN, "cannot join fanout group %u: %s", group, strerror(errno));
    return -1;
  }
  return 0;
}

int fs_source_open_live(struct fs_source *s, const struct fs_live_config *c, char *err) {
  memset(s, 0, sizeof(*s));
  atomic_init(&s->stop_requested, false);
  s->live = true;
  char perr[PCAP_ERRBUF_SIZE] = "";
  pcap_t *pc = pcap_create(c->iface, perr);
  if (!pc) {
    snprintf(err, FS_ERRLEN, "%s: %s", c->iface, perr);
    return -1;
  }
  pcap_set_snaplen(pc, (int)c->snaplen);
  pcap_set_promisc(pc, c->promisc ? 1 : 0);
  pcap_set_timeout(pc, LIVE_TIMEOUT_MS);
  bool micro = pcap_set_tstamp_precision(pc, PCAP_TSTAMP_PRECISION_NANO) != 0;
  if (micro) pcap_set_tstamp_precision(pc, PCAP_TSTAMP_PRECISION_MICRO);
  s->ts_micro = micro;
  if (c->buffer_bytes) pcap_set_buffer_size(pc, (int)c->buffer_bytes);
  int rc = pcap_activate(pc);
  if (rc < 0) {
    const char *why = activate_error(rc);
    snprintf(err, FS_ERRLEN, "%s: %s", c->iface, why ? why : pcap_geterr(pc));
    pcap_close(pc);
    return -1;
  }
  if (rc > 0) snprintf(s->warnings, sizeof(s->warnings), "%s: %s\n", c->iface, pcap_geterr(pc));
  if ((c->bpf && *c->bpf && apply_filter(pc, c->iface, c->bpf, err) != 0) ||
      (c->fanout_group && join_fanout(pc, c->fanout_group, err) != 0)) {
    pcap_close(pc);
    return -1;
  }
  /* libpcap's own wait has no timeout on a quiet TPACKET_V3 ring: read without blocking and
   * wait in poll(), whose timeout lets the wall clock end idle flows */
  if (pcap_setnonblock(pc, 1, perr) != 0 || (s->fd = pcap_get_selectable_fd(pc)) < 0) {
    snprintf(err, FS_ERRLEN, "%s: cannot read without blocking: %s", c->iface, perr);
    pcap_close(pc);
    return -1;
  }
  s->pc = pc;
  s->linktype = pcap_datalink(pc);
  s->snaplen = 0;
  return 0;
}

/* A TPACKET_V3 block reaches user space when full or when its timeout (the capture's, 100 ms)
 * retires it: the ring found empty twice with a wait between means every packet the kernel had
 * taken when the stop came has been read. */
#define STOP_READ_MS 1000

bool fs_source_live_drained(struct fs_source *s, uint64_t now_ms) {
  if (!s->stop_seen_ms) s->stop_seen_ms = now_ms;
  return s->idle_since_stop >= 2 || now_ms - s->stop_seen_ms >= STOP_READ_MS;
}

void fs_source_kernel_stats(struct fs_source *s) {
  struct pcap_stat ps;
  if (!s->live || !s->pc || pcap_stats(s->pc, &ps) != 0) return;
  s->kernel_received = ps.ps_recv;
  s->kernel_dropped = ps.ps_drop + ps.ps_ifdrop;
}
