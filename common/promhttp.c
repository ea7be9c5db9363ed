// SPDX-License-Identifier: MIT
/* The metrics endpoint's connections: see common/promhttp.h. */
#include "common/promhttp.h"

#include "common/addr.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG	128	/* a burst of connections waits here, not in SYN retries */
#define ACCEPT_BURST	64	/* connections taken per wake-up */
#define HEAD_ROOM	256	/* before the body: the response head goes there */

int promhttp_parse_addr(const char *s, union addr_sa *out)
{
	if (addr_parse_any(s, 0, out) < 0 || addr_sa_port(out) == 0)
		return -EINVAL;
	return 0;
}

int promhttp_open(struct promhttp *m, const union addr_sa *a, promhttp_watch_fn watch,
		  promhttp_fill_fn fill, void *arg, char *why, size_t cap)
{
	char s[ADDR_SA_STRLEN];
	int one = 1, err, i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < PROMHTTP_CLIENTS; i++)
		m->c[i].fd = -1;
	m->watch = watch;
	m->fill = fill;
	m->arg = arg;
	addr_sa_str(a, s, sizeof(s));
	m->fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (a->sa.sa_family == AF_INET6 &&
	     setsockopt(m->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(m->fd, &a->sa, addr_sa_len(a)) < 0 ||
	    listen(m->fd, LISTEN_BACKLOG) < 0)
		err = -errno;
	else
		err = watch(arg, PROMHTTP_ADD, m->fd, -1, EPOLLIN);
	if (err < 0) {
		snprintf(why, cap, "bind metrics %s: %s", s, strerror(-err));
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		return err;
	}
	m->open = true;
	log_info("metrics on http://%s" PROMHTTP_PATH, s);
	return 0;
}

static void conn_close(struct promhttp *m, struct promhttp_conn *c)
{
	m->watch(m->arg, PROMHTTP_DEL, c->fd, (int)(c - m->c), 0);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
}

/* Written all: nothing more to say; read what the client still sends
 * until it closes (bounded), so that its unread bytes do not make the
 * close a reset that could destroy the answer before it is read. */
static void conn_drain(struct promhttp *m, struct promhttp_conn *c)
{
	char b[4096];
	ssize_t n;

	if (c->state != PROMHTTP_DRAIN) {
		c->state = PROMHTTP_DRAIN;
		shutdown(c->fd, SHUT_WR);
		if (m->watch(m->arg, PROMHTTP_MOD, c->fd, (int)(c - m->c), EPOLLIN) < 0)
			return conn_close(m, c);
	}
	for (;;) {
		n = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);
		if (n > 0 && (c->drained += (size_t)n) <= PROMHTTP_DRAIN_MAX)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		return conn_close(m, c);	/* closed, an error, or too much */
	}
}

static void conn_write(struct promhttp *m, struct promhttp_conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (c->state != PROMHTTP_WRITE &&
			    m->watch(m->arg, PROMHTTP_MOD, c->fd, (int)(c - m->c), EPOLLOUT) < 0)
				return conn_close(m, c);
			c->state = PROMHTTP_WRITE;
			return;
		}
		if (n <= 0)
			return conn_close(m, c);
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	conn_drain(m, c);
}

/* The answer: the metrics for a 200, else a one-line reason. */
static void conn_answer(struct promhttp *m, struct promhttp_conn *c, int status)
{
	char head[HEAD_ROOM];
	struct prom_buf b;
	int h;

	c->out = malloc(HEAD_ROOM + PROMHTTP_BODY_MAX);
	if (c->out == NULL)
		return conn_close(m, c);
	prom_init(&b, c->out + HEAD_ROOM, PROMHTTP_BODY_MAX);
	if (status == 200) {
		m->fill(m->arg, &b);
		if (!prom_ok(&b)) {
			log_warnx("metrics: %s", b.bad ? "a metric name refused" :
				  "more than the answer's buffer");
			status = 500;
		}
	}
	if (status != 200) {
		prom_init(&b, c->out + HEAD_ROOM, PROMHTTP_BODY_MAX);
		b.len = (size_t)snprintf(b.buf, b.cap, "%d %s\n", status, httpmini_reason(status));
	}
	m->answered[status != 200]++;
	h = httpmini_head(head, sizeof(head), status,
			  status == 200 ? PROM_CONTENT_TYPE : "text/plain; charset=utf-8", b.len);
	if (h < 0)
		return conn_close(m, c);
	memcpy(c->out + HEAD_ROOM - h, head, (size_t)h);
	c->out_off = HEAD_ROOM - (size_t)h;
	c->out_len = HEAD_ROOM + b.len;
	conn_write(m, c);
}

static void conn_read(struct promhttp *m, struct promhttp_conn *c)
{
	struct httpmini_req r;
	enum httpmini_res res;
	ssize_t n;

	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return conn_close(m, c);	/* gone before its request was whole */
	c->in_len += (size_t)n;
	res = httpmini_parse(c->in, c->in_len, &r);
	if (res == HTTPMINI_MORE)
		return;
	conn_answer(m, c, res == HTTPMINI_OK ? httpmini_status(&r, PROMHTTP_PATH) :
					       httpmini_error_status(res));
}

/* A free slot; at the limit the oldest one still reading its request is
 * closed for it (answers being written finish); none: NULL. */
static struct promhttp_conn *slot_get(struct promhttp *m)
{
	struct promhttp_conn *old = NULL;
	int i;

	for (i = 0; i < PROMHTTP_CLIENTS; i++) {
		if (m->c[i].fd < 0)
			return &m->c[i];
		if (m->c[i].state == PROMHTTP_READ && (!old || m->c[i].start_ms < old->start_ms))
			old = &m->c[i];
	}
	if (old) {
		m->evicted++;
		conn_close(m, old);
	}
	return old;
}

static void on_accept(struct promhttp *m, uint64_t now)
{
	struct promhttp_conn *c;
	int k, fd;

	for (k = 0; k < ACCEPT_BURST; k++) {
		fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if ((c = slot_get(m)) == NULL) {
			m->evicted++;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = PROMHTTP_READ;
		c->start_ms = now;
		c->in_len = c->drained = 0;
		if (m->watch(m->arg, PROMHTTP_ADD, fd, (int)(c - m->c), EPOLLIN) < 0) {
			close(fd);
			c->fd = -1;
		}
	}
}

void promhttp_event(struct promhttp *m, int slot, uint32_t events, uint64_t now)
{
	struct promhttp_conn *c;

	(void)events;
	if (!m->open)
		return;
	if (slot < 0) {
		on_accept(m, now);
		return;
	}
	if (slot >= PROMHTTP_CLIENTS || (c = &m->c[slot])->fd < 0)
		return;		/* closed earlier in this batch */
	switch (c->state) {
	case PROMHTTP_READ:
		conn_read(m, c);
		break;
	case PROMHTTP_WRITE:
		conn_write(m, c);
		break;
	case PROMHTTP_DRAIN:
		conn_drain(m, c);
		break;
	}
}

void promhttp_expire(struct promhttp *m, uint64_t now)
{
	int i;

	for (i = 0; i < PROMHTTP_CLIENTS && m->open; i++)
		if (m->c[i].fd >= 0 && now - m->c[i].start_ms >= PROMHTTP_TIMEOUT_MS) {
			if (m->c[i].state != PROMHTTP_DRAIN)
				m->evicted++;
			conn_close(m, &m->c[i]);
		}
}

void promhttp_close(struct promhttp *m)
{
	int i;

	if (!m->open)
		return;
	for (i = 0; i < PROMHTTP_CLIENTS; i++)
		if (m->c[i].fd >= 0)
			conn_close(m, &m->c[i]);
	m->watch(m->arg, PROMHTTP_DEL, m->fd, -1, 0);
	close(m->fd);
	m->fd = -1;
	m->open = false;
}

void promhttp_self(const struct promhttp *m, struct prom_buf *b, const char *prefix)
{
	static const struct prom_label ok = { "status", "ok" }, err = { "status", "error" };
	char name[128];

	snprintf(name, sizeof(name), "%s_metrics_requests_total", prefix);
	prom_family(b, name, PROM_COUNTER, "Requests to this metrics endpoint, by answer");
	prom_sample(b, name, &ok, 1, m->answered[0]);
	prom_sample(b, name, &err, 1, m->answered[1]);
	snprintf(name, sizeof(name), "%s_metrics_clients_dropped_total", prefix);
	prom_one(b, name, PROM_COUNTER,
		 "Metrics clients closed before an answer: over the limit of connections, "
		 "or too slow", m->evicted);
}
