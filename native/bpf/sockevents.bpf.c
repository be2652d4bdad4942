// SPDX-License-Identifier: LGPL-3.0-or-later OR GPL-2.0-only
/*
 * The kernel side of system visibility: at the moment a socket connects, accepts, sends, receives
 * or binds, who did it — network namespace, 5-tuple, pid, thread group, process name, command line
 * and uid — into a ring buffer that native/sockevents.c reads. CO-RE (vmlinux.h from the build
 * machine's BTF), so one object loads on any kernel with BTF from 6.1 on.
 *
 * Attach points: only program types every kernel from Debian 12's 6.1 on has, whatever its
 * tracing options — no kprobes (CONFIG_KPROBE_EVENTS), no fentry (BPF trampolines), which some
 * kernels leave out (this project's CI machine's among them), and no cgroup hooks (a cgroup v2
 * mount may not be in sight: `ip netns exec` hides it). See README, "System visibility".
 *  - raw_tp/sys_exit, for the socket calls only (the number is checked first; any other call
 *    returns at once): in the calling process, after the call, with the socket found from its
 *    file descriptor, so its ends are the kernel's —
 *      connect(), accept(), accept4(): TCP either way, connected UDP;
 *      sendto(), sendmsg(), sendmmsg() with an address: an unconnected UDP socket's peer;
 *      recvfrom(), recvmsg(), recvmmsg() asked for the sender: the same, the other way;
 *      bind(): a server's local end, before any traffic;
 *  - raw_tp/inet_sock_set_state (to TCP_CLOSE): a TCP socket's end, so that its owner is kept
 *    only for a grace period after.
 * UDP events are sent once per socket, process and peer, then again every REFRESH_NS while
 * traffic goes on.
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

/* arm64 keeps the call's number in its pt_regs (relocated against the kernel's by name) */
struct pt_regs___arm64_nr {
  int syscallno;
} __attribute__((preserve_access_index));

#if defined(__TARGET_ARCH_x86)
#define NR_CONNECT 42
#define NR_ACCEPT 43
#define NR_ACCEPT4 288
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#define NR_BIND 49
#define NR_RECVMMSG 299
#define NR_SENDMMSG 307
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NR_CONNECT 203
#define NR_ACCEPT 202
#define NR_ACCEPT4 242
#define NR_BIND 200
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#define NR_RECVMMSG 243
#define NR_SENDMMSG 269
#define SYSCALL_NR(regs) BPF_CORE_READ((struct pt_regs___arm64_nr *)(regs), syscallno)
#else
#error "sys_exit: system call numbers of this architecture are not known"
#endif

#define EINPROGRESS 115

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

/* Wakes the reader only once this much is waiting: it also looks every 100 ms by itself and
 * before each batch of flows is matched, and a wake-up per event would cost more than the event. */
#define WAKE_BYTES (64 * sizeof(struct fs_sock_event))

static __always_inline void submit(struct fs_sock_event *e) {
  bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKE_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
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
  /* a TCP socket closing has given its port back already (tcp_set_state puts it before the
   * tracepoint): its source port is still there */
  if (!e->lport) e->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
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
  if (!sk) return;
  __u32 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  if (netns_only && netns != netns_only) return;
  __u16 protocol = BPF_CORE_READ(sk, sk_protocol);
  if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) return;
  struct fs_sock_event *e = reserve();
  if (!e) return;
  __builtin_memset(e, 0, sizeof(*e));
  /* a bound socket, or a listener closing, has no remote end */
  if (!sock_tuple(e, sk) || !e->lport || (!e->rport && kind != FS_SE_BIND && kind != FS_SE_CLOSE)) {
    bpf_ringbuf_discard(e, 0);
    return;
  }
  e->netns = netns;
  e->kind = kind;
  e->protocol = protocol;
  if (with_task) current_task(e);
  submit(e);
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

struct seen_key {
  __u64 sk;
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

/* A UDP socket's datagram to or from a peer (a sockaddr in the caller's memory, which the call has
 * just read or written): reported the first time this socket and process meet the peer, then at
 * most every REFRESH_NS. */
static __always_inline void udp_peer(long fd, const void *uaddr, __u8 kind) {
  /* no address (a connected socket's send, a read that did not ask): nothing to look up */
  if (!uaddr) return;
  const struct sock *sk = fd_sock(fd);
  if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP) return;
  __u32 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  if (netns_only && netns != netns_only) return;
  struct sockaddr_in6 sa = {};
  if (bpf_probe_read_user(&sa, sizeof(sa), uaddr) != 0 &&
      bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), uaddr) != 0) return;
  struct seen_key key = {};
  if (sa.sin6_family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&sa;
    map_v4(key.raddr, sin->sin_addr.s_addr);
  } else if (sa.sin6_family == AF_INET6) {
    __builtin_memcpy(key.raddr, &sa.sin6_addr, 16);
  } else {
    return;
  }
  key.rport = bpf_ntohs(sa.sin6_port); /* where sin_port is too */
  if (!key.rport) return;
  key.sk = (__u64)sk;
  key.tgid = bpf_get_current_pid_tgid() >> 32;
  key.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
  __u64 now = bpf_ktime_get_ns();
  __u64 *last = bpf_map_lookup_elem(&seen, &key);
  if (last && now - *last < REFRESH_NS) return;
  bpf_map_update_elem(&seen, &key, &now, BPF_ANY);
  struct fs_sock_event *e = reserve();
  if (!e) return;
  __builtin_memset(e, 0, sizeof(*e));
  if (!sock_tuple(e, sk)) {
    bpf_ringbuf_discard(e, 0);
    return;
  }
  __builtin_memcpy(e->raddr, key.raddr, 16);
  e->rport = key.rport;
  e->netns = netns;
  e->kind = kind;
  e->protocol = IPPROTO_UDP;
  current_task(e);
  submit(e);
}

/* The address of a msghdr in the caller's memory (sendmsg, recvmsg; the first of sendmmsg's). */
static __always_inline const void *msg_name(const void *umsg) {
  void *name = NULL;
  if (umsg) bpf_probe_read_user(&name, sizeof(name), umsg + __builtin_offsetof(struct user_msghdr, msg_name));
  return name;
}

SEC("raw_tp/sys_exit")
int fs_sys_exit(struct bpf_raw_tracepoint_args *ctx) {
  struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
  long nr = SYSCALL_NR(regs), ret = ctx->args[1];
  switch (nr) {
  case NR_CONNECT:
    /* a non-blocking TCP connect has chosen its source by EINPROGRESS */
    if (ret == 0 || ret == -EINPROGRESS) sock_event(fd_sock(PT_REGS_PARM1_CORE_SYSCALL(regs)), FS_SE_CONNECT, 1);
    break;
  case NR_ACCEPT:
  case NR_ACCEPT4:
    if (ret >= 0) sock_event(fd_sock(ret), FS_SE_ACCEPT, 1);
    break;
  case NR_BIND:
    if (ret == 0) sock_event(fd_sock(PT_REGS_PARM1_CORE_SYSCALL(regs)), FS_SE_BIND, 1);
    break;
  case NR_SENDTO:
  case NR_RECVFROM:
    if (ret >= 0)
      udp_peer(PT_REGS_PARM1_CORE_SYSCALL(regs), (const void *)PT_REGS_PARM5_CORE_SYSCALL(regs),
               nr == NR_SENDTO ? FS_SE_SEND : FS_SE_RECV);
    break;
  case NR_SENDMSG:
  case NR_RECVMSG:
  case NR_SENDMMSG:
  case NR_RECVMMSG:
    if (ret > 0 || (ret == 0 && (nr == NR_SENDMSG || nr == NR_RECVMSG)))
      udp_peer(PT_REGS_PARM1_CORE_SYSCALL(regs), msg_name((const void *)PT_REGS_PARM2_CORE_SYSCALL(regs)),
               nr == NR_SENDMSG || nr == NR_SENDMMSG ? FS_SE_SEND : FS_SE_RECV);
    break;
  }
  return 0;
}

SEC("raw_tp/inet_sock_set_state")
int fs_tcp_state(struct bpf_raw_tracepoint_args *ctx) {
  if (ctx->args[2] != TCP_CLOSE) return 0;
  sock_event((const struct sock *)ctx->args[0], FS_SE_CLOSE, 0);
  return 0;
}
