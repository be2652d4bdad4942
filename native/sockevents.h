/* System visibility by kernel events (sockevents.c): the BPF programs, the reader thread and the
 * table of sockets; plain C, its JavaScript functions in addon_system.c. */
#ifndef FS_SOCKEVENTS_API_H
#define FS_SOCKEVENTS_API_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* whether this addon was built with the BPF programs */
bool fs_sockevents_built_in(void);
/* Loads the programs and starts the reader; NULL once they run, else why not (written into why).
 * An entry stays grace_ms after its socket closed or its UDP traffic was last reported. */
const char *fs_sockevents_start(int64_t grace_ms, char *why, size_t size);
void fs_sockevents_stop(void);

/* A batch's flows are matched between begin (reads what the ring holds, takes the table's lock;
 * false when nothing was started) and end; an owner's strings are valid until end. */
struct fs_sock_owner {
  uint32_t tgid, uid;
  const char *comm, *cmdline;
};
bool fs_sockevents_begin(void);
bool fs_sockevents_owner(uint8_t protocol, const char *src_ip, uint16_t src_port, const char *dst_ip, uint16_t dst_port,
                         struct fs_sock_owner *out);
void fs_sockevents_end(void);

/* events read, sockets known, events the table had no room for, events lost to a full ring buffer,
 * the reader thread's CPU, and the programs' own run time and runs (while run-time stats are on) */
struct fs_sockevents_stats {
  double events, sockets, table_full, lost, reader_cpu_ns, program_run_ns, program_runs;
};
void fs_sockevents_stats(struct fs_sockevents_stats *out);
/* the kernel counts every BPF program's run time while on; true if it could */
bool fs_sockevents_run_time_stats(bool on);

/* The name of a user id (getpwuid_r, so NSS users too); "" if it has none. */
void fs_user_name(uint32_t uid, char *out, size_t size);

#endif
