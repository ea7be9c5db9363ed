// SPDX-License-Identifier: MIT
/*
 * The IPv6 part of a run (cfg->server6, issue 17), in the same loop as the
 * IPv4 tests and at the same time: a UDP Binding to the server's primary
 * IPv6 address (our mapped address against the local one: NAT66 / NPTv6
 * or none); once it is answered, the mapping towards the server's other
 * IPv6 address and port (RFC 5780 4.3) and the filtering (CHANGE-REQUEST
 * change IP + port and change port, 4.4) on a second socket; beside them
 * one TCP Binding. The loop's transactions carry it (retransmission,
 * absence windows); its IPv6 sockets are kept out of the IPv4 server's
 * reachability and loss counts (probe_loop.h). The verdicts are the IPv4
 * ones (probe_classify.c): an IPv6 probe_ep compares as an IPv4 one does.
 *
 * The TCP tests over IPv6 are the IPv4 ones' (probe_tcp.c) through the
 * server's STUNT PROBE-UNSOLICITED over IPv6: once the TCP Binding is
 * answered, a test SYN to a port nobody uses (how the firewall, or with
 * none the host, answers an unsolicited SYN: drop / rst / icmp), and on a
 * second connection with a listener beside it (cf, which talks to A1:P1
 * only) test SYNs from A2:P2 and A1:P2 to its public port: the filtering.
 * A server without STUNT over IPv6 refuses them; what is then not measured
 * is named in r->ipv6.unmeasurable.
 *
 * When the loop ended early because the IPv4 server is unreachable (an
 * IPv6-only host), probe_run runs this part again in a loop of its own.
 *
 * cfg->server6_addr_only (stuntd's discovery, NPTv6): the first UDP and
 * TCP Bindings alone, for the mapped address; nothing else is sent.
 */
#include "probes/probe_int.h"

#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


/* The PROBE-UNSOLICITED tests: filtering (change IP + port, change port),
 * and the unsolicited SYN to a port nobody uses. */
enum { U6_IPPORT, U6_PORT, U6_UNSOL, U6_MAX };

struct probe6_state {
	struct probe_sock	*s1, *s2, *tcp;
	struct probe_tx		*bind1;			/* phase 1, on s1 */
	struct probe_tx		*map[PROBE_EP_MAX];	/* phase 2: A1P2, A2P1, A2P2 on s1 */
	struct probe_tx		*ipport, *port;		/* phase 2: filtering, on s2 */
	struct probe_tx		*tcpb;
	int			 udp_err, tcp_err;	/* a socket could not start: errno */
	/* STUNT over IPv6 */
	struct probe_sock	*cf, *lsn;		/* filtering: own port and listener */
	struct probe_tx		*unsol[U6_MAX];		/* on tcp */
	uint16_t		 cf_public;		/* 0 until cf's Binding is answered */
	unsigned		 wait_ms;		/* 0 until tcp's Binding is answered */
	bool			 no_other, filt_sent;
};

static void ep6_from_sa(struct probe_ep *e, const struct sockaddr_in6 *sa)
{
	e->known = e->v6 = true;
	memcpy(e->ip6, &sa->sin6_addr, 16);
	e->port = ntohs(sa->sin6_port);
}

static void ep6_from_stun(struct probe_ep *e, const struct stun_addr *a)
{
	if (a->family != STUN_FAMILY_IPV6)
		return;
	e->known = e->v6 = true;
	memcpy(e->ip6, a->ip, 16);
	e->port = a->port;
}

static void sa6_from_ep(struct sockaddr_in6 *sa, const struct probe_ep *e, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	memcpy(&sa->sin6_addr, e->ip6, 16);
	sa->sin6_port = htons(port);
}

/* The local address a packet to srv leaves from (no packet sent). */
static int local_addr6(const struct sockaddr_in6 *srv, struct sockaddr_in6 *out)
{
	socklen_t sl = sizeof(*out);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)srv, sizeof(*srv)) == 0 &&
	    getsockname(fd, (struct sockaddr *)out, &sl) == 0)
		ret = 0;
	close(fd);
	return ret;
}

/* Phase 1 answered: the other endpoints, and the filtering on s2. */
static void phase1_done(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe6_state *p = c->p6;
	const struct sockaddr_in6 *srv = &c->cfg->server6;
	struct probe_ep other = { 0 };
	struct sockaddr_in6 dst;
	uint16_t p1 = ntohs(srv->sin6_port);

	if (t->status != PROBE_TX_OK)
		return;
	if (t->has_other)
		ep6_from_stun(&other, &t->other);
	if (other.known) {
		dst = *srv;
		dst.sin6_port = htons(other.port);
		p->map[PROBE_EP_A1P2] = probe_tx_binding6(L, p->s1, &dst, 0, false, NULL, c, 0);
		sa6_from_ep(&dst, &other, p1);
		p->map[PROBE_EP_A2P1] = probe_tx_binding6(L, p->s1, &dst, 0, false, NULL, c, 0);
		sa6_from_ep(&dst, &other, other.port);
		p->map[PROBE_EP_A2P2] = probe_tx_binding6(L, p->s1, &dst, 0, false, NULL, c, 0);
		if (p->s2)
			p->ipport = probe_tx_binding6(L, p->s2, srv, STUN_CHANGE_IP | STUN_CHANGE_PORT,
						      true, NULL, c, 0);
	}
	if (p->s2)
		p->port = probe_tx_binding6(L, p->s2, srv, STUN_CHANGE_PORT, true, NULL, c, 0);
}

static void unsol6(struct probe_ctx *c, struct probe_loop *L, unsigned k, uint16_t port,
		   uint8_t flags)
{
	struct stunt_probe_req pq = { .timeout_ms = c->p6->wait_ms, .port = port, .flags = flags };

	c->p6->unsol[k] = probe_stunt_req(L, c->p6->tcp, STUNT_METHOD_PROBE_UNSOLICITED, &pq, NULL,
					  c, (int)k);
}

/* The filtering tests need the control connection and cf's public port. */
static void filt6_start(struct probe_ctx *c, struct probe_loop *L)
{
	struct probe6_state *p = c->p6;

	if (!p->wait_ms || !p->cf_public || p->filt_sent)
		return;
	p->filt_sent = true;
	/* a one-address server has no other IP to send from (400) */
	if (!p->no_other)
		unsol6(c, L, U6_IPPORT, p->cf_public, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	unsol6(c, L, U6_PORT, p->cf_public, STUN_CHANGE_PORT);
}

/* The TCP Binding answered: the control connection carries STUNT. */
static void tcp_bound(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe6_state *p = c->p6;
	uint16_t used[3];
	unsigned n = 0, wait = 2 * t->rtt_ms + 250;

	if (t->status != PROBE_TX_OK)
		return;
	p->no_other = !t->has_other || t->other.family != STUN_FAMILY_IPV6;
	p->wait_ms = wait < PROBE6_STUNT_WAIT_MIN_MS ? PROBE6_STUNT_WAIT_MIN_MS : wait;
	if (t->has_mapped)
		used[n++] = t->mapped.port;
	used[n++] = p->tcp->lport;
	if (p->cf)
		used[n++] = p->cf->lport;
	unsol6(c, L, U6_UNSOL, probe_unused_port(used, n), 0);
	filt6_start(c, L);
}

static void cf_bound(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;

	if (t->status != PROBE_TX_OK || !t->has_mapped)
		return;
	c->p6->cf_public = t->mapped.port;
	filt6_start(c, L);
}

int probe6_start(struct probe_ctx *c, struct probe_loop *L)
{
	struct probe6_state *p;
	int e;

	free(c->p6);
	if (!(p = c->p6 = calloc(1, sizeof(*p))))
		return -ENOMEM;
	if (c->cfg->what & PROBE_F_UDP) {
		if (!(p->s1 = probe_sock_udp6(L)) ||
		    (!c->cfg->server6_addr_only && !(p->s2 = probe_sock_udp6(L))))
			p->udp_err = errno ? errno : EIO;
		else
			p->bind1 = probe_tx_binding6(L, p->s1, &c->cfg->server6, 0, false,
						     c->cfg->server6_addr_only ? NULL : phase1_done, c, 0);
	}
	if (c->cfg->what & PROBE_F_TCP) {
		if (!(p->tcp = probe_sock_tcp6(L, &c->cfg->server6, false)))
			p->tcp_err = errno ? errno : EIO;
		else
			p->tcpb = probe_tx_binding6(L, p->tcp, NULL, 0, false,
						    c->cfg->server6_addr_only ? NULL : tcp_bound, c, 0);
		if ((!c->cfg->server6_addr_only || c->cfg->server6_fw_hops) &&
		    (e = probe6_fw_start(c, L)) < 0)
			probe_note(c->r, "IPv6: the firewall's distance not measured: %s", strerror(-e));
		if (c->cfg->server6_addr_only)
			return 0;
		/* the filtering's own connection, and a listener on its port
		 * that answers a test SYN the firewall lets in */
		if (p->tcp && (p->cf = probe_sock_tcp6(L, &c->cfg->server6, true))) {
			int fd = probe_listen(AF_INET6, p->cf->lport);

			if (fd >= 0)
				p->lsn = probe_sock_other(L, fd, POLLIN, probe_listen_drain, c);
			probe_tx_binding6(L, p->cf, NULL, 0, false, cf_bound, c, 0);
		}
		if ((c->cfg->what & PROBE_F_TTL) && (e = probe6_ttl_start(c, L)) < 0)
			probe_note(c->r, "IPv6: hops to the server not measured: %s", strerror(-e));
	}
	return 0;
}

/* RFC 5780 4.4: the answer came from where the change asked for, else
 * the server ignored CHANGE-REQUEST (-1); no answer 0; error -1. */
static int filt_got(const struct probe_tx *x, const struct sockaddr_in6 *srv, bool change_ip)
{
	bool ip_changed, port_changed;

	if (!x)
		return -1;
	if (x->status == PROBE_TX_NOANSWER)
		return 0;
	if (x->status != PROBE_TX_OK || x->from.sa.sa_family != AF_INET6)
		return -1;
	ip_changed = memcmp(&x->from.in6.sin6_addr, &srv->sin6_addr, 16) != 0;
	port_changed = x->from.in6.sin6_port != srv->sin6_port;
	return port_changed && ip_changed == change_ip ? 1 : -1;
}

static void udp6_finish(struct probe_ctx *c)
{
	struct probe6_state *p = c->p6;
	struct probe6_result *v = &c->r->ipv6;
	const struct sockaddr_in6 *srv = &c->cfg->server6;
	const struct probe_tx *t = p->bind1;
	struct sockaddr_in6 loc;
	unsigned i;

	if (p->udp_err) {
		probe_note(c->r, "IPv6: UDP socket: %s", strerror(p->udp_err));
		return;
	}
	if (!t || t->status != PROBE_TX_OK) {
		probe_note(c->r, "IPv6: the server did not answer a UDP Binding");
		return;
	}
	v->reached = true;
	if (local_addr6(srv, &loc) == 0) {
		ep6_from_sa(&v->local, &loc);
		v->local.port = p->s1->lport;
	}
	if (t->has_mapped)
		ep6_from_stun(&v->mapped[PROBE_EP_A1P1], &t->mapped);
	if (t->has_other)
		ep6_from_stun(&v->other, &t->other);
	for (i = PROBE_EP_A1P2; i < PROBE_EP_MAX; i++)
		if (p->map[i] && p->map[i]->status == PROBE_TX_OK && p->map[i]->has_mapped)
			ep6_from_stun(&v->mapped[i], &p->map[i]->mapped);
	if (v->mapped[PROBE_EP_A1P1].known) {
		const struct probe_ep *m = &v->mapped[PROBE_EP_A1P1];

		v->translated = v->local.known ? memcmp(m->ip6, v->local.ip6, 16) != 0 ||
						 m->port != v->local.port : -1;
		v->port_changed = v->local.known ? m->port != v->local.port : -1;
		v->udp_mapping = probe_classify_mapping(v->mapped, v->local.known ? &v->local : NULL);
		v->udp_filtering = probe_classify_filtering(v->other.known ? filt_got(p->ipport, srv, true) : -1,
							    filt_got(p->port, srv, false));
	}
}

static void tcp6_finish(struct probe_ctx *c)
{
	struct probe6_state *p = c->p6;
	struct probe6_result *v = &c->r->ipv6;
	union addr_sa local;
	socklen_t ll = sizeof(local);

	if (p->tcp_err) {
		probe_note(c->r, "IPv6: TCP socket: %s", strerror(p->tcp_err));
		return;
	}
	if (!p->tcpb || p->tcpb->status != PROBE_TX_OK) {
		probe_note(c->r, "IPv6: TCP Binding: %s", !p->tcpb ? "could not be sent" :
			   p->tcpb->status == PROBE_TX_ERROR ? "connection failed or error answer" :
			   "no answer");
		return;
	}
	v->reached = true;
	if (p->tcpb->has_mapped)
		ep6_from_stun(&v->tcp_mapped, &p->tcpb->mapped);
	if (getsockname(p->tcp->fd, &local.sa, &ll) == 0 && local.sa.sa_family == AF_INET6)
		ep6_from_sa(&v->tcp_local, &local.in6);
	if (v->tcp_mapped.known && v->tcp_local.known)
		v->tcp_translated = memcmp(v->tcp_mapped.ip6, v->tcp_local.ip6, 16) != 0 ||
				    v->tcp_mapped.port != v->tcp_local.port;
}

static void unmeasurable6(struct probe6_result *v, enum probe_verdict verdict, const char *why)
{
	if (!v->unmeasurable[verdict][0])
		snprintf(v->unmeasurable[verdict], PROBE_NOTE_LEN, "%s", why);
}

/* Why the STUNT tests over IPv6 told nothing, from what they got. */
static void stunt6_why(const struct probe6_state *p, char *why, size_t cap)
{
	unsigned k;

	snprintf(why, cap, "%s", !p->wait_ms ? "the TCP Binding went unanswered" :
		 !p->cf_public && !p->unsol[U6_UNSOL] ? "no STUNT request could be sent" :
		 "no answer to STUNT over IPv6");
	for (k = 0; k < U6_MAX; k++)
		if (p->unsol[k] && p->unsol[k]->status == PROBE_TX_ERROR && p->unsol[k]->err_code) {
			snprintf(why, cap, "the server refused STUNT over IPv6 (error %u)",
				 p->unsol[k]->err_code);
			return;
		}
}

static void stunt6_finish(struct probe_ctx *c)
{
	struct probe6_state *p = c->p6;
	struct probe6_result *v = &c->r->ipv6;
	struct stunt_probe_resp pr;
	int res[U6_MAX];
	char why[PROBE_NOTE_LEN];
	unsigned k;

	for (k = 0; k < U6_MAX; k++)
		res[k] = p->unsol[k] ? probe_unsol_result(p->unsol[k], k == U6_UNSOL ? &pr : NULL) : -1;
	v->tcp_filtering = probe_classify_filtering(probe_syn_verdict(res[U6_IPPORT]),
						    probe_syn_verdict(res[U6_PORT]));
	v->unsolicited_syn = probe_syn_of(res[U6_UNSOL]);
	if (v->unsolicited_syn == PROBE_SYN_ICMP) {
		v->unsolicited_icmp[0] = pr.icmp_type;
		v->unsolicited_icmp[1] = pr.icmp_code;
	}
	stunt6_why(p, why, sizeof(why));
	if (!v->tcp_filtering)
		unmeasurable6(v, PROBE_V_TCP_FILTERING, why);
	if (!v->unsolicited_syn)
		unmeasurable6(v, PROBE_V_TCP_UNSOLICITED_SYN, why);
}

void probe6_finish(struct probe_ctx *c)
{
	struct probe6_result *v = &c->r->ipv6;

	if (!c->p6)
		return;
	v->asked = true;
	ep6_from_sa(&v->server, &c->cfg->server6);
	if (c->cfg->what & PROBE_F_UDP)
		udp6_finish(c);
	if (c->cfg->what & PROBE_F_TCP) {
		tcp6_finish(c);
		if (!c->cfg->server6_addr_only) {
			stunt6_finish(c);
			probe6_ttl_finish(c);
		}
		probe6_fw_finish(c);	/* after the hops: dest_hop bounds it */
	}
	/* TCP only (--tcp-only): its Binding tells the translation */
	if (v->translated < 0 && v->tcp_translated >= 0) {
		v->translated = v->tcp_translated;
		v->port_changed = v->tcp_mapped.port != v->tcp_local.port;
	}
	if (v->mapped[PROBE_EP_A1P1].known && !v->other.known) {
		if (v->udp_mapping == PROBE_MAP_UNKNOWN)
			unmeasurable6(v, PROBE_V_UDP_MAPPING,
				      "the server named no other IPv6 address (OTHER-ADDRESS): "
				      "no mapping to compare");
		if (v->udp_filtering == PROBE_FILT_UNKNOWN)
			unmeasurable6(v, PROBE_V_UDP_FILTERING,
				      "the server named no other IPv6 address (OTHER-ADDRESS): "
				      "no answer from another address possible");
	}
	v->direct = probe6_direct_verdict(v);
	free(c->p6);
	c->p6 = NULL;
}
