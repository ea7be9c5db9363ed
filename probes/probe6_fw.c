// SPDX-License-Identifier: MIT
/*
 * The IPv6 firewall's distance, measured as simopen6 needs it (issue 17):
 * the smallest hop limit whose outbound SYN opens our stateful firewall
 * for the peer's SYN back. For h = 1 .. PROBE6_FW_MAX, at once, each on a
 * port of its own:
 *   - a listener on the port (it answers a SYN that gets in),
 *   - a SYN from the port to the server's A1:P2 with hop limit h: a
 *     connect() whose socket is closed as soon as the SYN is out (a socket
 *     closed in SYN_SENT sends nothing; the SYN dies at hop h with an
 *     ICMPv6 time exceeded nobody reads, and no retransmission follows),
 *   - then, on a control connection of its own (the server takes at most
 *     four STUNT requests at a time per connection), PROBE-UNSOLICITED:
 *     a test SYN from A1:P2 to that port.
 * A firewall at hop k keeps state for the flow only when the SYN crossed
 * it, h >= k + 1 (a SYN that expires at a router is dropped before its
 * forward hook): the test SYN gets in (the listener's SYN-ACK, at the
 * default hop limit, reaches the server: "synack") for those h alone, and
 * with no firewall at all for every h. The answer is the smallest such h
 * below dest_hop (a SYN that reached the server tells nothing: its answer
 * met our listener, which reset it), when probe6_ttl.c measured dest_hop;
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
	struct probe_sock	*lsn[PROBE6_FW_MAX + 1];
	uint16_t		 port[PROBE6_FW_MAX + 1];
	struct probe_tx		*req[PROBE6_FW_MAX + 1];
	char			 why[PROBE_NOTE_LEN];	/* set when it could not run */
};

/* A listener on a fresh port, and the port: fd or -errno. */
static int fw6_listener(uint16_t *port)
{
	union addr_sa sa;
	socklen_t sl = sizeof(sa);
	int fd = probe_listen(AF_INET6, 0);

	if (fd < 0)
		return fd;
	if (getsockname(fd, &sa.sa, &sl) < 0 || sa.sa.sa_family != AF_INET6) {
		close(fd);
		return -EIO;
	}
	*port = ntohs(sa.in6.sin6_port);
	return fd;
}

/* One SYN from port to dst with hop limit h, and nothing after it. */
static int fw6_syn(uint16_t port, const struct sockaddr_in6 *dst, int h)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, e = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &h, sizeof(h)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS))
		e = -errno;
	close(fd);	/* in SYN_SENT: no packet */
	return e;
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
	int h, fd, e;

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
		if ((fd = fw6_listener(&s->port[h])) < 0) {
			snprintf(s->why, sizeof(s->why), "listener: %s", strerror(-fd));
			return;
		}
		if (!(s->lsn[h] = probe_sock_other(L, fd, POLLIN, probe_listen_drain, c))) {
			close(fd);
			snprintf(s->why, sizeof(s->why), "too many sockets");
			return;
		}
		if ((e = fw6_syn(s->port[h], &p2, h)) < 0) {
			snprintf(s->why, sizeof(s->why), "SYN with hop limit %d: %s", h, strerror(-e));
			return;
		}
	}
	/* every SYN is out before the first request leaves */
	for (h = 1; h <= PROBE6_FW_MAX; h++) {
		pq.port = s->port[h];
		s->req[h] = probe_stunt_req(L, s->ctl, STUNT_METHOD_PROBE_UNSOLICITED, &pq, NULL, c, h);
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

/* The smallest hop limit that let the test SYN in, among those known to
 * have stopped before the server: 0 when none did. */
int probe6_fw_pick(const int res[PROBE6_FW_MAX + 1], int dest_hop)
{
	int h;

	for (h = 1; h <= PROBE6_FW_MAX && (dest_hop <= 0 || h < dest_hop); h++)
		if (res[h] == STUNT_PROBE_SYNACK)
			return h;
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
		v->fw_res[h] = s->req[h] ? probe_unsol_result(s->req[h], NULL) : -1;
		if (s->req[h]) {
			asked++;
			if (s->req[h]->status == PROBE_TX_ERROR && s->req[h]->err_code)
				err = s->req[h]->err_code;
		}
	}
	v->syn_hop_limit = probe6_fw_pick(v->fw_res, v->dest_hop);
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
