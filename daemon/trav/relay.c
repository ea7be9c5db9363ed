// SPDX-License-Identifier: MIT
/*
 * Relay: the last resort, through a TURN server with TCP allocations
 * (RFC 8656 + RFC 6062; coturn is the reference server). The responder
 * allocates when it has --turn, else the requester does (daemon/negotiate.c's relay
 * round; the roles below swap, the permission is for the responder's IP);
 * the connecting side needs nothing:
 *
 *   responder                           TURN server                 requester
 *   control connection: Allocate (TCP), 401, Allocate with the long-term
 *   credential -> XOR-RELAYED-ADDRESS; CreatePermission for the requester's
 *   public IP (its EXCHANGE candidates) -- all before our EXCHANGE, which
 *   advertises the relayed address as a SIG_CAND_RELAY candidate
 *                                          |<------ plain connect() to the
 *   <------ ConnectionAttempt [CONNECTION-ID]       relayed address, on our
 *   data connection: ConnectionBind ------>|        EXCHANGE (works through
 *   <------ success: the data connection is the session's socket   any NAT)
 *
 * The requester's connect completes as soon as the server accepts it; it
 * writes the session header, which the server holds until the bind, so the
 * usual header / 'K' hand-off (daemon/confirm.c) runs unchanged over the relay.
 *
 * The allocation must outlive the session: coturn closes the data
 * connections of an allocation that expires or whose control connection
 * closes. So a won relay (struct trav_relay) detaches from its attempt and
 * stays in this file's list, refreshing the allocation every LIFETIME/2,
 * until its data connection is gone -- seen in /proc/self/net/tcp by its
 * local port (the connection itself belongs to the hand-off, to stuntctl,
 * or, framed, to daemon/relayhc.c, and holding a duplicate of it would keep
 * it open) -- and then deletes it
 * (Refresh, LIFETIME 0). A relay that lost or failed deletes its allocation
 * at once. Everything runs in stuntd's event loop; the sockets to the TURN
 * server are unmarked, plain TCP (the connecting side's socket to the
 * relayed address is an attempt's marked socket, as for any method).
 *
 * Families (issue 17). The TURN server (--turn) is IPv4 or IPv6; the control
 * and data connections use its family. The relayed address's family is
 * asked for with REQUESTED-ADDRESS-FAMILY (RFC 8656 18.11, RFC 6156) and
 * chosen from the peer, the side that will connect to it
 * (trav_relay_family, daemon/trav/strategy.c): IPv4 as before
 * when the peer has an IPv4 address (a->raddr, its SIG-SENDER); IPv6 when
 * it has none, or always with the test knob test-relay-ipv6, provided the
 * peer told us its IPv6 address (a->raddr6: its SIG-SENDER when it signals
 * over IPv6, else its relay candidate of kind host and family IPv6, which a
 * connecting side with a global IPv6 address offers beside its IPv4 one
 * when relay is offered alone (forced, the relay round), and alone when it
 * has no IPv4; negotiate.c takes it as simopen6's, global
 * unicast and none of ours). The permission is for that address;
 * the connecting side then connects from it (a marked IPv6 socket bound to
 * it) to the IPv6 relayed address, which its session took only on a TURN
 * server it knows (d_config_relay_known6).
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/esc.h"
#include "common/log.h"
#include "daemon/hostaddr6.h"
#include "daemon/trav/strategy.h"
#include "proto/turn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* The connecting side's state (a->priv for TRAV_CONNECT): its IPv6
 * address, offered so that the allocating side can permit it, and the
 * local one its socket binds to (NPTv6: the offer is its translated form). */
struct relay_conn {
	bool			has6;
	uint8_t			own6[16];
	uint8_t			offer6[16];
	bool			bad6;		/* arm could not open its IPv6 socket */
	bool			relayed;	/* the peer named a relayed address */
};

#define TRAV_RELAY_LIFETIME_S	600	/* asked for; the server may grant less */
#define TRAV_RELAY_TXN_MS	5000	/* one transaction over TCP: no retransmission */
#define TRAV_RELAY_CHECK_MS	1000	/* a won relay: is its data connection there? */
#define TRAV_RELAY_DELETE_MS	2000	/* the answer to the deleting Refresh */
#define TRAV_RELAY_STALE_MAX	3	/* 438 Stale Nonce retries of one request */
#define TRAV_RELAY_BUF		4096

enum tr_state { TR_CONNECTING, TR_ALLOCATING, TR_PERMITTING, TR_READY, TR_BINDING, TR_BOUND,
		TR_DELETING, TR_DONE };

struct trav_relay {
	struct d_ev		ctl;		/* control connection to the server */
	struct d_ev		data;		/* data connection, until it is bound */
	enum tr_state		st;
	struct turn_cred	cred;
	bool			auth_tried;
	unsigned		stale;
	uint8_t			txid[STUN_TXID_LEN];	/* the control request in flight */
	uint16_t		pending;		/* its method, 0: none */
	uint64_t		deadline;		/* of the transaction in flight */
	uint8_t			rbuf[TRAV_RELAY_BUF];
	size_t			rlen;
	uint8_t			dbuf[TRAV_RELAY_BUF];	/* the ConnectionBind answer */
	size_t			dlen;
	uint8_t			dtxid[STUN_TXID_LEN];
	union addr_sa		server;
	struct stun_addr	relayed;
	uint32_t		lifetime_s;
	uint64_t		refresh_at, next_check;
	struct stun_addr	peer;		/* permitted; its family is the relayed one's */
	uint32_t		conn_id;
	uint16_t		data_lport;
	struct trav_attempt	*a;		/* NULL once the attempt let go */
	struct trav_relay	*next;
};

static struct trav_relay *relays;

static void close_ev(struct d_ev *ev)
{
	if (ev->fd < 0)
		return;
	d_loop_del(ev);
	close(ev->fd);
	ev->fd = -1;
}

static void finish(struct trav_relay *r)
{
	close_ev(&r->ctl);
	close_ev(&r->data);
	r->st = TR_DONE;
	r->pending = 0;
}

#define TRAV_RELAY_EP_STRLEN	(INET6_ADDRSTRLEN + 8)

static const char *srv_str(const struct trav_relay *r, char *buf, size_t len)
{
	return d_ep_str(&r->server.sa, buf, len);
}

/* Something went wrong: tell the attempt (when there is one) and stop. */
static void fail(struct trav_relay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct trav_relay *r, const char *fmt, ...)
{
	struct trav_attempt *a = r->a;
	enum tr_state st = r->st;
	char why[sizeof(a->why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	finish(r);
	if (a == NULL) {
		log_info("relay: %s", why);
		return;
	}
	r->a = NULL;
	a->priv = NULL;
	snprintf(a->why, sizeof(a->why), "%s", why);
	if (st < TR_READY)
		a->events->ready(a, -EIO);	/* before the EXCHANGE: the session decides */
	else if (a->state == TA_RUNNING || a->state == TA_IDLE)
		trav_report_failed(a);
}

static int send_ctl(struct trav_relay *r, const uint8_t *buf, int n, uint16_t method)
{
	if (n <= 0) {
		fail(r, "cannot build the TURN %s request (%s)", turn_method_name(method),
		     strerror(-n));
		return -EINVAL;
	}
	if (send(r->ctl.fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		fail(r, "TURN server: cannot send %s: %s", turn_method_name(method),
		     strerror(errno ? errno : EIO));
		return -EIO;
	}
	r->pending = method;
	r->deadline = clock_ms() + TRAV_RELAY_TXN_MS;
	return 0;
}

/* (Re)send the request of the current state with a fresh transaction id. */
static int request(struct trav_relay *r, uint16_t method, uint32_t lifetime)
{
	uint8_t buf[1024];
	uint8_t fam = 0;
	int n;

	if (RAND_bytes(r->txid, sizeof(r->txid)) != 1) {
		fail(r, "no random bytes for a transaction id");
		return -EIO;
	}
	switch (method) {
	case TURN_METHOD_ALLOCATE:
		/* the family said whenever it is not the RFC's default for the
		 * link: an IPv6 relayed address, or any over an IPv6 link */
		if (r->peer.family == STUN_FAMILY_IPV6 || r->server.sa.sa_family == AF_INET6)
			fam = r->peer.family;
		n = turn_build_allocate_tcp(buf, sizeof(buf), r->txid, lifetime, fam, &r->cred);
		break;
	case TURN_METHOD_CREATE_PERMISSION:
		n = turn_build_create_permission(buf, sizeof(buf), r->txid, &r->peer, &r->cred);
		break;
	default:
		n = turn_build_refresh(buf, sizeof(buf), r->txid, lifetime, &r->cred);
		break;
	}
	return send_ctl(r, buf, n, method);
}

/* Delete the allocation (Refresh, LIFETIME 0), or just close when there is none. */
static void delete_alloc(struct trav_relay *r)
{
	close_ev(&r->data);
	if (r->ctl.fd < 0 || r->st < TR_PERMITTING || r->st >= TR_DELETING) {
		if (r->st < TR_DELETING)
			finish(r);
		return;
	}
	r->st = TR_DELETING;
	if (request(r, TURN_METHOD_REFRESH, 0) == 0)
		r->deadline = clock_ms() + TRAV_RELAY_DELETE_MS;
}

/* "CODE REASON", the TURN server's reason phrase escaped (common/esc.h) */
static void error_text(const struct turn_msg *t, char *buf, size_t len)
{
	char r[88];	/* with "CODE ", fits the callers' 100 bytes */

	esc_str(r, sizeof(r), t->reason ? t->reason : "", t->reason ? t->reason_len : 0);
	snprintf(buf, len, "%u %s", t->error, r);
}

/* ---- the data connection (RFC 6062 5.3 / 4.4) ---- */

static void on_data(struct d_ev *ev, uint32_t events);

static void on_attempt(struct trav_relay *r, const struct turn_msg *t)
{
	char ip[TRAV_RELAY_EP_STRLEN];
	int fd;

	if (!t->has_conn_id)
		return;
	if (r->st != TR_READY || r->a == NULL) {
		log_info("relay: ConnectionAttempt %u ignored (not waiting for one)", t->conn_id);
		return;
	}
	if (t->has_peer && (t->peer.family != r->peer.family ||
			    memcmp(t->peer.ip, r->peer.ip, r->peer.family == STUN_FAMILY_IPV6 ? 16 : 4))) {
		/* the permission lets only the peer's IP in; a second host
		 * behind the same NAT would still pass it: we take the first */
		log_info("relay: ConnectionAttempt from an unexpected address ignored");
		return;
	}
	log_info("relay: %s connected to the relayed address (connection id %u); binding",
		 stun_addr_str(&r->peer, ip, sizeof(ip)), t->conn_id);
	fd = socket(r->server.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(r, "data connection: %s", strerror(errno));
		return;
	}
	if (connect(fd, &r->server.sa, addr_sa_len(&r->server)) < 0 && errno != EINPROGRESS) {
		close(fd);
		fail(r, "data connection: %s", strerror(errno));
		return;
	}
	r->conn_id = t->conn_id;
	r->data = (struct d_ev){ .fd = fd, .cb = on_data, .arg = r };
	r->dlen = 0;
	r->st = TR_BINDING;
	r->deadline = clock_ms() + TRAV_RELAY_TXN_MS;
	if (d_loop_add(&r->data, EPOLLOUT) < 0)
		fail(r, "data connection: cannot watch it");
}

static void bound(struct trav_relay *r)
{
	struct trav_attempt *a = r->a;
	union addr_sa l;
	socklen_t ll = sizeof(l);
	int fd = r->data.fd;

	d_loop_del(&r->data);
	r->data.fd = -1;
	if (getsockname(fd, &l.sa, &ll) == 0)
		r->data_lport = addr_sa_port(&l);
	r->st = TR_BOUND;
	r->pending = 0;
	trav_connected(a, fd);
}

static void on_data(struct d_ev *ev, uint32_t events)
{
	struct trav_relay *r = ev->arg;
	uint8_t buf[1024];
	struct stun_msg m;
	struct turn_msg t;
	char e[100];
	socklen_t el = sizeof(int);
	size_t need;
	ssize_t n;
	int err = 0, k;

	if (r->st != TR_BINDING || r->a == NULL)
		return;
	if (r->pending != TURN_METHOD_CONNECTION_BIND) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(ev->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			fail(r, "data connection to the TURN server: %s", strerror(err ? err : errno));
			return;
		}
		if (RAND_bytes(r->dtxid, sizeof(r->dtxid)) != 1) {
			fail(r, "no random bytes for a transaction id");
			return;
		}
		k = turn_build_connection_bind(buf, sizeof(buf), r->dtxid, r->conn_id, &r->cred);
		if (k <= 0 || send(ev->fd, buf, (size_t)k, MSG_NOSIGNAL | MSG_DONTWAIT) != k) {
			fail(r, "cannot send ConnectionBind");
			return;
		}
		r->pending = TURN_METHOD_CONNECTION_BIND;
		d_loop_mod(ev, EPOLLIN);
		return;
	}
	/*
	 * RFC 6062 4.4: after a successful ConnectionBind "the connection is
	 * no longer used for STUN messages": read the answer to its last
	 * byte and not one byte more -- what follows is the peer's data.
	 */
	need = r->dlen < STUN_HDR_LEN ? STUN_HDR_LEN : STUN_HDR_LEN + stun_rd16(r->dbuf + 2);
	if (need > sizeof(r->dbuf)) {
		fail(r, "ConnectionBind: answer too large");
		return;
	}
	n = recv(ev->fd, r->dbuf + r->dlen, need - r->dlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fail(r, "ConnectionBind: the TURN server closed the data connection");
		return;
	}
	r->dlen += (size_t)n;
	if (r->dlen == STUN_HDR_LEN && stun_rd16(r->dbuf + 2) > 0)
		return;		/* the header: now the body */
	if (r->dlen < need)
		return;
	if (stun_parse(r->dbuf, r->dlen, &m) < 0 || turn_read(&m, r->cred.key,
							      sizeof(r->cred.key), &t) < 0 ||
	    t.method != TURN_METHOD_CONNECTION_BIND || memcmp(t.txid, r->dtxid, STUN_TXID_LEN)) {
		fail(r, "ConnectionBind: bad answer from the TURN server");
		return;
	}
	if (t.cls != STUN_SUCCESS) {
		error_text(&t, e, sizeof(e));
		fail(r, "TURN server refused ConnectionBind: %s", e);
		return;
	}
	bound(r);
}

/* ---- the control connection ---- */

static void on_answer(struct trav_relay *r, const struct turn_msg *t)
{
	char e[100], s[TRAV_RELAY_EP_STRLEN], ip[TRAV_RELAY_EP_STRLEN];
	uint16_t method = r->pending;

	if (t->cls == STUN_ERROR && t->error == STUN_ERR_STALE_NONCE && t->nonce &&
	    r->stale++ < TRAV_RELAY_STALE_MAX) {
		/* RFC 8489 9.2.5: retry with the new nonce */
		if (turn_cred_challenge(&r->cred, r->cred.realm, strlen(r->cred.realm), t->nonce,
					t->nonce_len) < 0) {
			fail(r, "TURN server sent a bad nonce");
			return;
		}
		(void)request(r, method, method == TURN_METHOD_REFRESH && r->st == TR_DELETING ?
					 0 : TRAV_RELAY_LIFETIME_S);
		return;
	}
	r->stale = 0;
	r->pending = 0;
	if (t->cls == STUN_ERROR)
		error_text(t, e, sizeof(e));
	switch (r->st) {
	case TR_ALLOCATING:
		if (t->cls == STUN_ERROR && t->error == STUN_ERR_UNAUTHORIZED && !r->auth_tried &&
		    t->realm && t->nonce) {
			r->auth_tried = true;
			if (turn_cred_challenge(&r->cred, t->realm, t->realm_len, t->nonce,
						t->nonce_len) < 0) {
				fail(r, "TURN server sent a bad realm or nonce");
				return;
			}
			(void)request(r, TURN_METHOD_ALLOCATE, TRAV_RELAY_LIFETIME_S);
			return;
		}
		if (t->cls == STUN_ERROR && (t->error == STUN_ERR_UNAUTHORIZED ||
					     t->error == TURN_ERR_WRONG_CREDENTIALS)) {
			fail(r, "TURN server %s refused the credentials (%s): check --turn-user "
			     "and --turn-pass-file (or --turn-pass)", srv_str(r, s, sizeof(s)), e);
			return;
		}
		if (t->cls == STUN_ERROR) {
			fail(r, "TURN server %s refused the TCP allocation (%s)",
			     srv_str(r, s, sizeof(s)), e);
			return;
		}
		if (!t->has_relayed || t->relayed.family != r->peer.family) {
			fail(r, "TURN server: Allocate success without an %s XOR-RELAYED-ADDRESS",
			     r->peer.family == STUN_FAMILY_IPV6 ? "IPv6" : "IPv4");
			return;
		}
		r->relayed = t->relayed;
		r->lifetime_s = t->has_lifetime && t->lifetime ? t->lifetime : TRAV_RELAY_LIFETIME_S;
		r->refresh_at = clock_ms() + (uint64_t)r->lifetime_s * 500;
		r->st = TR_PERMITTING;
		(void)request(r, TURN_METHOD_CREATE_PERMISSION, 0);
		return;
	case TR_PERMITTING:
		if (t->cls == STUN_ERROR) {
			fail(r, "TURN server %s refused a permission for %s (%s)",
			     srv_str(r, s, sizeof(s)), stun_addr_str(&r->peer, ip, sizeof(ip)), e);
			return;
		}
		r->st = TR_READY;
		log_info("relay: allocated %s on %s for %u s, permission for %s",
			 stun_addr_str(&r->relayed, e, sizeof(e)), srv_str(r, s, sizeof(s)), r->lifetime_s,
			 stun_addr_str(&r->peer, ip, sizeof(ip)));
		if (r->a)
			r->a->events->ready(r->a, 0);
		return;
	case TR_READY:
	case TR_BINDING:
	case TR_BOUND:
		if (method != TURN_METHOD_REFRESH)
			return;
		if (t->cls == STUN_ERROR) {
			log_warnx("relay: TURN server %s refused a Refresh (%s)",
				  srv_str(r, s, sizeof(s)), e);
			return;
		}
		if (t->has_lifetime && t->lifetime)
			r->lifetime_s = t->lifetime;
		r->refresh_at = clock_ms() + (uint64_t)r->lifetime_s * 500;
		log_debug("relay: allocation refreshed for %u s", r->lifetime_s);
		return;
	case TR_DELETING:
		log_info("relay: allocation %s deleted%s%s", stun_addr_str(&r->relayed, s, sizeof(s)),
			 t->cls == STUN_ERROR ? ": " : "", t->cls == STUN_ERROR ? e : "");
		finish(r);
		return;
	default:
		return;
	}
}

/* One whole message from the control connection. */
static void on_ctl_msg(struct trav_relay *r, const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	struct turn_msg t;
	int err;

	if (stun_parse(buf, len, &m) < 0) {
		log_debug("relay: unparsable message from the TURN server dropped");
		return;
	}
	err = turn_read(&m, r->cred.ready ? r->cred.key : NULL, sizeof(r->cred.key), &t);
	if (err < 0) {
		log_debug("relay: TURN message dropped: %s", strerror(-err));
		return;
	}
	if (t.cls == STUN_INDICATION) {
		if (t.method == TURN_METHOD_CONNECTION_ATTEMPT)
			on_attempt(r, &t);
		return;
	}
	if (t.cls == STUN_REQUEST || r->pending == 0 || t.method != r->pending ||
	    memcmp(t.txid, r->txid, STUN_TXID_LEN))
		return;		/* not the answer we wait for */
	on_answer(r, &t);
}

static void on_ctl(struct d_ev *ev, uint32_t events)
{
	struct trav_relay *r = ev->arg;
	char s[TRAV_RELAY_EP_STRLEN];
	socklen_t el = sizeof(int);
	ssize_t n;
	int err = 0, fl;

	if (r->st == TR_CONNECTING) {
		if (getsockopt(ev->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			fail(r, "cannot connect to the TURN server %s: %s", srv_str(r, s, sizeof(s)),
			     strerror(err ? err : errno));
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		d_loop_mod(ev, EPOLLIN);
		r->st = TR_ALLOCATING;
		(void)request(r, TURN_METHOD_ALLOCATE, TRAV_RELAY_LIFETIME_S);
		return;
	}
	n = recv(ev->fd, r->rbuf + r->rlen, sizeof(r->rbuf) - r->rlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (r->st == TR_DELETING || r->st == TR_BOUND) {
			log_info("relay: the TURN server closed the control connection");
			finish(r);
			return;
		}
		fail(r, "the TURN server %s closed the control connection", srv_str(r, s, sizeof(s)));
		return;
	}
	r->rlen += (size_t)n;
	while (r->ctl.fd >= 0 && r->rlen > 0) {
		fl = stun_frame_len(r->rbuf, r->rlen);
		if (fl < 0 || (size_t)fl > sizeof(r->rbuf)) {
			fail(r, "the TURN server %s sent something that is not STUN",
			     srv_str(r, s, sizeof(s)));
			return;
		}
		if (fl == 0 || r->rlen < (size_t)fl)
			return;
		on_ctl_msg(r, r->rbuf, (size_t)fl);
		if (r->ctl.fd < 0)
			return;		/* closed meanwhile */
		memmove(r->rbuf, r->rbuf + fl, r->rlen - (size_t)fl);
		r->rlen -= (size_t)fl;
	}
}

/* The relayed address's family, chosen from the peer (the header comment,
 * trav_relay_family): peer gets the address to permit; -EINVAL when the
 * peer gave none. */
static int pick_peer(const struct trav_attempt *a, struct stun_addr *peer)
{
	static const uint8_t zero6[16];

	memset(peer, 0, sizeof(*peer));
	peer->family = trav_relay_family(a->raddr != 0, memcmp(a->raddr6, zero6, 16) != 0,
					 g_d->cfg.test_relay_ipv6);
	if (peer->family == STUN_FAMILY_IPV6)
		memcpy(peer->ip, a->raddr6, 16);
	else if (peer->family == STUN_FAMILY_IPV4)
		memcpy(peer->ip, &a->raddr, 4);
	else
		return -EINVAL;
	return 0;
}

/* The connecting side: our global IPv6 address, to offer beside the IPv4
 * candidate (the allocating side may permit it) and to connect from. */
static int gather_conn(struct trav_attempt *a)
{
	const struct d_host6 *h;
	struct relay_conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(a->why, sizeof(a->why), "relay: out of memory");
		return -ENOMEM;
	}
	a->priv = c;
	if (!g_d->cfg.ipv6)
		return 1;
	h = a->events->host6(a);	/* read once per session */
	if (h->n > 0 && d_hostaddr6_pick(&g_d->v6pub, h->addr, (size_t)h->n, c->own6,
					 c->offer6) >= 0)
		c->has6 = true;
	return 1;
}

/* The accepting side (the session negotiated which side allocates:
 * trav_relay_requester_allocates) allocates a TCP relay on the TURN server
 * (--turn) and permits the peer (pick_peer); events->ready when the relayed
 * address is ready (0) or not (-errno, a->why). 0 if started, -errno at
 * once; the connecting side: gather_conn. */
static int gather(struct trav_attempt *a)
{
	const struct d_config *cfg = &g_d->cfg;
	struct stun_addr peer;
	struct trav_relay *r;
	int fd, err;

	if (a->role != TRAV_ACCEPT)
		return gather_conn(a);	/* the other side allocates */
	if (!cfg->have_turn) {
		snprintf(a->why, sizeof(a->why),
			 "relay needed, but no TURN server configured on %s (stuntd --turn)", cfg->id);
		return -ENOENT;
	}
	if (pick_peer(a, &peer) < 0) {
		snprintf(a->why, sizeof(a->why), "relay: the peer's public address is unknown");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(a->why, sizeof(a->why), "relay: out of memory");
		return -ENOMEM;
	}
	if (turn_cred_init(&r->cred, cfg->turn_user, cfg->turn_pass) < 0) {
		free(r);
		snprintf(a->why, sizeof(a->why), "relay: unusable TURN user or password");
		return -EINVAL;
	}
	r->ctl.fd = r->data.fd = -1;
	fd = socket(cfg->turn.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, &cfg->turn.sa, addr_sa_len(&cfg->turn)) < 0 &&
		       errno != EINPROGRESS)) {
		err = -errno;
		snprintf(a->why, sizeof(a->why), "relay: cannot connect to the TURN server: %s",
			 strerror(-err));
		if (fd >= 0)
			close(fd);
		free(r);
		return err;
	}
	r->ctl = (struct d_ev){ .fd = fd, .cb = on_ctl, .arg = r };
	if (d_loop_add(&r->ctl, EPOLLOUT | EPOLLIN) < 0) {
		close(fd);
		free(r);
		snprintf(a->why, sizeof(a->why), "relay: cannot watch the TURN connection");
		return -EIO;
	}
	r->server = cfg->turn;
	r->peer = peer;
	r->st = TR_CONNECTING;
	r->deadline = clock_ms() + TRAV_RELAY_TXN_MS;
	r->a = a;
	r->next = relays;
	relays = r;
	a->priv = r;
	return 0;
}

/* Allocated: the candidate is the relayed address (SIG_CAND_RELAY). The
 * connecting side: its IPv4 candidate, and its IPv6 address beside it. */
static void offer(const struct trav_attempt *a, struct sig_candidate *c, struct sig_exchange *x)
{
	const struct trav_relay *r = a->priv;
	static const uint8_t zero4[4];
	const struct relay_conn *k = a->priv;
	struct sig_candidate *c6;

	if (a->role != TRAV_ACCEPT) {
		if (k == NULL || !k->has6)
			return;
		/* no IPv4 (we signal over IPv6): the IPv6 one alone. Beside
		 * the IPv4 one only when relay is offered alone (forced, the
		 * relay round: c is the EXCHANGE's first candidate): in a full
		 * race the room is the other methods' and host's, and a peer
		 * with IPv4 gets an IPv4 relayed address anyway */
		if (!memcmp(c->addr.ip, zero4, 4))
			c6 = c;
		else if (c == &x->cand[0] && x->ncand < SIG_MAX_CANDIDATES)
			c6 = &x->cand[x->ncand++];
		else
			return;
		*c6 = *c;
		c6->kind = SIG_CAND_HOST;
		c6->addr.family = STUN_FAMILY_IPV6;
		memcpy(c6->addr.ip, k->offer6, 16);
		return;
	}
	if (r == NULL || r->st < TR_READY || r->st >= TR_DELETING)
		return;
	c->kind = SIG_CAND_RELAY;
	c->addr = r->relayed;
	/* test-relay-host-port: lie as a hostile peer would (daemon/config.h) */
	if (g_d->cfg.test_relay_host_port && g_d->have_mapped &&
	    g_d->mapped.family == STUN_FAMILY_IPV6) {
		c->kind = SIG_CAND_HOST;
		c->addr = g_d->mapped;
		c->addr.port = (uint16_t)g_d->cfg.test_relay_host_port;
	}
}

/* The relay is explicit: no primer, no TTL limit. The connecting side to
 * an IPv6 relayed address: a marked IPv6 socket from the address it
 * offered (the one the permission is for) replaces the IPv4 one. */
static void arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl)
{
	struct relay_conn *k = a->priv;
	int fd;

	(void)syn_ttl;
	a->ttl = 0;
	if (a->role != TRAV_ACCEPT && k != NULL)
		/* we connect to a relayed address (kind relay), never to another
		 * candidate the peer names: for a peer that signals over IPv6 its
		 * IPv4 address is not even known (0.0.0.0 is this host) */
		k->relayed = p->kind == SIG_CAND_RELAY || p->relay6 != NULL;
	if (a->role == TRAV_ACCEPT || p->relay6 == NULL || k == NULL)
		return;
	if (!k->has6) {
		k->bad6 = true;
		return;
	}
	fd = trav_sock_marked6(k->own6, &a->lport);
	if (fd < 0) {
		k->bad6 = true;
		return;
	}
	close(a->ev.fd);
	a->ev.fd = fd;
	a->family = AF_INET6;
	a->raddr = 0;
	memcpy(a->raddr6, p->relay6, 16);
}

/* The allocating side waits for the server's ConnectionAttempt; the other
 * connects to the relayed address. */
static int start(struct trav_attempt *a, uint64_t now)
{
	const struct trav_relay *r = a->priv;
	const struct relay_conn *k = a->priv;

	if (a->role != TRAV_ACCEPT) {
		if (k && !k->relayed) {
			snprintf(a->why, sizeof(a->why), "the peer named no relayed address "
				 "to connect to");
			return -EDESTADDRREQ;
		}
		if (k && k->bad6) {
			snprintf(a->why, sizeof(a->why), "relay: the relayed address is IPv6, and %s",
				 k->has6 ? "no IPv6 socket could be opened" :
				 "we have no global IPv6 address (or ipv6 off)");
			return -EADDRNOTAVAIL;
		}
		return trav_sock_connect(a, now);
	}
	if (r == NULL || r->st != TR_READY) {
		snprintf(a->why, sizeof(a->why), "relay: no allocation");
		return -ENOTCONN;
	}
	return 0;	/* the ConnectionAttempt comes on the control connection */
}

/* A winner keeps its allocation while its connection lives, anything
 * else deletes it. */
static void release(struct trav_attempt *a, bool keep_conn)
{
	struct trav_relay *r = a->priv;

	if (r == NULL)
		return;
	a->priv = NULL;
	if (a->role != TRAV_ACCEPT) {
		free(r);	/* the connecting side's struct relay_conn */
		return;
	}
	r->a = NULL;
	if (keep_conn && r->st == TR_BOUND) {
		/* won: the allocation lives as long as its data connection */
		r->next_check = clock_ms() + TRAV_RELAY_CHECK_MS;
		return;
	}
	delete_alloc(r);
}

/* A /proc/net/tcp or tcp6 address (8 or 32 hex digits: 32-bit words as
 * the kernel holds them, printed in the host's order) into its bytes:
 * their number (4 or 16), or 0. */
static size_t proc_addr(const char *hex, uint8_t out[16])
{
	size_t n = strlen(hex), i;
	char w[9];
	uint32_t v;

	if (n != 8 && n != 32)
		return 0;
	for (i = 0; i < n / 8; i++) {
		memcpy(w, hex + 8 * i, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, NULL, 16);
		memcpy(out + 4 * i, &v, 4);
	}
	return n / 2;
}

/*
 * Is the TCP connection from local port lport to the server still there
 * (in any state but TIME_WAIT / CLOSE)? /proc/self/net/tcp (tcp6 for an
 * IPv6 server) lines:
 *   "  0: 0A01000A:9C40 010200C0:0D96 01 ..." -- addresses as raw 32-bit
 * words in hex (four of them in tcp6), ports in hex, then the state.
 */
static bool data_alive(const struct trav_relay *r)
{
	bool v6 = r->server.sa.sa_family == AF_INET6, alive = false;
	const void *want = v6 ? (const void *)&r->server.in6.sin6_addr :
				(const void *)&r->server.in.sin_addr;
	size_t wl = v6 ? 16 : 4;
	char line[256], lip[33], rip[33];
	unsigned lport, rport, st;
	uint8_t got[16];
	FILE *f = fopen(v6 ? "/proc/self/net/tcp6" : "/proc/self/net/tcp", "re");

	if (f == NULL)
		return true;	/* cannot tell: keep it, the lifetime bounds it */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%4X %32[0-9A-Fa-f]:%4X %2X", lip, &lport, rip,
			   &rport, &st) != 5)
			continue;
		if (lport == r->data_lport && proc_addr(rip, got) == wl && !memcmp(got, want, wl) &&
		    rport == addr_sa_port(&r->server) && st != 6 /* TIME_WAIT */ &&
		    st != 7 /* CLOSE */) {
			alive = true;
			break;
		}
	}
	fclose(f);
	return alive;
}

/* Timeouts, refreshes, and the end of won relays. */
static void relay_tick(uint64_t now)
{
	struct trav_relay *r, **pp;
	char s[TRAV_RELAY_EP_STRLEN];

	for (pp = &relays; (r = *pp) != NULL;) {
		if (r->st == TR_DONE) {
			*pp = r->next;
			if (r->a)
				r->a->priv = NULL;
			free(r);
			continue;
		}
		pp = &r->next;
		if ((r->st < TR_READY || r->st == TR_BINDING || r->pending) && now > r->deadline) {
			if (r->st == TR_DELETING) {
				finish(r);
				continue;
			}
			if (r->st >= TR_READY && r->pending == TURN_METHOD_REFRESH) {
				log_warnx("relay: TURN server %s did not answer a Refresh",
					  srv_str(r, s, sizeof(s)));
				r->pending = 0;
			} else {
				fail(r, "the TURN server %s did not answer (%s)",
				     srv_str(r, s, sizeof(s)),
				     r->st == TR_CONNECTING ? "connect" :
				     r->st == TR_BINDING ? "ConnectionBind" :
				     turn_method_name(r->pending));
				continue;
			}
		}
		if (r->st == TR_BOUND && r->a == NULL && now >= r->next_check) {
			r->next_check = now + TRAV_RELAY_CHECK_MS;
			if (!data_alive(r)) {
				log_info("relay: the relayed connection ended; deleting the allocation");
				delete_alloc(r);
				continue;
			}
		}
		if ((r->st == TR_READY || r->st == TR_BINDING || r->st == TR_BOUND) &&
		    r->pending == 0 && now >= r->refresh_at) {
			r->refresh_at = now + (uint64_t)r->lifetime_s * 500;
			(void)request(r, TURN_METHOD_REFRESH, TRAV_RELAY_LIFETIME_S);
		}
	}
}

size_t trav_relay_count(void)
{
	const struct trav_relay *r;
	size_t n = 0;

	for (r = relays; r; r = r->next)
		n += r->st != TR_DONE;
	return n;
}

/* stuntd stops: delete every allocation. */
static void relay_shutdown(void)
{
	struct trav_relay *r;

	/* the deleting Refresh goes out before our FIN; its answer is not
	 * waited for (the server also ends an allocation whose control
	 * connection closes, and the lifetime bounds it in any case) */
	for (r = relays; r; r = r->next) {
		if (r->a) {
			r->a->priv = NULL;
			r->a = NULL;
		}
		delete_alloc(r);
	}
	while ((r = relays) != NULL) {
		relays = r->next;
		finish(r);
		free(r);
	}
}

/* the roles until negotiate.c settles them (who has a TURN server) */
const struct trav_ops trav_relay_ops = {
	.method = SIG_M_RELAY, .flags = TRAV_F_EARLY | TRAV_F_OWN_ENDPOINT, .role = trav_role_responder_accepts,
	.gather = gather, .offer = offer, .arm = arm, .start = start, .close = release,
	.global_tick = relay_tick, .shutdown = relay_shutdown,
};
