/* After a capture is open, its worker needs no privilege: the socket stays usable. Root becomes
 * nobody (65534, no supplementary groups); a user with file capabilities loses them all. Then
 * no_new_privs, so nothing run later can gain any back. */
#include <grp.h>
#include <linux/capability.h>
#include <node_api.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "privileges.h"

#define NOBODY 65534

static const char *drop(void) {
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

/* dropPrivileges(): a sentence saying what is kept; throws if the drop failed */
napi_value fs_js_drop_privileges(napi_env env, napi_callback_info info) {
  (void)info;
  const char *what = drop();
  if (!what) {
    napi_throw_error(env, "FS_PRIVILEGES", "could not drop privileges after opening the capture");
    return NULL;
  }
  napi_value v;
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &v);
  return v;
}
