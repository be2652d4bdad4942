/* Short-lived sockets for the system visibility tests (test/93): a client that makes N TCP
 * connections and N single-datagram UDP exchanges, each over in well under a millisecond, plus one
 * long connection of each kind; and a server that answers them. Copied under distinct names by the
 * test, so each flow's process is known by its name.
 *   sockburst server ADDR TCP_PORT UDP_PORT            (runs until killed)
 *   sockburst client ADDR TCP_PORT UDP_PORT N LONG_MS  (prints "tcp PORT" / "udp PORT" per flow)
 * ADDR is IPv4 or IPv6; the server's sockets are bound to it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_storage peer;
static socklen_t peer_len;
static int family;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void address(const char *ip, int port) {
  memset(&peer, 0, sizeof(peer));
  struct sockaddr_in *a4 = (struct sockaddr_in *)&peer;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&peer;
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
    family = a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    peer_len = sizeof(*a4);
  } else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
    family = a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    peer_len = sizeof(*a6);
  } else {
    fprintf(stderr, "not an address: %s\n", ip);
    exit(2);
  }
}

static int local_port(int fd) {
  struct sockaddr_storage a;
  socklen_t n = sizeof(a);
  if (getsockname(fd, (struct sockaddr *)&a, &n) != 0) die("getsockname");
  return ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port : ((struct sockaddr_in6 *)&a)->sin6_port);
}

static void set_port(int port) {
  if (family == AF_INET) ((struct sockaddr_in *)&peer)->sin_port = htons(port);
  else ((struct sockaddr_in6 *)&peer)->sin6_port = htons(port);
}

/* A TCP connection that sends a byte and reads the echo; closed unless keep. */
static int tcp_exchange(int port, int keep) {
  set_port(port);
  int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)&peer, peer_len) != 0) die("connect");
  char b = 't';
  if (write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1) die("tcp exchange");
  printf("tcp %d\n", local_port(fd));
  if (!keep) close(fd);
  return fd;
}

/* UDP ports this run has used: a closed UDP socket's port may be handed out again at once, and two
 * exchanges from one port would be one flow (the test counts one flow per exchange). */
static char used_udp[65536];

/* A UDP socket on an ephemeral port this run has not used yet. */
static int fresh_udp_socket(void) {
  for (int tries = 0; tries < 100; tries++) {
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_storage any;
    memset(&any, 0, sizeof(any));
    any.ss_family = (sa_family_t)family;
    if (bind(fd, (struct sockaddr *)&any, family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) != 0) die("udp bind");
    int p = local_port(fd);
    if (!used_udp[p]) {
      used_udp[p] = 1;
      return fd;
    }
    close(fd);
  }
  fprintf(stderr, "no unused UDP port after 100 tries\n");
  exit(1);
}

/* One datagram out, its echo back, from a socket of its own (an ephemeral port); closed unless keep. */
static int udp_exchange(int port, int keep) {
  set_port(port);
  int fd = fresh_udp_socket();
  char b = 'u';
  if (sendto(fd, &b, 1, 0, (struct sockaddr *)&peer, peer_len) != 1) die("sendto");
  struct pollfd p = { .fd = fd, .events = POLLIN };
  if (poll(&p, 1, 2000) != 1 || recvfrom(fd, &b, 1, 0, NULL, NULL) != 1) die("udp echo");
  printf("udp %d\n", local_port(fd));
  if (!keep) close(fd);
  return fd;
}

static int client(int tcp_port, int udp_port, int n, int long_ms) {
  int long_tcp = tcp_exchange(tcp_port, 1), long_udp = udp_exchange(udp_port, 1);
  for (int i = 0; i < n; i++) {
    tcp_exchange(tcp_port, 0);
    udp_exchange(udp_port, 0);
  }
  fflush(stdout);
  struct timespec ts = { long_ms / 1000, (long)(long_ms % 1000) * 1000000 };
  nanosleep(&ts, NULL);
  /* the long ones: a last exchange, then the end */
  char b = 'l';
  set_port(udp_port);
  struct pollfd p = { .fd = long_udp, .events = POLLIN };
  if (sendto(long_udp, &b, 1, 0, (struct sockaddr *)&peer, peer_len) != 1 || poll(&p, 1, 2000) != 1 ||
      recvfrom(long_udp, &b, 1, 0, NULL, NULL) != 1) die("long udp");
  if (write(long_tcp, &b, 1) != 1 || read(long_tcp, &b, 1) != 1) die("long tcp");
  shutdown(long_tcp, SHUT_WR);
  while (read(long_tcp, &b, 1) > 0) {}
  close(long_tcp);
  close(long_udp);
  return 0;
}

static int server(int tcp_port, int udp_port) {
  int one = 1;
  int lfd = socket(family, SOCK_STREAM, 0), ufd = socket(family, SOCK_DGRAM, 0);
  if (lfd < 0 || ufd < 0) die("socket");
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  set_port(tcp_port);
  if (bind(lfd, (struct sockaddr *)&peer, peer_len) != 0 || listen(lfd, 128) != 0) die("tcp bind");
  set_port(udp_port);
  if (bind(ufd, (struct sockaddr *)&peer, peer_len) != 0) die("udp bind");
  printf("ready\n");
  fflush(stdout);
  struct pollfd fds[256];
  int n = 2;
  fds[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
  fds[1] = (struct pollfd){ .fd = ufd, .events = POLLIN };
  for (;;) {
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[0].revents & POLLIN) {
      int c = accept(lfd, NULL, NULL);
      if (c >= 0 && n < 256) fds[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
      else if (c >= 0) close(c);
    }
    if (fds[1].revents & POLLIN) {
      char b;
      struct sockaddr_storage from;
      socklen_t len = sizeof(from);
      if (recvfrom(ufd, &b, 1, 0, (struct sockaddr *)&from, &len) == 1) sendto(ufd, &b, 1, 0, (struct sockaddr *)&from, len);
    }
    /* each connection: echo every byte; closed when the client closes */
    for (int i = 2; i < n; i++) {
      if (!fds[i].revents) continue;
      char b;
      if (read(fds[i].fd, &b, 1) == 1 && write(fds[i].fd, &b, 1) == 1) continue;
      close(fds[i].fd);
      fds[i--] = fds[--n];
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "server") == 0) {
    address(argv[2], atoi(argv[3]));
    return server(atoi(argv[3]), atoi(argv[4]));
  }
  if (argc >= 7 && strcmp(argv[1], "client") == 0) {
    address(argv[2], atoi(argv[3]));
    return client(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
  }
  fprintf(stderr, "usage: sockburst server ADDR TCP_PORT UDP_PORT | client ADDR TCP_PORT UDP_PORT N LONG_MS\n");
  return 2;
}
