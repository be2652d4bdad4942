/* The host's TCP and UDP sockets through netlink sock_diag (what ss uses): far cheaper than
 * formatting and parsing /proc/net text when thousands of sockets are open. Keys are written as
 * /proc/net writes addresses, so both sources match flows the same way. */
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "flow.h"
#include "sockdiag.h"

/* One socket: its match key, binary (the table's key) and as text, and the poll that last saw it. */
struct sock {
  uint8_t bin[40];
  uint64_t inode;
  char text[96];
  uint32_t gen;
  bool used;
};

/* Open-addressing table of the sockets alive at the last poll, keyed by bin. */
static struct {
  struct sock *slots;
  size_t cap, n;
  uint32_t gen;
} tab;

static uint64_t fnv(const uint8_t *b, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
  return h;
}

static size_t slot_of(const uint8_t *bin) {
  size_t i = fnv(bin, 40) & (tab.cap - 1);
  while (tab.slots[i].used && memcmp(tab.slots[i].bin, bin, 40) != 0) i = (i + 1) & (tab.cap - 1);
  return i;
}

static int grow(void) {
  size_t cap = tab.cap ? tab.cap * 2 : 1024;
  struct sock *old = tab.slots, *slots = calloc(cap, sizeof(*slots));
  if (!slots) return -1;
  size_t old_cap = tab.cap;
  tab.slots = slots;
  tab.cap = cap;
  for (size_t i = 0; i < old_cap; i++) if (old[i].used) tab.slots[slot_of(old[i].bin)] = old[i];
  free(old);
  return 0;
}

/* Backward-shift deletion: every probe chain stays unbroken without tombstones. */
static void del(size_t i) {
  size_t mask = tab.cap - 1;
  for (size_t j = i;;) {
    tab.slots[i].used = false;
    for (;;) {
      j = (j + 1) & mask;
      if (!tab.slots[j].used) { tab.n--; return; }
      size_t home = fnv(tab.slots[j].bin, 40) & mask;
      if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) continue;
      break;
    }
    tab.slots[i] = tab.slots[j];
    i = j;
  }
}

static void hex_addr(char *out, const __be32 *a, int family) {
  int words = family == AF_INET ? 1 : 4;
  for (int i = 0; i < words; i++) sprintf(out + 8 * i, "%08X", (unsigned)a[i]);
}

/* Texts of the sockets a poll found new. */


/* A socket's key as /proc/net writes it: "proto|LOCAL:PORT|REMOTE:PORT", or "|*" unconnected. */
static void key_text(char out[96], int protocol, int family, const struct inet_diag_msg *m) {
  char local[33], remote[33];
  hex_addr(local, m->id.idiag_src, family);
  hex_addr(remote, m->id.idiag_dst, family);
  bool zero = m->id.idiag_dport == 0;
  for (int w = 0; w < (family == AF_INET ? 1 : 4); w++) zero = zero && m->id.idiag_dst[w] == 0;
  if (zero) snprintf(out, 96, "%d|%s:%04X|*", protocol, local, ntohs(m->id.idiag_sport));
  else snprintf(out, 96, "%d|%s:%04X|%s:%04X", protocol, local, ntohs(m->id.idiag_sport), remote, ntohs(m->id.idiag_dport));
}

static int add(struct fs_sockets *p, const char text[96], uint64_t inode) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 256;
    void *t = realloc(p->text, cap * sizeof(*p->text)), *n = t ? realloc(p->inode, cap * sizeof(double)) : NULL;
    if (t) p->text = t;
    if (!t || !n) return -1;
    p->inode = n;
    p->cap = cap;
  }
  memcpy(p->text[p->n], text, 96);
  p->inode[p->n++] = (double)inode;
  return 0;
}

/* One dump of one family and protocol; -1 when the kernel cannot (no udp_diag, say). */
static int dump(int family, int protocol, struct fs_sockets *p) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct { struct nlmsghdr nlh; struct inet_diag_req_v2 r; } req;
  memset(&req, 0, sizeof(req));
  req.nlh.nlmsg_len = sizeof(req);
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.r.sdiag_family = (__u8)family;
  req.r.sdiag_protocol = (__u8)protocol;
  /* TIME_WAIT and half-open sockets have no owner: the kernel need not even report them */
  req.r.idiag_states = protocol == IPPROTO_TCP ? ~((1U << 6) | (1U << 3) | (1U << 12)) : ~0U;
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) { close(fd); return -1; }
  static char buf[65536];
  int rc = 0;
  for (;;) {
    ssize_t len = recv(fd, buf, sizeof(buf), 0);
    if (len <= 0) { rc = -1; break; }
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    bool done = false;
    for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) { done = true; break; }
      if (h->nlmsg_type == NLMSG_ERROR) { rc = -1; done = true; break; }
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      const struct inet_diag_msg *m = NLMSG_DATA(h);
      if (m->idiag_inode == 0) continue; /* TIME_WAIT and the like: no owner */
      uint8_t bin[40] = {0};
      bin[0] = (uint8_t)protocol;
      bin[1] = (uint8_t)family;
      memcpy(bin + 2, &m->id.idiag_sport, 2);
      memcpy(bin + 4, &m->id.idiag_dport, 2);
      memcpy(bin + 6, m->id.idiag_src, 16);
      memcpy(bin + 22, m->id.idiag_dst, 16);
      if ((tab.n + 1) * 2 > tab.cap && grow() != 0) { rc = -1; done = true; break; }
      struct sock *e = &tab.slots[slot_of(bin)];
      if (e->used && e->inode == m->idiag_inode) { e->gen = tab.gen; continue; } /* known: nothing to say */
      if (!e->used) tab.n++;
      memcpy(e->bin, bin, 40);
      e->used = true;
      e->gen = tab.gen;
      e->inode = m->idiag_inode;
      key_text(e->text, protocol, family, m);
      if (add(p, e->text, m->idiag_inode) != 0) { rc = -1; done = true; break; }
    }
    if (done) break;
  }
  close(fd);
  return rc;
}

int fs_socket_changes(bool reset, struct fs_sockets *p, struct fs_sockets *gone_out) {
  if (reset) { free(tab.slots); memset(&tab, 0, sizeof(tab)); }
  tab.gen++;
  memset(p, 0, sizeof(*p));
  memset(gone_out, 0, sizeof(*gone_out));
  const int families[] = { AF_INET, AF_INET6 }, protocols[] = { IPPROTO_TCP, IPPROTO_UDP };
  int failures = 0;
  for (int f = 0; f < 2; f++) for (int q = 0; q < 2; q++) if (dump(families[f], protocols[q], p) != 0) failures++;
  /* what this poll did not see is gone: its texts, then out of the table */
  struct fs_sockets gone = {0};
  uint8_t (*bins)[40] = NULL;
  for (size_t i = 0; !failures && i < tab.cap; i++) {
    if (!tab.slots[i].used || tab.slots[i].gen == tab.gen) continue;
    if (gone.n == gone.cap) {
      size_t cap = gone.cap ? gone.cap * 2 : 256;
      void *t = realloc(gone.text, cap * sizeof(*gone.text)), *b = t ? realloc(bins, cap * sizeof(*bins)) : NULL;
      if (t) gone.text = t;
      if (!t || !b) { failures++; break; }
      bins = b;
      gone.cap = cap;
    }
    memcpy(gone.text[gone.n], tab.slots[i].text, sizeof(tab.slots[i].text));
    memcpy(bins[gone.n++], tab.slots[i].bin, 40);
  }
  for (size_t g = 0; !failures && g < gone.n; g++) del(slot_of(bins[g]));
  free(bins);
  if (failures) {
    /* start over at the next call: this one may have half-updated the table */
    free(tab.slots); memset(&tab, 0, sizeof(tab));
    fs_sockets_free(p);
    fs_sockets_free(&gone);
    return -1;
  }
  *gone_out = gone;
  return 0;
}

void fs_sockets_free(struct fs_sockets *p) {
  free(p->text);
  free(p->inode);
  memset(p, 0, sizeof(*p));
}

/* Requests in one datagram: the kernel answers each with one message (a socket or an error). */
#define LOOKUP_BATCH 128

struct lookup_req { struct nlmsghdr nlh; struct inet_diag_req_v2 r; };

/* Asks for the socket at each end of the flow: the kernel's own lookup finds a connected socket,
 * or the listening or unconnected one a packet would reach. Answers are appended to p. */
static int lookup_batch(int fd, const struct fs_flow_key *keys, size_t n, struct fs_sockets *p) {
  static struct lookup_req reqs[2 * LOOKUP_BATCH];
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    const struct fs_flow_key *k = &keys[i];
    if ((k->protocol != IPPROTO_TCP && k->protocol != IPPROTO_UDP) || (k->ip_version != 4 && k->ip_version != 6)) continue;
    for (int end = 0; end < 2; end++) {
      struct lookup_req *q = &reqs[count];
      memset(q, 0, sizeof(*q));
      q->nlh.nlmsg_len = sizeof(*q);
      q->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
      q->nlh.nlmsg_flags = NLM_F_REQUEST;
      q->nlh.nlmsg_seq = (uint32_t)count;
      q->r.sdiag_family = k->ip_version == 6 ? AF_INET6 : AF_INET;
      q->r.sdiag_protocol = k->protocol;
      q->r.idiag_states = ~0U;
      q->r.id.idiag_cookie[0] = q->r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
      const uint8_t *a = end ? k->ip_hi : k->ip_lo, *b = end ? k->ip_lo : k->ip_hi;
      memcpy(q->r.id.idiag_src, a, 16);
      memcpy(q->r.id.idiag_dst, b, 16);
      q->r.id.idiag_sport = htons(end ? k->port_hi : k->port_lo);
      q->r.id.idiag_dport = htons(end ? k->port_lo : k->port_hi);
      count++;
    }
  }
  if (!count) return 0;
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  if (sendto(fd, reqs, count * sizeof(reqs[0]), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) return -1;
  static char buf[65536];
  for (size_t got = 0; got < count;) {
    ssize_t len = recv(fd, buf, sizeof(buf), 0);
    if (len <= 0) return -1; /* the receive timeout: the rest is not known */
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
      got++;
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      const struct inet_diag_msg *m = NLMSG_DATA(h);
      if (m->idiag_inode == 0 || h->nlmsg_seq >= count) continue;
      char text[96];
      key_text(text, reqs[h->nlmsg_seq].r.sdiag_protocol, m->idiag_family, m);
      if (add(p, text, m->idiag_inode) != 0) return -1;
    }
  }
  return 0;
}

int fs_socket_lookup(const uint8_t *keys, size_t len, struct fs_sockets *p) {
  memset(p, 0, sizeof(*p));
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  size_t n = len / sizeof(struct fs_flow_key);
  struct fs_flow_key chunk[LOOKUP_BATCH];
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i += LOOKUP_BATCH) {
    size_t m = n - i < LOOKUP_BATCH ? n - i : LOOKUP_BATCH;
    memcpy(chunk, keys + i * sizeof(struct fs_flow_key), m * sizeof(struct fs_flow_key)); /* a Buffer need not be aligned */
    rc = lookup_batch(fd, chunk, m, p);
  }
  close(fd);
  if (rc != 0 && p->n == 0) { fs_sockets_free(p); return -1; }
  return 0;
}
