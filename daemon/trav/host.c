// SPDX-License-Identifier: MIT
/*
 * Host: the peer is behind the same NAT as we are (its public address, as
 * the server vouches for it, is ours: daemon/negotiate.c), so the LAN (or
 * the carrier NAT's inside) may reach it directly. Each side offers its
 * interface addresses as SIG_CAND_HOST candidates (daemon/hostaddr.c); the
 * responder listens on its port on every address before its EXCHANGE, the
 * requester connects to one of the responder's (the first in one of its own
 * subnets, else the first) as soon as that EXCHANGE arrives -- raced beside
 * the public-path methods, never before them (TRAV_F_EARLY, like direct).
 *
 * A private address can be another host's on another LAN. So the responder
 * proves that it is the peer, on every connection it accepts from one of
 * the peer's host addresses, before anything else:
 *
 *   "STNH" PROOF(16)        (sig_conn_proof, role 'P', proto/sig_proof.h)
 *
 * Two LAN round trips: the requester writes the session header (with its
 * own proof, confirm.c: events->early_hdr) as soon as its connect
 * completes, in the flight of its handshake's last ACK; the responder's
 * proof and, once it has read the header and handed the connection off,
 * its 'K' come back in one flight. The requester takes the connection
 * only once that proof verified (then the 'K' is read as for every
 * method); until then nothing but the header goes out on it, nothing is
 * handed on, and the session holds any other method's connection (the
 * peer may take the header: docs/security.md says what it reveals). A
 * connection that reached another host, or a host that does not answer
 * within TRAV_HOST_CONNECT_MS, fails this attempt alone: the race goes on.
 */
#include "daemon/trav/trav.h"

#include "common/log.h"
#include "daemon/hostaddr.h"
#include "proto/sig_proof.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HOST_HELLO_MAGIC	"STNH"
#define HOST_HELLO_LEN		(4 + SIG_PROOF_LEN)

struct host_priv {
	uint32_t	hosts[D_MAX_HOST_ADDRS];	/* the peer's */
	size_t		nhosts;
	bool		have_key;
	uint8_t		req_half[SIG_SESSION_KEY_LEN];
	uint8_t		resp_half[SIG_SESSION_KEY_LEN];
	uint8_t		hello[HOST_HELLO_LEN];		/* requester: what came */
	size_t		got;
};

static int host_prepare(struct trav_attempt *a)
{
	return trav_sock_prepare_priv(a, sizeof(struct host_priv));
}

static void host_arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl)
{
	struct host_priv *h = a->priv;
	struct d_hostaddr own[D_MAX_HOST_ADDRS];
	int nown;

	(void)syn_ttl;
	a->ttl = 0;		/* no NAT between us: no primer, no TTL limit */
	h->nhosts = p->nhosts < D_MAX_HOST_ADDRS ? p->nhosts : D_MAX_HOST_ADDRS;
	memcpy(h->hosts, p->hosts, h->nhosts * sizeof(h->hosts[0]));
	if (h->nhosts) {
		nown = d_hostaddr_gather(&g_d->cfg, own, D_MAX_HOST_ADDRS);
		a->raddr = h->hosts[a->role == TRAV_CONNECT ?
				    d_hostaddr_pick(own, nown > 0 ? (size_t)nown : 0, h->hosts,
						    h->nhosts) : 0];
	}
	h->have_key = p->key != NULL && p->own_key != NULL;
	if (h->have_key) {
		memcpy(h->req_half, a->requester ? p->own_key : p->key, SIG_SESSION_KEY_LEN);
		memcpy(h->resp_half, a->requester ? p->key : p->own_key, SIG_SESSION_KEY_LEN);
	}
}

static bool peer_host(const struct trav_attempt *a, uint32_t ip)
{
	const struct host_priv *h = a->priv;
	size_t i;

	for (i = 0; i < h->nhosts; i++)
		if (h->hosts[i] == ip)
			return true;
	return false;
}

/* Responder: a connection from one of the peer's host addresses: our proof
 * first, then it waits for the session header like any other (confirm.c). */
static void host_on_accept(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	struct host_priv *h = a->priv;
	uint8_t hello[HOST_HELLO_LEN];
	bool more;
	char c;
	int fd;

	(void)events;
	fd = trav_sock_accept_from(a, ev->fd, peer_host, "one of the host addresses");
	if (fd < 0)
		return;
	/* A requester that writes its header at once has it here already,
	 * most of the time: then the proof waits in our send queue (MSG_MORE)
	 * for the 'K' that follows it in the same round trip, and both leave
	 * in one segment -- sent alone, the proof would make the kernel hold
	 * the 'K' until the proof left this host (autocorking) or, with Nagle,
	 * until its ACK. Whatever ends the connection instead (a wrong
	 * header, a failed hand-off's 'E') sends the proof too. Without that
	 * header yet (an older requester waits for the proof first), the
	 * proof goes at once, and TCP_NODELAY still lets the 'K' follow
	 * without the ACK; it stays off for the service (VNC servers turn it
	 * off themselves). */
	more = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	memcpy(hello, HOST_HELLO_MAGIC, 4);
	if (sig_conn_proof(h->req_half, h->resp_half, SIG_PROOF_RESPONDER, a->sid, SIG_M_HOST,
			   hello + 4) < 0 ||
	    send(fd, hello, sizeof(hello), MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0)) !=
		    (ssize_t)sizeof(hello)) {
		struct sockaddr_in from = { 0 };
		socklen_t fl = sizeof(from);
		char ip[INET_ADDRSTRLEN];

		(void)getpeername(fd, (struct sockaddr *)&from, &fl);
		log_warnx("session %u: host: cannot send our proof to %s:%u", a->sid,
			  d_ip_str(from.sin_addr.s_addr, ip), ntohs(from.sin_port));
		close(fd);
		return;
	}
	trav_connected(a, fd);
}

/* Requester: the responder's proof (its 'K' follows), before the connection
 * is ours. */
static void host_on_hello(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	struct host_priv *h = a->priv;
	char ip[INET_ADDRSTRLEN], why[128];
	ssize_t n;
	int fd;

	(void)events;
	if (a->state != TA_RUNNING)
		return;
	n = recv(ev->fd, h->hello + h->got, sizeof(h->hello) - h->got, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		h->got += (size_t)n;
	if (n > 0 && h->got < sizeof(h->hello))
		return;
	d_loop_del(ev);
	if (n > 0 && !memcmp(h->hello, HOST_HELLO_MAGIC, 4) &&
	    sig_conn_proof_ok(h->req_half, h->resp_half, SIG_PROOF_RESPONDER, a->sid, SIG_M_HOST,
			      h->hello + 4)) {
		fd = ev->fd;
		ev->fd = -1;
		trav_connected(a, fd);
		return;
	}
	/* another host that has the peer's address (another LAN, same
	 * subnet): it got our header, nothing more; FIN, not RST (guarded) */
	close(ev->fd);
	ev->fd = -1;
	g_d->conns_unproven++;
	snprintf(why, sizeof(why), "%s:%u is not %s (%s): dropped", d_ip_str(a->raddr, ip),
		 a->rport, a->peer, n > 0 ? "wrong proof" : "closed without a proof");
	log_warnx("session %u: host: %s", a->sid, why);
	trav_fail(a, why);
}

static void host_on_connect(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	struct tcp_info ti;
	socklen_t el = sizeof(int), tl = sizeof(ti);
	int err = 0;
	char why[96];

	(void)events;
	if (a->state != TA_RUNNING)
		return;
	if (getsockopt(ev->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		trav_fail(a, why);
		return;
	}
	if (getsockopt(ev->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
	    ti.tcpi_state != TCP_ESTABLISHED)
		return;
	d_loop_del(ev);
	/* the header now, the peer's proof before anything else */
	if (a->events->early_hdr(a, ev->fd) < 0) {
		trav_fail(a, "cannot write the session header");
		return;
	}
	ev->cb = host_on_hello;
	if (d_loop_add(ev, EPOLLIN | EPOLLRDHUP) < 0)
		trav_fail(a, "cannot watch the connection");
}

static int host_start(struct trav_attempt *a, uint64_t now)
{
	struct host_priv *h = a->priv;

	if (!h->have_key || h->nhosts == 0) {
		snprintf(a->why, sizeof(a->why), "host: the peer sent no %s",
			 h->nhosts ? "session key" : "host candidate we take");
		return -EINVAL;
	}
	if (a->role == TRAV_CONNECT) {
		a->ev.cb = host_on_connect;
		return trav_sock_connect_flow(a, &a->ev, a->lport, a->rport, now);
	}
	if (listen(a->ev.fd, 4) < 0) {
		snprintf(a->why, sizeof(a->why), "listen: %s", strerror(errno));
		return -errno;
	}
	a->ev.cb = host_on_accept;
	return d_loop_add(&a->ev, EPOLLIN);
}

/* The short deadline: a LAN answers at once or not at all. */
static void host_tick(struct trav_attempt *a, uint64_t now)
{
	uint64_t limit = a->role == TRAV_CONNECT ? TRAV_HOST_CONNECT_MS : TRAV_HOST_ACCEPT_MS;
	char why[64];

	if (a->state != TA_RUNNING || now < a->t_start + limit)
		return;
	snprintf(why, sizeof(why), "no %s within %llu ms",
		 a->role == TRAV_CONNECT ? "proven connection" : "connection",
		 (unsigned long long)limit);
	trav_fail(a, why);
}

const struct trav_ops trav_host_ops = {
	.method = SIG_M_HOST, .flags = TRAV_F_EARLY | TRAV_F_OWN_ENDPOINT, .role = trav_role_responder_accepts,
	.prepare = host_prepare, .arm = host_arm, .start = host_start, .tick = host_tick,
	.close = trav_free_priv,
};
