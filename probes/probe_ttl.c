// SPDX-License-Identifier: MIT
/*
 * Hop count to the outermost NAT: SYNs to the server with TTL 1, 2, ...
 * PROBE_TTL_MAX, all at once, each from its own socket; a raw ICMP socket
 * (root) catches the time-exceeded answers, each matched to its SYN by the
 * source port quoted in it (our NAT translates the quote back for us). The
 * SYN whose connect() completes reached the server. The verdict is
 * probe_classify_hops() (the outermost NAT is the hop before the first
 * public router after the last private one; see there). When the window
 * ends and the hop before or after that NAT has not answered, the silent
 * TTLs get a second SYN each and a second window: a time-exceeded lost on
 * the way is the commonest reason for a silent hop.
 */
#include "probes/probe_int.h"
#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TTL_ROUNDS	2

struct probe_ttl_state {
	int		 fd[TTL_ROUNDS][PROBE_TTL_MAX + 1];
	uint16_t	 lport[TTL_ROUNDS][PROBE_TTL_MAX + 1];
	bool		 reached[PROBE_TTL_MAX + 1];
	unsigned	 round;
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
	uint32_t router;
	ssize_t n;
	uint16_t sport;
	unsigned k;
	int t;

	(void)rev;
	while ((n = recv(s->fd, buf, sizeof(buf), 0)) > 0) {
		if (probe_icmp_parse_te(buf, (size_t)n, c->srv.sin_addr.s_addr, &router, &sport) < 0)
			continue;
		for (k = 0; k <= c->ttl->round; k++)
			for (t = 1; t <= PROBE_TTL_MAX; t++)
				if (c->ttl->lport[k][t] == sport && !c->r->hop_addr[t])
					c->r->hop_addr[t] = router;
	}
	check_complete(L, c);
}

static void on_syn(struct probe_loop *L, struct probe_sock *s, short rev)
{
	struct probe_ctx *c = s->arg;
	int err = 0, t;
	socklen_t el = sizeof(err);

	unsigned k;

	(void)rev;
	s->dead = true;		/* one answer is all we want */
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
		return;
	for (k = 0; k <= c->ttl->round; k++)
		for (t = 1; t <= PROBE_TTL_MAX; t++)
			if (c->ttl->fd[k][t] == s->fd)
				c->ttl->reached[t] = true;
	check_complete(L, c);
}

/* One SYN per TTL of round k whose hop is still silent. */
static void send_round(struct probe_ctx *c, unsigned k)
{
	struct probe_ttl_state *s = c->ttl;
	struct sockaddr_in sin;
	socklen_t sl;
	int t, fd;

	for (t = 1; t <= PROBE_TTL_MAX; t++) {
		s->fd[k][t] = -1;
		if (c->r->hop_addr[t] || s->reached[t])
			continue;
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
		s->fd[k][t] = fd;
		s->lport[k][t] = ntohs(sin.sin_port);
	}
}

static int dest_hop(const struct probe_ttl_state *s)
{
	int t;

	for (t = 1; t <= PROBE_TTL_MAX; t++)
		if (s->reached[t])
			return t;
	return -1;
}

static void ttl_timeout(struct probe_loop *L, void *arg)
{
	struct probe_ctx *c = arg;
	struct probe_ttl_state *s = c->ttl;
	uint64_t now = clock_ms();
	int syn_ttl, nat;

	if (!s || s->done)
		return;
	nat = probe_classify_hops(c->r->hop_addr, PROBE_TTL_MAX, dest_hop(s), &syn_ttl);
	if (s->round + 1 < TTL_ROUNDS && !probe_hops_sure(c->r->hop_addr, PROBE_TTL_MAX, nat) &&
	    now + probe_loop_absence_ms(L) < L->deadline_ms) {
		s->round++;
		send_round(c, s->round);
		probe_timer_add(L, now + probe_loop_absence_ms(L), true, ttl_timeout, c);
		return;
	}
	ttl_done(L, c);
}

int probe_ttl_start(struct probe_ctx *c)
{
	struct probe_ttl_state *s;
	int raw;

	if (c->cfg->icmp_fd >= 0) {
		raw = fcntl(c->cfg->icmp_fd, F_DUPFD_CLOEXEC, 0);
		if (raw >= 0 && fcntl(raw, F_SETFL, O_NONBLOCK) < 0) {
			close(raw);
			raw = -1;
		}
		if (raw < 0)
			return -errno;
		goto have_raw;
	}
	if (!c->root) {
		probe_note(c->r, "hop count to the NAT not measured: catching ICMP time-exceeded needs root");
		return 0;
	}
	raw = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (raw < 0)
		return -errno;
have_raw:
	if (!(s = calloc(1, sizeof(*s)))) {
		close(raw);
		return -ENOMEM;
	}
	c->ttl = s;
	if (!probe_sock_other(&c->L, raw, POLLIN, on_icmp, c)) {
		close(raw);
		return -ENOMEM;
	}
	memset(s->fd, -1, sizeof(s->fd));
	send_round(c, 0);
	c->L.holds++;
	probe_timer_add(&c->L, clock_ms() + probe_loop_absence_ms(&c->L), true, ttl_timeout, c);
	return 0;
}

void probe_ttl_finish(struct probe_ctx *c)
{
	struct probe_ttl_state *s = c->ttl;

	if (!s)
		return;
	c->r->dest_hop = dest_hop(s);
	/* the SYNs' sockets and the ICMP socket are closed by probe_loop_free */
	c->r->nat_hops = probe_classify_hops(c->r->hop_addr, PROBE_TTL_MAX, c->r->dest_hop, &c->r->syn_ttl);
	/* a silent hop beside the outermost NAT: the count may be off */
	if (c->r->server_reached && !probe_hops_sure(c->r->hop_addr, PROBE_TTL_MAX, c->r->nat_hops))
		c->r->uncertain |= PROBE_UNSURE(PROBE_V_TCP_NAT_HOPS);
	free(s);
	c->ttl = NULL;
}
