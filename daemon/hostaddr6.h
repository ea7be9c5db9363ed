/* SPDX-License-Identifier: MIT */
/*
 * IPv6 candidates: this host's global IPv6 address, offered to a peer for
 * the simopen6 method (daemon/trav/simopen6.c), and the check of the one a
 * peer offers. Ours come from /proc/net/if_inet6 (it has the address
 * flags getifaddrs lacks): global scope, global unicast (2000::/3: no
 * link-local, loopback, multicast, unspecified, v4-mapped or ULA address),
 * not tentative, deprecated or failed duplicate address detection, on an
 * interface host-interfaces allows (daemon/config.h). The parsers and
 * classifiers are pure.
 *
 * Behind an NPTv6 gateway (RFC 6296: the site's prefix swapped for another
 * on the way out, interface id and ports kept) the host's own address is
 * not the one a peer can reach. With server6 set, discovery's IPv6 part
 * (probes/probe6.c: Bindings to the server's IPv6 address, TCP and UDP)
 * tells the address the server saw, and that one is offered instead: the
 * learnt address comes from the server's answer (proto/stun_attr.c's
 * parser), never from a peer. Only a translation that kept the port is
 * used: simopen6's SYNs must meet at the port the peer's socket is bound
 * to, and a NAT66 that picks ports per flow would need the port learnt per
 * attempt (as daemon/trav/learn.c does for IPv4), which is not done.
 */
#ifndef STUNT_DAEMON_HOSTADDR6_H
#define STUNT_DAEMON_HOSTADDR6_H

#include "daemon/config.h"
#include "probes/probe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define D_MAX_HOST6_ADDRS	4	/* of ours, looked at; one is offered */

/* What discovery learnt of our IPv6 address (server6). */
struct d_v6pub {
	bool		known;		/* the server answered a Binding over IPv6 */
	bool		tcp;		/* from the TCP Binding, else the UDP one */
	bool		translated;	/* mapped != local */
	bool		port_kept;	/* mapped port == local port */
	uint8_t		local[16];	/* the address the Binding left from */
	uint8_t		mapped[16];	/* the address the server saw */
};

/* The firewall's distance discovery measured (probes/probe6_fw.c): the
 * smallest hop limit whose SYN opened our firewall for the server's, 0 not
 * measured; and why not. Kept apart from d_v6pub: it outlives a discovery
 * that measures nothing, the address does not. */
struct d_v6hops {
	int		value;
	char		why[PROBE_NOTE_LEN];
};

/* Is ip global unicast (2000::/3)? */
bool d_hostaddr6_global(const uint8_t ip[16]);
/* One line of /proc/net/if_inet6 ("ADDR32HEX IFINDEX PLEN SCOPE FLAGS
 * IFNAME"): 1 and ip, ifname (at least IFNAMSIZ bytes) when it is an
 * address we may offer, 0 when it is not, -EINVAL when the line is not
 * one. */
int d_hostaddr6_parse_line(const char *line, uint8_t ip[16], char *ifname);
/* May the peer's candidate ip be connected to: global unicast and none of
 * our nown addresses own? */
bool d_hostaddr6_peer_ok(const uint8_t ip[16], const uint8_t (*own)[16], size_t nown);
/* Our addresses (c->ipv6 on), at most max, in the kernel's order: their
 * number (0 with ipv6 off or none), or -errno. */
int d_hostaddr6_gather(const struct d_config *c, uint8_t (*out)[16], size_t max);

/* Our addresses as one session sees them: read once, when the session
 * first needs them (the requester's choice of methods, simopen6's socket,
 * the check of the peer's candidate all take the same list). Zeroed: not
 * read yet. */
struct d_host6 {
	bool		gathered;	/* n and addr hold the read's result */
	int		n;		/* d_hostaddr6_gather's answer: the number, or -errno */
	uint8_t		addr[D_MAX_HOST6_ADDRS][16];
};
/* h's addresses: d_hostaddr6_gather(c, h->addr, D_MAX_HOST6_ADDRS) the
 * first time, its answer kept and returned again after. */
int d_hostaddr6_once(const struct d_config *c, struct d_host6 *h);
/* Our public IPv6 address from discovery's IPv6 part v: the TCP Binding's
 * mapped and local address (what simopen6's TCP meets), else the UDP
 * Binding's; out->known false when neither was answered. Pure. */
void d_hostaddr6_learn(const struct probe6_result *v, struct d_v6pub *out);
/* The firewall's distance a run measured into out->value: true when it
 * did; else out keeps what it had (an earlier run's value, which one run
 * that found none does not undo) and, with none, the run's reason in
 * out->why. Pure. */
bool d_hostaddr6_learn_hops(const struct probe6_result *v, struct d_v6hops *out);
/* The hop limit of an IPv6 first SYN or PUNCH (simopen6, udp6):
 * ipv6-hop-limit when set, else the measure, else D_IPV6_HOPS_FALLBACK;
 * *from (may be NULL): "configured", "measured" or "default". */
unsigned d_hostaddr6_hops(const struct d_config *c, const struct d_v6hops *m, const char **from);
/* Which of our addresses own[0..n) simopen6 binds (local) and which
 * address it offers (offer): the one the server saw leave, when it is one
 * of them, offered in its translated form when pub says the translation
 * kept the port; else own[0], as it is. 1 when offer is a translated
 * address, 0 when it is local itself, -ENOENT when n is 0. Pure. */
int d_hostaddr6_pick(const struct d_v6pub *pub, const uint8_t (*own)[16], size_t n,
		     uint8_t local[16], uint8_t offer[16]);
/* Our addresses own[0..n) (d_hostaddr6_gather's answer n: -errno is
 * returned as it is), at most max - 1 of them, and our learnt public
 * address after them when it is a translated one (a peer naming it names
 * us): the list a peer's candidate is checked against, in out. Their
 * number, or n when it is negative. Pure. */
int d_hostaddr6_ours(const uint8_t (*own)[16], int n, const struct d_v6pub *pub,
		     uint8_t (*out)[16], size_t max);

#endif
