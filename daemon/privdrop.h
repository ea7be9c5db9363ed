/* SPDX-License-Identifier: MIT */
/*
 * Dropping privileges: capabilities, the user, no_new_privs, a seccomp
 * filter. Used by stuntd's two processes (daemon/priv.c). Linux only.
 */
#ifndef STUNT_DAEMON_PRIVDROP_H
#define STUNT_DAEMON_PRIVDROP_H

#include <stdint.h>
#include <sys/types.h>

/* The unprivileged process's user when none is configured: this one if it
 * exists, else nobody. */
#define D_PRIVDROP_USER "stunt"

/*
 * Keep only the capabilities in keep (bits 1 << CAP_*) as permitted and
 * effective, none inheritable or ambient, and only those in bounding in the
 * bounding set (what a program run as root may get again). 0 or -errno.
 */
int d_privdrop_caps(uint64_t bounding, uint64_t keep);

/* user (NULL or "": D_PRIVDROP_USER, else nobody) -> uid, gid. -ENOENT, -EPERM (uid 0). */
int d_privdrop_lookup(const char *user, uid_t *uid, gid_t *gid);

/* Become uid/gid (its groups too) for good, with no capability left and
 * no_new_privs set. 0 or -errno. */
int d_privdrop_user(uid_t uid, gid_t gid);

/* PR_SET_NO_NEW_PRIVS. */
int d_privdrop_nnp(void);

/* no_new_privs and the seccomp deny list (see daemon/privdrop.c); -ENOTSUP on
 * an architecture it does not know. */
int d_privdrop_seccomp(void);

#endif
