/* One record of the kernel side of system visibility (native/bpf/sockevents.bpf.c), as the ring
 * buffer carries it to native/sockevents.c. Shared by both sides: fixed-width types only. */
#ifndef FS_SOCKEVENTS_H
#define FS_SOCKEVENTS_H

#define FS_SE_COMM_LEN 16
#define FS_SE_CMDLINE_LEN 256

enum fs_se_kind {
  FS_SE_CONNECT = 1, /* TCP connect(): the connecting process */
  FS_SE_ACCEPT = 2,  /* TCP accept(): the accepting process */
  FS_SE_SEND = 3,    /* a UDP datagram sent (the first to a peer, then every few seconds) */
  FS_SE_RECV = 4,    /* a UDP datagram read by a process (same) */
  FS_SE_BIND = 5,    /* bind(): a listening or bound socket, no remote end */
  FS_SE_CLOSE = 6,   /* a TCP socket closed: its owner is kept for a grace period only */
};

struct fs_sock_event {
  __u32 netns;   /* inode of the socket's network namespace, as /proc/<pid>/ns/net shows it */
  __u32 pid;     /* thread id */
  __u32 tgid;    /* process id */
  __u32 uid;
  __u8 kind;
  __u8 protocol; /* 6 or 17 */
  __u16 lport;   /* host byte order */
  __u16 rport;
  __u16 cmdline_len;
  __u8 laddr[16]; /* IPv6, or IPv4-mapped IPv6 (::ffff:a.b.c.d); all zero: any address */
  __u8 raddr[16];
  char comm[FS_SE_COMM_LEN];
  char cmdline[FS_SE_CMDLINE_LEN]; /* NUL-separated, as /proc/<pid>/cmdline */
};

#endif
