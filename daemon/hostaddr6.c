// SPDX-License-Identifier: MIT
/* IPv6 candidates: this host's global addresses (see hostaddr6.h). */
#include "daemon/hostaddr6.h"
#include "daemon/hostaddr.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

/* /proc/net/if_inet6's scope and flags (linux/if_addr.h, net/ipv6.h) */
#define SCOPE_GLOBAL		0x00
#define F_DADFAILED		0x08
#define F_DEPRECATED		0x20
#define F_TENTATIVE		0x40

bool d_hostaddr6_global(const uint8_t ip[16])
{
	return (ip[0] & 0xe0) == 0x20;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int d_hostaddr6_parse_line(const char *line, uint8_t ip[16], char *ifname)
{
	unsigned idx, plen, scope, flags;
	char name[IFNAMSIZ];
	int i, hi, lo, n = 0;

	for (i = 0; i < 16; i++) {
		hi = hexval(line[2 * i]);
		lo = hi < 0 ? -1 : hexval(line[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		ip[i] = (uint8_t)(hi << 4 | lo);
	}
	if (line[32] != ' ' ||
	    sscanf(line + 32, " %x %x %x %x %15s%n", &idx, &plen, &scope, &flags, name, &n) != 5 ||
	    n == 0 || plen > 128)
		return -EINVAL;
	snprintf(ifname, IFNAMSIZ, "%s", name);
	return scope == SCOPE_GLOBAL && d_hostaddr6_global(ip) &&
	       !(flags & (F_DADFAILED | F_DEPRECATED | F_TENTATIVE));
}

bool d_hostaddr6_peer_ok(const uint8_t ip[16], const uint8_t (*own)[16], size_t nown)
{
	size_t i;

	if (!d_hostaddr6_global(ip))
		return false;
	for (i = 0; i < nown; i++)
		if (!memcmp(own[i], ip, 16))
			return false;
	return true;
}

int d_hostaddr6_gather(const struct d_config *c, uint8_t (*out)[16], size_t max)
{
	char line[160], ifname[IFNAMSIZ];
	size_t n = 0;
	FILE *f;

	if (!c->ipv6)
		return 0;
	f = fopen("/proc/net/if_inet6", "re");
	if (f == NULL)
		return errno == ENOENT ? 0 : -errno;	/* no IPv6 in this kernel */
	while (n < max && fgets(line, sizeof(line), f))
		if (d_hostaddr6_parse_line(line, out[n], ifname) == 1 &&
		    d_hostaddr_iface_listed(c, ifname))
			n++;
	fclose(f);
	return (int)n;
}

int d_hostaddr6_once(const struct d_config *c, struct d_host6 *h)
{
	if (!h->gathered) {
		h->n = d_hostaddr6_gather(c, h->addr, D_MAX_HOST6_ADDRS);
		h->gathered = true;
	}
	return h->n;
}

void d_hostaddr6_learn(const struct probe6_result *v, struct d_v6pub *out)
{
	const struct probe_ep *loc = &v->tcp_local, *map = &v->tcp_mapped;

	memset(out, 0, sizeof(*out));
	out->tcp = loc->known && loc->v6 && map->known && map->v6;
	if (!out->tcp) {
		loc = &v->local;
		map = &v->mapped[PROBE_EP_A1P1];
		if (!loc->known || !loc->v6 || !map->known || !map->v6)
			return;
	}
	out->known = true;
	memcpy(out->local, loc->ip6, 16);
	memcpy(out->mapped, map->ip6, 16);
	out->translated = memcmp(loc->ip6, map->ip6, 16) != 0;
	out->port_kept = loc->port == map->port;
}

bool d_hostaddr6_learn_hops(const struct probe6_result *v, struct d_v6hops *out)
{
	if (v->syn_hop_limit > 0) {
		out->value = v->syn_hop_limit;
		out->why[0] = '\0';
		return true;
	}
	if (out->value == 0 && v->syn_hop_limit_why[0])
		snprintf(out->why, sizeof(out->why), "%s", v->syn_hop_limit_why);
	return false;
}

unsigned d_hostaddr6_hops(const struct d_config *c, const struct d_v6hops *m, const char **from)
{
	const char *f = "configured";
	unsigned h = c->ipv6_hops;

	if (h == 0 && m->value > 0) {
		h = (unsigned)m->value;
		f = "measured";
	} else if (h == 0) {
		h = D_IPV6_HOPS_FALLBACK;
		f = "default";
	}
	if (from)
		*from = f;
	return h;
}

int d_hostaddr6_pick(const struct d_v6pub *pub, const uint8_t (*own)[16], size_t n,
		     uint8_t local[16], uint8_t offer[16])
{
	size_t i;

	if (n == 0)
		return -ENOENT;
	for (i = 0; pub->known && i < n; i++)
		if (!memcmp(own[i], pub->local, 16))
			break;
	if (!pub->known || i == n)
		i = 0;
	memcpy(local, own[i], 16);
	memcpy(offer, own[i], 16);
	/* the server saw this one leave under another address: NPTv6 when the
	 * port stayed (a global one: the server's answer is checked as a
	 * peer's would be) */
	if (pub->known && !memcmp(own[i], pub->local, 16) && pub->translated && pub->port_kept &&
	    d_hostaddr6_global(pub->mapped)) {
		memcpy(offer, pub->mapped, 16);
		return 1;
	}
	return 0;
}

int d_hostaddr6_ours(const uint8_t (*own)[16], int n, const struct d_v6pub *pub,
		     uint8_t (*out)[16], size_t max)
{
	if (n < 0)
		return n;
	if ((size_t)n > (max > 0 ? max - 1 : 0))
		n = (int)(max > 0 ? max - 1 : 0);
	if (n > 0)
		memcpy(out, own, (size_t)n * 16);
	if (max > 0 && pub->known && pub->translated)
		memcpy(out[n++], pub->mapped, 16);
	return n;
}
