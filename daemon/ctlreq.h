/* SPDX-License-Identifier: MIT */
/*
 * The control socket's request line (docs/control.md): one flat JSON
 * object whose values are strings, null, numbers or booleans. Pure.
 * Known keys: cmd, peer, service, method, proto ("tcp" or "udp"); others
 * are ignored.
 */
#ifndef STUNT_DAEMON_CTLREQ_H
#define STUNT_DAEMON_CTLREQ_H

#include "proto/sig.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct d_ctl_req {
	char	cmd[16];
	char	peer[SIG_ID_MAX + 1];
	char	service[SIG_ID_MAX + 1];
	char	method[16];	/* "" when absent or null */
	char	proto[8];	/* "" when absent or null */
};

/* 0, or -EINVAL with a reason for the user in err. */
int d_ctl_req_parse(const char *buf, size_t len, struct d_ctl_req *r, char *err, size_t errlen);

/*
 * May a client with these credentials use the control socket? Root, or a
 * member of the control group (have_gid) by its primary gid or by one of
 * its supplementary groups (SO_PEERGROUPS). Pure.
 */
bool d_ctl_admit(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, bool have_gid,
		 gid_t control_gid);

#endif
