#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include "addon_acl.h"

/* the extended attribute the kernel keeps a file's access ACL in, as setfacl writes it */
#define ACCESS_ACL "system.posix_acl_access"
/* a list of 4,096 entries (8 bytes each, 4 of header): more than any file system stores */
#define ACL_MOST (4 + 8 * 4096)

static napi_value throw_errno(napi_env env, int err, const char *what) {
  napi_value code, msg, error, number;
  char text[256];
  snprintf(text, sizeof(text), "%s: %s", what, strerror(err));
  napi_create_string_utf8(env, "FS_ACL", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &number);
  napi_set_named_property(env, error, "errno", number);
  napi_throw(env, error);
  return NULL;
}

napi_value fs_js_copy_access_acl(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0;
  napi_value argv[2], result;
  char path[4097];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &len) != napi_ok || len >= sizeof(path) - 1 ||
      napi_get_value_int32(env, argv[1], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "FS_ARG", "copyAccessAcl() needs a path and a descriptor");
    return NULL;
  }
  uint8_t *acl = malloc(ACL_MOST);
  if (!acl) return throw_errno(env, ENOMEM, "reading its access list");
  ssize_t n = lgetxattr(path, ACCESS_ACL, acl, ACL_MOST);
  bool none = n < 0 && (errno == ENODATA || errno == ENOTSUP);
  if (n < 0 && !none) { int err = errno; free(acl); return throw_errno(env, err, "reading its access list"); }
  if (!none && fsetxattr(fd, ACCESS_ACL, acl, (size_t)n, 0) != 0) { int err = errno; free(acl); return throw_errno(env, err, "giving its access list"); }
  free(acl);
  napi_get_boolean(env, !none, &result);
  return result;
}
