/* A file's access control list carried to the file that replaces it (addon_acl.c): its mode alone
 * gave the group the list's mask, and took from named users what the list gave them. */
#ifndef FS_ADDON_ACL_H
#define FS_ADDON_ACL_H
#include <node_api.h>

/* copyAccessAcl(fromPath, toFd): the POSIX access ACL of fromPath (not followed if a symlink), set
 * on toFd; false where fromPath has none (or its file system keeps none). Throws an error with the
 * errno (negative, as Node's own errors carry it) where it has one that cannot be carried. */
napi_value fs_js_copy_access_acl(napi_env env, napi_callback_info info);

#endif
