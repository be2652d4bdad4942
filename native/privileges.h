#ifndef FS_PRIVILEGES_H
#define FS_PRIVILEGES_H

/* Root becomes nobody, capabilities go, no_new_privs: a sentence saying what is kept; NULL if the
 * drop failed. */
const char *fs_drop_privileges(void);

#endif
