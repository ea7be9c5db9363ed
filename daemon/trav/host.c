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
 * the peer's host addresses, before anything else (daemon/trav/proof.c).
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

#include "daemon/hostaddr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct host_priv {
	struct trav_proof	proof;				/* first: proof.c */
	uint32_t		hosts[D_MAX_HOST_ADDRS];	/* the peer's */
	size_t			nhosts;
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
	trav_proof_arm(&h->proof, a, p);
	h->proof.early_hdr = true;	/* the 2-round-trip order above */
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
	int fd;

	(void)events;
	fd = trav_sock_accept_from(a, ev->fd, peer_host, "one of the host addresses");
	if (fd < 0)
		return;
	if (trav_proof_send(a, &h->proof, fd) < 0) {
		close(fd);
		return;
	}
	trav_connected(a, fd);
}

static int host_start(struct trav_attempt *a, uint64_t now)
{
	struct host_priv *h = a->priv;

	if (!h->proof.have_key || h->nhosts == 0) {
		snprintf(a->why, sizeof(a->why), "host: the peer sent no %s",
			 h->nhosts ? "session key" : "host candidate we take");
		return -EINVAL;
	}
	if (a->role == TRAV_CONNECT) {
		a->ev.cb = trav_proof_on_connect;
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
