// SPDX-License-Identifier: MIT
/*
 * The IPv6 firewall's distance, measured as simopen6 needs it (issue 17):
 * the smallest hop limit whose outbound SYN opens our stateful firewall
 * for the peer's SYN back. For h = 1 .. PROBE6_FW_MAX, at once, each from
 * a port of its own:
 *   - a connect() to the server's A1:P2 whose SYN leaves with hop limit h.
 *     It dies at hop h, and that router's ICMPv6 time exceeded would abort
 *     a socket in SYN_SENT (tcp_v6_err: an ICMP error ends a connect that
 *     is not in the user's hands at that moment), so the socket takes no
 *     packet below hop limit 255 meanwhile (IPV6_MINHOPCOUNT: a router's
 *     error arrives with less);
 *   - one round trip to the server (the control connection's) plus a
 *     margin later -- every time exceeded is in by then: its router is
 *     closer than the server -- the socket takes packets again, its hop
 *     limit back to the default, and on a control connection of its own
 *     (the server takes at most four STUNT requests at a time per
 *     connection) PROBE-UNSOLICITED asks for a test SYN from A1:P2 to that
 *     port. If it gets in, it meets the socket in SYN_SENT (a simultaneous
 *     open) and the socket's SYN-ACK -- its own sequence number, which a
 *     NAT66 or NPTv6 box's connection tracking holds it to -- reaches the
 *     server: "synack". The socket is closed (with an RST, SO_LINGER 0)
 *     as its answer comes.
 * A firewall at hop k keeps state for the flow only when the SYN crossed
 * it, h >= k + 1 (a SYN that expires at a router is dropped before its
 * forward hook): the test SYN gets in for those h alone, and with no
 * firewall at all for every h. The answer is the smallest such h below
 * dest_hop (a SYN that reached the server tells nothing: the server's
 * answer to it races the test SYN), when probe6_ttl.c measured dest_hop;
 * without root dest_hop is unknown and every h counts (a firewall is
 * rarely the server's last router).
 *
 * On a short path (the lab's: the server at hop 3) the larger hop limits'
 * SYNs reach the server's listener on P2: a half-open connection there,
 * whose SYN-ACK (held off while the socket is deaf, retransmitted by the
 * server a second or more later) then meets a closed port and is reset.
 *
 * Limits: one try per hop limit (a lost test SYN reads as "drop", and the
 * answer is then a larger hop limit, or none); the kernel sends an
 * unanswered SYN again after 1 s, at the default hop limit by then, so a
 * path slower than about 300 ms round trip reaches the server's listener
 * first and measures nothing. Needs the server's STUNT over IPv6 and a
 * path that keeps ports (no NAT66 that rewrites them: the test SYN goes to
 * the port we bound); what stops it is said in r->ipv6.syn_hop_limit_why.
 * No root needed.
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

#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT	73	/* linux/in6.h */
#endif

#define FW6_MARGIN_MIN_MS	20	/* after the round trip: the time exceeded's jitter */

struct probe6_fw_state {
	struct probe_sock	*ctl;
	int			 fd[PROBE6_FW_MAX + 1];		/* -1: none */
	uint16_t		 port[PROBE6_FW_MAX + 1];
	int			 dead[PROBE6_FW_MAX + 1];	/* an errno that ended it */
	struct probe_tx		*req[PROBE6_FW_MAX + 1];
	unsigned		 wait_ms;	/* STUNT-TIMEOUT asked for */
	bool			 sent;		/* the requests are out */
	char			 why[PROBE_NOTE_LEN];	/* set when it could not run */
};

static void fw6_close(struct probe6_fw_state *s, int h)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	if (s->fd[h] < 0)
		return;
	/* after a simultaneous open: no FIN to retransmit to the server */
	(void)setsockopt(s->fd[h], SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(s->fd[h]);
	s->fd[h] = -1;
}

static void fw6_free(struct probe6_fw_state *s)
{
	int h;

	if (!s)
		return;
	for (h = 1; h <= PROBE6_FW_MAX; h++)
		fw6_close(s, h);
	free(s);
}

/* A connect to dst whose SYN leaves with hop limit h, deaf to routers'
 * errors (above); its port in *port: fd or -errno. */
static int fw6_syn(const struct sockaddr_in6 *dst, int h, uint16_t *port)
{
	union addr_sa sa = { .in6 = { .sin6_family = AF_INET6 } };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, deaf = 255;
	int e;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &h, sizeof(h)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &deaf, sizeof(deaf)) < 0 ||
	    bind(fd, &sa.sa, sizeof(sa.in6)) < 0 || getsockname(fd, &sa.sa, &sl) < 0 ||
	    (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS)) {
		e = errno;
		close(fd);
		return -e;
	}
	*port = ntohs(sa.in6.sin6_port);
	return fd;
}

/* The server answered for hop limit t->tag: its socket has done its part. */
static void fw6_answered(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;

	(void)L;
	if (c->p6fw && t->tag >= 1 && t->tag <= PROBE6_FW_MAX)
		fw6_close(c->p6fw, t->tag);
}

/* The time exceeded answers are in: each socket that is still connecting
 * hears again, at the default hop limit, and the server sends its SYN. */
static void fw6_ask(struct probe_loop *L, void *arg)
{
	struct probe_ctx *c = arg;
	struct probe6_fw_state *s = c->p6fw;
	struct stunt_probe_req pq = { .flags = STUN_CHANGE_PORT };
	int h, zero = 0, dflt = -1, err;
	socklen_t el;

	if (!s || s->sent)
		return;
	s->sent = true;
	pq.timeout_ms = s->wait_ms;
	for (h = 1; h <= PROBE6_FW_MAX; h++) {
		el = sizeof(err);
		if (s->fd[h] < 0)
			continue;
		if (getsockopt(s->fd[h], SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err == 0 &&
		    (setsockopt(s->fd[h], IPPROTO_IPV6, IPV6_MINHOPCOUNT, &zero, sizeof(zero)) < 0 ||
		     setsockopt(s->fd[h], IPPROTO_IPV6, IPV6_UNICAST_HOPS, &dflt, sizeof(dflt)) < 0))
			err = errno;
		if (err) {
			s->dead[h] = err;
			fw6_close(s, h);
			continue;
		}
		pq.port = s->port[h];
		s->req[h] = probe_stunt_req(L, s->ctl, STUNT_METHOD_PROBE_UNSOLICITED, &pq,
					    fw6_answered, c, h);
	}
}

/* The control connection's Binding answered: the SYNs, and the timer. */
static void fw6_bound(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe6_fw_state *s = c->p6fw;
	struct sockaddr_in6 p2 = c->cfg->server6;	/* the server's A1:P2 */
	unsigned wait = 2 * t->rtt_ms + 250, margin = t->rtt_ms / 2;
	union addr_sa local;
	socklen_t ll = sizeof(local);
	int h, fd;

	if (!s)
		return;
	if (t->status != PROBE_TX_OK) {
		snprintf(s->why, sizeof(s->why), "the server did not answer a TCP Binding over IPv6");
		return;
	}
	if (!t->has_other || t->other.family != STUN_FAMILY_IPV6 || t->other.port == 0 ||
	    t->other.port == ntohs(c->cfg->server6.sin6_port)) {
		snprintf(s->why, sizeof(s->why), "the server named no other port (OTHER-ADDRESS)");
		return;
	}
	if (!t->has_mapped || getsockname(s->ctl->fd, &local.sa, &ll) < 0 ||
	    t->mapped.port != ntohs(local.in6.sin6_port)) {
		snprintf(s->why, sizeof(s->why), "the path rewrites TCP ports (NAT66): a test SYN "
			 "cannot be aimed at our port");
		return;
	}
	p2.sin6_port = htons(t->other.port);
	s->wait_ms = wait < PROBE6_STUNT_WAIT_MIN_MS ? PROBE6_STUNT_WAIT_MIN_MS : wait;
	for (h = 1; h <= PROBE6_FW_MAX; h++) {
		if ((fd = fw6_syn(&p2, h, &s->port[h])) < 0) {
			snprintf(s->why, sizeof(s->why), "SYN with hop limit %d: %s", h, strerror(-fd));
			return;
		}
		s->fd[h] = fd;
	}
	if (margin < FW6_MARGIN_MIN_MS)
		margin = FW6_MARGIN_MIN_MS;
	if (probe_timer_add(L, clock_ms() + t->rtt_ms + margin, false, fw6_ask, c) < 0)
		snprintf(s->why, sizeof(s->why), "no timer left in the probe loop");
}

int probe6_fw_start(struct probe_ctx *c, struct probe_loop *L)
{
	struct probe6_fw_state *s;
	int h;

	fw6_free(c->p6fw);	/* a run of the IPv6 part before this one */
	if (!(s = c->p6fw = calloc(1, sizeof(*s))))
		return -ENOMEM;
	for (h = 0; h <= PROBE6_FW_MAX; h++)
		s->fd[h] = -1;
	if (!(s->ctl = probe_sock_tcp6(L, &c->cfg->server6, false)) ||
	    !probe_tx_binding6(L, s->ctl, NULL, 0, false, fw6_bound, c, 0)) {
		h = errno ? errno : ENOMEM;
		snprintf(s->why, sizeof(s->why), "control connection: %s", strerror(h));
		return -h;
	}
	return 0;
}

/* Why no hop limit was found, from what the tests got. */
static void fw6_why(const struct probe6_fw_state *s, const struct probe6_result *v, char *why,
		    size_t cap)
{
	unsigned sent = 0, answered = 0, err = 0;
	int h, dead = 0;

	for (h = 1; h <= PROBE6_FW_MAX; h++) {
		if (s->dead[h])
			dead = s->dead[h];
		if (!s->req[h])
			continue;
		sent++;
		if (s->req[h]->status == PROBE_TX_OK)
			answered++;
		else if (s->req[h]->status == PROBE_TX_ERROR && s->req[h]->err_code)
			err = s->req[h]->err_code;
	}
	if (s->why[0])
		snprintf(why, cap, "%s", s->why);
	else if (!sent && dead)
		snprintf(why, cap, "the hop-limited connects failed: %s", strerror(dead));
	else if (!sent)
		snprintf(why, cap, "no answer from the server in time");
	else if (err == 429)
		snprintf(why, cap, "the server was busy (error 429)");
	else if (err)
		snprintf(why, cap, "the server refused STUNT over IPv6 (error %u)", err);
	else if (!answered)
		snprintf(why, cap, "no answer from the server in time");
	else
		snprintf(why, cap, "no hop limit up to %d%s let the server's SYN in", PROBE6_FW_MAX,
			 v->dest_hop > 0 && v->dest_hop <= PROBE6_FW_MAX ?
			 " that stops before the server" : "");
}

void probe6_fw_finish(struct probe_ctx *c)
{
	struct probe6_fw_state *s = c->p6fw;
	struct probe6_result *v = &c->r->ipv6;
	int h;

	if (!s)
		return;
	for (h = 1; h <= PROBE6_FW_MAX; h++)
		v->fw_res[h] = s->req[h] ? probe_unsol_result(s->req[h], NULL) : -1;
	v->syn_hop_limit = probe_classify_fw6_hops(v->fw_res, v->dest_hop);
	v->syn_hop_limit_why[0] = '\0';
	if (v->syn_hop_limit <= 0) {
		v->syn_hop_limit = -1;
		fw6_why(s, v, v->syn_hop_limit_why, PROBE_NOTE_LEN);
	}
	fw6_free(s);
	c->p6fw = NULL;
}
