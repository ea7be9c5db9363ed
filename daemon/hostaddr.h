/* SPDX-License-Identifier: MIT */
/*
 * Host candidates: this host's own IPv4 addresses, offered to a peer for
 * the host method (daemon/trav/host.c), and which of the peer's to try.
 * Every interface that is up counts, except loopback; link-local
 * (169.254/16), multicast and broadcast addresses never do; host-interfaces
 * limits the interfaces (daemon/config.h). The classifiers are pure.
 */
#ifndef STUNT_DAEMON_HOSTADDR_H
#define STUNT_DAEMON_HOSTADDR_H

#include "daemon/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define D_MAX_HOST_ADDRS	4	/* offered, and kept of a peer's */

struct d_hostaddr {
	uint32_t	ip;		/* network order */
	uint32_t	mask;		/* network order */
};

/* May ip (network order) be a host candidate at all: not 0.0.0.0/8,
 * loopback, link-local, multicast or reserved/broadcast? */
bool d_hostaddr_usable(uint32_t ip);
/* Is ip private (RFC 1918 10/8, 172.16/12, 192.168/16, or RFC 6598 shared
 * address space 100.64/10)? Only such a peer host candidate is taken. */
bool d_hostaddr_private(uint32_t ip);
/* Is the peer's address peer on the link of one of our addresses, both in
 * a carrier NAT's inside (RFC 6598 100.64/10), and none of ours? There the
 * host method's responder connects to it too (a simultaneous open,
 * host.c). */
bool d_hostaddr_carrier(const struct d_hostaddr *own, size_t nown, uint32_t peer);
/* Which of the peer's host addresses to try: the first in one of our
 * subnets, else the first. npeer > 0. */
size_t d_hostaddr_pick(const struct d_hostaddr *own, size_t nown, const uint32_t *peer,
		       size_t npeer);
/* May interface name's addresses be offered (host-interfaces)? */
bool d_hostaddr_iface_listed(const struct d_config *c, const char *name);
/* Our addresses (getifaddrs), at most max: their number, or -errno. */
int d_hostaddr_gather(const struct d_config *c, struct d_hostaddr *out, size_t max);

#endif
