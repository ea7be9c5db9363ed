// SPDX-License-Identifier: MIT
/*
 * A relayed session's connection, held by stuntd on both sides: a TURN
 * server's TCP relay (RFC 6062, coturn) ends both connections at the first
 * FIN, with a RST, so no application's FIN may reach it. When both stuntds
 * speak it (the session header's S_HDR_F_FRAMED, answered 'H': daemon/
 * confirm.c), each keeps the relay connection (f) and copies it to a plain
 * socket (p): the local tcp: target, or one end of a loopback TCP
 * connection whose other end goes to the exec: child or to stuntctl
 * (local_pair). The bytes go framed
 * (proto/hcframe.h): p's EOF becomes an EOF frame, the peer's EOF frame a
 * shutdown(SHUT_WR) of p, and the other direction keeps flowing. Once both
 * EOFs passed, each side sends a close frame; a side closes the relay
 * connection when the peer's close came (the peer had all our bytes) or,
 * its own close sent, when the connection ends -- so the server's RST
 * comes only after both directions ended. Anything else that ends f, and
 * any malformed frame, aborts this session only: f closed, p reset.
 *
 * Buffers are bounded: one frame waits for the relay, at most D_RH_IN
 * framed bytes wait for p; neither side reads while its buffer is full.
 * The relay allocation's lifetime (daemon/trav/relay.c) follows f's
 * presence in /proc/self/net/tcp, which this file now holds.
 */
#include "daemon/stuntd.h"

#include "common/clock.h"
#include "common/log.h"
#include "proto/hcframe.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define D_RH_IN		(4 * HCF_MAX_FRAME)	/* framed bytes read from the relay */
#define D_RH_CLOSE_MS	10000	/* our close sent: the peer's close or the end, this long */

struct d_relayhc {
	struct d_ev		f, p;		/* f: the relay connection, framed; p: plain */
	bool			f_in, p_in;	/* in the loop */
	uint8_t			in[D_RH_IN];
	size_t			in_off, in_len;	/* unparsed framed bytes: in[in_off..in_len) */
	size_t			in_done;	/* of the first frame's data: written to p */
	bool			p_blocked;	/* a data frame waits for p to take it */
	uint8_t			out[HCF_MAX_FRAME];	/* the frame going to the relay */
	size_t			out_off, out_len;
	struct hcf_order	ord;		/* the peer's frames: data, EOF, close */
	bool			p_eof;		/* p said EOF: our EOF frame went out */
	bool			f_eof;		/* the relay connection ended */
	bool			close_queued;	/* our close frame */
	uint64_t		close_at;	/* our close sent: the deadline for the end */
	uint64_t		up, down;	/* data bytes p -> f, f -> p */
	char			peer[SIG_ID_MAX + 1];
	char			service[SIG_ID_MAX + 1];	/* "": the requester's */
	struct d_relayhc	*next;
};

static struct d_relayhc *shims;

static void watch(struct d_ev *ev, bool *in, uint32_t events)
{
	if (events == 0) {
		/* nothing wanted: out of the loop, or a shut-down socket's
		 * EPOLLHUP would wake it on every round */
		if (*in)
			d_loop_del(ev);
		*in = false;
		return;
	}
	if (*in)
		(void)d_loop_mod(ev, events);
	else
		*in = d_loop_add(ev, events) == 0;
}

static void shim_free(struct d_relayhc *h, bool abort)
{
	struct d_relayhc **pp;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	for (pp = &shims; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	if (h->service[0])
		d_peer_bytes(h->peer, h->down, h->up);
	watch(&h->f, &h->f_in, 0);
	watch(&h->p, &h->p_in, 0);
	/* an abort resets the local end, as a broken direct connection would */
	if (abort)
		(void)setsockopt(h->p.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(h->f.fd);
	close(h->p.fd);
	free(h);
}

/* The relay -> p: frames parsed, data written to p. 0 or -errno. */
static int pump_down(struct d_relayhc *h)
{
	struct hcf_frame fr;
	ssize_t n;
	int r;

	h->p_blocked = false;
	for (;;) {
		r = hcf_parse(h->in + h->in_off, h->in_len - h->in_off, &fr);
		if (r < 0)
			return r;
		if (r == 1) {
			/* (a data frame's check is repeated while p is slow: harmless) */
			if (hcf_order_next(&h->ord, fr.type) < 0)
				return -EPROTO;
			if (fr.type == HCF_DATA) {
				n = send(h->p.fd, fr.data + h->in_done, fr.len - h->in_done,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
				if (n < 0) {
					if (errno != EAGAIN && errno != EINTR)
						return -errno;
					h->p_blocked = true;
					return 0;
				}
				h->in_done += (size_t)n;
				h->down += (uint64_t)n;
				if (h->in_done < fr.len)
					continue;
				h->in_done = 0;
			} else if (fr.type == HCF_EOF) {
				(void)shutdown(h->p.fd, SHUT_WR);	/* the peer's half-close */
			}
			h->in_off += fr.size;
			continue;
		}
		if (h->f_eof)
			return 0;
		/* a frame is incomplete: to the front, then read behind it */
		memmove(h->in, h->in + h->in_off, h->in_len - h->in_off);
		h->in_len -= h->in_off;
		h->in_off = 0;
		n = recv(h->f.fd, h->in + h->in_len, sizeof(h->in) - h->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			/* its FIN or the server's RST: whether that is the end or
			 * a break, run() decides by the frames that came */
			h->f_eof = true;
			return 0;
		}
		h->in_len += (size_t)n;
	}
}

/* p -> the relay: one frame at a time. 0 or -errno. */
static int pump_up(struct d_relayhc *h)
{
	ssize_t n;

	for (;;) {
		if (h->out_off < h->out_len) {
			n = send(h->f.fd, h->out + h->out_off, h->out_len - h->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -errno;
			h->out_off += (size_t)n;
			continue;
		}
		h->out_off = h->out_len = 0;
		if (h->close_queued) {
			if (h->close_at == 0)
				h->close_at = clock_ms() + D_RH_CLOSE_MS;
			return 0;
		}
		if (h->p_eof) {
			if (!h->ord.eof)
				return 0;
			/* both EOFs passed: our close */
			(void)hcf_put_hdr(h->out, HCF_CLOSE, 0);
			h->out_len = HCF_HDR_LEN;
			h->close_queued = true;
			continue;
		}
		n = recv(h->p.fd, h->out + HCF_HDR_LEN, HCF_MAX_DATA, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if (n == 0) {
			h->p_eof = true;
			(void)hcf_put_hdr(h->out, HCF_EOF, 0);
			h->out_len = HCF_HDR_LEN;
			continue;
		}
		(void)hcf_put_hdr(h->out, HCF_DATA, (size_t)n);
		h->out_len = HCF_HDR_LEN + (size_t)n;
		h->up += (uint64_t)n;
	}
}

static void rearm(struct d_relayhc *h)
{
	uint32_t ef = 0, ep = 0;

	if (!h->f_eof && !h->p_blocked && !h->ord.close)
		ef |= EPOLLIN;
	if (h->out_off < h->out_len)
		ef |= EPOLLOUT;
	if (!h->p_eof && h->out_len == 0)
		ep |= EPOLLIN;
	if (h->p_blocked)
		ep |= EPOLLOUT;
	watch(&h->f, &h->f_in, ef);
	watch(&h->p, &h->p_in, ep);
}

static void run(struct d_relayhc *h)
{
	int r;

	if ((r = pump_down(h)) < 0 || (r = pump_up(h)) < 0 || (r = pump_down(h)) < 0) {
		log_warnx("relayed connection with %s: %s: closed", h->peer,
			  r == -EBADMSG || r == -EPROTO ? "the peer broke the framing" : strerror(-r));
		shim_free(h, true);
		return;
	}
	/* the close sent and the peer's close came (it had our EOF), or the
	 * connection ended after ours (the peer had its EOF and ours) */
	if (h->close_queued && h->out_len == 0 && (h->ord.close || h->f_eof)) {
		log_info("relayed connection with %s ended (%llu bytes out, %llu in)", h->peer,
			 (unsigned long long)h->up, (unsigned long long)h->down);
		shim_free(h, false);
		return;
	}
	if (h->f_eof && !h->p_blocked) {
		log_warnx("relayed connection with %s: the relay ended it before both sides "
			  "closed", h->peer);
		shim_free(h, true);
		return;
	}
	rearm(h);
}

static void on_io(struct d_ev *ev, uint32_t events)
{
	(void)events;
	run(ev->arg);
}

int d_relayhc_start(int f, int p, const char *peer, const char *service)
{
	struct d_relayhc *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		close(f);
		close(p);
		return -ENOMEM;
	}
	d_set_nonblock(f);
	d_set_nonblock(p);
	h->f = (struct d_ev){ .fd = f, .cb = on_io, .arg = h };
	h->p = (struct d_ev){ .fd = p, .cb = on_io, .arg = h };
	snprintf(h->peer, sizeof(h->peer), "%s", peer);
	snprintf(h->service, sizeof(h->service), "%s", service ? service : "");
	h->next = shims;
	shims = h;
	run(h);
	return 0;
}

/*
 * A TCP connection over loopback, both ends ours: *app for the application,
 * *own for the copy. Not a socketpair: the application's socket is a TCP
 * one, as on a direct connection (TCP socket options, getpeername), and an
 * abort reaches it as a RST, not as an end of file that looks like the
 * normal end. Loopback answers at once; the accepted connection is checked
 * to be ours (a local process could connect to the short-lived listener).
 */
static int local_pair(int *app, int *own)
{
	struct sockaddr_in la = { .sin_family = AF_INET }, ca, pa;
	socklen_t ll = sizeof(la), cl = sizeof(ca), pl;
	int l, c = -1, a, err;

	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -errno;
	if (bind(l, (struct sockaddr *)&la, sizeof(la)) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&la, &ll) < 0)
		goto fail;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&la, sizeof(la)) < 0 ||
	    getsockname(c, (struct sockaddr *)&ca, &cl) < 0 || d_set_nonblock(l) < 0)
		goto fail;
	for (;;) {
		pl = sizeof(pa);
		a = accept4(l, (struct sockaddr *)&pa, &pl, SOCK_CLOEXEC);
		if (a < 0)
			goto fail;	/* ours was in the queue: it is not there */
		if (pa.sin_port == ca.sin_port && pa.sin_addr.s_addr == ca.sin_addr.s_addr)
			break;
		close(a);		/* someone else's */
	}
	close(l);
	*app = c;
	*own = a;
	return 0;
fail:
	err = errno ? -errno : -EIO;
	if (c >= 0)
		close(c);
	close(l);
	return err;
}

int d_relayhc_pair(int f, const char *peer)
{
	int app = -1, own = -1, err;

	err = local_pair(&app, &own);
	if (err < 0) {
		close(f);
		return err;
	}
	err = d_relayhc_start(f, own, peer, NULL);
	if (err < 0) {
		close(app);
		return err;
	}
	return app;
}

void d_relayhc_tick(uint64_t now)
{
	struct d_relayhc *h, *hn;

	for (h = shims; h; h = hn) {
		hn = h->next;
		if (h->close_at && now >= h->close_at) {
			/* both EOFs passed long ago: nothing is lost */
			log_info("relayed connection with %s: no close from the peer: ended", h->peer);
			shim_free(h, false);
		}
	}
}

size_t d_relayhc_count(void)
{
	const struct d_relayhc *h;
	size_t n = 0;

	for (h = shims; h; h = h->next)
		n += h->service[0] != 0;
	return n;
}

void d_relayhc_bytes(const char *peer, uint64_t *from, uint64_t *to)
{
	const struct d_relayhc *h;

	for (h = shims; h; h = h->next)
		if (h->service[0] && (!peer || !strcmp(h->peer, peer))) {
			*from += h->down;
			*to += h->up;
		}
}

size_t d_relayhc_revoke(const struct d_config *c)
{
	struct d_relayhc *h, *hn;
	size_t n = 0;

	for (h = shims; h; h = hn) {
		hn = h->next;
		if (!h->service[0] || d_reload_still_allowed(c, h->service, h->peer))
			continue;
		log_warnx("hand-off: %s/%s: revoked: peer %s may no longer use it: connection "
			  "closed", h->peer, h->service, h->peer);
		shim_free(h, true);
		n++;
	}
	return n;
}

void d_relayhc_shutdown(void)
{
	while (shims)
		shim_free(shims, true);
}
