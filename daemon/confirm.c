// SPDX-License-Identifier: MIT
/*
 * The hand-off header protocol: which established connection is the
 * session's. The first established socket on the requester carries the
 * session header
 *
 *   "STNT" 0x02 METHOD FLAGS 0x00 SID(4) PROOF(16)
 *
 * where PROOF is the requester's connection proof (sig_conn_proof, role
 * 'R', over both key halves of the EXCHANGEs: proto/sig_proof.h). A peer
 * that sent no key half (an older stuntd) gets and sends version 1, the
 * same without PROOF. A connection whose header is not the session's (a
 * stranger, or a host on another LAN with the peer's private address that
 * reached our host listener) is closed silently, its attempt fails and the
 * race goes on: nothing is handed off before the proof checks.
 * and the responder takes the connection whose header arrives as the
 * winner, hands it off (daemon/handoff.c) and answers one byte: 'K'
 * (handed off), or 'E' and closes (the local target could not be
 * reached); the requester passes the
 * socket to its control client after the 'K'. FLAGS: S_HDR_F_FRAMED on a
 * relayed session; a responder that knows it answers 'H' (D_ACK_FRAMED)
 * and both keep the relay connection (daemon/relayhc.c: a TURN server
 * resets both sides at a FIN), the client gets a loopback connection's end. When several pairs met (two
 * hits of shotgun, several right predictions of predict's window), the
 * requester decides by writing its header on its first; the other side
 * follows with trav_next_conn, the one mechanism for "another pair of this
 * attempt". The host method writes its header as soon as its connect
 * completes (events->early_hdr: two LAN round trips) and is the session's
 * only once the responder's proof verified (daemon/trav/host.c); until
 * that proof decides, a connection of another method is held, not given a
 * second header that the peer could take while we wait on the first.
 * Connections that are authenticated already (udp's punch handshake,
 * TRAV_F_CONFIRMED) are handed on at once.
 */
#include "daemon/session.h"

#include "common/clock.h"
#include "common/log.h"
#include "proto/sig_proof.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_ack(struct d_ev *ev, uint32_t events);
static void on_hdr(struct d_ev *ev, uint32_t events);

/* Watch fd with cb (the header or the ack on it). */
static void watch(struct d_session *s, int fd, void (*cb)(struct d_ev *ev, uint32_t events))
{
	s->wev = (struct d_ev){ .fd = fd, .cb = cb, .arg = s };
	d_loop_add(&s->wev, EPOLLIN | EPOLLRDHUP);
}

void sess_confirm_stop(struct d_session *s)
{
	unsigned m;

	if (s->wev.fd < 0)
		return;
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m] && s->att[m].conn == s->wev.fd)
			s->att[m].conn = -1;
	d_loop_del(&s->wev);
	close(s->wev.fd);
	s->wev.fd = -1;
}

/* Requester: the session header of a on fd. */
static int send_hdr(struct d_session *s, const struct trav_attempt *a, int fd)
{
	uint8_t hdr[S_HDR_PROOF_LEN];
	size_t len = s->peer_has_key ? S_HDR_PROOF_LEN : S_HDR_LEN;

	memcpy(hdr, S_HDR_MAGIC, 4);
	hdr[4] = s->peer_has_key ? 2 : 1;
	hdr[5] = a->method;
	/* a relayed session asks for the framing that carries a half-close
	 * (daemon/relayhc.c); an older peer ignores the flag and answers 'K' */
	hdr[6] = a->method == SIG_M_RELAY ? S_HDR_F_FRAMED : 0;
	hdr[7] = 0;
	hdr[8] = (uint8_t)(s->id >> 24);
	hdr[9] = (uint8_t)(s->id >> 16);
	hdr[10] = (uint8_t)(s->id >> 8);
	hdr[11] = (uint8_t)s->id;
	if (s->peer_has_key && sig_conn_proof(s->own_key, s->peer_key, SIG_PROOF_REQUESTER, s->id,
					      a->method, hdr + S_HDR_LEN) < 0)
		return -EIO;
	return send(fd, hdr, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -EIO;
}

/* Responder: is the whole header (len bytes) the session's, with the
 * requester's proof when it sent us a key half? */
static bool hdr_ok(const struct d_session *s, const struct trav_attempt *a, size_t len)
{
	const uint8_t *h = s->hdr;
	uint32_t sid = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];

	/* the method's own connection only: a proof sent early on a host
	 * connection that reached another machine is worth nothing on the
	 * connections of the other methods */
	if (memcmp(h, S_HDR_MAGIC, 4) || sid != s->id || h[5] != a->method)
		return false;
	if (!s->peer_has_key)
		return h[4] == 1 && len == S_HDR_LEN;
	return h[4] == 2 && len == S_HDR_PROOF_LEN &&
	       sig_conn_proof_ok(s->peer_key, s->own_key, SIG_PROOF_REQUESTER, s->id, h[5],
				 h + S_HDR_LEN);
}

/* Responder: the expected header length (version 2 carries the proof). */
static size_t hdr_len(const struct d_session *s)
{
	return s->hdr_got >= 5 && s->hdr[4] == 2 ? S_HDR_PROOF_LEN : S_HDR_LEN;
}

/* Requester: an early header that still waits for its peer's proof? */
static struct trav_attempt *early_pending(struct d_session *s)
{
	unsigned m;

	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m] && s->att[m].t_hdr && s->att[m].state == TA_RUNNING)
			return &s->att[m];
	return NULL;
}

/* Requester: the first connection held for an early header's proof, or NULL. */
static struct trav_attempt *held(struct d_session *s)
{
	size_t i;
	struct trav_attempt *a;

	if (s->winner)
		return NULL;
	for (i = 0; i < s->nmethods; i++) {
		a = &s->att[s->methods[i]];
		if (a->state == TA_CONNECTED && a->conn >= 0)
			return a;
	}
	return NULL;
}

int sess_confirm_early(struct trav_attempt *a, int fd)
{
	if (send_hdr(a->s, a, fd) < 0)
		return -EIO;
	a->t_hdr = clock_ms();
	return 0;
}

void sess_confirm_start(struct d_session *s, struct trav_attempt *a)
{
	const struct trav_attempt *e = early_pending(s);

	if (e != NULL) {
		/* the peer may take the early header (it has it already): a
		 * second one elsewhere could make it keep one connection and
		 * us wait on the other. Held until e's proof decides. */
		log_info("session %u: %s held until %s's peer proves itself", s->id,
			 sig_method_name(a->method), sig_method_name(e->method));
		return;
	}
	s->winner = a;
	if (!a->t_hdr && send_hdr(s, a, a->conn) < 0) {
		sess_fail(s, "cannot write the session header", true);
		return;
	}
	s->state = S_CONFIRM;
	sess_close_attempts(s);
	watch(s, a->conn, on_ack);
}

bool sess_confirm_held(struct d_session *s)
{
	struct trav_attempt *a;

	if (!s->requester || early_pending(s) || (a = held(s)) == NULL)
		return false;
	sess_confirm_start(s, a);
	return true;
}

/*
 * Requester: while a connection is held, the early header's proof is due
 * about one round trip after that attempt's connect completed; it gets
 * twice the connect's time and S_HOLD_MS more, then fails, and the held
 * connection is the session's: a wrong host that accepts and stays
 * silent delays the public path by that much, not by the host method's
 * own deadline. Nothing held: it keeps that deadline (the public path may
 * not work at all).
 */
static void hold_expire(struct d_session *s)
{
	struct trav_attempt *e = early_pending(s), *a;
	char why[96];

	if (e == NULL || (a = held(s)) == NULL ||
	    clock_ms() < e->t_hdr + 2 * (e->t_hdr - e->t_start) + S_HOLD_MS)
		return;
	snprintf(why, sizeof(why), "no proof within %llu ms of the connect while %s was established",
		 (unsigned long long)(clock_ms() - e->t_hdr), sig_method_name(a->method));
	trav_fail(e, why);
}

/* "IP:PORT" or "[IP]:PORT" of fd's remote end, or "" */
static void remote_str(int fd, char *buf, size_t len)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);

	buf[0] = 0;
	if (getpeername(fd, (struct sockaddr *)&sa, &sl) == 0)
		(void)d_ep_str((const struct sockaddr *)&sa, buf, len);
}

/* Requester: the ack byte after our header. */
static void on_ack(struct d_ev *ev, uint32_t events)
{
	struct d_session *s = ev->arg;
	char b;
	ssize_t n;
	int fd;

	(void)events;
	n = recv(ev->fd, &b, 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	d_loop_del(ev);
	if (n == 1 && (b == 'K' || (b == D_ACK_FRAMED && s->winner->method == SIG_M_RELAY))) {
		fd = ev->fd;
		ev->fd = -1;
		s->winner->conn = -1;
		sess_won(s);
		/* framed: the relay connection stays ours, the client gets a
		 * loopback connection's end */
		if (b == D_ACK_FRAMED)
			remote_str(fd, s->relay_remote, sizeof(s->relay_remote));
		if (b == D_ACK_FRAMED && (fd = d_relayhc_pair(fd, s->peer)) < 0) {
			log_warnx("session %u: relayed connection: %s", s->id, strerror(-fd));
			sess_answer_connect(s, false, sig_method_name(s->winner->method),
					    "cannot hold the relayed connection", -1);
		} else {
			sess_answer_connect(s, true, sig_method_name(s->winner->method), NULL, fd);
			close(fd);
		}
		trav_close(s->winner, true);
		return;
	}
	/* the peer kept another pair of the winner (shotgun, two hits) and
	 * closed this one */
	if (n != 1 && trav_next_conn(s->winner, false) == 0 &&
	    send_hdr(s, s->winner, s->winner->conn) == 0) {
		ev->fd = s->winner->conn;
		d_loop_add(ev, EPOLLIN | EPOLLRDHUP);
		return;
	}
	sess_fail(s, n == 1 ? "the peer could not reach its local service" :
		  "the peer closed the connection before accepting it", true);
}

/* Responder: hand the winner's connection to the service. */
static void hand_off(struct d_session *s, struct trav_attempt *a)
{
	const struct d_expose *e;
	int fd = a->conn;
	/* the requester asks for the framing on a relayed session only */
	bool framed = a->method == SIG_M_RELAY && (s->hdr[6] & S_HDR_F_FRAMED);

	s->winner = a;
	a->conn = -1;
	sess_won(s);
	trav_close(a, true);
	e = d_config_find_expose(&g_d->cfg, s->service);
	if (e == NULL || d_handoff_start(fd, e, s->peer, framed) < 0)
		log_warnx("session %u: hand-off of %s failed", s->id, s->service);
}

/* Responder: the session header on one of the established connections. */
static void on_hdr(struct d_ev *ev, uint32_t events)
{
	struct d_session *s = ev->arg;
	struct trav_attempt *a;
	char ep[TRAV_EP_STRLEN];
	ssize_t n;
	unsigned m;

	(void)events;
	/* which attempt: the one whose conn is this fd */
	a = NULL;
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m] && s->att[m].conn == ev->fd)
			a = &s->att[m];
	if (a == NULL)
		return;
	/* the version is known after 5 bytes; until then up to the longest
	 * (the requester sends nothing after its header before our 'K') */
	n = recv(ev->fd, s->hdr + s->hdr_got,
		 (s->hdr_got >= 5 ? hdr_len(s) : S_HDR_PROOF_LEN) - s->hdr_got, MSG_DONTWAIT);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* a loser the requester closed: forget it; another pair of the
		 * same attempt may be the one the requester kept */
		d_loop_del(ev);
		if (trav_next_conn(a, false) == 0) {
			s->hdr_got = 0;
			ev->fd = a->conn;
			d_loop_add(ev, EPOLLIN | EPOLLRDHUP);
			return;
		}
		close(ev->fd);
		ev->fd = -1;
		a->conn = -1;
		a->state = TA_CANCELLED;
		return;
	}
	s->hdr_got += (size_t)n;
	if (s->hdr_got < hdr_len(s))
		return;
	d_loop_del(ev);
	if (!hdr_ok(s, a, s->hdr_got)) {
		/* not the session's peer: dropped silently (FIN; outbound RSTs
		 * stay dropped), the race goes on */
		g_d->conns_unproven++;
		log_warnx("session %u: %s: the connection from %s did not prove to be %s: "
			  "dropped", s->id, sig_method_name(a->method), trav_remote_str(a, ep),
			  s->peer);
		close(ev->fd);
		ev->fd = -1;
		a->conn = -1;
		s->hdr_got = 0;
		snprintf(a->why, sizeof(a->why), "a connection that did not prove to be %s: "
			 "dropped", s->peer);
		trav_report_failed(a);
		return;
	}
	ev->fd = -1;
	hand_off(s, a);
}

void sess_confirm_wait(struct d_session *s, struct trav_attempt *a)
{
	/* a second one while the first waits: sess_confirm_poll() watches it */
	if (s->wev.fd < 0)
		watch(s, a->conn, on_hdr);
}

void sess_confirmed(struct d_session *s, struct trav_attempt *a)
{
	int fd;

	if (!s->requester) {
		hand_off(s, a);
		return;
	}
	fd = a->conn;
	s->winner = a;
	a->conn = -1;
	sess_won(s);
	trav_close(a, true);
	sess_answer_connect(s, true, sig_method_name(a->method), NULL, fd);
	close(fd);
}

void sess_confirm_poll(struct d_session *s)
{
	unsigned m;
	struct trav_attempt *a;
	uint8_t peek[S_HDR_LEN];
	ssize_t n;

	if (s->requester && s->racing && !sess_over(s))
		hold_expire(s);
	if (s->requester || !s->racing || sess_over(s))
		return;
	for (m = 1; m <= SIG_M_MAX; m++) {
		a = &s->att[m];
		if (s->prepared[m] && a->conn >= 0 && a->conn == s->wev.fd && s->hdr_got == 0 &&
		    trav_next_conn(a, true) == 0) {
			/* the header came on another pair of the attempt (the FIN
			 * of this one is late; closing it left epoll): watch that one */
			s->wev.fd = -1;
			d_loop_del(&s->wev);
			watch(s, a->conn, on_hdr);
			return;
		}
		/* never away from a header half read */
		if (!s->prepared[m] || a->conn < 0 || a->conn == s->wev.fd ||
		    (s->wev.fd >= 0 && s->hdr_got > 0))
			continue;
		n = recv(a->conn, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
		if (n >= 0) {
			/* data (the header) or EOF here: switch the watcher to it */
			if (s->wev.fd >= 0)
				d_loop_del(&s->wev);
			s->hdr_got = 0;
			watch(s, a->conn, on_hdr);
			return;
		}
	}
}
