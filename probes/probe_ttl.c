// SPDX-License-Identifier: MIT
/*
 * Hop count to the outermost NAT: SYNs to the server with TTL 1, 2, ...
 * PROBE_TTL_MAX, all at once, each from its own socket; a raw ICMP socket
 * (root) catches the time-exceeded answers, each matched to its SYN by the
 * source port quoted in it (our NAT translates the quote back for us). The
 * SYN whose connect() completes reached the server. The verdict is
 * probe_classify_hops() (the outermost NAT is the hop before the first
 * public router after the last private one; see there).
 */
#include "probes/probe_int.h"
#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ICMP_TIME_EXCEEDED_TYPE	11

struct probe_ttl_state {
	int		 fd[PROBE_TTL_MAX + 1];
	uint16_t	 lport[PROBE_TTL_MAX + 1];
	bool		 reached[PROBE_TTL_MAX + 1];
	bool		 done;
};

static void ttl_done(struct probe_loop *L, struct probe_ctx *c)
{
	if (c->ttl && !c->ttl->done) {
		c->ttl->done = true;
		L->holds--;
	}
}

/* Finished early when every hop before the one that reached the server
 * has answered. */
static void check_complete(struct probe_loop *L, struct probe_ctx *c)
{
	int t, dest = -1;

	for (t = 1; t <= PROBE_TTL_MAX; t++)
		if (c->ttl->reached[t]) {
			dest = t;
			break;
		}
	if (dest < 0)
		return;
	for (t = 1; t < dest; t++)
		if (!c->r->hop_addr[t])
			return;
	ttl_done(L, c);
}

static void on_icmp(struct probe_loop *L, struct probe_sock *s, short rev)
{
	struct probe_ctx *c = s->arg;
	uint8_t buf[1500];
	const uint8_t *icmp, *in;
	size_t ihl, iihl;
	ssize_t n;
	uint16_t sport;
	int t;

	(void)rev;
	while ((n = recv(s->fd, buf, sizeof(buf), 0)) > 0) {
		if ((size_t)n < 20)
			continue;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		/* outer header, ICMP header (8), quoted IP header, 8 bytes of TCP */
		if (ihl < 20 || (size_t)n < ihl + 8 + 20)
			continue;
		icmp = buf + ihl;
		if (icmp[0] != ICMP_TIME_EXCEEDED_TYPE)
			continue;
		in = icmp + 8;
		iihl = (size_t)(in[0] & 0x0f) * 4;
		if (iihl < 20 || (size_t)n < ihl + 8 + iihl + 4 || in[9] != IPPROTO_TCP ||
		    memcmp(in + 16, &c->srv.sin_addr.s_addr, 4) != 0)
			continue;
		sport = (uint16_t)(in[iihl] << 8 | in[iihl + 1]);
		for (t = 1; t <= PROBE_TTL_MAX; t++)
			if (c->ttl->lport[t] == sport && !c->r->hop_addr[t])
				memcpy(&c->r->hop_addr[t], buf + 12, 4);
	}
	check_complete(L, c);
}

static void on_syn(struct probe_loop *L, struct probe_sock *s, short rev)
{
	struct probe_ctx *c = s->arg;
	int err = 0, t;
	socklen_t el = sizeof(err);

	(void)rev;
	s->dead = true;		/* one answer is all we want */
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
		return;
	for (t = 1; t <= PROBE_TTL_MAX; t++)
		if (c->ttl->fd[t] == s->fd)
			c->ttl->reached[t] = true;
	check_complete(L, c);
}

static void ttl_timeout(struct probe_loop *L, void *arg)
{
	ttl_done(L, arg);
}

int probe_ttl_start(struct probe_ctx *c)
{
	struct probe_ttl_state *s;
	struct sockaddr_in sin;
	socklen_t sl;
	int raw, t, fd;

	if (!c->root) {
		probe_note(c->r, "hop count to the NAT not measured: catching ICMP time-exceeded needs root");
		return 0;
	}
	raw = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (raw < 0)
		return -errno;
	if (!(s = calloc(1, sizeof(*s)))) {
		close(raw);
		return -ENOMEM;
	}
	c->ttl = s;
	if (!probe_sock_other(&c->L, raw, POLLIN, on_icmp, c)) {
		close(raw);
		return -ENOMEM;
	}
	for (t = 1; t <= PROBE_TTL_MAX; t++) {
		s->fd[t] = -1;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		sl = sizeof(sin);
		if (setsockopt(fd, IPPROTO_IP, IP_TTL, &t, sizeof(t)) < 0 ||
		    (connect(fd, (struct sockaddr *)&c->srv, sizeof(c->srv)) < 0 && errno != EINPROGRESS) ||
		    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0 ||
		    !probe_sock_other(&c->L, fd, POLLOUT, on_syn, c)) {
			close(fd);
			continue;
		}
		s->fd[t] = fd;
		s->lport[t] = ntohs(sin.sin_port);
	}
	c->L.holds++;
	probe_timer_add(&c->L, clock_ms() + probe_loop_absence_ms(&c->L), true, ttl_timeout, c);
	return 0;
}

void probe_ttl_finish(struct probe_ctx *c)
{
	struct probe_ttl_state *s = c->ttl;
	int t;

	if (!s)
		return;
	c->r->dest_hop = -1;
	for (t = 1; t <= PROBE_TTL_MAX; t++) {
		if (s->reached[t] && c->r->dest_hop < 0)
			c->r->dest_hop = t;
		if (s->fd[t] >= 0)
			close(s->fd[t]);
	}
	c->r->nat_hops = probe_classify_hops(c->r->hop_addr, PROBE_TTL_MAX, c->r->dest_hop, &c->r->syn_ttl);
	free(s);
	c->ttl = NULL;
}
