// SPDX-License-Identifier: MIT
/* The probe's event loop: see probe_loop.h. */
#include "probes/probe_loop.h"
#include "probes/probe.h"
#include "common/clock.h"
#include "proto/stun_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <linux/errqueue.h>
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

void probe_sin(struct sockaddr_in *sin, uint32_t ip_be, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = ip_be;
	sin->sin_port = htons(port);
}

void probe_ep_from(struct probe_ep *e, const struct stun_addr *a)
{
	if (a->family != STUN_FAMILY_IPV4)
		return;
	e->known = true;
	memcpy(&e->ip, a->ip, 4);
	e->port = a->port;
}

void probe_txid(uint8_t txid[STUN_TXID_LEN])
{
	if (getrandom(txid, STUN_TXID_LEN, 0) != STUN_TXID_LEN) {
		static uint32_t ctr;
		uint64_t t = clock_us();

		memcpy(txid, &t, 8);
		ctr++;
		memcpy(txid + 8, &ctr, 4);
	}
}

void probe_loop_init(struct probe_loop *L, unsigned timeout_ms)
{
	memset(L, 0, sizeof(*L));
	L->start_ms = clock_ms();
	L->deadline_ms = L->start_ms + timeout_ms;
}

void probe_loop_free(struct probe_loop *L)
{
	unsigned i;

	/* every socket registered is the loop's to close (OTHER ones too: the
	 * filtering test's listener, the TTL-limited SYNs' sockets, the
	 * caller's capture and ICMP sockets as duplicated here -- leaving
	 * them open cost stuntd descriptors, a listening port and the
	 * privileged side's capture on every discovery), except a descriptor
	 * another library owns */
	for (i = 0; i < L->nsocks; i++) {
		if (!L->socks[i]->borrowed && L->socks[i]->fd >= 0)
			close(L->socks[i]->fd);
		free(L->socks[i]);
	}
	for (i = 0; i < L->ntx; i++)
		free(L->tx[i]);
	L->nsocks = L->ntx = 0;
}

void probe_loop_server(struct probe_loop *L, const struct sockaddr_in *srv, bool udp, bool tcp)
{
	L->srv = *srv;
	L->srv_udp = udp;
	L->srv_tcp = tcp;
}

static bool unreach_host(int e)
{
	return e == EHOSTUNREACH || e == ENETUNREACH;
}

/* Nothing answered and the network said the server cannot be reached. */
static bool srv_unreachable(const struct probe_loop *L)
{
	if (L->heard || !(L->srv_udp || L->srv_tcp))
		return false;
	if (unreach_host(L->unreach_udp) || unreach_host(L->unreach_tcp))
		return true;
	return (!L->srv_udp || L->unreach_udp) && (!L->srv_tcp || L->unreach_tcp);
}

uint64_t probe_loop_absence_ms(const struct probe_loop *L)
{
	uint64_t w = 3ull * L->rtt_max_ms + 200;

	return w < PROBE_ABSENCE_MIN_MS ? PROBE_ABSENCE_MIN_MS : w;
}

void probe_loop_loss(const struct probe_loop *L, unsigned *lost, unsigned *sent)
{
	unsigned i, lo = L->rt_lost, se = L->rt_sent;

	for (i = 0; i < L->nsocks; i++) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		/* a SYN nobody answers (a capture target) is not loss */
		if (L->socks[i]->kind != PROBE_SK_TCP || L->socks[i]->fd < 0 ||
		    L->socks[i]->connecting || L->socks[i]->dead || L->socks[i]->v6)
			continue;
		memset(&ti, 0, sizeof(ti));
		if (getsockopt(L->socks[i]->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
			continue;
		lo += ti.tcpi_total_retrans;
		se += ti.tcpi_segs_out > ti.tcpi_total_retrans ? ti.tcpi_segs_out : ti.tcpi_total_retrans;
	}
	*lost = lo;
	*sent = se;
}

bool probe_loop_doubtful(const struct probe_loop *L, unsigned tries)
{
	unsigned lost, sent;

	probe_loop_loss(L, &lost, &sent);
	/* a TCP socket counts its pure ACKs as sent and a lost ACK seldom
	 * shows as a retransmission, so the combined rate can be well below
	 * what UDP's round trips saw (at 30 % loss each way a wrong "ADF"
	 * once passed as certain): the rate is the larger of the two, over
	 * the combined count */
	if (L->rt_sent && sent &&
	    (uint64_t)L->rt_lost * sent > (uint64_t)lost * L->rt_sent)
		lost = (unsigned)(((uint64_t)L->rt_lost * sent + L->rt_sent - 1) / L->rt_sent);
	return probe_absence_doubtful(lost, sent, tries);
}

static struct probe_sock *sock_add(struct probe_loop *L, int fd, enum probe_sock_kind kind)
{
	struct probe_sock *s;
	union addr_sa sin;
	socklen_t sl = sizeof(sin);

	if (L->nsocks >= PROBE_LOOP_MAX_SOCKS || !(s = calloc(1, sizeof(*s)))) {
		errno = ENOMEM;
		return NULL;
	}
	s->fd = fd;
	s->kind = kind;
	s->t_start = clock_ms();
	if (kind != PROBE_SK_OTHER && getsockname(fd, &sin.sa, &sl) == 0) {
		s->v6 = sin.sa.sa_family == AF_INET6;
		s->lport = ntohs(s->v6 ? sin.in6.sin6_port : sin.in.sin_port);
	}
	L->socks[L->nsocks++] = s;
	return s;
}

struct probe_sock *probe_sock_udp(struct probe_loop *L, uint16_t port)
{
	struct sockaddr_in sin;
	struct probe_sock *s;
	int fd, e, one = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	/* ICMP errors to the error queue: "the server is unreachable" at once */
	setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	probe_sin(&sin, htonl(INADDR_ANY), port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || !(s = sock_add(L, fd, PROBE_SK_UDP))) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	return s;
}

struct probe_sock *probe_sock_tcp(struct probe_loop *L, uint16_t port, bool reuse, int ttl,
				  const struct sockaddr_in *dst)
{
	struct sockaddr_in sin;
	struct probe_sock *s = NULL;
	int fd, one = 1, e;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (reuse && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0))
		goto fail;
	if (ttl > 0 && setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0)
		goto fail;
	probe_sin(&sin, htonl(INADDR_ANY), port);
	if ((port || reuse) && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS)
		goto fail;
	if (!(s = sock_add(L, fd, PROBE_SK_TCP)))
		goto fail;
	s->connecting = true;
	s->dst.in = *dst;
	s->ttl_limited = ttl > 0;
	return s;
fail:
	e = errno;
	close(fd);
	errno = e;
	return NULL;
}

/* An IPv6 socket of type, V6ONLY, bound to any port (reuse: that others
 * may bind it too, a listener beside a connection): its fd or -1. */
static int socket6(int type, bool reuse)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	int fd = socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, e;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    (reuse && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		       setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct probe_sock *probe_sock_udp6(struct probe_loop *L)
{
	struct probe_sock *s;
	int fd = socket6(SOCK_DGRAM, false), e;

	if (fd < 0)
		return NULL;
	if (!(s = sock_add(L, fd, PROBE_SK_UDP))) {
		e = errno;
		close(fd);
		errno = e;
	}
	return s;
}

struct probe_sock *probe_sock_tcp6(struct probe_loop *L, const struct sockaddr_in6 *dst, bool reuse)
{
	struct probe_sock *s = NULL;
	int fd = socket6(SOCK_STREAM, reuse), e;

	if (fd < 0)
		return NULL;
	if ((connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS) ||
	    !(s = sock_add(L, fd, PROBE_SK_TCP))) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	s->connecting = true;
	s->dst.in6 = *dst;
	return s;
}

struct probe_sock *probe_sock_other(struct probe_loop *L, int fd, short events, probe_ready_cb cb,
				    void *arg)
{
	struct probe_sock *s = sock_add(L, fd, PROBE_SK_OTHER);

	if (s) {
		s->events = events;
		s->on_ready = cb;
		s->arg = arg;
	}
	return s;
}

static void tx_finish(struct probe_loop *L, struct probe_tx *t, enum probe_tx_status st);

static void tx_send(struct probe_loop *L, struct probe_tx *t, uint64_t now)
{
	ssize_t n;

	if (t->s->kind == PROBE_SK_UDP) {
		n = sendto(t->s->fd, t->req, t->reqlen, 0, &t->dst.sa, addr_sa_len(&t->dst));
		(void)n;	/* a lost send is a lost packet: retransmission covers it */
		if (!t->sends)
			t->first_ms = t->window_ms = now;
		t->sends++;
		t->next_ms = now + t->rto_ms;
		if (t->rto_ms < PROBE_RTO_MAX_MS && !t->second)
			t->rto_ms *= 2;
	} else {
		if (t->s->connecting)
			return;		/* sent once connected */
		/* TCP retransmits by itself; a short write on a fresh
		 * connection's empty buffer does not happen for 512 bytes */
		n = send(t->s->fd, t->req, t->reqlen, MSG_NOSIGNAL);
		t->first_ms = now;
		t->sends = 1;
		t->next_ms = UINT64_MAX;
		t->sent = true;
		if (n != (ssize_t)t->reqlen)
			tx_finish(L, t, PROBE_TX_ERROR);
		return;
	}
	t->sent = true;
}

static struct probe_tx *tx_new(struct probe_loop *L, struct probe_sock *s, const struct sockaddr *dst,
			       bool absence, probe_tx_cb done, void *arg, int tag)
{
	struct probe_tx *t;

	if (!s || L->ntx >= PROBE_LOOP_MAX_TX || !(t = calloc(1, sizeof(*t))))
		return NULL;
	t->s = s;
	if (dst)
		memcpy(&t->dst, dst, dst->sa_family == AF_INET6 ? sizeof(t->dst.in6) : sizeof(t->dst.in));
	t->absence = absence;
	t->rto_ms = PROBE_RTO_MS;
	t->done = done;
	t->arg = arg;
	t->tag = tag;
	L->tx[L->ntx++] = t;
	return t;
}

static struct probe_tx *tx_raw(struct probe_loop *L, struct probe_sock *s, const struct sockaddr *dst,
			       const uint8_t *req, size_t len, bool absence, probe_tx_cb done, void *arg,
			       int tag)
{
	struct probe_tx *t;

	if (len < STUN_HDR_LEN || len > sizeof(t->req))
		return NULL;
	if (!(t = tx_new(L, s, dst, absence, done, arg, tag)))
		return NULL;
	memcpy(t->req, req, len);
	t->reqlen = len;
	memcpy(t->txid, req + 8, STUN_TXID_LEN);
	tx_send(L, t, clock_ms());
	return t;
}

struct probe_tx *probe_tx_raw(struct probe_loop *L, struct probe_sock *s,
			      const struct sockaddr_in *dst, const uint8_t *req, size_t len,
			      bool absence, probe_tx_cb done, void *arg, int tag)
{
	return tx_raw(L, s, (const struct sockaddr *)dst, req, len, absence, done, arg, tag);
}

static struct probe_tx *tx_binding(struct probe_loop *L, struct probe_sock *s, const struct sockaddr *dst,
				   uint32_t change, bool absence, probe_tx_cb done, void *arg, int tag)
{
	uint8_t buf[128], txid[STUN_TXID_LEN];
	int n = probe_binding_build(buf, sizeof(buf), change, txid);

	if (n < 0)
		return NULL;
	return tx_raw(L, s, dst, buf, (size_t)n, absence, done, arg, tag);
}

struct probe_tx *probe_tx_binding(struct probe_loop *L, struct probe_sock *s,
				  const struct sockaddr_in *dst, uint32_t change, bool absence,
				  probe_tx_cb done, void *arg, int tag)
{
	return tx_binding(L, s, (const struct sockaddr *)dst, change, absence, done, arg, tag);
}

struct probe_tx *probe_tx_binding6(struct probe_loop *L, struct probe_sock *s,
				   const struct sockaddr_in6 *dst, uint32_t change, bool absence,
				   probe_tx_cb done, void *arg, int tag)
{
	return tx_binding(L, s, (const struct sockaddr *)dst, change, absence, done, arg, tag);
}

int probe_binding_build(uint8_t *buf, size_t cap, uint32_t change, uint8_t txid[STUN_TXID_LEN])
{
	struct stun_builder b;

	probe_txid(txid);
	stun_build_init(&b, buf, cap, stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	if (change)
		stun_build_change(&b, change);
	stun_build_fingerprint(&b);
	return stun_build_finish(&b);
}

int probe_timer_add(struct probe_loop *L, uint64_t at_ms, bool weak, probe_timer_cb fn, void *arg)
{
	if (L->ntimers >= PROBE_LOOP_MAX_TIMERS)
		return -ENOSPC;
	L->timers[L->ntimers].at = at_ms;
	L->timers[L->ntimers].fn = fn;
	L->timers[L->ntimers].arg = arg;
	L->timers[L->ntimers].weak = weak;
	L->ntimers++;
	return 0;
}

static void tx_finish(struct probe_loop *L, struct probe_tx *t, enum probe_tx_status st)
{
	if (t->status != PROBE_TX_PENDING)
		return;
	t->status = st;
	if (st == PROBE_TX_OK && !t->s->v6)
		L->heard = true;
	/* (the IPv6 path's losses are not the IPv4 tests' doubt) */
	if (t->s->kind == PROBE_SK_UDP && t->sends && !t->s->v6) {
		if (st == PROBE_TX_OK || st == PROBE_TX_ERROR) {
			L->rt_sent += t->sends;
			L->rt_lost += t->sends - 1;
		} else if (!t->absence) {
			L->rt_sent += t->sends;
			L->rt_lost += t->sends;
		}
	}
	if (t->done) {
		probe_tx_cb cb = t->done;

		t->done = NULL;
		cb(L, t);
	}
}

/* A message arrived on s (from, for UDP): give it to its transaction. */
static void deliver(struct probe_loop *L, struct probe_sock *s, const uint8_t *buf, size_t len,
		    const union addr_sa *from)
{
	struct stun_msg m;
	const struct stun_attr *a;
	struct probe_tx *t = NULL;
	struct stun_error e;
	unsigned i;
	uint64_t now = clock_ms();

	if (stun_parse(buf, len, &m) < 0)
		return;		/* not for us: ignored, as the RFC says */
	for (i = 0; i < L->ntx; i++)
		if (L->tx[i]->s == s && L->tx[i]->status == PROBE_TX_PENDING &&
		    memcmp(L->tx[i]->txid, m.txid, STUN_TXID_LEN) == 0 && !m.classic) {
			t = L->tx[i];
			break;
		}
	if (!t || m.cls == STUN_INDICATION) {
		if (s->on_msg)
			s->on_msg(L, s, &m);
		return;
	}
	if (from)
		t->from = *from;
	t->rtt_ms = (unsigned)(now - t->first_ms);
	/* Karn: only unambiguous samples; and not an answer the server held
	 * back on purpose, which would stretch every absence window after it */
	if (t->sends == 1 && t->rtt_ms > L->rtt_max_ms && m.cls != STUN_REQUEST && !t->server_waits)
		L->rtt_max_ms = t->rtt_ms;
	t->resplen = len < sizeof(t->resp) ? len : sizeof(t->resp);
	memcpy(t->resp, buf, t->resplen);
	if (m.cls == STUN_REQUEST) {
		t->was_request = true;		/* our own request came back: hairpin */
		tx_finish(L, t, PROBE_TX_OK);
		return;
	}
	if (m.cls == STUN_ERROR) {
		a = stun_msg_find(&m, STUN_ATTR_ERROR_CODE);
		t->err_code = a && stun_attr_get_error(a, &e) == 0 ? e.code : 500;
		tx_finish(L, t, PROBE_TX_ERROR);
		return;
	}
	probe_answer_addrs(&m, &t->has_mapped, &t->mapped, &t->has_other, &t->other,
			   &t->has_origin, &t->origin);
	tx_finish(L, t, PROBE_TX_OK);
}

void probe_answer_addrs(const struct stun_msg *m, bool *has_mapped, struct stun_addr *mapped,
			bool *has_other, struct stun_addr *other, bool *has_origin,
			struct stun_addr *origin)
{
	const struct stun_attr *a;

	if ((a = stun_msg_find(m, STUN_ATTR_XOR_MAPPED_ADDRESS)) &&
	    stun_attr_get_xor_addr(a, m, mapped) == 0)
		*has_mapped = true;
	else if ((a = stun_msg_find(m, STUN_ATTR_MAPPED_ADDRESS)) && stun_attr_get_addr(a, mapped) == 0)
		*has_mapped = true;
	if ((a = stun_msg_find(m, STUN_ATTR_OTHER_ADDRESS)) && stun_attr_get_addr(a, other) == 0)
		*has_other = true;
	else if ((a = stun_msg_find(m, STUN_ATTR_CHANGED_ADDRESS)) && stun_attr_get_addr(a, other) == 0)
		*has_other = true;
	if ((a = stun_msg_find(m, STUN_ATTR_RESPONSE_ORIGIN)) && stun_attr_get_addr(a, origin) == 0)
		*has_origin = true;
}

static void sock_fail(struct probe_loop *L, struct probe_sock *s)
{
	unsigned i;

	s->dead = true;
	s->connecting = false;
	for (i = 0; i < L->ntx; i++)
		if (L->tx[i]->s == s && L->tx[i]->status == PROBE_TX_PENDING)
			tx_finish(L, L->tx[i], PROBE_TX_ERROR);
}

/* The ICMP errors queued on a UDP socket: a destination unreachable for a
 * packet to the server is remembered (L->unreach_udp). */
static void udp_errqueue(struct probe_loop *L, struct probe_sock *s)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in))];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_in dst;
	struct msghdr mh;
	struct cmsghdr *cm;
	const struct sock_extended_err *ee;
	int k;

	for (k = 0; k < 32; k++) {
		memset(&mh, 0, sizeof(mh));
		memset(&dst, 0, sizeof(dst));
		mh.msg_name = &dst;
		mh.msg_namelen = sizeof(dst);
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if (recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_RECVERR)
				continue;
			ee = (const struct sock_extended_err *)CMSG_DATA(cm);
			if (ee->ee_origin != SO_EE_ORIGIN_ICMP || ee->ee_type != 3 /* unreachable */ ||
			    dst.sin_addr.s_addr != L->srv.sin_addr.s_addr)
				continue;
			if (unreach_host((int)ee->ee_errno) ||
			    (ee->ee_errno == ECONNREFUSED && dst.sin_port == L->srv.sin_port))
				L->unreach_udp = (int)ee->ee_errno;
		}
	}
}

static void on_udp(struct probe_loop *L, struct probe_sock *s, short rev)
{
	uint8_t buf[2048];
	union addr_sa from;
	socklen_t fl;
	ssize_t n;
	int k;

	if (rev & POLLERR)
		udp_errqueue(L, s);
	for (k = 0; k < 32; k++) {
		fl = sizeof(from);
		n = recvfrom(s->fd, buf, sizeof(buf), 0, &from.sa, &fl);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0)
			continue;	/* a queued ICMP error (IP_RECVERR), once */
		deliver(L, s, buf, (size_t)n, &from);
	}
}

static void on_tcp(struct probe_loop *L, struct probe_sock *s, short rev)
{
	uint64_t now = clock_ms();
	ssize_t n;
	unsigned i;
	int err = 0, fl;
	socklen_t el = sizeof(err);

	if (s->connecting) {
		if (!(rev & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			if (!s->ttl_limited && !s->v6 && s->dst.in.sin_addr.s_addr == L->srv.sin_addr.s_addr &&
			    s->dst.in.sin_port == L->srv.sin_port &&
			    (err == ECONNREFUSED || unreach_host(err)))
				L->unreach_tcp = err;
			sock_fail(L, s);
			return;
		}
		s->connecting = false;
		for (i = 0; i < L->ntx; i++)
			if (L->tx[i]->s == s && L->tx[i]->status == PROBE_TX_PENDING && !L->tx[i]->sent)
				tx_send(L, L->tx[i], now);
		return;
	}
	if (!(rev & (POLLIN | POLLERR | POLLHUP)))
		return;
	n = recv(s->fd, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		sock_fail(L, s);
		return;
	}
	s->rlen += (size_t)n;
	while ((fl = stun_frame_len(s->rbuf, s->rlen)) > 0 && (size_t)fl <= s->rlen) {
		deliver(L, s, s->rbuf, (size_t)fl, NULL);
		memmove(s->rbuf, s->rbuf + fl, s->rlen - (size_t)fl);
		s->rlen -= (size_t)fl;
	}
	if (fl < 0 || (fl > 0 && (size_t)fl > sizeof(s->rbuf)))
		sock_fail(L, s);	/* not STUN framing: nothing more to learn here */
}

#define PROGRESS_AFTER_MS	1000	/* a run shorter than this shows nothing */
#define PROGRESS_EVERY_MS	250

/* The progress line, rewritten in place on stderr (a terminal). */
static void progress(struct probe_loop *L, uint64_t now)
{
	char line[160];
	unsigned i, waiting = L->holds;

	if (!L->progress || now < L->start_ms + PROGRESS_AFTER_MS || now < L->progress_next)
		return;
	for (i = 0; i < L->ntx; i++)
		waiting += L->tx[i]->status == PROBE_TX_PENDING;
	for (i = 0; i < L->ntimers; i++)
		waiting += !L->timers[i].weak;
	if (probe_progress_line(line, sizeof(line), now - L->start_ms, L->deadline_ms - L->start_ms,
				waiting) > 0)
		fprintf(stderr, "\r\033[K%s", line);
	L->progress_shown = true;
	L->progress_next = now + PROGRESS_EVERY_MS;
}

static bool busy(const struct probe_loop *L)
{
	unsigned i;

	if (L->holds)
		return true;
	for (i = 0; i < L->ntimers; i++)
		if (!L->timers[i].weak)
			return true;
	for (i = 0; i < L->ntx; i++)
		if (L->tx[i]->status == PROBE_TX_PENDING)
			return true;
	return false;
}

void probe_loop_run(struct probe_loop *L)
{
	struct pollfd pfd[PROBE_LOOP_MAX_SOCKS];
	struct probe_sock *ps[PROBE_LOOP_MAX_SOCKS];
	uint64_t now, next;
	unsigned i, n;
	int wait;

	for (;;) {
		now = clock_ms();
		/* timers due */
		for (i = 0; i < L->ntimers;) {
			if (L->timers[i].at <= now || now >= L->deadline_ms) {
				struct probe_timer tm = L->timers[i];

				L->timers[i] = L->timers[--L->ntimers];
				tm.fn(L, tm.arg);
				i = 0;
				continue;
			}
			i++;
		}
		/* retransmissions and give-ups */
		for (i = 0; i < L->ntx; i++) {
			struct probe_tx *t = L->tx[i];

			if (t->status != PROBE_TX_PENDING)
				continue;
			if (t->absence && t->sends && now >= t->window_ms + probe_loop_absence_ms(L) &&
			    !t->second && L->rt_lost && now + probe_loop_absence_ms(L) <= L->deadline_ms) {
				/* the path loses packets: one more window, steady pace */
				t->second = true;
				t->window_ms = now;
				t->rto_ms = PROBE_RTO_MS;
				t->next_ms = now;
			}
			if (now >= L->deadline_ms ||
			    (t->absence && t->sends && now >= t->window_ms + probe_loop_absence_ms(L))) {
				tx_finish(L, t, PROBE_TX_NOANSWER);
				continue;
			}
			if (t->s->kind == PROBE_SK_UDP && now >= t->next_ms)
				tx_send(L, t, now);
		}
		if (!busy(L) || now >= L->deadline_ms)
			break;
		progress(L, now);
		if (srv_unreachable(L)) {
			L->gave_up = true;
			break;
		}
		next = L->deadline_ms;
		for (i = 0; i < L->ntimers; i++)
			if (L->timers[i].at < next)
				next = L->timers[i].at;
		for (i = 0; i < L->ntx; i++) {
			struct probe_tx *t = L->tx[i];

			if (t->status != PROBE_TX_PENDING)
				continue;
			if (t->s->kind == PROBE_SK_UDP && t->next_ms < next)
				next = t->next_ms;
			if (t->absence && t->sends && t->window_ms + probe_loop_absence_ms(L) < next)
				next = t->window_ms + probe_loop_absence_ms(L);
		}
		if (L->progress) {
			uint64_t p = L->progress_next > L->start_ms + PROGRESS_AFTER_MS ?
				     L->progress_next : L->start_ms + PROGRESS_AFTER_MS;

			if (p < next)
				next = p;
		}
		n = 0;
		for (i = 0; i < L->nsocks; i++) {
			struct probe_sock *s = L->socks[i];

			if (s->dead || s->fd < 0)
				continue;
			pfd[n].fd = s->fd;
			pfd[n].events = s->kind == PROBE_SK_OTHER ? s->events :
					s->connecting ? POLLOUT : POLLIN;
			pfd[n].revents = 0;
			ps[n++] = s;
		}
		wait = next > now ? (int)(next - now) : 0;
		if (poll(pfd, n, wait) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			switch (ps[i]->kind) {
			case PROBE_SK_UDP: on_udp(L, ps[i], pfd[i].revents); break;
			case PROBE_SK_TCP: on_tcp(L, ps[i], pfd[i].revents); break;
			case PROBE_SK_OTHER: ps[i]->on_ready(L, ps[i], pfd[i].revents); break;
			}
		}
	}
	if (L->progress_shown)
		fputs("\r\033[K", stderr);	/* the report follows on a clean line */
	if (L->verbose)
		fprintf(stderr, "stunt-probe: loop ends after %llu ms, %u hold(s), %u timer(s)\n",
			(unsigned long long)(clock_ms() - L->start_ms), L->holds, L->ntimers);
	/* whatever is still pending has had its chance */
	for (i = 0; i < L->ntx; i++) {
		if (L->verbose && L->tx[i]->status == PROBE_TX_PENDING)
			fprintf(stderr, "stunt-probe: no answer to transaction %d (%s, %u sends)\n", L->tx[i]->tag,
				L->tx[i]->s->kind == PROBE_SK_UDP ? "udp" : "tcp", L->tx[i]->sends);
	}
	for (i = 0; i < L->ntx; i++)
		if (L->tx[i]->status == PROBE_TX_PENDING)
			tx_finish(L, L->tx[i], PROBE_TX_NOANSWER);
	while (L->ntimers) {
		struct probe_timer tm = L->timers[--L->ntimers];

		tm.fn(L, tm.arg);
	}
}
