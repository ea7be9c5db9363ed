// SPDX-License-Identifier: MIT
/*
 * simopen6: TCP simultaneous open over IPv6, through the stateful firewalls
 * (RFC 6092: outbound allowed, unsolicited inbound dropped or rejected) in
 * front of two dual-stack hosts. Each side offers one global IPv6 address
 * of its own (daemon/hostaddr6.c) as a SIG_CAND_HOST candidate of this
 * method, on the port its IPv6 socket is bound to -- behind an NPTv6
 * gateway in the form the server saw it (server6, d_hostaddr6_pick: the
 * translation keeps the interface id and the port) -- and connects from
 * that socket to the peer's -- raced first, beside the IPv4 methods
 * (TRAV_F_EARLY: Happy Eyeballs, RFC 8305, in its simplest form; the first
 * connection that is confirmed wins, the others are cancelled silently).
 *
 * One side's first SYN goes first, with hop limit ipv6-hop-limit (measured
 * by discovery, else 2: d_hostaddr6_hops): it crosses its own firewall --
 * which now holds the flow's state -- and dies one hop later, before the
 * other side's firewall, which therefore never answers it (drop or RST: a
 * rejecting firewall's RST would also end our own firewall's state of the
 * flow). The other side connects once that SYN left, at full hop limit:
 * its SYN creates state in its own firewall, finds the first side's
 * firewall open for it (a reply to the first SYN) and meets the first
 * side's socket in SYN_SENT, which answers SYN-ACK (the simultaneous
 * open); that SYN-ACK is a reply for the second side's firewall. One round
 * trip after the second connect, no retransmission waited for. Which side
 * goes first is the signalling's
 * (daemon/negotiate.c), and whatever message lets the other side connect
 * waits for the queue's report that the hop-limited SYN left
 * (TRAV_F_SYN_FIRST, at most 200 ms: on a busy host the queue's verdict can
 * take longer than that message's way to the peer, whose SYN would then
 * find our firewall closed and wait for the kernel's retransmission, a
 * second). Should the full-hop-limit SYN come first all the same, the
 * first side's firewall drops or rejects it (inbound RSTs and ICMPv6
 * errors of the flow are dropped for the attempt, so the connect is not
 * aborted) and a kernel's retransmission a second later gets in.
 *
 * The responder first (v6_first, both sides set SIG_NAT_V6_FIRST in their
 * EXCHANGE: the requester offers it, the responder echoes it): the
 * responder knows the requester's address from the requester's EXCHANGE,
 * so its hop-limited SYN leaves before its own EXCHANGE, and the requester
 * connects at full hop limit as that EXCHANGE arrives -- no SCHEDULE half
 * round trip before the second SYN. The requester's connect then completes
 * first (the responder's socket answers its SYN), half a round trip before
 * the responder's: the requester writes its session header at once
 * (trav_proof.early_hdr, as host does), so that header arrives with the
 * handshake's last ACK and the responder's proof and 'K' leave together --
 * 3.5 round trips from the connect request at the lab's delays instead of
 * 4.5. The header is 28 bytes (magic, method, session id, the requester's
 * proof: worth nothing on another connection); a host that is not the
 * peer but answered our SYN gets that and a FIN, and nothing is handed
 * off before the responder's proof verified. The requester first (an
 * older stuntd on either side, which neither sets nor echoes the bit): the
 * requester connects on the responder's EXCHANGE, hop-limited, and its
 * SCHEDULE waits for that SYN; the responder connects on the SCHEDULE
 * indication; the requester waits for the responder's proof before its
 * header (here the responder's connect completes first, and an early
 * header would gain nothing).
 *
 * Linux drops a packet whose hop limit runs out at a router before the
 * router's forward hook, so such a packet creates no conntrack state
 * there: the hop limit must reach one hop beyond our own firewall, 2 for a
 * host right behind its router (the lab's). Discovery measures it against
 * the server over IPv6 (probes/probe6_fw.c: the smallest hop limit whose
 * SYN lets the server's SYN back in), and d_hostaddr6_hops() takes that
 * unless ipv6-hop-limit is set; with neither, 2.
 *
 * The peer's address is only its word (the server vouches for its IPv4
 * address, not this one): it is taken only when it is global unicast and
 * none of ours (daemon/negotiate.c), and nothing but the attempt's SYNs
 * goes to it before the peer proved who it is on the connection but the
 * requester's early header above: the responder proves first
 * (daemon/trav/proof.c, as host), the requester takes the connection only
 * once that proof verified, and its session header carries its own proof
 * (confirm.c).
 */
#include "daemon/trav/trav.h"

#include "daemon/hostaddr6.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct simopen6_priv {
	struct trav_proof	proof;		/* first: proof.c */
	uint8_t			own[16];	/* our address: the socket's */
	uint8_t			offer[16];	/* own, or own as NPTv6 translates it */
	bool			have_peer;
};

static int simopen6_prepare(struct trav_attempt *a)
{
	const struct d_host6 *h = a->events->host6(a);	/* read once per session */
	struct simopen6_priv *p;
	int n = h->n, fd;

	if (n <= 0) {
		snprintf(a->why, sizeof(a->why), "simopen6: no global IPv6 address%s",
			 g_d->cfg.ipv6 ? "" : " (ipv6 off)");
		return n < 0 ? n : -EADDRNOTAVAIL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	d_hostaddr6_pick(&g_d->v6pub, h->addr, (size_t)n, p->own, p->offer);
	fd = trav_sock_marked6(p->own, &a->lport);
	if (fd < 0) {
		free(p);
		return fd;
	}
	a->priv = p;
	a->family = AF_INET6;
	a->ev.fd = fd;
	a->ev.arg = a;
	return 0;
}

static void simopen6_offer(const struct trav_attempt *a, struct sig_candidate *c,
			   struct sig_exchange *x)
{
	const struct simopen6_priv *p = a->priv;

	(void)x;
	c->kind = SIG_CAND_HOST;
	c->addr.family = STUN_FAMILY_IPV6;
	/* test-candidate-ip6: lie about our address, as a hostile peer would */
	memcpy(c->addr.ip, g_d->cfg.has_test_cand_ip6 ? g_d->cfg.test_cand_ip6 : p->offer, 16);
}

static void simopen6_arm(struct trav_attempt *a, const struct trav_peer *peer, int syn_ttl)
{
	struct simopen6_priv *p = a->priv;

	(void)syn_ttl;
	a->raddr = 0;
	p->have_peer = peer->ip6 != NULL;
	if (p->have_peer)
		memcpy(a->raddr6, peer->ip6, 16);
	/* the first side's SYN hop-limited, the other's not (above) */
	a->ttl = a->requester != peer->v6_first ?
		 (int)d_hostaddr6_hops(&g_d->cfg, &g_d->v6hops, NULL) : 0;
	trav_proof_arm(&p->proof, a, peer);
	/* the requester's connect completes first: its header at once */
	p->proof.early_hdr = a->requester && peer->v6_first;
}

static int simopen6_start(struct trav_attempt *a, uint64_t now)
{
	struct simopen6_priv *p = a->priv;

	if (!p->proof.have_key || !p->have_peer) {
		snprintf(a->why, sizeof(a->why), "simopen6: the peer sent no %s",
			 p->have_peer ? "session key" : "IPv6 candidate we take");
		return -EINVAL;
	}
	a->ev.cb = trav_proof_on_connect;
	return trav_sock_connect_flow(a, &a->ev, a->lport, a->rport, now);
}

const struct trav_ops trav_simopen6_ops = {
	.method = SIG_M_SIMOPEN6, .flags = TRAV_F_EARLY | TRAV_F_OWN_ENDPOINT | TRAV_F_REPORT_SYN | TRAV_F_SYN_FIRST,
	.role = trav_role_connect, .prepare = simopen6_prepare, .offer = simopen6_offer,
	.arm = simopen6_arm, .start = simopen6_start, .close = trav_free_priv,
};
