// SPDX-License-Identifier: MIT
/*
 * The IPv6 part of a run (cfg->server6, issue 17), after the IPv4 loop: a
 * UDP Binding to the server's primary IPv6 address (our mapped address
 * against the local one: NAT66 / NPTv6 or none), then at once the mapping
 * towards its other IPv6 address and port (RFC 5780 4.3) and the filtering
 * (CHANGE-REQUEST change IP + port and change port, 4.4), then one TCP
 * Binding. The verdicts are the IPv4 ones (probe_classify.c): an IPv6
 * probe_ep compares as an IPv4 one does.
 *
 * The loop (probe_loop.c) speaks IPv4 only, so this part runs its few
 * transactions in its own short poll, one phase after the other, with the
 * same retransmission (PROBE_RTO_MS doubling) and the same shortest wait
 * before silence is a result (PROBE_ABSENCE_MIN_MS, longer on a slow path).
 * TCP filtering needs STUNT, which the server refuses over IPv6: named in
 * r->ipv6.unmeasurable.
 */
#include "probes/probe_int.h"
#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define P6_TX_MAX	8
#define P6_SENDS_MAX	6	/* a Binding gives up after 100+200+...+1600 ms */

enum { P6_PENDING = 0, P6_OK, P6_NOANSWER, P6_ERROR };

struct p6_tx {
	int			fd;
	struct sockaddr_in6	dst;
	bool			absence;
	uint8_t			txid[STUN_TXID_LEN];
	uint8_t			req[128];
	size_t			len;
	int			status;
	unsigned		sends, rto;
	uint64_t		first, next;
	struct sockaddr_in6	from;
	bool			has_mapped, has_other, has_origin;
	struct stun_addr	mapped, other, origin;
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

static int p6_add(struct p6_tx *t, unsigned *n, int fd, const struct sockaddr_in6 *dst,
		  uint32_t change, bool absence)
{
	struct p6_tx *x;
	int len;

	if (*n >= P6_TX_MAX)
		return -1;
	x = &t[*n];
	memset(x, 0, sizeof(*x));
	if ((len = probe_binding_build(x->req, sizeof(x->req), change, x->txid)) < 0)
		return -1;
	x->len = (size_t)len;
	x->fd = fd;
	x->dst = *dst;
	x->absence = absence;
	x->rto = PROBE_RTO_MS;
	return (int)(*n)++;
}

static void p6_read(struct p6_tx *t, unsigned n, int fd, unsigned *rtt_max, uint64_t now)
{
	uint8_t buf[1024];
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	struct stun_msg m;
	ssize_t got;
	unsigned i;

	while ((got = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) >= 0) {
		fl = sizeof(from);
		if (stun_parse(buf, (size_t)got, &m) < 0 || m.classic)
			continue;
		for (i = 0; i < n; i++) {
			if (t[i].fd != fd || t[i].status != P6_PENDING ||
			    memcmp(t[i].txid, m.txid, STUN_TXID_LEN))
				continue;
			t[i].from = from;
			if (t[i].sends == 1 && now - t[i].first > *rtt_max)
				*rtt_max = (unsigned)(now - t[i].first);	/* Karn */
			if (m.cls == STUN_ERROR) {
				t[i].status = P6_ERROR;
				break;
			}
			probe_answer_addrs(&m, &t[i].has_mapped, &t[i].mapped, &t[i].has_other,
					   &t[i].other, &t[i].has_origin, &t[i].origin);
			t[i].status = P6_OK;
			break;
		}
	}
}

/* Run transactions t[0..n) until each is answered, given up, or deadline. */
static void p6_run(struct p6_tx *t, unsigned n, uint64_t deadline)
{
	struct pollfd pfd[P6_TX_MAX];
	unsigned i, pending, rtt_max = 0;
	uint64_t now, wake, absence;

	for (;;) {
		now = clock_ms();
		absence = PROBE_ABSENCE_MIN_MS > 4 * rtt_max ? PROBE_ABSENCE_MIN_MS : 4 * rtt_max;
		wake = deadline;
		pending = 0;
		for (i = 0; i < n; i++) {
			struct p6_tx *x = &t[i];

			if (x->status != P6_PENDING)
				continue;
			if (now >= deadline || (x->absence && x->sends && now >= x->first + absence) ||
			    (!x->absence && x->sends >= P6_SENDS_MAX && now >= x->next)) {
				x->status = P6_NOANSWER;
				continue;
			}
			if (now >= x->next) {
				if (sendto(x->fd, x->req, x->len, MSG_NOSIGNAL, (struct sockaddr *)&x->dst,
					   sizeof(x->dst)) < 0 && errno != EAGAIN) {
					x->status = P6_ERROR;
					continue;
				}
				if (!x->sends++)
					x->first = now;
				x->next = now + x->rto;
				x->rto = x->rto * 2 > PROBE_RTO_MAX_MS ? PROBE_RTO_MAX_MS : x->rto * 2;
			}
			if (x->next < wake)
				wake = x->next;
			if (x->absence && x->first + absence < wake)
				wake = x->first + absence;
			pfd[pending].fd = x->fd;
			pfd[pending].events = POLLIN;
			pfd[pending].revents = 0;
			pending++;
		}
		if (!pending)
			return;
		if (poll(pfd, pending, wake > now ? (int)(wake - now) : 0) < 0 && errno != EINTR)
			return;
		now = clock_ms();
		for (i = 0; i < pending; i++)
			if (pfd[i].revents & POLLIN)
				p6_read(t, n, pfd[i].fd, &rtt_max, now);
	}
}

static int udp6_socket(uint16_t *lport)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		close(fd);
		return -1;
	}
	*lport = ntohs(sa.sin6_port);
	return fd;
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

/* RFC 5780 4.4: the answer came from where the change asked for, else
 * the server ignored CHANGE-REQUEST (-1); no answer 0; error -1. */
static int filt_got(const struct p6_tx *x, const struct sockaddr_in6 *srv, bool change_ip)
{
	bool ip_changed, port_changed;

	if (x->status == P6_NOANSWER)
		return 0;
	if (x->status != P6_OK)
		return -1;
	ip_changed = memcmp(&x->from.sin6_addr, &srv->sin6_addr, 16) != 0;
	port_changed = x->from.sin6_port != srv->sin6_port;
	return port_changed && ip_changed == change_ip ? 1 : -1;
}

static void udp6(struct probe_ctx *c, uint64_t deadline)
{
	struct probe6_result *v = &c->r->ipv6;
	const struct sockaddr_in6 *srv = &c->cfg->server6;
	struct p6_tx t[P6_TX_MAX];
	struct sockaddr_in6 dst, loc;
	unsigned n = 0, i;
	uint16_t p1 = ntohs(srv->sin6_port), p2 = 0, lp1, lp2;
	int s1, s2, ipport = -1, port = -1, map[PROBE_EP_MAX];

	if ((s1 = udp6_socket(&lp1)) < 0 || (s2 = udp6_socket(&lp2)) < 0) {
		probe_note(c->r, "IPv6: UDP socket: %s", strerror(errno));
		if (s1 >= 0)
			close(s1);
		return;
	}
	if (local_addr6(srv, &loc) == 0) {
		ep6_from_sa(&v->local, &loc);
		v->local.port = lp1;
	}
	/* phase 1: our mapping towards the primary, and its OTHER-ADDRESS */
	p6_add(t, &n, s1, srv, 0, false);
	p6_run(t, n, deadline);
	if (t[0].status == P6_OK) {
		v->reached = true;
		if (t[0].has_mapped)
			ep6_from_stun(&v->mapped[PROBE_EP_A1P1], &t[0].mapped);
		if (t[0].has_other)
			ep6_from_stun(&v->other, &t[0].other);
	}
	if (!v->reached) {
		probe_note(c->r, "IPv6: the server did not answer a UDP Binding");
		goto out;
	}
	/* phase 2: the other endpoints, and the filtering on a fresh socket */
	for (i = 0; i < PROBE_EP_MAX; i++)
		map[i] = -1;
	if (v->other.known) {
		p2 = v->other.port;
		dst = *srv;
		dst.sin6_port = htons(p2);
		map[PROBE_EP_A1P2] = p6_add(t, &n, s1, &dst, 0, false);
		sa6_from_ep(&dst, &v->other, p1);
		map[PROBE_EP_A2P1] = p6_add(t, &n, s1, &dst, 0, false);
		sa6_from_ep(&dst, &v->other, p2);
		map[PROBE_EP_A2P2] = p6_add(t, &n, s1, &dst, 0, false);
		ipport = p6_add(t, &n, s2, srv, STUN_CHANGE_IP | STUN_CHANGE_PORT, true);
	}
	port = p6_add(t, &n, s2, srv, STUN_CHANGE_PORT, true);
	p6_run(t, n, deadline);
	for (i = PROBE_EP_A1P2; i < PROBE_EP_MAX; i++)
		if (map[i] >= 0 && t[map[i]].status == P6_OK && t[map[i]].has_mapped)
			ep6_from_stun(&v->mapped[i], &t[map[i]].mapped);
	if (v->mapped[PROBE_EP_A1P1].known) {
		const struct probe_ep *m = &v->mapped[PROBE_EP_A1P1];

		v->translated = v->local.known ? memcmp(m->ip6, v->local.ip6, 16) != 0 ||
						 m->port != v->local.port : -1;
		v->port_changed = v->local.known ? m->port != v->local.port : -1;
		v->udp_mapping = probe_classify_mapping(v->mapped, v->local.known ? &v->local : NULL);
		v->udp_filtering = probe_classify_filtering(ipport >= 0 ? filt_got(&t[ipport], srv, true) : -1,
							    port >= 0 ? filt_got(&t[port], srv, false) : -1);
	}
out:
	close(s1);
	close(s2);
}

static void tcp6(struct probe_ctx *c, uint64_t deadline)
{
	struct probe6_result *v = &c->r->ipv6;
	struct sockaddr_storage local;
	struct stun_addr mapped;
	uint64_t now = clock_ms();
	unsigned ms = deadline > now + 100 ? (unsigned)(deadline - now) : 100;
	char why[128];

	if (probe_tcp_binding_sa((const struct sockaddr *)&c->cfg->server6, sizeof(c->cfg->server6),
				 ms, &mapped, &local, why, sizeof(why)) < 0) {
		probe_note(c->r, "IPv6: TCP %s", why);
		return;
	}
	v->reached = true;
	ep6_from_stun(&v->tcp_mapped, &mapped);
	if (local.ss_family == AF_INET6)
		ep6_from_sa(&v->tcp_local, (const struct sockaddr_in6 *)&local);
	if (v->tcp_mapped.known && v->tcp_local.known)
		v->tcp_translated = memcmp(v->tcp_mapped.ip6, v->tcp_local.ip6, 16) != 0 ||
				    v->tcp_mapped.port != v->tcp_local.port;
}

static void unmeasurable6(struct probe6_result *v, enum probe_verdict verdict, const char *why)
{
	if (!v->unmeasurable[verdict][0])
		snprintf(v->unmeasurable[verdict], PROBE_NOTE_LEN, "%s", why);
}

void probe6_run(struct probe_ctx *c)
{
	struct probe6_result *v = &c->r->ipv6;
	uint64_t deadline = clock_ms() + c->cfg->timeout_ms;

	v->asked = true;
	ep6_from_sa(&v->server, &c->cfg->server6);
	if (c->cfg->what & PROBE_F_UDP)
		udp6(c, deadline);
	if (c->cfg->what & PROBE_F_TCP) {
		tcp6(c, deadline);
		unmeasurable6(v, PROBE_V_TCP_FILTERING,
			      "needs STUNT (a connection from the server's other address), "
			      "which the server offers over IPv4 only");
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
}
