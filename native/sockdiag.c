/* The host's TCP and UDP sockets through netlink sock_diag (what ss uses): far cheaper than
 * formatting and parsing /proc/net text when thousands of sockets are open. Keys are written as
 * /proc/net writes addresses, so both sources match flows the same way. */
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sockdiag.h"

struct entries {
  char (*keys)[96];
  double *inodes;
  size_t n, cap;
};

static void hex_addr(char *out, const __be32 *a, int family) {
  int words = family == AF_INET ? 1 : 4;
  for (int i = 0; i < words; i++) sprintf(out + 8 * i, "%08X", (unsigned)a[i]);
}

/* One dump of one family and protocol; -1 when the kernel cannot (no udp_diag, say). */
static int dump(int family, int protocol, struct entries *e) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct { struct nlmsghdr nlh; struct inet_diag_req_v2 r; } req;
  memset(&req, 0, sizeof(req));
  req.nlh.nlmsg_len = sizeof(req);
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.r.sdiag_family = (__u8)family;
  req.r.sdiag_protocol = (__u8)protocol;
  req.r.idiag_states = ~0U;
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
      if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 1024;
        void *k = realloc(e->keys, cap * sizeof(*e->keys)), *i = k ? realloc(e->inodes, cap * sizeof(double)) : NULL;
        if (k) e->keys = k;
        if (!k || !i) { rc = -1; done = true; break; }
        e->inodes = i;
        e->cap = cap;
      }
      char local[33], remote[33];
      hex_addr(local, m->id.idiag_src, family);
      hex_addr(remote, m->id.idiag_dst, family);
      bool zero = m->id.idiag_dport == 0;
      for (int w = 0; w < (family == AF_INET ? 1 : 4); w++) zero = zero && m->id.idiag_dst[w] == 0;
      if (zero) snprintf(e->keys[e->n], sizeof(e->keys[0]), "%d|%s:%04X|*", protocol, local, ntohs(m->id.idiag_sport));
      else snprintf(e->keys[e->n], sizeof(e->keys[0]), "%d|%s:%04X|%s:%04X", protocol, local, ntohs(m->id.idiag_sport), remote,
                    ntohs(m->id.idiag_dport));
      e->inodes[e->n++] = (double)m->idiag_inode;
    }
    if (done) break;
  }
  close(fd);
  return rc;
}

/* socketTable(): { keys: string[], inodes: Float64Array } or null when sock_diag is unavailable */
napi_value fs_js_socket_table(napi_env env, napi_callback_info info) {
  (void)info;
  struct entries e = {0};
  const int families[] = { AF_INET, AF_INET6 }, protocols[] = { IPPROTO_TCP, IPPROTO_UDP };
  int failures = 0;
  for (int f = 0; f < 2; f++) for (int p = 0; p < 2; p++) if (dump(families[f], protocols[p], &e) != 0) failures++;
  napi_value result, keys, inodes, ab;
  if (failures) {
    free(e.keys); free(e.inodes);
    napi_get_null(env, &result);
    return result;
  }
  napi_create_object(env, &result);
  napi_create_array_with_length(env, e.n, &keys);
  void *data = NULL;
  napi_create_arraybuffer(env, e.n * sizeof(double), &data, &ab);
  if (e.n) memcpy(data, e.inodes, e.n * sizeof(double));
  napi_create_typedarray(env, napi_float64_array, e.n, ab, 0, &inodes);
  for (size_t i = 0; i < e.n; i++) {
    napi_value s;
    napi_create_string_latin1(env, e.keys[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, keys, (uint32_t)i, s);
  }
  napi_set_named_property(env, result, "keys", keys);
  napi_set_named_property(env, result, "inodes", inodes);
  free(e.keys); free(e.inodes);
  return result;
}
