// SPDX-License-Identifier: MIT
/* stunt-server's privilege drop: see server/privdrop.h. */
#include "server/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT			47
#define PR_CAP_AMBIENT_CLEAR_ALL	4
#endif

int srv_privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	if (!user || !user[0])
		user = SRV_USER_DEFAULT;
	errno = 0;
	if (!(pw = getpwnam(user)))
		return errno ? -errno : -ENOENT;
	if (pw->pw_uid == 0)
		return -EPERM;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Drop every capability from the bounding set (needs CAP_SETPCAP). */
static int bounding_clear(void)
{
	int cap;

	for (cap = 0; cap < 64; cap++) {
		int in = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);

		if (in < 0)
			break;	/* past the kernel's last capability */
		if (in == 1 && prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

/* Empty the ambient set, then permitted, effective and inheritable. */
static int caps_zero(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];

	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(c, 0, sizeof(c));
	return syscall(SYS_capset, &h, c) < 0 ? -errno : 0;
}

int srv_privdrop_caps(void)
{
	int err;

	(void)bounding_clear();	/* only with CAP_SETPCAP */
	if ((err = caps_zero()) < 0)
		return err;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

int srv_privdrop_user(uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];
	int err;

	if (uid == 0)
		return -EPERM;
	/* the bounding set while CAP_SETPCAP is still ours: nothing that
	 * runs later (an exec) can get a capability back */
	if ((err = bounding_clear()) < 0)
		return err;
	/* all three uids non-zero: the kernel empties permitted and
	 * effective (no SECBIT_KEEP_CAPS) */
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return -EPERM;		/* must not be possible any more */
	if ((err = caps_zero()) < 0)
		return err;
	memset(c, 0, sizeof(c));
	if (syscall(SYS_capget, &h, c) < 0)
		return -errno;
	if (c[0].permitted | c[1].permitted | c[0].effective | c[1].effective |
	    c[0].inheritable | c[1].inheritable)
		return -EPERM;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}
