// SPDX-License-Identifier: MIT
/* Host candidates: this host's addresses (see hostaddr.h). */
#include "daemon/hostaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

static bool in_net(uint32_t ip, uint32_t net, unsigned bits)
{
	uint32_t h = ntohl(ip), m = bits ? 0xffffffffu << (32 - bits) : 0;

	return (h & m) == (net & m);
}

bool d_hostaddr_usable(uint32_t ip)
{
	return !in_net(ip, 0x00000000, 8) && !in_net(ip, 0x7f000000, 8) &&
	       !in_net(ip, 0xa9fe0000, 16) && !in_net(ip, 0xe0000000, 3);
}

bool d_hostaddr_private(uint32_t ip)
{
	return in_net(ip, 0x0a000000, 8) || in_net(ip, 0xac100000, 12) ||
	       in_net(ip, 0xc0a80000, 16) || in_net(ip, 0x64400000, 10);
}

bool d_hostaddr_carrier(const struct d_hostaddr *own, size_t nown, uint32_t peer)
{
	size_t k;
	bool on_link = false;

	if (!in_net(peer, 0x64400000, 10))
		return false;
	for (k = 0; k < nown; k++) {
		if (own[k].ip == peer)
			return false;	/* ours: never a peer's */
		if (in_net(own[k].ip, 0x64400000, 10) && ((peer ^ own[k].ip) & own[k].mask) == 0)
			on_link = true;
	}
	return on_link;
}

size_t d_hostaddr_pick(const struct d_hostaddr *own, size_t nown, const uint32_t *peer,
		       size_t npeer)
{
	size_t i, k;

	for (i = 0; i < npeer; i++)
		for (k = 0; k < nown; k++)
			if (((peer[i] ^ own[k].ip) & own[k].mask) == 0)
				return i;
	return 0;
}

bool d_hostaddr_iface_listed(const struct d_config *c, const char *name)
{
	size_t i;

	if (c->nhost_ifaces == 0)
		return true;
	for (i = 0; i < c->nhost_ifaces; i++)
		if (!strcmp(c->host_ifaces[i], name))
			return true;
	return false;
}

int d_hostaddr_gather(const struct d_config *c, struct d_hostaddr *out, size_t max)
{
	struct ifaddrs *ifa, *p;
	size_t n = 0, i;
	uint32_t ip;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (p = ifa; p && n < max; p = p->ifa_next) {
		if (p->ifa_addr == NULL || p->ifa_addr->sa_family != AF_INET ||
		    !(p->ifa_flags & IFF_UP) || (p->ifa_flags & IFF_LOOPBACK) ||
		    !d_hostaddr_iface_listed(c, p->ifa_name))
			continue;
		ip = ((const struct sockaddr_in *)(const void *)p->ifa_addr)->sin_addr.s_addr;
		if (!d_hostaddr_usable(ip))
			continue;
		for (i = 0; i < n && out[i].ip != ip; i++)
			;
		if (i < n)
			continue;
		out[n].ip = ip;
		out[n].mask = p->ifa_netmask ?
			((const struct sockaddr_in *)(const void *)p->ifa_netmask)->sin_addr.s_addr :
			0xffffffffu;
		n++;
	}
	freeifaddrs(ifa);
	return (int)n;
}
