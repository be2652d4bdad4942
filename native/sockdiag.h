/* The host's TCP and UDP sockets through netlink sock_diag, keyed as /proc/net writes them. */
#ifndef FS_SOCKDIAG_H
#define FS_SOCKDIAG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fs_sockets {
  char (*text)[96];
  double *inode;
  size_t n, cap;
};

/* The sockets that appeared since the last call (all of them at the first, or with reset) into
 * added, and the keys gone into gone; -1 when sock_diag is unavailable (both left empty). */
int fs_socket_changes(bool reset, struct fs_sockets *added, struct fs_sockets *gone);
/* The sockets at either end of each flow key (the meter's newFlowKeys, len bytes); -1 when
 * sock_diag is unavailable. */
int fs_socket_lookup(const uint8_t *keys, size_t len, struct fs_sockets *found);
void fs_sockets_free(struct fs_sockets *p);

#endif
