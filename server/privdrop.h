// SPDX-License-Identifier: MIT
/*
 * stunt-server's privilege drop. By default, once its sockets, raw socket,
 * capture handle and TLS key are open, the server becomes an unprivileged
 * user (--user NAME, default SRV_USER_DEFAULT) with its primary group only,
 * no capability in any set (permitted, effective, inheritable, ambient,
 * bounding) and no_new_privs set. --keep-root skips it (debugging).
 * Capability sets through capset(2) and prctl(2), no libcap. Linux only.
 */
#ifndef STUNT_SERVER_PRIVDROP_H
#define STUNT_SERVER_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#define SRV_USER_DEFAULT	"nobody"

/* user -> uid, gid. -ENOENT (no such user), -EPERM (uid 0: no drop). */
int srv_privdrop_lookup(const char *user, uid_t *uid, gid_t *gid);

/* Become uid/gid for good: groups {gid}, every capability set empty,
 * no_new_privs; verifies that root cannot be regained. 0 or -errno. */
int srv_privdrop_user(uid_t uid, gid_t gid);

/* Not started as root: empty this process's capability sets as far as
 * it may (file capabilities, a capable parent). 0 or -errno. */
int srv_privdrop_caps(void);

#endif
