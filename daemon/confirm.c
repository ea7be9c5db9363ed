// SPDX-License-Identifier: MIT
/*
 * The hand-off header protocol: which established connection is the
 * session's. The first established socket on the requester carries the
 * 12-byte session header
 *
 *   "STNT" 0x01 METHOD 0x00 0x00 SID(4)
 *
 * and the responder takes the connection whose header arrives as the
 * winner, hands it off (daemon/handoff.c) and answers one byte: 'K'
 * (handed off), or 'E' and closes (the local target could not be
 * reached); the requester passes the
 * socket to its control client after the 'K'. When several pairs met (two
 * hits of shotgun, several right predictions of predict's window), the
 * requester decides by writing its header on its first; the other side
 * follows with trav_next_conn, the one mechanism for "another pair of this
 * attempt". Connections that are authenticated already (udp's punch
 * handshake, TRAV_F_CONFIRMED) are handed on at once.
 */
#include "daemon/session.h"

#include "common/log.h"

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

/* Requester: the session header on a's connection. */
static int send_hdr(struct d_session *s, struct trav_attempt *a)
{
	uint8_t hdr[S_HDR_LEN];

	memcpy(hdr, S_HDR_MAGIC, 4);
	hdr[4] = 1;
	hdr[5] = a->method;
	hdr[6] = hdr[7] = 0;
	hdr[8] = (uint8_t)(s->id >> 24);
	hdr[9] = (uint8_t)(s->id >> 16);
	hdr[10] = (uint8_t)(s->id >> 8);
	hdr[11] = (uint8_t)s->id;
	return send(a->conn, hdr, sizeof(hdr), MSG_NOSIGNAL) == (ssize_t)sizeof(hdr) ? 0 : -EIO;
}

void sess_confirm_start(struct d_session *s, struct trav_attempt *a)
{
	s->winner = a;
	if (send_hdr(s, a) < 0) {
		sess_fail(s, "cannot write the session header", true);
		return;
	}
	s->state = S_CONFIRM;
	sess_close_attempts(s);
	watch(s, a->conn, on_ack);
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
	if (n == 1 && b == 'K') {
		fd = ev->fd;
		ev->fd = -1;
		s->winner->conn = -1;
		sess_won(s);
		sess_answer_connect(s, true, sig_method_name(s->winner->method), NULL, fd);
		close(fd);
		trav_close(s->winner, true);
		return;
	}
	/* the peer kept another pair of the winner (shotgun, two hits) and
	 * closed this one */
	if (n != 1 && trav_next_conn(s->winner, false) == 0 && send_hdr(s, s->winner) == 0) {
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

	s->winner = a;
	a->conn = -1;
	sess_won(s);
	trav_close(a, true);
	e = d_config_find_expose(&g_d->cfg, s->service);
	if (e == NULL || d_handoff_start(fd, e, s->peer) < 0)
		log_warnx("session %u: hand-off of %s failed", s->id, s->service);
}

/* Responder: the session header on one of the established connections. */
static void on_hdr(struct d_ev *ev, uint32_t events)
{
	struct d_session *s = ev->arg;
	struct trav_attempt *a;
	uint32_t sid;
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
	n = recv(ev->fd, s->hdr + s->hdr_got, S_HDR_LEN - s->hdr_got, MSG_DONTWAIT);
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
	if (s->hdr_got < S_HDR_LEN)
		return;
	sid = (uint32_t)s->hdr[8] << 24 | (uint32_t)s->hdr[9] << 16 | (uint32_t)s->hdr[10] << 8 |
	      s->hdr[11];
	d_loop_del(ev);
	if (memcmp(s->hdr, S_HDR_MAGIC, 4) || s->hdr[4] != 1 || sid != s->id) {
		sess_fail(s, "bad session header on the connection", true);
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
		if (!s->prepared[m] || a->conn < 0 || a->conn == s->wev.fd)
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
