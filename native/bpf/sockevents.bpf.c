// SPDX-License-Identifier: LGPL-3.0-or-later OR GPL-2.0-only
/*
 * The kernel side of system visibility: at the moment a socket connects, accepts, sends, receives
 * or binds, who did it — network namespace, 5-tuple, pid, thread group, process name, command line
 * and uid — into a ring buffer that native/sockevents.c reads. CO-RE (vmlinux.h from the build
 * machine's BTF), so one object loads on any kernel with BTF from 6.1 on.
 *
 * Attach points: only program types every kernel from Debian 12's 6.1 on has, whatever its
 * tracing options — no kprobes (CONFIG_KPROBE_EVENTS) and no fentry (BPF trampolines), which
 * some kernels (and this project's CI machine's) leave out. See README, "System visibility".
 *  - raw_tp/sys_exit, for connect() and accept()/accept4() only: in the calling process, after the
 *    call, so the socket (from its file descriptor) has both ends: TCP either way, connected UDP;
 *  - cgroup/sendmsg4, sendmsg6 (root cgroup v2): an unconnected UDP socket sending, with its peer;
 *  - cgroup/recvmsg4, recvmsg6: an unconnected UDP socket reading a datagram, with its peer;
 *  - cgroup/post_bind4, post_bind6: a socket bound (servers: their local end);
 *  - raw_tp/inet_sock_set_state (to TCP_CLOSE): a TCP socket's end, so its owner is kept only
 *    for a grace period after.
 * The cgroup programs always allow the call: they only look. UDP events are sent once per socket,
 * process and peer, then again every REFRESH_NS while traffic goes on.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sockevents.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_CLOSE 7
#define REFRESH_NS (10ULL * 1000000000ULL)

/* 0: every namespace; else only sockets of this one (set before load) */
const volatile __u32 netns_only = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 22);
} events SEC(".maps");

/* events that found the ring buffer full */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} lost SEC(".maps");

static __always_inline void map_v4(__u8 *out, __be32 addr) {
  __builtin_memset(out, 0, 10);
  out[10] = 0xff;
  out[11] = 0xff;
  __builtin_memcpy(out + 12, &addr, 4);
}

static __always_inline int is_v4_mapped(const __u8 *a) {
  for (int i = 0; i < 10; i++)
    if (a[i]) return 0;
  return a[10] == 0xff && a[11] == 0xff;
}


#if defined(__TARGET_ARCH_x86)
#define NR_CONNECT 42
#define NR_ACCEPT 43
#define NR_ACCEPT4 288
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NR_CONNECT 203
#define NR_ACCEPT 202
#define NR_ACCEPT4 242
#define SYSCALL_NR(regs) BPF_CORE_READ((struct user_pt_regs___fs *)(regs), syscallno)
#else
#error "sys_exit: system call numbers of this architecture are not known"
#endif

#define EINPROGRESS 115

static __always_inline __u32 task_netns(struct task_struct *task) {
  return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

/* Who is running: pid, thread group, uid, the process's name and command line. */
static __always_inline void current_task(struct fs_sock_event *e) {
  __u64 id = bpf_get_current_pid_tgid();
  e->pid = (__u32)id;
  e->tgid = id >> 32;
  e->uid = (__u32)bpf_get_current_uid_gid();
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  /* the thread group leader's name: /proc/<pid>/comm, not a worker thread's */
  BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
  e->cmdline_len = 0;
  struct mm_struct *mm = BPF_CORE_READ(task, mm);
  if (!mm) return;
  unsigned long start = BPF_CORE_READ(mm, arg_start), end = BPF_CORE_READ(mm, arg_end);
  unsigned long len = end - start;
  if (end <= start) return;
  /* a bound the verifier can see: at most the buffer less one byte */
  if (len > FS_SE_CMDLINE_LEN - 1) len = FS_SE_CMDLINE_LEN - 1;
  len &= FS_SE_CMDLINE_LEN - 1;
  if (bpf_probe_read_user(e->cmdline, len, (void *)start) == 0) e->cmdline_len = len;
}

static __always_inline struct fs_sock_event *reserve(void) {
  struct fs_sock_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost, &zero);
    if (n) __sync_fetch_and_add(n, 1);
  }
  return e;
}

/* The socket's own addresses and ports; 0 if it is neither IPv4 nor IPv6. */
static __always_inline int sock_tuple(struct fs_sock_event *e, const struct sock *sk) {
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
  e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (family == AF_INET6) {
    BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
    /* an IPv6 socket talking IPv4: its IPv4 fields are the ones set */
    if (!is_v4_mapped(e->raddr)) {
      BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
      return 1;
    }
  } else if (family != AF_INET) {
    return 0;
  }
  map_v4(e->laddr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
  map_v4(e->raddr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
  return 1;
}

/* An event for a kernel socket, its addresses as the socket has them now. */
static __always_inline void sock_event(const struct sock *sk, __u8 kind, int with_task) {
  __u32 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  if (netns_only && netns != netns_only) return;
  __u16 protocol = BPF_CORE_READ(sk, sk_protocol);
  if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) return;
  struct fs_sock_event *e = reserve();
  if (!e) return;
  __builtin_memset(e, 0, sizeof(*e));
  if (!sock_tuple(e, sk) || !e->lport || !e->rport) {
    bpf_ringbuf_discard(e, 0);
    return;
  }
  e->netns = netns;
  e->kind = kind;
  e->protocol = protocol;
  if (with_task) current_task(e);
  bpf_ringbuf_submit(e, 0);
}

/* The kernel socket behind a file descriptor of the current process. */
static __always_inline const struct sock *fd_sock(long fd) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds)) return NULL;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *file = NULL;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  if (!file) return NULL;
  struct socket *sock = BPF_CORE_READ(file, private_data);
  return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

struct user_pt_regs___fs {
  __u64 syscallno;
} __attribute__((preserve_access_index));

/* connect() and accept(): the socket's two ends are known once the call returns. */
SEC("raw_tp/sys_exit")
int fs_sys_exit(struct bpf_raw_tracepoint_args *ctx) {
  struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
  long nr = SYSCALL_NR(regs), ret = ctx->args[1];
  if (nr == NR_CONNECT) {
    /* a non-blocking TCP connect has chosen its source by EINPROGRESS */
    if (ret != 0 && ret != -EINPROGRESS) return 0;
    const struct sock *sk = fd_sock(PT_REGS_PARM1_CORE_SYSCALL(regs));
    if (sk) sock_event(sk, FS_SE_CONNECT, 1);
  } else if (nr == NR_ACCEPT || nr == NR_ACCEPT4) {
    const struct sock *sk = ret >= 0 ? fd_sock(ret) : NULL;
    if (sk) sock_event(sk, FS_SE_ACCEPT, 1);
  }
  return 0;
}

SEC("raw_tp/inet_sock_set_state")
int fs_tcp_state(struct bpf_raw_tracepoint_args *ctx) {
  if (ctx->args[2] != TCP_CLOSE) return 0;
  sock_event((const struct sock *)ctx->args[0], FS_SE_CLOSE, 0);
  return 0;
}

struct seen_key {
  __u64 cookie;
  __u32 tgid;
  __u16 lport;
  __u16 rport;
  __u8 raddr[16];
};

/* UDP socket, process and peer → when last reported */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct seen_key);
  __type(value, __u64);
} seen SEC(".maps");

/* The peer of a UDP socket's send or receive, as the cgroup hook sees it: reported the first time
 * this socket and process meet the peer, then at most every REFRESH_NS. */
static __always_inline void udp_event(struct bpf_sock_addr *ctx, __u8 kind, int v6) {
  struct bpf_sock *sk = ctx->sk;
  if (!sk || ctx->protocol != IPPROTO_UDP) return;
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  __u32 netns = task_netns(task);
  if (netns_only && netns != netns_only) return;
  struct seen_key key = {};
  key.cookie = bpf_get_socket_cookie(ctx);
  key.tgid = bpf_get_current_pid_tgid() >> 32;
  key.lport = sk->src_port;
  key.rport = bpf_ntohs(ctx->user_port);
  if (v6) {
    __u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];
    __builtin_memcpy(key.raddr, &a0, 4);
    __builtin_memcpy(key.raddr + 4, &a1, 4);
    __builtin_memcpy(key.raddr + 8, &a2, 4);
    __builtin_memcpy(key.raddr + 12, &a3, 4);
  } else {
    map_v4(key.raddr, ctx->user_ip4);
  }
  __u64 now = bpf_ktime_get_ns();
  __u64 *last = bpf_map_lookup_elem(&seen, &key);
  if (last && now - *last < REFRESH_NS) return;
  bpf_map_update_elem(&seen, &key, &now, BPF_ANY);
  struct fs_sock_event *e = reserve();
  if (!e) return;
  __builtin_memset(e, 0, sizeof(*e));
  if (v6) {
    __u32 l0 = sk->src_ip6[0], l1 = sk->src_ip6[1], l2 = sk->src_ip6[2], l3 = sk->src_ip6[3];
    __builtin_memcpy(e->laddr, &l0, 4);
    __builtin_memcpy(e->laddr + 4, &l1, 4);
    __builtin_memcpy(e->laddr + 8, &l2, 4);
    __builtin_memcpy(e->laddr + 12, &l3, 4);
  } else {
    map_v4(e->laddr, sk->src_ip4);
  }
  __builtin_memcpy(e->raddr, key.raddr, 16);
  e->lport = key.lport;
  e->rport = key.rport;
  e->netns = netns;
  e->kind = kind;
  e->protocol = IPPROTO_UDP;
  current_task(e);
  bpf_ringbuf_submit(e, 0);
}

SEC("cgroup/sendmsg4")
int fs_udp_send4(struct bpf_sock_addr *ctx) {
  udp_event(ctx, FS_SE_SEND, 0);
  return 1;
}

SEC("cgroup/sendmsg6")
int fs_udp_send6(struct bpf_sock_addr *ctx) {
  udp_event(ctx, FS_SE_SEND, 1);
  return 1;
}

SEC("cgroup/recvmsg4")
int fs_udp_recv4(struct bpf_sock_addr *ctx) {
  udp_event(ctx, FS_SE_RECV, 0);
  return 1;
}

SEC("cgroup/recvmsg6")
int fs_udp_recv6(struct bpf_sock_addr *ctx) {
  udp_event(ctx, FS_SE_RECV, 1);
  return 1;
}

/* A socket bound to its local end: a server's, before any traffic. */
static __always_inline void bind_event(struct bpf_sock *sk, int v6) {
  if (sk->protocol != IPPROTO_TCP && sk->protocol != IPPROTO_UDP) return;
  __u32 netns = task_netns((struct task_struct *)bpf_get_current_task());
  if (netns_only && netns != netns_only) return;
  struct fs_sock_event *e = reserve();
  if (!e) return;
  __builtin_memset(e, 0, sizeof(*e));
  if (v6) {
    __u32 l0 = sk->src_ip6[0], l1 = sk->src_ip6[1], l2 = sk->src_ip6[2], l3 = sk->src_ip6[3];
    __builtin_memcpy(e->laddr, &l0, 4);
    __builtin_memcpy(e->laddr + 4, &l1, 4);
    __builtin_memcpy(e->laddr + 8, &l2, 4);
    __builtin_memcpy(e->laddr + 12, &l3, 4);
  } else {
    map_v4(e->laddr, sk->src_ip4);
  }
  e->lport = sk->src_port;
  e->netns = netns;
  e->kind = FS_SE_BIND;
  e->protocol = sk->protocol;
  current_task(e);
  bpf_ringbuf_submit(e, 0);
}

SEC("cgroup/post_bind4")
int fs_bind4(struct bpf_sock *sk) {
  bind_event(sk, 0);
  return 1;
}

SEC("cgroup/post_bind6")
int fs_bind6(struct bpf_sock *sk) {
  bind_event(sk, 1);
  return 1;
}
