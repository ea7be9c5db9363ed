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
 *
 * Inside a carrier NAT (the peer's address we take is in 100.64/10, RFC
 * 6598) the hosts are typically home gateways running stuntd, each with
 * its own input firewall (new connections from the WAN refused): a
 * listener alone opens nothing there, and host worked only towards a
 * gateway without one. So the responder also connects, from its listener's
 * port to the requester's host endpoint (the address it connects from: the
 * one of its addresses in one of our subnets, as the requester picks ours,
 * and the port it offered, its socket's) -- a TCP simultaneous open: our
 * SYN opens our firewall for the requester's (its RST or ICMP answer from
 * the requester's side is dropped for the attempt), the requester's SYN
 * meets our socket in SYN_SENT, and whichever way the handshake completes,
 * the connection is this socket's (the listener sees nothing of that
 * 4-tuple). Then as on an accepted connection: our proof first. On a LAN
 * behind one NAT (10/8, 172.16/12, 192.168/16) nothing stands between the
 * hosts and the responder only listens, as before. Gateways that answer
 * unsolicited SYNs with an RST pass too: whichever SYN goes first meets
 * one (there is no router between the two where a TTL-limited SYN could
 * end instead), and stunt-rules queues inbound RSTs in raw PREROUTING,
 * before connection tracking, so the attempt's guard drops it before it
 * can end the state the sender's own gateway holds for the flow
 * (tests/lab/t_stuntd_cgn.sh gateway).
 */
#include "daemon/trav/trav.h"

#include "common/log.h"
#include "daemon/hostaddr.h"
#include "nfq/nfq_policy.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct host_priv {
	struct trav_proof	proof;				/* first: proof.c */
	uint32_t		hosts[D_MAX_HOST_ADDRS];	/* the peer's */
	size_t			nhosts;
	bool			sim;	/* responder: a->pev connects (carrier inside) */
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
		/* the requester connects to ours in one of its subnets, from
		 * its own there: the responder picks the same way */
		nown = d_hostaddr_gather(&g_d->cfg, own, D_MAX_HOST_ADDRS);
		if (nown < 0)
			nown = 0;
		a->raddr = h->hosts[d_hostaddr_pick(own, (size_t)nown, h->hosts, h->nhosts)];
		h->sim = a->role == TRAV_ACCEPT && a->rport &&
			 d_hostaddr_carrier(own, (size_t)nown, a->raddr);
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

/* Responder, carrier inside: our connect to the requester's host endpoint
 * completed (a simultaneous open, or its SYN-ACK): our proof first. */
static void host_on_sim(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	struct host_priv *h = a->priv;
	int fd = ev->fd, r = trav_sock_connect_result(fd), st;

	(void)events;
	if (r == 0 && a->state == TA_RUNNING &&
	    ((st = trav_sock_state(fd)) == TCP_SYN_SENT || st == TCP_SYN_RECV))
		return;		/* not yet */
	if (r != 1 || a->state != TA_RUNNING) {
		/* refused or unreachable (the listener stays), the attempt is
		 * over, or a state to leave */
		if (r > 1)
			log_debug("session %u: host: connect to the requester's endpoint: %s",
				  a->sid, strerror(r));
		d_loop_del(ev);
		close(fd);
		ev->fd = -1;
		return;
	}
	d_loop_del(ev);
	ev->fd = -1;
	log_info("session %u: host: connected to the requester's endpoint (simultaneous open "
		 "inside the carrier NAT)", a->sid);
	if (trav_proof_send(a, &h->proof, fd) < 0) {
		close(fd);
		return;
	}
	trav_connected(a, fd);
}

/* Responder, carrier inside: connect from the listener's port to the
 * requester's host endpoint, its errors dropped for the attempt. */
static void host_sim_connect(struct trav_attempt *a, uint64_t now)
{
	struct nfq_flow f;
	struct nfq_policy_spec sp;
	struct sockaddr_storage to;
	socklen_t tl = trav_sockaddr(a, a->rport, &to);
	int fd;

	if (trav_budget_take(a, 1) < 0)
		return;
	fd = trav_sock_marked(a->lport, NULL);
	if (fd < 0) {
		log_info("session %u: host: no socket for the simultaneous open: %s", a->sid,
			 strerror(-fd));
		return;
	}
	trav_flow(a, a->lport, a->rport, &f);
	nfq_spec_drop_inbound_errors(&sp, &f, trav_left_ms(a, now));
	trav_sock_policy(a, &sp);
	if (connect(fd, (struct sockaddr *)&to, tl) < 0 && errno != EINPROGRESS) {
		log_info("session %u: host: connect to the requester's endpoint: %s", a->sid,
			 strerror(errno));
		close(fd);
		return;
	}
	log_debug("session %u: host: connect from port %u to the requester's endpoint too "
		  "(inside the carrier NAT)", a->sid, a->lport);
	a->pev = (struct d_ev){ .fd = fd, .cb = host_on_sim, .arg = a };
	a->primer_close_ms = UINT64_MAX;	/* kept until the attempt ends */
	if (d_loop_add(&a->pev, EPOLLOUT) < 0) {
		close(fd);
		a->pev.fd = -1;
	}
}

static void host_close(struct trav_attempt *a, bool keep_conn)
{
	if (a->pev.fd >= 0)
		d_loop_del(&a->pev);	/* trav_close closes it */
	trav_free_priv(a, keep_conn);
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
	if (d_loop_add(&a->ev, EPOLLIN) < 0)
		return -errno;
	if (h->sim)
		host_sim_connect(a, now);
	return 0;
}

/* The short deadline: a LAN answers at once or not at all. */
static void host_tick(struct trav_attempt *a, uint64_t now)
{
	uint64_t limit = a->role == TRAV_CONNECT ? TRAV_HOST_CONNECT_MS : TRAV_HOST_ACCEPT_MS;
	char why[64];

	if (a->state != TA_RUNNING && a->pev.fd >= 0) {
		/* the simultaneous open's socket ends with the attempt (in
		 * SYN_SENT it closes without sending anything) */
		d_loop_del(&a->pev);
		close(a->pev.fd);
		a->pev.fd = -1;
	}
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
	.close = host_close,
};
