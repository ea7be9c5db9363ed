// SPDX-License-Identifier: MIT
/*
 * Hand-off of a UDP session to a udp:HOST:PORT service: the punched socket
 * (connected to the peer) and a socket connected to the local target carry
 * datagrams both ways, one recv() -> one send(), in the loop. Late punch
 * handshake datagrams of the peer (daemon/trav/udp.c) are dropped, not forwarded.
 * UDP has no end: the forwarder ends after D_UDPFWD_IDLE_MS without a
 * datagram either way (a timerfd), or when stuntd stops.
 */
#include "daemon/stuntd.h"

#include "common/log.h"
#include "daemon/trav/trav.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define D_UDPFWD_IDLE_MS	120000
#define D_UDPFWD_BURST		64	/* datagrams per wake-up and direction */

struct d_udpfwd {
	struct d_ev		a, b, t;	/* punched socket, local target, idle timer */
	char			peer[SIG_ID_MAX + 1];
	char			service[SIG_ID_MAX + 1];
	unsigned long long	n_ab, n_ba, dropped;
	struct d_udpfwd		*next;
};

static struct d_udpfwd *fwds;
static size_t n_fwds;

size_t d_udpfwd_count(void)
{
	return n_fwds;
}

static void fwd_free(struct d_udpfwd *f, const char *why)
{
	struct d_udpfwd **pp;

	for (pp = &fwds; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	log_info("hand-off: %s/%s (udp) ended: %s; %llu datagrams in, %llu out, %llu dropped",
		 f->peer, f->service, why, f->n_ab, f->n_ba, f->dropped);
	d_loop_del(&f->a);
	d_loop_del(&f->b);
	d_loop_del(&f->t);
	close(f->a.fd);
	close(f->b.fd);
	close(f->t.fd);
	n_fwds--;
	free(f);
}

static void rearm_idle(struct d_udpfwd *f)
{
	struct itimerspec its = { .it_value = { .tv_sec = D_UDPFWD_IDLE_MS / 1000,
						.tv_nsec = (D_UDPFWD_IDLE_MS % 1000) * 1000000L } };

	(void)timerfd_settime(f->t.fd, 0, &its, NULL);
}

/* Move what is queued on src to dst; -1 when src failed hard. */
static int move(struct d_udpfwd *f, int src, int dst, bool from_peer, unsigned long long *count)
{
	uint8_t buf[65536];
	ssize_t n;
	int i;

	for (i = 0; i < D_UDPFWD_BURST; i++) {
		n = recv(src, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ECONNREFUSED)	/* an ICMP answer: not fatal for UDP */
				continue;
			return -1;
		}
		if (from_peer && trav_udp_is_handshake(buf, (size_t)n)) {
			f->dropped++;
			continue;
		}
		if (send(dst, buf, (size_t)n, MSG_DONTWAIT) < 0 && errno != ECONNREFUSED)
			f->dropped++;
		else
			(*count)++;
	}
	return 0;
}

static void on_io(struct d_ev *ev, uint32_t events)
{
	struct d_udpfwd *f = ev->arg;

	(void)events;
	if (move(f, f->a.fd, f->b.fd, true, &f->n_ab) < 0 ||
	    move(f, f->b.fd, f->a.fd, false, &f->n_ba) < 0) {
		fwd_free(f, strerror(errno));
		return;
	}
	rearm_idle(f);
}

static void on_idle(struct d_ev *ev, uint32_t events)
{
	(void)events;
	fwd_free(ev->arg, "idle");
}

int d_udpfwd_start(int fd, const struct d_expose *e, const char *peer)
{
	struct d_udpfwd *f;
	int t, tf, err;

	t = socket(e->addr.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t < 0 || connect(t, &e->addr.sa, addr_sa_len(&e->addr)) < 0) {
		err = -errno;
		log_warnx("hand-off: %s/%s: local target: %s", peer, e->name, strerror(errno));
		if (t >= 0)
			close(t);
		close(fd);
		return err;
	}
	tf = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	f = calloc(1, sizeof(*f));
	if (tf < 0 || f == NULL) {
		if (tf >= 0)
			close(tf);
		free(f);
		close(t);
		close(fd);
		return -ENOMEM;
	}
	d_set_nonblock(fd);
	snprintf(f->peer, sizeof(f->peer), "%s", peer);
	snprintf(f->service, sizeof(f->service), "%s", e->name);
	f->a = (struct d_ev){ .fd = fd, .cb = on_io, .arg = f };
	f->b = (struct d_ev){ .fd = t, .cb = on_io, .arg = f };
	f->t = (struct d_ev){ .fd = tf, .cb = on_idle, .arg = f };
	f->next = fwds;
	fwds = f;
	n_fwds++;
	d_loop_add(&f->a, EPOLLIN);
	d_loop_add(&f->b, EPOLLIN);
	d_loop_add(&f->t, EPOLLIN);
	rearm_idle(f);
	log_info("hand-off: %s/%s (udp) forwards datagrams to the local target", peer, e->name);
	return 0;
}

void d_udpfwd_shutdown(void)
{
	while (fwds)
		fwd_free(fwds, "stuntd stops");
}

size_t d_udpfwd_revoke(const struct d_config *c)
{
	struct d_udpfwd *f, *next;
	size_t n = 0;

	for (f = fwds; f; f = next) {
		next = f->next;
		if (d_reload_still_allowed(c, f->service, f->peer))
			continue;
		log_warnx("hand-off: %s/%s (udp): revoked: peer %s may no longer use it: closed",
			  f->peer, f->service, f->peer);
		fwd_free(f, "revoked");
		n++;
	}
	return n;
}
