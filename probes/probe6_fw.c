// SPDX-License-Identifier: MIT
/*
 * The IPv6 firewall's distance, measured as simopen6 needs it (issue 17):
 * the smallest hop limit whose outbound SYN opens our stateful firewall
 * for the peer's SYN back. For h = 1 .. PROBE6_FW_MAX, at once, each from
 * a port of its own:
 *   - a connect() to the server's A1:P2 whose SYN leaves with hop limit h
 *     (it dies at hop h with an ICMPv6 time exceeded, a soft error the
 *     connect ignores); the socket's hop limit goes back to the default
 *     at once, so that what it sends later reaches the server,
 *   - then, on a control connection of its own (the server takes at most
 *     four STUNT requests at a time per connection), PROBE-UNSOLICITED:
 *     a test SYN from A1:P2 to that port. If it gets in, it meets the
 *     socket in SYN_SENT (a simultaneous open) and the socket's SYN-ACK --
 *     its own sequence number, which a NAT66 or NPTv6 box's connection
 *     tracking holds it to -- reaches the server: "synack". The socket is
 *     closed when the answer comes, long before its SYN's first
 *     retransmission (1 s).
 * A firewall at hop k keeps state for the flow only when the SYN crossed
 * it, h >= k + 1 (a SYN that expires at a router is dropped before its
 * forward hook): the test SYN gets in for those h alone, and with no
 * firewall at all for every h. The answer is the smallest such h below
 * dest_hop (a SYN that reached the server tells nothing: the server's
 * answer to it races the test SYN), when probe6_ttl.c measured dest_hop;
 * without root dest_hop is unknown and every h counts (a firewall is
 * rarely the server's last router).
 *
 * Needs the server's STUNT over IPv6 and a path that keeps ports (no
 * NAT66 that rewrites them: the test SYN goes to the port we bound);
 * what stops it is said in r->ipv6.fw_why. No root needed.
 */
#include "probes/probe_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FW6_WAIT_MIN_MS	300	/* shortest STUNT-TIMEOUT asked for (as probe6.c) */

struct probe6_fw_state {
	struct probe_sock	*ctl;
	int			 fd[PROBE6_FW_MAX + 1];		/* 0: none */
	uint16_t		 port[PROBE6_FW_MAX + 1];
	struct probe_tx		*req[PROBE6_FW_MAX + 1];
	char			 why[PROBE_NOTE_LEN];	/* set when it could not run */
};

/* A connect to dst whose SYN leaves with hop limit h, its port in *port:
 * fd or -errno. */
static int fw6_syn(const struct sockaddr_in6 *dst, int h, uint16_t *port)
{
	union addr_sa sa = { .in6 = { .sin6_family = AF_INET6 } };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, dflt = -1;
	int e;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &h, sizeof(h)) < 0 ||
	    bind(fd, &sa.sa, sizeof(sa.in6)) < 0 || getsockname(fd, &sa.sa, &sl) < 0 ||
	    (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &dflt, sizeof(dflt)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	*port = ntohs(sa.in6.sin6_port);
	return fd;
}

static void fw6_close(struct probe6_fw_state *s, int h)
{
	if (s->fd[h] > 0)
		close(s->fd[h]);
	s->fd[h] = 0;
}

/* The server answered for hop limit t->tag: its socket has done its part. */
static void fw6_answered(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;

	(void)L;
	if (c->p6fw && t->tag >= 1 && t->tag <= PROBE6_FW_MAX)
		fw6_close(c->p6fw, t->tag);
}

/* The control connection's Binding answered: the tests. */
static void fw6_bound(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe6_fw_state *s = c->p6fw;
	struct sockaddr_in6 p2 = c->cfg->server6;
	struct stunt_probe_req pq = { .flags = STUN_CHANGE_PORT };
	unsigned wait = 2 * t->rtt_ms + 250;
	union addr_sa local;
	socklen_t ll = sizeof(local);
	int h, fd;

	if (t->status != PROBE_TX_OK) {
		snprintf(s->why, sizeof(s->why), "the server did not answer a TCP Binding over IPv6");
		return;
	}
	if (!t->has_other || t->other.family != STUN_FAMILY_IPV6 || t->other.port == 0 ||
	    t->other.port == ntohs(p2.sin6_port)) {
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
	pq.timeout_ms = wait < FW6_WAIT_MIN_MS ? FW6_WAIT_MIN_MS : wait;
	for (h = 1; h <= PROBE6_FW_MAX; h++) {
		if ((fd = fw6_syn(&p2, h, &s->port[h])) < 0) {
			snprintf(s->why, sizeof(s->why), "SYN with hop limit %d: %s", h, strerror(-fd));
			return;
		}
		s->fd[h] = fd;
	}
	/* every SYN is out before the first request leaves */
	for (h = 1; h <= PROBE6_FW_MAX; h++) {
		pq.port = s->port[h];
		s->req[h] = probe_stunt_req(L, s->ctl, STUNT_METHOD_PROBE_UNSOLICITED, &pq,
					    fw6_answered, c, h);
	}
}

int probe6_fw_start(struct probe_ctx *c, struct probe_loop *L)
{
	struct probe6_fw_state *s;

	free(c->p6fw);
	if (!(s = c->p6fw = calloc(1, sizeof(*s))))
		return -ENOMEM;
	if (!(s->ctl = probe_sock_tcp6(L, &c->cfg->server6, false)))
		return -(errno ? errno : EIO);
	if (!probe_tx_binding6(L, s->ctl, NULL, 0, false, fw6_bound, c, 0))
		return -ENOMEM;
	return 0;
}

void probe6_fw_finish(struct probe_ctx *c)
{
	struct probe6_fw_state *s = c->p6fw;
	struct probe6_result *v = &c->r->ipv6;
	unsigned err = 0;
	int h, asked = 0;

	if (!s)
		return;
	for (h = 1; h <= PROBE6_FW_MAX; h++) {
		fw6_close(s, h);
		v->fw_res[h] = s->req[h] ? probe_unsol_result(s->req[h], NULL) : -1;
		if (s->req[h]) {
			asked++;
			if (s->req[h]->status == PROBE_TX_ERROR && s->req[h]->err_code)
				err = s->req[h]->err_code;
		}
	}
	v->syn_hop_limit = probe_classify_fw6_hops(v->fw_res, v->dest_hop);
	if (v->syn_hop_limit > 0)
		v->syn_hop_limit_why[0] = '\0';
	else if (s->why[0])
		snprintf(v->syn_hop_limit_why, PROBE_NOTE_LEN, "%s", s->why);
	else if (!asked)
		snprintf(v->syn_hop_limit_why, PROBE_NOTE_LEN, "the TCP Binding went unanswered");
	else if (err)
		snprintf(v->syn_hop_limit_why, PROBE_NOTE_LEN,
			 "the server refused STUNT over IPv6 (error %u)", err);
	else
		snprintf(v->syn_hop_limit_why, PROBE_NOTE_LEN,
			 "no hop limit up to %d%s let the server's SYN in", PROBE6_FW_MAX,
			 v->dest_hop > 0 && v->dest_hop <= PROBE6_FW_MAX ?
			 " that stops before the server" : "");
	if (v->syn_hop_limit <= 0)
		v->syn_hop_limit = -1;
	free(s);
	c->p6fw = NULL;
}
