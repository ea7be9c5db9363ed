// SPDX-License-Identifier: MIT
/*
 * The public port of an attempt's socket behind an endpoint-independent
 * NAT that picks its own ports (trav_eim_learned, daemon/trav/strategy.h):
 * the NAT gives the socket's port the same public port towards every
 * destination, so one STUN Binding to the server from that port tells the
 * port the peer must aim at. The Binding's socket is bound beside the
 * attempt's (SO_REUSEADDR / SO_REUSEPORT; the attempt's socket neither
 * listens nor connects yet), connects without blocking and runs in
 * stuntd's loop; every attempt of a session learns at once, after the
 * methods' own gathers and before the EXCHANGE (daemon/negotiate.c), so the
 * whole costs one round trip to the server. Done or failed, it reports
 * through the attempt's ready event; its connection is closed at once (a
 * FIN after the answer): the mapping outlives it, and the attempt's own
 * flow keeps it from then on.
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/log.h"
#include "daemon/trav/strategy.h"
#include "probes/probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct trav_learn {
	struct d_ev	ev;
	struct trav_attempt *a;
	uint64_t	deadline;
	bool		sent;
	uint8_t		txid[STUN_TXID_LEN];
	uint8_t		buf[PROBE_BINDING_BUF];
	size_t		len;		/* the request's, then what was read */
};

static void learn_free(struct trav_attempt *a)
{
	struct trav_learn *l = a->learn;

	if (l == NULL)
		return;
	if (l->ev.fd >= 0) {
		d_loop_del(&l->ev);
		close(l->ev.fd);
	}
	free(l);
	a->learn = NULL;
}

/* Over: the attempt hears of it (0 or -errno with a->why). */
static void learn_done(struct trav_attempt *a, int err, uint16_t port)
{
	learn_free(a);
	if (err == 0) {
		a->pub_port = port;
		log_debug("session %u: %s: port %u is %u after our NAT (EIM, not port-preserving)",
			  a->sid, sig_method_name(a->method), a->lport, port);
	}
	a->events->ready(a, err);
}

static void set_why(struct trav_attempt *a, const char *what)
{
	snprintf(a->why, sizeof(a->why), "Binding from port %u for its public port: %s",
		 a->lport, what);
}

static void learn_fail(struct trav_attempt *a, int err, const char *what)
{
	set_why(a, what);
	learn_done(a, err, 0);
}

static void on_event(struct d_ev *ev, uint32_t events)
{
	struct trav_learn *l = ev->arg;
	struct trav_attempt *a = l->a;
	socklen_t sl = sizeof(int);
	uint16_t port = 0;
	ssize_t n;
	int soerr = 0, r;

	if (!l->sent) {
		if (getsockopt(ev->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr == 0 && !(events & (EPOLLERR | EPOLLHUP))) {
			n = send(ev->fd, l->buf, l->len, MSG_NOSIGNAL);
			if (n == (ssize_t)l->len) {
				l->sent = true;
				l->len = 0;
				d_loop_mod(ev, EPOLLIN);
				return;
			}
			soerr = n < 0 ? errno : EMSGSIZE;
		}
		learn_fail(a, -(soerr ? soerr : ECONNREFUSED), strerror(soerr ? soerr : ECONNREFUSED));
		return;
	}
	n = recv(ev->fd, l->buf + l->len, sizeof(l->buf) - l->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		learn_fail(a, n < 0 ? -errno : -ECONNRESET, n < 0 ? strerror(errno) : "closed");
		return;
	}
	l->len += (size_t)n;
	r = probe_binding_answer(l->buf, l->len, l->txid, &port);
	if (r == 0 && l->len == sizeof(l->buf))
		r = -EBADMSG;
	if (r < 0)
		learn_fail(a, r, probe_binding_error(r));
	else if (r == 1)
		learn_done(a, 0, port);
}

int trav_learn_start(struct trav_attempt *a)
{
	const struct d_server *srv = d_sig_server();
	struct trav_learn *l;
	int fd, len, err;

	if ((a->ops->flags & TRAV_F_OWN_ENDPOINT) || a->lport == 0 || a->pub_port != 0 ||
	    a->learn != NULL || !trav_eim_learned(&g_d->nat))
		return 1;
	if (srv == NULL || srv->addr.sa.sa_family != AF_INET) {
		snprintf(a->why, sizeof(a->why), "Binding for its public port: no IPv4 server");
		return -ENOTCONN;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->a = a;
	l->ev.fd = -1;
	len = probe_binding_request(l->buf, sizeof(l->buf), l->txid);
	if (len < 0) {
		free(l);
		return len;
	}
	l->len = (size_t)len;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		free(l);
		return err;
	}
	err = probe_bind_beside(fd, a->lport);
	if (err == 0 && connect(fd, &srv->addr.sa, sizeof(srv->addr.in)) < 0 &&
	    errno != EINPROGRESS)
		err = -errno;
	if (err < 0) {
		set_why(a, strerror(-err));
		close(fd);
		free(l);
		return err;
	}
	l->ev.fd = fd;
	l->ev.cb = on_event;
	l->ev.arg = l;
	if ((err = d_loop_add(&l->ev, EPOLLOUT)) < 0) {
		close(fd);
		free(l);
		return err;
	}
	l->deadline = clock_ms() + TRAV_BINDING_TIMEOUT_MS;
	a->learn = l;
	return 0;
}

void trav_learn_tick(struct trav_attempt *a, uint64_t now)
{
	if (a->learn && now >= a->learn->deadline)
		learn_fail(a, -ETIMEDOUT, "no answer");
}

void trav_learn_close(struct trav_attempt *a)
{
	learn_free(a);
}
