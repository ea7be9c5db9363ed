// SPDX-License-Identifier: MIT
/* The connect and accept halves of every method, and an attempt's life. See daemon/trav/trav.h. */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/log.h"
#include "daemon/nfq.h"
#include "nfq/nfq_policy.h"
#include "nfq/pkt_build.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* fd (or -errno) with the header's short retransmissions */
static int thin(int fd)
{
	/* The session header and its answer are a thin stream on a new
	 * connection: a lost segment is sent again on the daemon's clock
	 * (syn-pacing), not after the kernel's doubling waits
	 * (d_tcp_short_rto). Accepted sockets inherit it from their listener. */
	if (fd >= 0 && g_d->cfg.syn_pacing)
		d_tcp_short_rto(fd);
	return fd;
}

int trav_sock_marked(uint16_t port, uint16_t *bound)
{
	return thin(d_nfq_marked_socket(port, bound));
}

int trav_sock_marked6(const uint8_t ip[16], uint16_t *bound)
{
	return thin(d_nfq_marked_socket6(ip, bound));
}

int trav_sock_prepare(struct trav_attempt *a)
{
	int fd = trav_sock_marked(0, &a->lport);

	if (fd < 0)
		return fd;
	a->ev.fd = fd;
	a->ev.arg = a;
	return 0;
}

int trav_sock_prepare_priv(struct trav_attempt *a, size_t priv_size)
{
	int err;

	a->priv = calloc(1, priv_size);
	if (a->priv == NULL)
		return -ENOMEM;
	err = trav_sock_prepare(a);
	if (err < 0) {
		free(a->priv);	/* not prepared: nothing will close it */
		a->priv = NULL;
	}
	return err;
}

void trav_sock_policy(struct trav_attempt *a, const struct nfq_policy_spec *s)
{
	uint32_t id;

	if (!d_nfq_on() || a->npol >= TRAV_MAX_POLICIES)
		return;
	if (d_nfq_policy_add(s, &id) == 0) {
		a->pol_lport[a->npol] = s->flow.lport;
		a->pol_rport[a->npol] = s->flow.rport;
		a->pol[a->npol++] = id;
	}
	else
		log_warnx("session: cannot add a queue policy");
}

int trav_sock_connect_result(int fd)
{
	struct tcp_info ti;
	socklen_t el = sizeof(int), tl = sizeof(ti);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		return errno;
	if (err)
		return err;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
	    ti.tcpi_state != TCP_ESTABLISHED)
		return 0;
	return 1;
}

int trav_sock_state(int fd)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 ? ti.tcpi_state : -1;
}

/* ev's socket is established: it is the attempt's connection. */
static void take_conn(struct trav_attempt *a, struct d_ev *ev)
{
	size_t i, nmet = 0;
	int st, fd = ev->fd;
	bool keep = !a->requester;

	d_loop_del(ev);
	ev->fd = -1;
	if (ev != &a->ev) {
		/* the window's winner: its flow is the attempt's from now on */
		struct trav_win *w = ev->arg;

		a->lport = w->lport;
		a->rport = w->rport;
	}
	/* The rest of a window: when several predictions were right, several
	 * pairs meet in the same round trip, and which of them each side sees
	 * established first is a race. The requester decides (its session
	 * header goes on its first) and closes its others: one in SYN_SENT
	 * sends nothing, one that met the peer sends FIN. The responder keeps
	 * its others, unwatched, until the header arrived on one of them:
	 * trav_sock_window_next() switches to the requester's pair. */
	for (i = 0; i < a->nwin; i++)
		if (a->win[i].ev.fd >= 0) {
			d_loop_del(&a->win[i].ev);
			st = trav_sock_state(a->win[i].ev.fd);
			if (st == TCP_ESTABLISHED || st == TCP_SYN_RECV)
				nmet++;
			if (keep)
				continue;
			close(a->win[i].ev.fd);
			a->win[i].ev.fd = -1;
		}
	if (nmet)
		log_info("window: %zu more of its pairs met the peer; %s", nmet,
			 keep ? "kept until the requester's header picks one" : "closed");
	trav_connected(a, fd);
}

static void on_connect_ev(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	int r;

	(void)events;
	if (a->state != TA_RUNNING)
		return;
	r = trav_sock_connect_result(ev->fd);
	if (r == 0)
		return;		/* not yet */
	if (r == 1) {
		take_conn(a, ev);
		return;
	}
	snprintf(a->why, sizeof(a->why), "connect: %s", strerror(r));
	trav_report_failed(a);
}

/* One socket of a window: the attempt fails when all of them have. */
static void on_win_ev(struct d_ev *ev, uint32_t events)
{
	struct trav_win *w = ev->arg;
	struct trav_attempt *a = w->a;
	size_t i, nfailed = 0;
	int r;

	(void)events;
	if (a->state != TA_RUNNING) {
		d_loop_del(ev);
		return;
	}
	r = trav_sock_connect_result(ev->fd);
	if (r == 0)
		return;
	if (r == 1) {
		take_conn(a, ev);
		return;
	}
	d_loop_del(ev);
	close(ev->fd);
	ev->fd = -1;
	w->failed = true;
	for (i = 0; i < a->nwin; i++)
		nfailed += a->win[i].failed;
	if (nfailed < a->nwin)
		return;
	snprintf(a->why, sizeof(a->why), "connect: %s (all %zu of the window)", strerror(r),
		 a->nwin);
	trav_report_failed(a);
}

int trav_sock_window_next(struct trav_attempt *a, bool data_only)
{
	size_t i, best = TRAV_WINDOW_MAX;
	int st, rank, best_rank = 0;
	uint8_t b;

	if (a->nwin == 0 || a->state != TA_CONNECTED)
		return -ENOENT;
	/* the one with the header waiting, else an established one, else one
	 * whose handshake the requester's ACK (or header) completes */
	for (i = 0; i < a->nwin; i++) {
		if (a->win[i].ev.fd < 0)
			continue;
		st = trav_sock_state(a->win[i].ev.fd);
		if (st != TCP_ESTABLISHED && st != TCP_SYN_RECV)
			continue;
		if (recv(a->win[i].ev.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
			rank = 3;
		else if (data_only)
			continue;
		else
			rank = st == TCP_ESTABLISHED ? 2 : 1;
		if (rank > best_rank) {
			best_rank = rank;
			best = i;
		}
	}
	if (best == TRAV_WINDOW_MAX)
		return -ENOENT;
	if (a->conn >= 0)
		close(a->conn);	/* FIN: outbound RSTs stay dropped */
	log_info("window: %s socket %zu (port %u -> %u): switching to it",
		 best_rank == 3 ? "the requester's header came on" :
		 "the requester closed ours; established too:",
		 best + 1, a->win[best].lport, a->win[best].rport);
	a->conn = a->win[best].ev.fd;
	a->win[best].ev.fd = -1;
	a->lport = a->win[best].lport;
	a->rport = a->win[best].rport;
	return 0;
}

int trav_sock_connect_flow(struct trav_attempt *a, struct d_ev *ev, uint16_t lport,
			   uint16_t rport, uint64_t now)
{
	struct sockaddr_storage to;
	socklen_t tl = trav_sockaddr(a, rport, &to);
	struct nfq_flow f;
	struct nfq_policy_spec sp;
	uint32_t tmo = trav_left_ms(a, now);

	/* no peer address (a peer that signals over IPv6 has no IPv4 one):
	 * 0.0.0.0 would be this host */
	if (a->family != AF_INET6 && a->raddr == 0) {
		snprintf(a->why, sizeof(a->why), "no IPv4 address of the peer to connect to");
		return -EDESTADDRREQ;
	}

	trav_flow(a, lport, rport, &f);
	if (ev != &a->ev) {
		/* a window socket: its own guard (trav_start guards none for a
		 * window), so that its loser siblings stay guarded when the
		 * winner's policies go */
		nfq_spec_drop_outbound_rst(&sp, &f, D_RST_GUARD_MS);
		trav_sock_policy(a, &sp);
	}
	if (a->ttl > 0) {
		nfq_spec_syn_ttl(&sp, &f, 1, (uint8_t)a->ttl, tmo);
		trav_sock_policy(a, &sp);
	} else if (!(a->ops->flags & TRAV_F_REPORT_SYN) && g_d->cfg.syn_pacing) {
		/* full TTL from the first SYN: the queue tells us it left, and
		 * the daemon's clock sends it again until it is answered (an
		 * IPv6 flow's copies as IPv6 datagrams) */
		int win = ev == &a->ev ? TRAV_COOKIE_NO_WIN :
			  (int)((struct trav_win *)ev->arg - a->win);

		nfq_spec_report_syn(&sp, &f, tmo, trav_syn_cookie(a, win));
		sp.count = 1;
		trav_sock_policy(a, &sp);
		if (win == TRAV_COOKIE_NO_WIN)
			a->syn.paced = true;
		else
			a->win[win].syn.paced = true;
	} else if ((a->ops->flags & TRAV_F_SYN_FIRST) && g_d->cfg.syn_pacing && ev == &a->ev) {
		/* simopen6's second SYN, at full hop limit: trav_start's
		 * report of its first SYN starts the clock */
		a->syn.paced = true;
	}
	nfq_spec_drop_inbound_errors(&sp, &f, tmo);
	trav_sock_policy(a, &sp);
	if (trav_budget_take(a, 1) < 0)
		return -EDQUOT;
	if (connect(ev->fd, (struct sockaddr *)&to, tl) < 0 && errno != EINPROGRESS) {
		snprintf(a->why, sizeof(a->why), "connect: %s", strerror(errno));
		return -errno;
	}
	return d_loop_add(ev, EPOLLOUT);
}

int trav_sock_connect(struct trav_attempt *a, uint64_t now)
{
	a->ev.cb = on_connect_ev;
	return trav_sock_connect_flow(a, &a->ev, a->lport, a->rport, now);
}

int trav_sock_window_add(struct trav_attempt *a, int fd, uint16_t lport, uint16_t rport,
			 uint64_t now)
{
	struct trav_win *w;

	if (a->nwin >= TRAV_WINDOW_MAX) {
		close(fd);
		return -ENOSPC;
	}
	w = &a->win[a->nwin++];
	memset(w, 0, sizeof(*w));
	w->a = a;
	w->lport = lport;
	w->rport = rport;
	w->ev = (struct d_ev){ .fd = fd, .cb = on_win_ev, .arg = w };
	if (a->ttl > 0 && a->ops->syn_left) {
		/* before the connect: the queue tells us its first SYN, so
		 * that it can go again at full TTL once the peer's window has
		 * left too (daemon/trav/predict.c) */
		struct nfq_flow f = { .proto = PKT_PROTO_TCP, .lport = lport,
				      .raddr = a->raddr, .rport = rport };
		struct nfq_policy_spec sp;

		nfq_spec_report_syn(&sp, &f, trav_left_ms(a, now),
				    trav_syn_cookie(a, (int)(w - a->win)));
		sp.count = 1;
		trav_sock_policy(a, &sp);
	}
	if (trav_sock_connect_flow(a, &w->ev, lport, rport, now) < 0) {
		/* this port only: the others of the window may still work */
		log_debug("session: predict: connect from %u to %u: %s", lport, rport, a->why);
		a->why[0] = '\0';
		close(w->ev.fd);
		w->ev.fd = -1;
		w->failed = true;
	}
	return 0;
}

int trav_sock_accept_from(struct trav_attempt *a, int lfd,
			  bool (*from_ok)(const struct trav_attempt *a, uint32_t ip),
			  const char *not_whom)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char ip[INET_ADDRSTRLEN];
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	if (a->state != TA_RUNNING || !from_ok(a, from.sin_addr.s_addr)) {
		/* a stranger found the port. Closing sends FIN, not RST. */
		log_info("session %u: %s: refused a connection from %s:%u (not %s of %s)",
			 a->sid, sig_method_name(a->method), d_ip_str(from.sin_addr.s_addr, ip),
			 ntohs(from.sin_port), not_whom, a->peer);
		close(fd);
		return -1;
	}
	return fd;
}

static bool from_peer(const struct trav_attempt *a, uint32_t ip)
{
	return ip == a->raddr;
}

static void on_accept_ev(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	int fd;

	(void)events;
	fd = trav_sock_accept_from(a, ev->fd, from_peer, "the address");
	if (fd >= 0)
		trav_connected(a, fd);
}

int trav_sock_accept(struct trav_attempt *a, uint64_t now)
{
	struct nfq_flow pf = { .proto = PKT_PROTO_TCP, .lport = a->lport, .raddr = a->raddr,
			       .rport = TRAV_PRIMER_PORT };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(TRAV_PRIMER_PORT),
				  .sin_addr.s_addr = a->raddr };
	struct nfq_policy_spec sp;
	int fd;

	if (listen(a->ev.fd, 4) < 0) {
		snprintf(a->why, sizeof(a->why), "listen: %s", strerror(errno));
		return -errno;
	}
	a->ev.cb = on_accept_ev;
	if (d_loop_add(&a->ev, EPOLLIN) < 0)
		return -errno;
	if (a->ttl <= 0)
		return 0;	/* no NAT in front: nothing to prime */
	if (trav_budget_take(a, 1) < 0)
		return -EDQUOT;
	fd = trav_sock_marked(a->lport, NULL);
	if (fd < 0) {
		snprintf(a->why, sizeof(a->why), "primer: %s", strerror(-fd));
		return fd;
	}
	a->pev.fd = fd;
	nfq_spec_syn_ttl(&sp, &pf, 16, (uint8_t)a->ttl, TRAV_PRIMER_MS * 4);
	trav_sock_policy(a, &sp);
	nfq_spec_drop_inbound_errors(&sp, &pf, TRAV_PRIMER_MS * 4);
	trav_sock_policy(a, &sp);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS)
		log_debug("session: primer connect: %s", strerror(errno));
	a->primer_close_ms = now + TRAV_PRIMER_MS;
	return 0;
}

/* Build syn again (lport -> the peer's rport, full TTL / hop limit) and
 * inject it: 0, or -errno (logged: the kernel's retransmission is then the
 * fallback). */
static int syn_send(struct trav_attempt *a, const struct trav_syn *syn, uint16_t lport,
		    uint16_t rport)
{
	struct pkt_tcp_spec sp;
	uint8_t buf[PKT_IP6_HDR + PKT_TCP_MAX_HDR];
	size_t len;
	int err;

	memset(&sp, 0, sizeof(sp));
	if (a->family == AF_INET6) {
		sp.family = AF_INET6;
		memcpy(sp.saddr6, syn->laddr6, 16);
		memcpy(sp.daddr6, a->raddr6, 16);
	} else {
		sp.family = AF_INET;
		sp.saddr = syn->laddr;
		sp.daddr = a->raddr;
	}
	sp.sport = lport;
	sp.dport = rport;
	sp.seq = syn->d.seq;
	sp.flags = PKT_TCP_SYN;
	sp.window = syn->d.window;
	sp.ttl = 64;
	sp.dont_fragment = 1;
	sp.opt = syn->d.opt;
	if ((err = pkt_build_tcp(&sp, buf, sizeof(buf), &len)) < 0 ||
	    (err = d_nfq_inject(buf, len)) < 0)
		log_info("session %u: %s: cannot send the SYN from port %u to %u again (%s); "
			 "the kernel's retransmission will", a->sid,
			 sig_method_name(a->method), lport, rport, strerror(-err));
	return err;
}

void trav_sock_syn_again(struct trav_attempt *a, struct trav_syn *syn, uint16_t lport,
			 uint16_t rport)
{
	if (syn->repeated || !syn->has || !a->peer_syn || a->state != TA_RUNNING)
		return;
	syn->repeated = true;
	if (trav_budget_take(a, 1) < 0)
		return;
	if (syn_send(a, syn, lport, rport) < 0)
		return;
	if (g_d->cfg.syn_pacing)
		trav_pace_start(&syn->pace, clock_ms());
	log_debug("session %u: %s: SYN seq %u sent again at full TTL (port %u -> %u)",
		  a->sid, sig_method_name(a->method), syn->d.seq, lport, rport);
}

/* One flow's clock: fd is its socket (-1: gone). */
static void pace_flow(struct trav_attempt *a, struct trav_syn *syn, int fd, uint16_t lport,
		      uint16_t rport, uint64_t now)
{
	if (!syn->pace.next_ms || now < syn->pace.next_ms)
		return;
	if (fd < 0 || a->state != TA_RUNNING || trav_sock_state(fd) != TCP_SYN_SENT) {
		trav_pace_stop(&syn->pace);	/* answered, or nothing left to answer */
		return;
	}
	if (!trav_pace_due(&syn->pace, now))
		return;
	if (trav_budget_take(a, 1) < 0) {
		trav_pace_stop(&syn->pace);
		return;
	}
	if (syn_send(a, syn, lport, rport) < 0) {
		trav_pace_stop(&syn->pace);
		return;
	}
	g_d->counters[a->method].syns_again++;
	log_debug("session %u: %s: SYN seq %u from port %u to %u unanswered: copy %u sent",
		  a->sid, sig_method_name(a->method), syn->d.seq, lport, rport, syn->pace.sent);
}

void trav_sock_pace_tick(struct trav_attempt *a, uint64_t now)
{
	size_t i;

	if (a->role != TRAV_CONNECT && !a->nwin)
		return;
	pace_flow(a, &a->syn, a->ev.fd, a->lport, a->rport, now);
	for (i = 0; i < a->nwin; i++)
		if (!a->win[i].failed)
			pace_flow(a, &a->win[i].syn, a->win[i].ev.fd, a->win[i].lport,
				  a->win[i].rport, now);
}
