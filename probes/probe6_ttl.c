// SPDX-License-Identifier: MIT
/*
 * The IPv6 hops to the server (cfg->server6; root, as the IPv4 hop count):
 * TCP SYNs to the server's primary IPv6 address with hop limit 1 ..
 * PROBE_TTL_MAX, all at once, each from its own socket; a raw ICMPv6
 * socket catches the time-exceeded answers (RFC 4443 3.3), each matched to
 * its SYN by the source port quoted in it (probe_icmp6_parse_te). The SYN
 * whose connect() completes reached the server. What is reported is the
 * path: r->ipv6.hop_addr[h], the router that answered at hop h, and
 * dest_hop. Which of those routers filters is not told by a time-exceeded:
 * the firewall is one of them (on a home network the gateway, hop 1), and
 * a first SYN with a hop limit below dest_hop dies before the server.
 * One round: a silent hop stays silent (null in the report).
 */
#include "probes/probe_int.h"
#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct probe6_ttl_state {
	int		 fd[PROBE_TTL_MAX + 1];
	uint16_t	 lport[PROBE_TTL_MAX + 1];
	bool		 reached[PROBE_TTL_MAX + 1];
	struct probe_loop *L;
	bool		 done;
};

static void ttl6_done(struct probe_ctx *c)
{
	if (c->p6ttl && !c->p6ttl->done) {
		c->p6ttl->done = true;
		c->p6ttl->L->holds--;
	}
}

/* Done early when every hop before the one that reached the server answered. */
static void check_complete6(struct probe_ctx *c)
{
	const struct probe6_ttl_state *s = c->p6ttl;
	int t;

	for (t = 1; t <= PROBE_TTL_MAX && !s->reached[t]; t++)
		if (!c->r->ipv6.hop_known[t])
			return;
	if (t <= PROBE_TTL_MAX)
		ttl6_done(c);
}

static void on_icmp6(struct probe_loop *L, struct probe_sock *sk, short rev)
{
	struct probe_ctx *c = sk->arg;
	struct probe6_result *v = &c->r->ipv6;
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	uint8_t buf[1280];
	uint16_t sport;
	ssize_t n;
	int t;

	(void)L;
	(void)rev;
	while ((n = recvfrom(sk->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) > 0) {
		fl = sizeof(from);
		if (probe_icmp6_parse_te(buf, (size_t)n, c->cfg->server6.sin6_addr.s6_addr, &sport) < 0)
			continue;
		for (t = 1; t <= PROBE_TTL_MAX; t++)
			if (c->p6ttl->lport[t] == sport && !v->hop_known[t]) {
				v->hop_known[t] = true;
				memcpy(v->hop_addr[t], &from.sin6_addr, 16);
			}
	}
	check_complete6(c);
}

static void on_syn6(struct probe_loop *L, struct probe_sock *sk, short rev)
{
	struct probe_ctx *c = sk->arg;
	socklen_t el = sizeof(int);
	int err = 0, t;

	(void)L;
	(void)rev;
	sk->dead = true;	/* one answer is all we want */
	if (getsockopt(sk->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
		return;
	for (t = 1; t <= PROBE_TTL_MAX; t++)
		if (c->p6ttl->fd[t] == sk->fd)
			c->p6ttl->reached[t] = true;
	check_complete6(c);
}

static void ttl6_timeout(struct probe_loop *L, void *arg)
{
	(void)L;
	ttl6_done(arg);
}

int probe6_ttl_start(struct probe_ctx *c, struct probe_loop *L)
{
	struct probe6_ttl_state *s;
	struct sockaddr_in6 sa;
	socklen_t sl;
	int raw, t, fd;

	free(c->p6ttl);
	c->p6ttl = NULL;
	if (geteuid() != 0) {
		probe_note(c->r, "IPv6: hops to the server not measured: catching ICMPv6 time-exceeded needs root");
		return 0;
	}
	raw = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (raw < 0)
		return -errno;
	if (!(s = calloc(1, sizeof(*s))) || !probe_sock_other(L, raw, POLLIN, on_icmp6, c)) {
		free(s);
		close(raw);
		return -ENOMEM;
	}
	c->p6ttl = s;
	s->L = L;
	for (t = 1; t <= PROBE_TTL_MAX; t++) {
		s->fd[t] = -1;
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		sl = sizeof(sa);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &t, sizeof(t)) < 0 ||
		    (connect(fd, (const struct sockaddr *)&c->cfg->server6, sizeof(c->cfg->server6)) < 0 &&
		     errno != EINPROGRESS) ||
		    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 ||
		    !probe_sock_other(L, fd, POLLOUT, on_syn6, c)) {
			close(fd);
			continue;
		}
		s->fd[t] = fd;
		s->lport[t] = ntohs(sa.sin6_port);
	}
	L->holds++;
	probe_timer_add(L, clock_ms() + probe_loop_absence_ms(L), true, ttl6_timeout, c);
	return 0;
}

void probe6_ttl_finish(struct probe_ctx *c)
{
	struct probe6_ttl_state *s = c->p6ttl;
	int t;

	if (!s)
		return;
	c->r->ipv6.dest_hop = -1;
	for (t = 1; t <= PROBE_TTL_MAX; t++)
		if (s->reached[t]) {
			c->r->ipv6.dest_hop = t;
			break;
		}
	/* the sockets are closed by probe_loop_free */
	free(s);
	c->p6ttl = NULL;
}
