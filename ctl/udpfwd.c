// SPDX-License-Identifier: MIT
/*
 * `stuntctl forward --udp [ADDR:]PORT PEER/NAME`: one local UDP socket; each
 * client source address is a session with its own UDP traversal.
 *
 *   first datagram of a new source  ->  WAIT: a connect request (method udp)
 *       on its own control connection; the client's datagrams are queued
 *       (at most queue_max; more are dropped and counted)
 *   stuntd's answer with a socket   ->  UP: the queue is sent, then every
 *       datagram of the client goes to the connected UDP socket and every
 *       datagram from it goes back to the client's address (from the local
 *       socket, so the client sees the address it sent to)
 *   a failure or no answer          ->  FAILED: logged with the daemon's
 *       reason; the queue is dropped, and so is what the client sends for
 *       failed_hold_ms (a retrying client does not start a traversal per
 *       datagram); then the session is forgotten
 *   no datagram either way for idle_ms  ->  closed
 *
 * Late punch handshake datagrams of the peer (32 bytes, "STNU" 1,
 * docs/control.md) are dropped. UDP carries no end: a session ends by idling
 * out or when the forwarder stops. Sessions are a small array searched by
 * address: max_sessions bounds both it and the poll set.
 */
#include "ctl/udpfwd.h"

#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UFWD_BURST		64	/* datagrams per socket and wake-up */
#define UFWD_SEND_LINE_MS	1000	/* writing the request to the control socket */
#define UFWD_LIMIT_LOG_MS	1000	/* "all sessions in use" at most this often */
#define UFWD_RCVBUF_BYTES	(1 << 20)
#define UFWD_DGRAM_MAX		65536

enum ufs_state { UFS_WAIT, UFS_UP, UFS_FAILED };

struct ufs_dgram {
	uint8_t	*b;
	size_t	 n;
};

struct ufs {
	enum ufs_state		 state;
	unsigned		 id;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	char			 name[64];	/* the client's address, printed */
	int			 ctl;		/* WAIT: the control connection */
	struct ctl_rx		 rx;
	int			 sock;		/* UP: the traversed UDP socket */
	uint64_t		 started_ms;
	uint64_t		 until_ms;	/* answer deadline, idle end or hold end */
	struct ufs_dgram	*q;		/* WAIT: queued client datagrams */
	unsigned		 qn;
	unsigned long long	 up, down, dropped;
	unsigned long long	 qfull;		/* WAIT: dropped, the queue was full */
};

struct ctl_udpfwd {
	struct ctl_udpfwd_conf	 c;
	int			 fd;
	struct ufs		**s;		/* max_sessions slots */
	struct pollfd		*p;		/* 1 + max_sessions */
	unsigned		 next_id;
	uint64_t		 limit_logged_ms;
	unsigned long long	 limit_unlogged;
	struct ctl_udpfwd_stats	 st;
	uint8_t			 buf[UFWD_DGRAM_MAX];
};

__attribute__((format(printf, 2, 3)))
static void say(const struct ctl_udpfwd *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->c.log)
		return;
	fputs("stuntctl: ", f->c.log);
	va_start(ap, fmt);
	vfprintf(f->c.log, fmt, ap);
	va_end(ap);
	fputc('\n', f->c.log);
	fflush(f->c.log);
}

static bool is_handshake(const uint8_t *b, size_t n)
{
	return n == 32 && !memcmp(b, "STNU", 4) && b[4] == 1;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return false;
}

static void queue_clear(struct ufs *u)
{
	unsigned i;

	for (i = 0; i < u->qn; i++)
		free(u->q[i].b);
	u->qn = 0;
}

static const char *state_word(enum ufs_state st)
{
	return st == UFS_UP ? "connected" : st == UFS_WAIT ? "connecting" : "failed";
}

/* Log the end of slot i's session and free it. */
static void ufs_close(struct ctl_udpfwd *f, unsigned i, const char *why)
{
	struct ufs *u = f->s[i];
	uint64_t now = clock_ms();

	if (u->qn) {
		u->dropped += u->qn;
		f->st.drop_failed += u->qn;
	}
	say(f, "session %u from %s: closed (%s, was %s) after %llu ms: %llu datagrams up, %llu down, %llu dropped",
	    u->id, u->name, why, state_word(u->state), (unsigned long long)(now - u->started_ms),
	    u->up, u->down, u->dropped);
	queue_clear(u);
	free(u->q);
	if (u->ctl >= 0)
		close(u->ctl);
	ctl_rx_release(&u->rx);
	if (u->sock >= 0)
		close(u->sock);
	free(u);
	f->s[i] = NULL;
	f->st.open--;
}

/* WAIT or UP -> FAILED: the queue is dropped, the client held off. */
static void ufs_fail(struct ctl_udpfwd *f, struct ufs *u, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ufs_fail(struct ctl_udpfwd *f, struct ufs *u, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	f->st.sessions_failed++;
	say(f, "session %u from %s: %s/%s: %s; %llu datagram%s dropped (%u queued, %llu over the queue)",
	    u->id, u->name, f->c.target.peer, f->c.target.service, why, u->qn + u->qfull,
	    u->qn + u->qfull == 1 ? "" : "s", u->qn, u->qfull);
	u->dropped += u->qn;
	f->st.drop_failed += u->qn;
	queue_clear(u);
	if (u->ctl >= 0)
		close(u->ctl);
	u->ctl = -1;
	ctl_rx_release(&u->rx);
	u->state = UFS_FAILED;
	u->until_ms = clock_ms() + f->c.failed_hold_ms;
}

/* A new client in slot i (WAIT; its request follows, ufs_request). */
static struct ufs *ufs_open(struct ctl_udpfwd *f, unsigned i, const struct sockaddr_storage *from,
			    socklen_t fromlen)
{
	struct ufs *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->q = calloc(f->c.queue_max, sizeof(*u->q));
	if (!u->q) {
		free(u);
		return NULL;
	}
	u->id = f->next_id++;
	u->state = UFS_WAIT;
	u->from = *from;
	u->fromlen = fromlen;
	u->ctl = -1;
	u->sock = -1;
	ctl_rx_init(&u->rx);
	ctl_addr_str(from, u->name, sizeof(u->name));
	u->started_ms = clock_ms();
	u->until_ms = u->started_ms + f->c.connect_timeout_ms;
	f->s[i] = u;
	f->st.open++;
	f->st.sessions_opened++;
	say(f, "session %u from %s: new client, connecting to %s/%s", u->id, u->name,
	    f->c.target.peer, f->c.target.service);
	return u;
}

/* The connect request (method udp) on the session's own control connection. */
static void ufs_request(struct ctl_udpfwd *f, struct ufs *u)
{
	char req[CTL_LINE_MAX], msg[512];
	int r;

	r = ctl_build_connect(&f->c.target, "udp", req, sizeof(req));
	if (r >= 0) {
		u->ctl = ctl_open(f->c.control_path, true);
		r = u->ctl < 0 ? u->ctl : ctl_send_line(u->ctl, req, (size_t)r, UFWD_SEND_LINE_MS);
	}
	if (r < 0)
		ufs_fail(f, u, "%s", ctl_strerror(r, f->c.control_path, msg, sizeof(msg)));
}

/* The daemon's answer is complete: UP with the queue sent, or FAILED. */
static void ufs_answered(struct ctl_udpfwd *f, struct ufs *u)
{
	struct ctl_connect_answer a;
	unsigned i, sent = 0;
	int fl;

	close(u->ctl);
	u->ctl = -1;
	if (ctl_parse_connect_answer(u->rx.line, u->rx.len, &a) < 0) {
		ufs_fail(f, u, "stuntd's answer is not understood");
		return;
	}
	if (!a.ok || u->rx.fd < 0) {
		ufs_fail(f, u, "%s", !a.ok ? (a.error[0] ? a.error : "the connection failed")
					   : "stuntd reported success but sent no socket");
		return;
	}
	u->sock = u->rx.fd;
	u->rx.fd = -1;
	fl = fcntl(u->sock, F_GETFL);
	if (fl < 0 || fcntl(u->sock, F_SETFL, fl | O_NONBLOCK) < 0) {
		ufs_fail(f, u, "fcntl: %s", strerror(errno));
		return;
	}
	u->state = UFS_UP;
	f->st.sessions_connected++;
	for (i = 0; i < u->qn; i++) {
		if (send(u->sock, u->q[i].b, u->q[i].n, MSG_DONTWAIT) < 0 && errno != ECONNREFUSED) {
			u->dropped++;
			f->st.drop_send++;
		} else {
			u->up++;
			f->st.dgrams_up++;
			sent++;
		}
	}
	say(f, "session %u from %s: %s/%s connected by %s in %lld ms%s; %u queued datagram%s sent, "
	    "%llu dropped (queue full)", u->id, u->name, f->c.target.peer, f->c.target.service,
	    a.method[0] ? a.method : "?", a.elapsed_ms, a.relayed ? " (relayed)" : "", sent,
	    sent == 1 ? "" : "s", u->qfull);
	queue_clear(u);
	u->until_ms = clock_ms() + f->c.idle_ms;
}

/* One datagram from the client at the local socket. */
static void client_dgram(struct ctl_udpfwd *f, struct ufs *u, const uint8_t *b, size_t n, uint64_t now)
{
	switch (u->state) {
	case UFS_WAIT:
		if (u->qn >= f->c.queue_max || !(u->q[u->qn].b = malloc(n ? n : 1))) {
			u->qfull++;	/* the connect or fail line reports them */
			u->dropped++;
			f->st.drop_queue_full++;
			return;
		}
		memcpy(u->q[u->qn].b, b, n);
		u->q[u->qn++].n = n;
		return;
	case UFS_UP:
		u->until_ms = now + f->c.idle_ms;
		if (send(u->sock, b, n, MSG_DONTWAIT) < 0 && errno != ECONNREFUSED) {
			u->dropped++;
			f->st.drop_send++;
			return;
		}
		u->up++;
		f->st.dgrams_up++;
		return;
	case UFS_FAILED:
		u->dropped++;
		f->st.drop_failed++;
		return;
	}
}

/* Datagrams at the local socket: find or make each source's session. */
static void local_readable(struct ctl_udpfwd *f, uint64_t now)
{
	struct sockaddr_storage from;
	unsigned i, k, freeslot;
	socklen_t flen;
	ssize_t n;

	for (k = 0; k < UFWD_BURST; k++) {
		flen = sizeof(from);
		n = recvfrom(f->fd, f->buf, sizeof(f->buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;	/* EAGAIN; or an ICMP error for a reply we sent: nothing to do */
		freeslot = f->c.max_sessions;
		for (i = 0; i < f->c.max_sessions; i++) {
			if (f->s[i] && same_addr(&f->s[i]->from, &from))
				break;
			if (!f->s[i] && freeslot == f->c.max_sessions)
				freeslot = i;
		}
		if (i == f->c.max_sessions) {
			if (freeslot == f->c.max_sessions) {
				char name[64];

				f->st.drop_limit++;
				f->limit_unlogged++;
				if (now >= f->limit_logged_ms + UFWD_LIMIT_LOG_MS) {
					ctl_addr_str(&from, name, sizeof(name));
					say(f, "datagram from %s dropped: all %u sessions in use (%llu dropped since the last report)",
					    name, f->c.max_sessions, f->limit_unlogged);
					f->limit_logged_ms = now;
					f->limit_unlogged = 0;
				}
				continue;
			}
			i = freeslot;
			if (!ufs_open(f, i, &from, flen)) {
				f->st.drop_limit++;
				say(f, "datagram dropped: out of memory for a new session");
				continue;
			}
			client_dgram(f, f->s[i], f->buf, (size_t)n, now);	/* queued first */
			ufs_request(f, f->s[i]);
			continue;
		}
		client_dgram(f, f->s[i], f->buf, (size_t)n, now);
	}
}

/* Datagrams from the peer: back to the client. -errno when the socket failed. */
static int peer_readable(struct ctl_udpfwd *f, struct ufs *u, uint64_t now)
{
	ssize_t n;
	unsigned k;

	for (k = 0; k < UFWD_BURST; k++) {
		n = recv(u->sock, f->buf, sizeof(f->buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ECONNREFUSED)	/* an ICMP answer: not fatal for UDP */
				continue;
			return -errno;
		}
		if (is_handshake(f->buf, (size_t)n)) {
			u->dropped++;
			f->st.drop_handshake++;
			continue;
		}
		u->until_ms = now + f->c.idle_ms;
		if (sendto(f->fd, f->buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&u->from,
			   u->fromlen) < 0) {
			u->dropped++;
			f->st.drop_send++;
			continue;
		}
		u->down++;
		f->st.dgrams_down++;
	}
	return 0;
}

struct ctl_udpfwd *ctl_udpfwd_new(const struct ctl_udpfwd_conf *conf, int *err)
{
	struct ctl_udpfwd *f;
	int one = 1, rcv = UFWD_RCVBUF_BYTES;

	if (!conf->max_sessions || conf->max_sessions > CTL_UDPFWD_SESSIONS_MAX ||
	    !conf->queue_max || conf->queue_max > CTL_UDPFWD_QUEUE_MAX || !conf->idle_ms) {
		*err = -EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->c = *conf;
	f->next_id = 1;
	f->s = calloc(conf->max_sessions, sizeof(*f->s));
	f->p = calloc(1 + (size_t)conf->max_sessions, sizeof(*f->p));
	f->fd = socket(conf->listen.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (!f->s || !f->p || f->fd < 0)
		goto fail;
	setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));	/* best effort */
	if (bind(f->fd, (const struct sockaddr *)&conf->listen, conf->listen_len) < 0)
		goto fail;
	return f;
fail:
	*err = errno ? -errno : -ENOMEM;
	if (f->fd >= 0)
		close(f->fd);
	free(f->s);
	free(f->p);
	free(f);
	return NULL;
}

const struct ctl_udpfwd_stats *ctl_udpfwd_stats(const struct ctl_udpfwd *f)
{
	return &f->st;
}

int ctl_udpfwd_run(struct ctl_udpfwd *f, volatile sig_atomic_t *stop)
{
	unsigned i, max = f->c.max_sessions;
	struct pollfd *p = f->p;

	while (!*stop) {
		uint64_t now = clock_ms(), next = UINT64_MAX;
		int tmo, r;

		p[0] = (struct pollfd){ .fd = f->fd, .events = POLLIN };
		for (i = 0; i < max; i++) {
			struct ufs *u = f->s[i];

			p[1 + i] = (struct pollfd){ .fd = -1 };
			if (!u)
				continue;
			if (u->until_ms < next)
				next = u->until_ms;
			if (u->state == UFS_WAIT)
				p[1 + i] = (struct pollfd){ .fd = u->ctl, .events = POLLIN };
			else if (u->state == UFS_UP)
				p[1 + i] = (struct pollfd){ .fd = u->sock, .events = POLLIN };
		}
		tmo = next == UINT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
		if (poll(p, 1 + (nfds_t)max, tmo) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		now = clock_ms();
		for (i = 0; i < max; i++) {
			struct ufs *u = f->s[i];

			if (!u || !p[1 + i].revents)
				continue;
			if (u->state == UFS_WAIT) {
				r = ctl_rx_step(u->ctl, &u->rx);
				if (r < 0) {
					char msg[512];

					ufs_fail(f, u, "%s", ctl_strerror(r, f->c.control_path, msg, sizeof(msg)));
				} else if (r == 1) {
					ufs_answered(f, u);
				}
			} else if (u->state == UFS_UP && (r = peer_readable(f, u, now)) < 0) {
				char why[160];

				snprintf(why, sizeof(why), "the traversed socket failed: %s", strerror(-r));
				ufs_close(f, i, why);
			}
		}
		/* After the answers: a client's datagram finds its session UP. */
		if (p[0].revents)
			local_readable(f, now);
		now = clock_ms();
		for (i = 0; i < max; i++) {
			struct ufs *u = f->s[i];
			char why[80];

			if (!u || now < u->until_ms)
				continue;
			switch (u->state) {
			case UFS_WAIT:
				ufs_fail(f, u, "stuntd gave no answer in %u ms", f->c.connect_timeout_ms);
				break;
			case UFS_UP:
				if (f->c.idle_ms % 1000)
					snprintf(why, sizeof(why), "idle %u ms", f->c.idle_ms);
				else
					snprintf(why, sizeof(why), "idle %u s", f->c.idle_ms / 1000);
				f->st.sessions_idle++;
				ufs_close(f, i, why);
				break;
			case UFS_FAILED:
				ufs_close(f, i, "traversal failed, hold-off over");
				break;
			}
		}
	}
	return 0;
}

void ctl_udpfwd_free(struct ctl_udpfwd *f)
{
	unsigned i, n = 0;

	if (!f)
		return;
	for (i = 0; i < f->c.max_sessions; i++)
		if (f->s[i]) {
			ufs_close(f, i, "stopping");
			n++;
		}
	say(f, "stopped: %u session%s closed, %u open; %llu datagrams up, %llu down; dropped: "
	    "%llu queue full, %llu failed traversal, %llu session limit, %llu send, %llu handshake",
	    n, n == 1 ? "" : "s", f->st.open, f->st.dgrams_up, f->st.dgrams_down,
	    f->st.drop_queue_full, f->st.drop_failed, f->st.drop_limit, f->st.drop_send,
	    f->st.drop_handshake);
	close(f->fd);
	free(f->s);
	free(f->p);
	free(f);
}
