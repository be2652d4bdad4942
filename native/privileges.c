/* After a capture is open, its worker needs no privilege: the socket stays usable. Root becomes
 * nobody (65534, no supplementary groups); a user with file capabilities loses them all. Then
 * no_new_privs, so nothing run later can gain any back. */
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "privileges.h"

#define NOBODY 65534

const char *fs_drop_privileges(void) {
  if (geteuid() == 0) {
    if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) return NULL;
  } else {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    if (syscall(SYS_capset, &h, d) != 0) return NULL;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return NULL;
  return geteuid() == NOBODY ? "running as nobody, without capabilities" : "running without capabilities";
}

