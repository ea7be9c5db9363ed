// SPDX-License-Identifier: MIT
/*
 * stunt-server's TCP and TLS clients: see server/client.h.
 */
#include "server/client.h"
#include "server/cluster.h"
#include "server/pend.h"
#include "server/rdv.h"
#include "server/stun.h"
#include "server/stunt.h"
#include "server/tls.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/tcprto.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVICT_BATCH	16	/* unauthenticated clients closed per loop turn, at most */

static void client_close(struct srv_state *st, struct srv_client *c)
{
	srv_pend_drop(st, c);
	if (c->ssl)
		srv_tls_free(c->ssl);
	/* still the registration of its id (not replaced by a newer one) */
	if (c->rdv.listed && c->rdv.authed)
		srv_cluster_unregistered(st, c->rdv.id);
	srv_rdv_drop(&st->rdv, &c->rdv);
	sig_sec_stop(&c->rdv.sec);
	st->stats.rdv_registered = st->rdv.n;
	TAILQ_REMOVE(&st->clients, c, entry);
	epoll_ctl(st->epfd, EPOLL_CTL_DEL, c->h.fd, NULL);
	close(c->h.fd);
	st->stats.tcp_clients--;
	free(c);
}

unsigned srv_client_revoke(struct srv_state *st, const struct srv_secrets *prev,
			   const struct srv_secrets *next)
{
	struct srv_client *c, *n;
	unsigned closed = 0;
	char a[80];

	for (c = TAILQ_FIRST(&st->clients); c; c = n) {
		n = TAILQ_NEXT(c, entry);
		if (!c->rdv.authed || !srv_secrets_revoked(prev, next, c->rdv.id))
			continue;
		log_warnx("peer %s revoked (%s): its registration from %s closed", c->rdv.id,
			  srv_secrets_find(next, c->rdv.id, strlen(c->rdv.id)) ? "secret changed" :
			  "removed from the secrets file",
			  stun_addr_str(&c->peer, a, sizeof(a)));
		srv_rdv_forget(&st->rdv, c->rdv.id);
		st->stats.rdv_revoked++;
		client_close(st, c);
		closed++;
	}
	return closed;
}

void srv_client_close_all(struct srv_state *st)
{
	while (!TAILQ_EMPTY(&st->clients))
		client_close(st, TAILQ_FIRST(&st->clients));
}

static void client_events(struct srv_state *st, struct srv_client *c, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	ev.data.ptr = c;
	epoll_ctl(st->epfd, EPOLL_CTL_MOD, c->h.fd, &ev);
}

static ssize_t conn_send(struct srv_client *c, const void *buf, size_t len)
{
	int other;

	if (!c->ssl)
		return send(c->h.fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return srv_tls_send(c->ssl, buf, len, &other);
}

static ssize_t conn_recv(struct srv_state *st, struct srv_client *c, void *buf, size_t len)
{
	ssize_t n;
	int want_write;

	if (!c->ssl)
		return recv(c->h.fd, buf, len, MSG_DONTWAIT);
	n = srv_tls_recv(c->ssl, buf, len, &want_write);
	if (n < 0 && want_write && !c->want_out) {
		/* read again once writable: the EPOLLOUT path ends in
		 * client_read() */
		c->want_out = true;
		client_events(st, c, EPOLLOUT);
	}
	return n;
}

/* Write what is pending. Returns -1 if the client was closed. */
static int client_flush(struct srv_state *st, struct srv_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = conn_send(c, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			st->stats.tcp_closed++;
			client_close(st, c);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->want_out) {
			c->want_out = false;
			client_events(st, c, EPOLLIN);
		}
	} else {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (!c->want_out) {
			/* stop reading until the client reads: it cannot
			 * make us queue more than SRV_CLIENT_OUT_MAX */
			c->want_out = true;
			st->stats.tcp_backpressure++;
			client_events(st, c, EPOLLOUT);
		}
	}
	return 0;
}

/*
 * Seal the messages c->out[start..out_len) for an authenticated connection
 * (proto/sig_sec.h): each grows by SIG_SEAL_OVERHEAD and the ones after it
 * move up. A message already sealed is left alone; one that cannot be
 * sealed (no room) is dropped and counted: nothing unsealed leaves on an
 * authenticated connection. A no-op before AUTHENTICATE succeeded.
 */
static void client_seal(struct srv_state *st, struct srv_client *c, size_t start)
{
	size_t off = start, mlen, rest;
	int n;

	if (!c->rdv.sec.on)
		return;
	while (off + STUN_HDR_LEN <= c->out_len) {
		mlen = STUN_HDR_LEN + stun_rd16(c->out + off + 2);
		if (mlen > c->out_len - off)
			break;	/* cannot happen: whole messages only */
		rest = c->out_len - off - mlen;
		if (SRV_CLIENT_OUT_MAX - c->out_len < SIG_SEAL_OVERHEAD) {
			n = -ENOSPC;
		} else {
			memmove(c->out + off + mlen + SIG_SEAL_OVERHEAD, c->out + off + mlen, rest);
			n = sig_sec_seal(&c->rdv.sec, c->out + off, mlen, mlen + SIG_SEAL_OVERHEAD);
			if (n == -EEXIST)
				n = (int)mlen;
			/* close the gap (all of it when the seal failed) */
			memmove(c->out + off + (n > 0 ? (size_t)n : 0),
				c->out + off + mlen + SIG_SEAL_OVERHEAD, rest);
		}
		if (n <= 0) {
			st->stats.sec_seal_fail++;
			if (n == -ENOSPC && SRV_CLIENT_OUT_MAX - c->out_len < SIG_SEAL_OVERHEAD)
				memmove(c->out + off, c->out + off + mlen, rest);
			c->out_len -= mlen;
			continue;
		}
		c->out_len = off + (size_t)n + rest;
		off += (size_t)n;
	}
}

/*
 * On an authenticated connection every message must be sealed with the
 * peer's session key and a fresh SIG-SEQ. true: go on with m. false: it
 * was refused (logged, counted, answered 401 so that the peer sees why;
 * the connection stays up, since an attacker who could inject the
 * message could as well cut the connection).
 */
static bool client_open(struct srv_state *st, struct srv_client *c, const struct stun_msg *m)
{
	enum sig_sec_verdict v;
	char a[80];
	size_t n;

	if (!c->rdv.sec.on)
		return true;
	v = sig_sec_open(&c->rdv.sec, m);
	st->stats.sec[v]++;
	if (v == SIG_SEC_OK)
		return true;
	c->sec_refused++;
	/* a flood of them must not flood the log: the first few, then every 100th */
	if (c->sec_refused <= 5 || c->sec_refused % 100 == 0)
		log_warnx("signalling from %s (%s): message 0x%03x refused: %s (%lu on this "
			  "connection)",
			  stun_addr_str(&c->peer, a, sizeof(a)), c->rdv.id[0] ? c->rdv.id : "?",
			  m->method, sig_sec_verdict_name(v), c->sec_refused);
	if (m->cls == STUN_REQUEST) {
		n = srv_rdv_error(m, STUN_ERR_UNAUTHORIZED,
				  v == SIG_SEC_REPLAY ? "Replayed message" :
				  v == SIG_SEC_MISSING ? "Integrity required" : "Integrity check failed",
				  c->out + c->out_len, SRV_CLIENT_OUT_MAX - c->out_len);
		c->out_len += n;
	}
	return false;
}

static void client_touch(struct srv_state *st, struct srv_client *c)
{
	c->last_ms = clock_ms();
	TAILQ_REMOVE(&st->clients, c, entry);
	TAILQ_INSERT_TAIL(&st->clients, c, entry);
}

/* A signalling request: the reply goes into c->out (which has room for
 * SRV_STUN_BUF >= RDV_BUF bytes), an indication into the target's output,
 * which is then written when the target is writable -- never closed from
 * here, since the target may have an event pending in this batch. */
static void client_signal(struct srv_state *st, struct srv_client *c, const struct stun_msg *m)
{
	static uint8_t fwd[RDV_BUF];
	char was[SIG_ID_MAX + 1] = "";
	struct rdv_out o;
	uint8_t rnd[16];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		c->out_len += srv_rdv_error(m, STUN_ERR_SERVER_ERROR, NULL, c->out + c->out_len,
					    RDV_BUF);
		return;
	}
	if (c->rdv.listed && c->rdv.authed)
		strcpy(was, c->rdv.id);	/* an AUTHENTICATE may change it */
	if (srv_rdv_handle(&st->rdv, &c->rdv, m, rnd, clock_ms(), c->out + c->out_len, fwd, &o) < 0)
		log_warnx("rendezvous: out of memory");
	st->stats.rdv[o.verdict]++;
	if (m->method >= SIG_METHOD_REGISTER && m->method <= SIG_METHOD_LAST)
		st->stats.rdv_method[m->method - SIG_METHOD_REGISTER]++;
	st->stats.rdv_registered = st->rdv.n;
	st->stats.rdv_share_reused = st->rdv.share_reused;
	if (o.verdict == RDV_V_LIMITED && (++c->sig_limited <= 5 || c->sig_limited % 100 == 0))
		log_warnx("signalling from %s (%s): 0x%03x refused: over its budget of %u/s, "
			  "bursts of %u (%lu on this connection)",
			  stun_addr_str(&c->peer, (char[80]){ 0 }, 80), c->rdv.id, m->method,
			  st->rdv.sig_rate, st->rdv.sig_burst, c->sig_limited);
	if (o.verdict == RDV_V_OK && c->rdv.authed && m->method == SIG_METHOD_AUTHENTICATE)
		log_info("peer %s registered from %s", c->rdv.id,
			 stun_addr_str(&c->peer, (char[80]){ 0 }, 80));
	if ((o.verdict == RDV_V_AUTH_FAIL || o.verdict == RDV_V_UNKNOWN_ID) &&
	    ++c->sec_refused <= 5)
		log_warnx("signalling from %s: 0x%03x refused: %s",
			  stun_addr_str(&c->peer, (char[80]){ 0 }, 80), m->method,
			  rdv_verdict_name(o.verdict));
	/* what each request came to (-v): a rendezvous across servers is
	 * otherwise only seen in the counters */
	log_debug("signalling from %s: 0x%03x: %s%s%s%s", c->rdv.id[0] ? c->rdv.id : "?",
		  m->method, rdv_verdict_name(o.verdict),
		  o.remote.server[0] ? ", the peer on server " : "", o.remote.server,
		  o.fwd_remote ? " (forwarded through Redis)" : "");
	if (o.nsynack) {
		/* STUNT #1: both SYNs are in */
		size_t i;

		for (i = 0; i < o.nsynack; i++)
			srv_pend_raw(st, &o.synack[i]);
		st->stats.rdv_synack += o.nsynack;
		log_info("STUNT #1: SYN-ACKs sent for %s and its peer", c->rdv.id);
	} else if (o.verdict == RDV_V_FORBIDDEN) {
		log_info("SYNACK from %s refused: no such session with that peer", c->rdv.id);
	}
	if (o.verdict == RDV_V_OK && c->rdv.authed && m->method == SIG_METHOD_AUTHENTICATE) {
		if (was[0] && strcmp(was, c->rdv.id))
			srv_cluster_unregistered(st, was);
		srv_cluster_registered(st, &c->rdv);
	}
	if (o.fwd_to && srv_client_indicate(st, o.fwd_to, fwd, o.fwd_len, sizeof(fwd)) < 0)
		o.reply_len = srv_rdv_error(m, STUN_ERR_SERVER_ERROR, "Peer not reading",
					    c->out + c->out_len, RDV_BUF);
	if (o.fwd_remote && srv_cluster_forward(st, &o, fwd) < 0)
		o.reply_len = srv_rdv_error(m, STUN_ERR_SERVER_ERROR, "Peer's server unreachable",
					    c->out + c->out_len, RDV_BUF);
	c->out_len += o.reply_len;
}

int srv_client_indicate(struct srv_state *st, struct rdv_conn *to, uint8_t *msg, size_t len,
			size_t cap)
{
	struct srv_client *t = (struct srv_client *)((char *)to - offsetof(struct srv_client, rdv));

	if (t->rdv.sec.on) {
		int n = sig_sec_seal(&t->rdv.sec, msg, len, cap);

		if (n < 0) {
			st->stats.sec_seal_fail++;
			len = SRV_CLIENT_OUT_MAX + 1;	/* refused below */
		} else {
			len = (size_t)n;
		}
	}
	if (t->out_len + len > SRV_CLIENT_OUT_MAX) {
		st->stats.rdv_fwd_full++;
		return -ENOSPC;
	}
	memcpy(t->out + t->out_len, msg, len);
	t->out_len += len;
	st->stats.rdv_fwd++;
	if (!t->want_out) {
		t->want_out = true;
		client_events(st, t, EPOLLOUT);
	}
	return 0;
}

void srv_client_queue(struct srv_state *st, struct srv_client *c, const uint8_t *buf,
		      size_t len)
{
	size_t start = c->out_len;

	if (!len || c->out_len + len + (c->rdv.sec.on ? SIG_SEAL_OVERHEAD : 0) >
			    SRV_CLIENT_OUT_MAX) {
		st->stats.stunt_lost++;
		return;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	client_seal(st, c, start);
	if (!c->want_out) {
		c->want_out = true;
		client_events(st, c, EPOLLOUT);
	}
}

/* Answer every whole message in c->in. Returns -1 if the client was closed. */
static int client_process(struct srv_state *st, const struct srv_config *cfg,
			  struct srv_client *c)
{
	struct srv_stun_ctx ctx;
	struct srv_stun_reply r;
	struct stun_msg m;
	size_t off = 0;
	bool parsed;
	size_t start;

	srv_loop_stun_ctx(&ctx, cfg, &c->h, SRV_TCP);
	ctx.peer = c->peer;
	while (c->in_len - off > 0) {
		int flen = stun_frame_len(c->in + off, c->in_len - off);

		if (flen == 0 || (flen > 0 && (size_t)flen > c->in_len - off &&
				  (size_t)flen <= SRV_CLIENT_IN_MAX))
			break;	/* need more bytes */
		if (flen < 0 || (size_t)flen > SRV_CLIENT_IN_MAX) {
			/* RFC 8489 6.2.2 framing lost, or a message larger
			 * than a client of ours would send */
			st->stats.tcp_bad_frame++;
			client_close(st, c);
			return -1;
		}
		if (c->out_len + SRV_STUN_BUF > SRV_CLIENT_OUT_MAX) {
			if (client_flush(st, c) < 0)
				return -1;
			if (c->out_len + SRV_STUN_BUF > SRV_CLIENT_OUT_MAX)
				break;	/* the rest after EPOLLOUT */
		}
		st->stats.tcp_rx_msgs++;
		parsed = stun_parse(c->in + off, (size_t)flen, &m) == 0;
		start = c->out_len;
		if (parsed && !client_open(st, c, &m)) {
			;	/* refused: answered 401 */
		} else if (parsed && srv_rdv_is_ours(m.method)) {
			client_signal(st, c, &m);
		} else if (parsed && srv_stunt_is_ours(m.method)) {
			srv_pend_stunt(st, c, &m);
		} else {
			srv_stun_handle(&ctx, c->in + off, (size_t)flen, c->out + c->out_len,
					SRV_CLIENT_OUT_MAX - c->out_len, &r);
			st->stats.tcp_verdict[r.verdict]++;
			c->out_len += r.len;
		}
		/* everything this message caused for c, the 401 of a refused
		 * one included (the real peer can still tell it is ours) */
		client_seal(st, c, start);
		off += (size_t)flen;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return client_flush(st, c);
}

static void client_read(struct srv_state *st, const struct srv_config *cfg, struct srv_client *c)
{
	for (;;) {
		ssize_t n;

		if (c->want_out)
			return;
		n = conn_recv(st, c, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			st->stats.tcp_closed++;
			client_close(st, c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		c->in_len += (size_t)n;
		client_touch(st, c);
		if (client_process(st, cfg, c) < 0)
			return;
	}
}

/* Is there a client that has not authenticated (a control connection
 * before AUTHENTICATE, a STUN/STUNT client, a TLS handshake)? */
static bool client_any_unauthed(const struct srv_state *st)
{
	const struct srv_client *c;

	TAILQ_FOREACH(c, &st->clients, entry)
		if (!c->rdv.authed)
			return true;
	return false;
}

void srv_client_accept(struct srv_state *st, const struct srv_config *cfg, struct srv_fd *f)
{
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		struct epoll_event ev = { .events = EPOLLIN };
		struct srv_client *c;
		int fd, one = 1;

		/* At the limit, a flood of connections that never authenticate
		 * (half-sent messages, silent sockets) must not lock peers out
		 * until the idle timeout: the longest-quiet unauthenticated
		 * client makes room, closed after this batch of events (one
		 * may still be pending in it); the connection waits in the
		 * backlog until then. Above the limit (lowered by SIGHUP) no
		 * one is closed: an eviction would not make room, new ones are
		 * refused until clients leave. */
		if (st->stats.tcp_clients >= cfg->max_clients && st->evict_wanted < EVICT_BATCH &&
		    st->stats.tcp_clients - st->evict_wanted <= cfg->max_clients &&
		    client_any_unauthed(st)) {
			st->evict_wanted++;
			return;
		}
		fd = accept4(f->fd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_warn("accept");
			return;
		}
		if (st->stats.tcp_clients >= cfg->max_clients || !(c = calloc(1, sizeof(*c)))) {
			st->stats.tcp_refused++;
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* answers and indications to a daemon on a lossy path: resent
		 * within a second, as the daemon resends its requests */
		(void)tcp_rto_cap(fd);
		c->h.kind = SRV_FD_CLIENT;
		c->h.fd = fd;
		c->h.ip = f->ip;
		c->h.port = f->port;
		c->h.v6 = f->v6;
		stun_addr_from_sockaddr(&c->peer, (struct sockaddr *)&from, fl);
		c->rdv.peer = c->peer;
		c->last_ms = clock_ms();
		srv_stunt_conn_init(&c->stunt, &st->stunt, &c->peer, f->ip, f->port, c->last_ms);
		if (f->tls) {
			if (!(c->ssl = srv_tls_new(st->tls_ctx, fd))) {
				st->stats.tcp_refused++;
				close(fd);
				free(c);
				continue;
			}
			c->handshake = true;
		}
		ev.data.ptr = c;
		if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			st->stats.tcp_refused++;
			close(fd);
			free(c);
			continue;
		}
		TAILQ_INSERT_TAIL(&st->clients, c, entry);
		st->stats.tcp_clients++;
		st->stats.tcp_accepted++;
	}
}

/* A step of a TLS handshake; then the client is an ordinary one. */
static void client_handshake(struct srv_state *st, const struct srv_config *cfg,
			     struct srv_client *c)
{
	char s[80];

	switch (srv_tls_handshake(c->ssl)) {
	case SRV_TLS_DONE:
		c->handshake = false;
		st->stats.tls_accepted++;
		client_events(st, c, EPOLLIN);
		client_touch(st, c);
		client_read(st, cfg, c);
		break;
	case SRV_TLS_WANT_READ:
		client_events(st, c, EPOLLIN);
		break;
	case SRV_TLS_WANT_WRITE:
		client_events(st, c, EPOLLOUT);
		break;
	case SRV_TLS_FAIL:
		st->stats.tls_fail++;
		log_debug("TLS handshake with %s failed",
			  stun_addr_str(&c->peer, s, sizeof(s)));
		client_close(st, c);
		break;
	}
}

void srv_client_event(struct srv_state *st, const struct srv_config *cfg, struct srv_client *c,
		      uint32_t events)
{
	if (c->handshake) {
		client_handshake(st, cfg, c);
		return;
	}
	/* a client closed earlier in this batch is not in the batch's events
	 * twice: one event per fd */
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		st->stats.tcp_closed++;
		client_close(st, c);
	} else if (c->want_out) {
		if (client_flush(st, c) == 0 && !c->want_out && client_process(st, cfg, c) == 0)
			client_read(st, cfg, c);
	} else {
		client_read(st, cfg, c);
	}
}

void srv_client_expire(struct srv_state *st, const struct srv_config *cfg, uint64_t now)
{
	struct srv_client *c, *next;

	for (c = TAILQ_FIRST(&st->clients); c && st->evict_wanted; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->rdv.authed) {
			st->stats.tcp_refused++;
			client_close(st, c);
			st->evict_wanted--;
		}
	}
	st->evict_wanted = 0;

	while ((c = TAILQ_FIRST(&st->clients)) &&
	       now - c->last_ms >= (uint64_t)cfg->idle_s * 1000) {
		st->stats.tcp_idle++;
		client_close(st, c);
	}
}
