// SPDX-License-Identifier: MIT
/*
 * stuntd's session with stunt-server (docs/protocol.md section 5): one TCP
 * connection, REGISTER + AUTHENTICATE with the HMAC credential, signalling
 * requests for the sessions, and the server's indications handed to
 * daemon/session.c. When the server in use sees us at another public
 * address, discovery runs again.
 *
 * Several servers (up to D_MAX_SERVERS, in order of preference): which one
 * to try next is daemon/srvpick.c's choice, each server with its own
 * backoff (1 s doubling to 60 s). Two connections at most: the one in use
 * (g_d->cur) and an attempt. With none in use the most preferred server
 * whose time has come is tried, and after D_SIG_PARALLEL_MS without an
 * answer the next one too, so a silent server does not hold up failover.
 * With one in use, a more preferred server is tried in the background; we
 * move to it only once it has accepted our registration, and only then is
 * the old connection closed. A server in use is lost when it closes the
 * connection, or when it stays silent: after D_KEEPALIVE_MS without a word
 * it is sent a Binding, which it must answer within D_KEEPALIVE_WAIT_MS.
 * Sessions still negotiating through a server that goes fail with the
 * reason (d_session_server_gone); the new server is the probe target, so
 * discovery runs again against it.
 *
 * With TLS (daemon/tls.c) the connection is made the same way, then the handshake
 * runs in the event loop and the server is authenticated (CA and name or IP,
 * and/or key pin) before REGISTER goes out; a server that fails is logged
 * with the reason, counted and tried again after its backoff. The
 * framing below works on the bytes TLS carries as on plain TCP.
 *
 * Every message after AUTHENTICATE, both ways, is sealed with the session
 * keys (proto/sig_sec.h): send_request() seals what goes out, handle()
 * opens what comes in before anything looks at it, so every method --
 * today's and those added later -- is covered. The server's AUTHENTICATE
 * success must verify with the keys, which proves the server knows our
 * secret; without that the connection is dropped.
 */
#include "daemon/stuntd.h"

#include "common/clock.h"
#include "common/log.h"
#include "daemon/tls.h"
#include "proto/stun_attr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *srv_state_name[] = {
	[SRV_DOWN] = "down", [SRV_CONNECTING] = "connecting", [SRV_REGISTERING] = "registering",
	[SRV_AUTHENTICATING] = "authenticating", [SRV_UP] = "registered",
	[SRV_HANDSHAKE] = "TLS handshake",
};

static void conn_close(struct d_sigconn *c, const char *why, bool failed);

int d_sig_tls_init(char *err, size_t errlen)
{
	struct stuntd *d = g_d;

	if (!d->cfg.tls)
		return 0;
	d->tls_ctx = d_tls_ctx_new(d->cfg.tls_ca, err, errlen);
	return d->tls_ctx ? 0 : -EINVAL;
}

void d_sig_tls_fini(void)
{
	d_tls_ctx_free(g_d->tls_ctx);
	g_d->tls_ctx = NULL;
}

static struct d_sigconn *in_use(void)
{
	return g_d->cur >= 0 ? &g_d->sc[g_d->cur] : NULL;
}

static const struct d_server *srv_of(const struct d_sigconn *c)
{
	return &g_d->cfg.servers[c->idx];
}

/* "server 2 (NAME = IP:PORT)": which one, for the logs; with a single
 * server "server", the log lines as they were before the list */
static const char *srv_label(size_t idx, char *buf, size_t len)
{
	const struct d_server *v = &g_d->cfg.servers[idx];
	char a[INET6_ADDRSTRLEN + 8];

	if (g_d->cfg.nservers < 2)
		snprintf(buf, len, "server");
	else
		snprintf(buf, len, "server %zu (%s = %s)", idx + 1, v->given,
			 d_ep_str(&v->sig.sa, a, sizeof(a)));
	return buf;
}

static void set_events(struct d_sigconn *c)
{
	d_loop_mod(&c->ev, EPOLLIN | (c->wlen || c->tls_want_write ? EPOLLOUT : 0));
}

/* recv()/send() or their TLS versions: bytes, 0 closed, -errno */
static ssize_t sig_recv(struct d_sigconn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->tls)
		return d_tls_read(c->tls, buf, len, &c->tls_want_write);
	n = recv(c->ev.fd, buf, len, 0);
	return n < 0 ? -errno : n;
}

static ssize_t sig_send(struct d_sigconn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->tls)
		return d_tls_write(c->tls, buf, len, &c->tls_want_write);
	n = send(c->ev.fd, buf, len, MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

bool d_sig_up(void)
{
	return in_use() != NULL;
}

const struct d_server *d_sig_server(void)
{
	struct d_sigconn *c = in_use();

	return &g_d->cfg.servers[c ? c->idx : 0];
}

uint64_t d_sig_server_to_local(uint64_t server_ms)
{
	return (uint64_t)((int64_t)server_ms - g_d->server_offset_ms);
}

/*
 * Close c. failed: the server failed us (an attempt, or the one in use
 * lost), so it is put off for its backoff and the reason kept for status;
 * not failed: we leave it (moving to a preferred server, a SIGHUP that
 * dropped it, stopping). Losing the one in use fails the sessions still
 * negotiating through it.
 */
static void conn_close(struct d_sigconn *c, const char *why, bool failed)
{
	struct stuntd *d = g_d;
	uint64_t now = clock_ms(), wait = 0;
	bool was_in_use = in_use() == c;
	char l[D_NAME_MAX + 64], r[256];
	size_t n;

	if (c->tls) {
		d_tls_free(c->tls);
		c->tls = NULL;
	}
	c->tls_want_write = false;
	if (c->ev.fd >= 0) {
		d_loop_del(&c->ev);
		close(c->ev.fd);
		c->ev.fd = -1;
	}
	if (c->state != SRV_DOWN && c->idx < d->cfg.nservers) {
		if (failed) {
			wait = d_srvpick_failed(&d->pick, c->idx, now);
			snprintf(d->srv[c->idx].why, sizeof(d->srv[c->idx].why), "%s", why);
			d->srv[c->idx].since_ms = now;
		}
		srv_label(c->idx, l, sizeof(l));
		if (failed)
			log_warnx("%s %s: %s; again in %llu ms", l, srv_state_name[c->state], why,
				  (unsigned long long)wait);
		else
			log_info("%s %s: closed: %s", l, srv_state_name[c->state], why);
	}
	c->state = SRV_DOWN;
	sig_sec_stop(&c->sec);
	memset(&c->sig_keys, 0, sizeof(c->sig_keys));
	c->rlen = c->wlen = 0;
	c->ping_ms = 0;
	memset(c->pend, 0, sizeof(c->pend));
	if (was_in_use) {
		d->cur = -1;
		if (failed) {
			snprintf(r, sizeof(r), "lost server %zu (%s): %s", c->idx + 1,
				 d->cfg.servers[c->idx].given, why);
			n = d_session_server_gone(r);
			if (n)
				log_warnx("%zu session(s) in negotiation failed: %s", n, r);
		}
	}
}

void d_sig_close(const char *why)
{
	size_t i;

	for (i = 0; i < 2; i++)
		conn_close(&g_d->sc[i], why, false);
}

static void flush_out(struct d_sigconn *c)
{
	ssize_t n;

	if (c->state == SRV_CONNECTING || c->state == SRV_HANDSHAKE)
		return;		/* sent once the connection is ready */
	while (c->wlen > 0) {
		n = sig_send(c, c->wbuf, c->wlen);
		if (n < 0) {
			if (n == -EAGAIN || n == -EINTR)
				break;
			conn_close(c, strerror((int)-n), true);
			return;
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
	}
	set_events(c);
}

static int queue_msg(struct d_sigconn *c, const uint8_t *buf, size_t len)
{
	if (c->ev.fd < 0)
		return -ENOTCONN;
	if (len > sizeof(c->wbuf) - c->wlen)
		return -ENOBUFS;
	memcpy(c->wbuf + c->wlen, buf, len);
	c->wlen += len;
	flush_out(c);
	return 0;
}

static int remember(struct d_sigconn *c, const uint8_t *txid, uint16_t method,
		    uint32_t session_id)
{
	struct d_pending *p;
	size_t i;

	for (i = 0; i < D_MAX_PENDING; i++) {
		p = &c->pend[i];
		if (!p->used) {
			p->used = true;
			memcpy(p->txid, txid, STUN_TXID_LEN);
			p->method = method;
			p->session_id = session_id;
			p->sent_ms = clock_ms();
			return 0;
		}
	}
	return -ENOSPC;
}

/* Build and send a request on c: method, an optional body writer. */
static int send_request(struct d_sigconn *c, uint16_t method, uint32_t session_id,
			int (*put)(struct stun_builder *b, const void *arg), const void *arg)
{
	uint8_t buf[2048], txid[STUN_TXID_LEN];
	struct stun_builder b;
	int n;

	if (RAND_bytes(txid, sizeof(txid)) != 1)
		return -EIO;
	stun_build_init(&b, buf, sizeof(buf), stun_type(method, STUN_REQUEST), txid);
	if (put && (n = put(&b, arg)) < 0)
		return n;
	n = stun_build_finish(&b);
	if (n >= 0 && c->sec.on)
		n = sig_sec_seal(&c->sec, buf, (size_t)n, sizeof(buf));
	if (n < 0)
		return n;
	if (method != STUN_METHOD_BINDING && remember(c, txid, method, session_id) < 0)
		return -ENOSPC;
	return queue_msg(c, buf, (size_t)n);
}

int d_sig_request(uint16_t method, uint32_t session_id,
		  int (*put)(struct stun_builder *b, const void *arg), const void *arg)
{
	struct d_sigconn *c = in_use();

	if (c == NULL)
		return -ENOTCONN;
	return send_request(c, method, session_id, put, arg);
}

static int put_register(struct stun_builder *b, const void *arg)
{
	struct sig_register r;

	(void)arg;
	memset(&r, 0, sizeof(r));
	snprintf(r.peer_id, sizeof(r.peer_id), "%s", g_d->cfg.id);
	return sig_put_register(b, &r);
}

static int put_auth(struct stun_builder *b, const void *arg)
{
	return sig_put_auth(b, arg);
}

/*
 * Server idx's name and TURN's resolved again before each connection (a
 * name whose address changed is followed). getaddrinfo blocks the loop
 * while it waits for DNS: names in /etc/hosts or a local resolver keep that
 * short. 0, or -1 after a failure (logged, the server put off).
 */
static int resolve_again(size_t idx, uint64_t now)
{
	struct stuntd *d = g_d;
	struct d_server *v = &d->cfg.servers[idx];
	union addr_sa old = v->addr;
	char err[D_NAME_MAX + 128], a[INET6_ADDRSTRLEN + 8];
	uint64_t wait;

	if (!v->host[0] && !d->cfg.turn_host[0])
		return 0;
	if (d_config_resolve_server(&d->cfg, idx, err, sizeof(err)) < 0 ||
	    d_config_resolve(&d->cfg, D_RESOLVE_TURN, err, sizeof(err)) < 0) {
		wait = d_srvpick_failed(&d->pick, idx, now);
		snprintf(d->srv[idx].why, sizeof(d->srv[idx].why), "%s", err);
		d->srv[idx].since_ms = now;
		log_warnx("%s; again in %llu ms", err, (unsigned long long)wait);
		return -1;
	}
	if (v->host[0] && !addr_sa_same_ip(&old, &v->addr))
		log_info("server %s is %s", v->host, d_ep_str(&v->sig.sa, a, sizeof(a)));
	return 0;
}

static void start_connect(struct d_sigconn *c, size_t idx, uint64_t now)
{
	struct stuntd *d = g_d;
	int fd, one = 1;

	if (resolve_again(idx, now) < 0)
		return;

	fd = socket(d->cfg.servers[idx].sig.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		log_warn("server socket");
		(void)d_srvpick_failed(&d->pick, idx, now);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* signalling is a thin stream: a lost request or answer is sent again
	 * within a second, not after doubling waits (syn-pacing, the daemon's
	 * clock; a keepalive is answered within D_KEEPALIVE_WAIT_MS or the
	 * connection is dropped) */
	if (d->cfg.syn_pacing)
		d_tcp_short_rto(fd);
	c->ev.fd = fd;
	c->idx = idx;
	c->state = SRV_CONNECTING;
	c->started_ms = c->last_rx_ms = now;
	c->ping_ms = 0;
	if (connect(fd, &d->cfg.servers[idx].sig.sa, addr_sa_len(&d->cfg.servers[idx].sig)) < 0 &&
	    errno != EINPROGRESS) {
		d_loop_add(&c->ev, EPOLLIN);
		conn_close(c, strerror(errno), true);
		return;
	}
	d_loop_add(&c->ev, EPOLLOUT | EPOLLIN);
}

static void on_connected(struct d_sigconn *c);

/* The server failed authentication: never accepted, counted, tried again
 * after the backoff like any failed connection. */
static void refuse_server(struct d_sigconn *c, const char *why)
{
	struct stuntd *d = g_d;
	char a[INET6_ADDRSTRLEN + 8];

	d->tls_refused++;
	log_warnx("TLS: server %s refused (%lu so far): %s", d_ep_str(&srv_of(c)->sig.sa, a, sizeof(a)),
		  d->tls_refused, why);
	conn_close(c, why, true);
}

static void handshake(struct d_sigconn *c)
{
	struct stuntd *d = g_d;
	char why[256], desc[128], l[D_NAME_MAX + 64];
	int r;

	r = d_tls_handshake(c->tls, d->cfg.have_pin ? d->cfg.tls_pin : NULL, &c->tls_want_write,
			    why, sizeof(why));
	if (r == -EACCES) {
		refuse_server(c, why);
		return;
	}
	if (r < 0) {
		conn_close(c, why, true);
		return;
	}
	if (r == 0) {
		set_events(c);
		return;
	}
	d_tls_describe(c->tls, desc, sizeof(desc));
	log_info("TLS with the %s: %s, authenticated by %s", srv_label(c->idx, l, sizeof(l)), desc,
		 d->cfg.tls_ca[0] && d->cfg.have_pin ? "CA and pin" :
		 d->cfg.tls_ca[0] ? "CA" : "pin");
	on_connected(c);
}

static void start_tls(struct d_sigconn *c)
{
	c->tls = d_tls_new(g_d->tls_ctx, c->ev.fd, srv_of(c)->tls_name, &srv_of(c)->sig);
	if (c->tls == NULL) {
		conn_close(c, "cannot start TLS", true);
		return;
	}
	c->state = SRV_HANDSHAKE;
	handshake(c);
}

static void on_connected(struct d_sigconn *c)
{
	c->state = SRV_REGISTERING;
	if (send_request(c, SIG_METHOD_REGISTER, 0, put_register, NULL) < 0)
		conn_close(c, "cannot send REGISTER", true);
}

static void on_register_ok(struct d_sigconn *c, const struct stun_msg *m)
{
	struct stuntd *d = g_d;
	struct sig_register_resp rr;
	struct sig_auth a;

	if (sig_get_register_resp(m, &rr) < 0) {
		conn_close(c, "bad REGISTER answer", true);
		return;
	}
	memset(&a, 0, sizeof(a));
	snprintf(a.peer_id, sizeof(a.peer_id), "%s", d->cfg.id);
	memcpy(a.nonce, rr.nonce, rr.nonce_len);
	a.nonce_len = rr.nonce_len;
	if (sig_credential((const uint8_t *)d->secret, d->secret_len, d->cfg.id, rr.nonce,
			   rr.nonce_len, a.credential) < 0 ||
	    sig_session_keys((const uint8_t *)d->secret, d->secret_len, d->cfg.id, rr.nonce,
			     rr.nonce_len, &c->sig_keys) < 0) {
		conn_close(c, "cannot compute the credential", true);
		return;
	}
	c->state = SRV_AUTHENTICATING;
	if (send_request(c, SIG_METHOD_AUTHENTICATE, 0, put_auth, &a) < 0)
		conn_close(c, "cannot send AUTHENTICATE", true);
}

/*
 * c is registered: it becomes the connection in use, unless the one in use
 * is more preferred (a race of two attempts: c is not needed). The one it
 * replaces is closed only now, so we are never without a server for a
 * move back. The server's view of us and its clock are this server's.
 */
static void adopt(struct d_sigconn *c, uint64_t now)
{
	struct stuntd *d = g_d;
	struct d_sigconn *old = in_use(), *other = &d->sc[c == &d->sc[0]];
	char l[D_NAME_MAX + 64], why[D_NAME_MAX + 96];
	size_t n;

	if (old && old->idx < c->idx) {
		conn_close(c, "a more preferred server is in use", false);
		return;
	}
	d->cur = (int)(c - d->sc);
	d->srv[c->idx].why[0] = '\0';
	d->srv[c->idx].since_ms = now;
	d_srvpick_ok(&d->pick, c->idx);
	if (old) {
		/* the sessions negotiating through the old one cannot go on */
		snprintf(why, sizeof(why), "moved from server %zu (%s) to the more preferred "
			 "server %zu (%s)", old->idx + 1, srv_of(old)->given, c->idx + 1,
			 srv_of(c)->given);
		log_info("%s: it accepted our registration again", why);
		d->srv_changes++;
		n = d_session_server_gone(why);
		if (n)
			log_warnx("%zu session(s) in negotiation failed: %s", n, why);
		d->cur = -1;	/* closing it must not count as losing the one in use */
		conn_close(old, "a more preferred server is back", false);
		d->cur = (int)(c - d->sc);
	} else if (d->registered_once) {
		d->srv_changes++;
		log_info("now with %s", srv_label(c->idx, l, sizeof(l)));
	}
	d->registered_once = true;
	/* an attempt at a less preferred server than the one now in use: not needed */
	if (other != c && other->state != SRV_DOWN && other->idx > c->idx)
		conn_close(other, "a more preferred server is in use", false);
}

static void on_auth_ok(struct d_sigconn *c, const struct stun_msg *m)
{
	struct stuntd *d = g_d;
	struct sig_auth_resp ar;
	bool v6 = srv_of(c)->sig.sa.sa_family == AF_INET6, moved;
	char a[INET6_ADDRSTRLEN + 8], seen[STUN_ADDR_STRLEN], which[D_NAME_MAX + 64] = "";
	uint64_t now = clock_ms();
	uint32_t ip = 0;

	/* the address it sees is of the family we connected over */
	if (sig_get_auth_resp(m, &ar) < 0 ||
	    ar.mapped.family != (v6 ? STUN_FAMILY_IPV6 : STUN_FAMILY_IPV4)) {
		conn_close(c, "bad AUTHENTICATE answer", true);
		return;
	}
	/* half the registration's round trip is our best guess of the delay */
	c->offset_ms = (int64_t)ar.server_time_ms - (int64_t)now +
		       (int64_t)(now - c->started_ms) / 4;
	c->mapped = ar.mapped;
	c->state = SRV_UP;
	if (!v6)
		memcpy(&ip, ar.mapped.ip, 4);
	if (d->cfg.nservers > 1)
		snprintf(which, sizeof(which), " (server %zu of %zu: %s)", c->idx + 1,
			 d->cfg.nservers, srv_of(c)->given);
	log_info("registered with %s%s as %s, seen as %s%s",
		 d_ep_str(&srv_of(c)->sig.sa, a, sizeof(a)), c->tls ? " over TLS" : "", d->cfg.id,
		 stun_addr_str(&ar.mapped, seen, sizeof(seen)), which);
	adopt(c, now);
	if (in_use() != c)
		return;
	moved = d->have_mapped && (d->mapped.family != ar.mapped.family ||
				   memcmp(d->mapped.ip, ar.mapped.ip, v6 ? 16 : 4));
	d->server_offset_ms = c->offset_ms;
	d->mapped = c->mapped;
	d->have_mapped = true;
	/* discovery probes the server in use: another server than the one it
	 * last probed (a failover, a move back, the first registration with
	 * other than the first server), or another public address, measures
	 * again */
	if (d->probe_srv != c->idx) {
		log_info("server changed: discovery again against server %zu", c->idx + 1);
		(void)d_discovery_run();
	} else if (moved) {
		log_info("public address changed: discovery again");
		(void)d_discovery_run();
	}
	/* our public IPv4 address: none when we signal over IPv6 (the IPv4
	 * methods are then left out, daemon/negotiate.c) */
	d->public_ip = ip;
	d_session_server_up();
}

/* m's ERROR-CODE, 0 without one */
static unsigned error_code(const struct stun_msg *m)
{
	const struct stun_attr *ea = stun_msg_find(m, STUN_ATTR_ERROR_CODE);
	struct stun_error e = { 0 };

	if (ea)
		(void)stun_attr_get_error(ea, &e);
	return e.code;
}

static void auth_failed(struct d_sigconn *c, const struct stun_msg *m, const char *what)
{
	unsigned code = error_code(m);
	char why[160];

	snprintf(why, sizeof(why), "%s refused (%u%s)", what, code,
		 code == 403 ? ": id not in the server's secrets" :
		 code == 401 ? ": wrong secret" : "");
	conn_close(c, why, true);
}

/* Verify m when the connection is sealed (or becomes so with this very
 * message, AUTHENTICATE's success). true: go on. */
static bool open_msg(struct d_sigconn *c, const struct stun_msg *m)
{
	struct stuntd *d = g_d;
	enum sig_sec_verdict v;
	unsigned long n;

	if (!c->sec.on && c->state == SRV_AUTHENTICATING &&
	    m->method == SIG_METHOD_AUTHENTICATE && m->cls == STUN_SUCCESS)
		sig_sec_start(&c->sec, &c->sig_keys, false);
	if (!c->sec.on)	/* before: only REGISTER's answers, AUTHENTICATE's error */
		return m->method == SIG_METHOD_REGISTER || m->method == SIG_METHOD_AUTHENTICATE;
	v = sig_sec_open(&c->sec, m);
	if (v == SIG_SEC_OK)
		return true;
	n = ++d->sec_refused[v];
	if (n <= 5 || n % 100 == 0)
		log_warnx("%s: message 0x%03x refused: %s (%lu so far)",
			  srv_label(c->idx, (char[D_NAME_MAX + 64]){ 0 }, D_NAME_MAX + 64), m->method,
			  sig_sec_verdict_name(v), n);
	if (c->state == SRV_AUTHENTICATING)
		conn_close(c, "the server did not prove it knows our secret", true);
	return false;
}

static void handle(struct d_sigconn *c, const struct stun_msg *m)
{
	struct d_pending *p = NULL;
	size_t i;

	if (!open_msg(c, m))
		return;
	/* a word from the server (sealed, after AUTHENTICATE): it is alive */
	c->last_rx_ms = clock_ms();
	c->ping_ms = 0;

	if (m->cls == STUN_INDICATION) {
		if (in_use() == c)
			d_session_on_indication(m);
		return;
	}
	if (m->cls == STUN_REQUEST)
		return;		/* the server asks us nothing */
	if (c->state == SRV_UP && m->cls == STUN_ERROR && error_code(m) == 401) {
		/* sealed with our keys, so the server's: it no longer takes this
		 * connection as registered (another connection of our id -- one
		 * we gave up on, whose AUTHENTICATE came late -- took the
		 * registration over, or the numbers fell out of step). Every
		 * request, keepalive included, would be refused until we
		 * register again (seen under 30 % loss: 27 LOOKUPs in a row
		 * refused with 401 while the keepalives looked answered). */
		conn_close(c, "the server refused a request with 401: registering again", true);
		return;
	}
	if (m->method == STUN_METHOD_BINDING)
		return;		/* keepalive answer */
	for (i = 0; i < D_MAX_PENDING; i++)
		if (c->pend[i].used && !memcmp(c->pend[i].txid, m->txid, STUN_TXID_LEN))
			p = &c->pend[i];
	if (p == NULL) {
		log_debug("server: answer to nothing we asked, dropped");
		return;
	}
	p->used = false;
	if (m->method == SIG_METHOD_REGISTER) {
		if (m->cls == STUN_SUCCESS)
			on_register_ok(c, m);
		else
			auth_failed(c, m, "REGISTER");
	} else if (m->method == SIG_METHOD_AUTHENTICATE) {
		if (m->cls == STUN_SUCCESS)
			on_auth_ok(c, m);
		else
			auth_failed(c, m, "AUTHENTICATE");
	} else if (in_use() == c) {
		d_session_on_answer(m->method, p->session_id, m);
	}
}

static int on_frames(struct d_sigconn *c);

static void on_readable(struct d_sigconn *c)
{
	ssize_t n;

	/* TLS may hold decrypted bytes the socket no longer signals: read it dry */
	do {
		n = sig_recv(c, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
		if (n == 0) {
			conn_close(c, "server closed the connection", true);
			return;
		}
		if (n < 0) {
			if (n != -EAGAIN && n != -EINTR)
				conn_close(c, strerror((int)-n), true);
			else if (c->tls)
				set_events(c);
			return;
		}
		c->rlen += (size_t)n;
		if (on_frames(c) < 0)
			return;
	} while (c->tls);
}

/* Handle the whole frames in rbuf. 0, or -1 when the connection closed. */
static int on_frames(struct d_sigconn *c)
{
	struct stun_msg m;
	int fl;

	while (c->rlen >= 4) {
		fl = stun_frame_len(c->rbuf, c->rlen);
		if (fl < 0 || (size_t)fl > sizeof(c->rbuf)) {
			conn_close(c, "server sent something that is not STUN", true);
			return -1;
		}
		if (fl == 0 || (size_t)fl > c->rlen)
			break;
		if (stun_parse(c->rbuf, (size_t)fl, &m) == 0)
			handle(c, &m);
		else
			log_debug("server: malformed message dropped");
		if (c->ev.fd < 0)
			return -1;	/* closed while handling */
		memmove(c->rbuf, c->rbuf + fl, c->rlen - (size_t)fl);
		c->rlen -= (size_t)fl;
	}
	return 0;
}

static void on_event(struct d_ev *ev, uint32_t events)
{
	struct d_sigconn *c = ev->arg;
	int err = 0;
	socklen_t el = sizeof(err);

	if (c->state == SRV_CONNECTING) {
		if (getsockopt(c->ev.fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			conn_close(c, strerror(err), true);
			return;
		}
		if (events & (EPOLLOUT | EPOLLIN)) {
			if (g_d->tls_ctx) {
				start_tls(c);
				return;
			}
			on_connected(c);
			if (c->ev.fd < 0)
				return;
		} else if (g_d->tls_ctx) {
			conn_close(c, "connection failed", true);
			return;
		}
	}
	if (c->state == SRV_HANDSHAKE) {
		handshake(c);
		return;
	}
	if (events & EPOLLOUT)
		flush_out(c);
	/* with TLS a read may have waited for writability too */
	if (c->ev.fd >= 0 && ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->tls))
		on_readable(c);
}

/*
 * A lossy path, not a silent server: this connection has had to resend,
 * and the server's host acknowledged our bytes within the last
 * D_KEEPALIVE_WAIT_MS (at 30 % loss each way a keepalive and its answer
 * missed 2.5 s about once a minute, and dropping the connection failed the
 * sessions negotiating through it). Such a keepalive gets until
 * D_KEEPALIVE_LOSSY_MS. A server gone or cut off acknowledges nothing; a
 * stopped one on a clean path was never resent to: both are dropped as
 * before.
 */
static bool server_acks(const struct d_sigconn *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (c->ev.fd < 0 || getsockopt(c->ev.fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return false;
	return ti.tcpi_total_retrans > 0 && ti.tcpi_last_ack_recv < D_KEEPALIVE_WAIT_MS;
}

/* c's timers: registration answered in time, keepalive, stale requests */
static void conn_tick(struct d_sigconn *c, uint64_t now)
{
	size_t i;

	if (c->state == SRV_DOWN)
		return;
	if (c->state != SRV_UP) {
		if (now - c->started_ms > D_SIG_REPLY_MS)
			conn_close(c, "no answer", true);
		return;
	}
	if (c->ping_ms && now - c->ping_ms > D_KEEPALIVE_WAIT_MS) {
		/* this loop may have been held up (predict's blocking Bindings,
		 * a discovery, a busy machine) while the answer waited in the
		 * socket: read what is there before calling the server silent
		 * (seen in a full test run: a live server dropped as silent) */
		if (c->ev.fd >= 0)
			on_readable(c);
		if (c->state == SRV_DOWN)
			return;		/* the read found it closed */
		if (c->ping_ms && now - c->ping_ms > D_KEEPALIVE_WAIT_MS &&
		    !(now - c->ping_ms <= D_KEEPALIVE_LOSSY_MS && server_acks(c))) {
			conn_close(c, "silent: keepalive not answered", true);
			return;
		}
	}
	if (!c->ping_ms && now - c->last_rx_ms >= D_KEEPALIVE_MS) {
		c->ping_ms = now;
		if (send_request(c, STUN_METHOD_BINDING, 0, NULL, NULL) < 0) {
			conn_close(c, "cannot send keepalive", true);
			return;
		}
	}
	for (i = 0; i < D_MAX_PENDING; i++)
		if (c->pend[i].used && now - c->pend[i].sent_ms > D_SIG_REPLY_MS)
			c->pend[i].used = false;
}

/*
 * A free connection tries a server when there is one to try: with one in
 * use, a more preferred one (moving back); with none, the most preferred
 * whose time has come, and a second one in parallel once the first attempt
 * has gone unanswered for D_SIG_PARALLEL_MS.
 */
static void pick_next(uint64_t now)
{
	struct stuntd *d = g_d;
	struct d_sigconn *use = in_use(), *c = NULL, *busy = NULL;
	size_t i;
	int idx;

	for (i = 0; i < 2; i++) {
		if (d->sc[i].state == SRV_DOWN)
			c = c ? c : &d->sc[i];
		else if (&d->sc[i] != use)
			busy = &d->sc[i];
	}
	if (c == NULL || (use && busy))
		return;
	if (!use && busy && now - busy->started_ms < D_SIG_PARALLEL_MS)
		return;
	idx = d_srvpick_next(&d->pick, now, use ? use->idx : d->cfg.nservers,
			     busy ? (int)busy->idx : -1);
	if (idx < 0)
		return;
	if (use) {
		char l[D_NAME_MAX + 64];

		log_debug("trying the more preferred %s", srv_label((size_t)idx, l, sizeof(l)));
	}
	start_connect(c, (size_t)idx, now);
}

void d_sig_tick(uint64_t now)
{
	struct stuntd *d = g_d;
	size_t i;

	if (d->sc[0].ev.cb == NULL) {
		for (i = 0; i < 2; i++) {
			d->sc[i].ev.cb = on_event;
			d->sc[i].ev.arg = &d->sc[i];
			d->sc[i].ev.fd = -1;
		}
		d->cur = -1;
		d_srvpick_init(&d->pick, d->cfg.nservers);
	}
	for (i = 0; i < 2; i++)
		conn_tick(&d->sc[i], now);
	pick_next(now);
}

void d_sig_status_json(FILE *f, uint64_t now)
{
	struct stuntd *d = g_d;
	const struct d_sigconn *use = in_use(), *c;
	char a[INET6_ADDRSTRLEN + 8];
	size_t i, k;

	fprintf(f, ",\"server_index\":");
	if (use)
		fprintf(f, "%zu", use->idx + 1);
	else
		fputs("null", f);
	fputs(",\"servers\":[", f);
	for (i = 0; i < d->cfg.nservers; i++) {
		const struct d_server *v = &d->cfg.servers[i];
		const char *state = "standby";

		c = NULL;
		for (k = 0; k < 2; k++)
			if (d->sc[k].state != SRV_DOWN && d->sc[k].idx == i)
				c = &d->sc[k];
		if (c && c == use)
			state = "in use";
		else if (c)
			state = srv_state_name[c->state];
		else if (d->pick.s[i].fails)
			state = "down";
		fprintf(f, "%s{\"index\":%zu,\"name\":", i ? "," : "", i + 1);
		d_json_str(f, v->given);
		fprintf(f, ",\"address\":\"%s\",\"state\":\"%s\",\"failures\":%lu",
			d_ep_str(&v->sig.sa, a, sizeof(a)), state, d->pick.s[i].fails);
		fputs(",\"error\":", f);
		d_json_str(f, d->srv[i].why[0] ? d->srv[i].why : NULL);
		fputs(",\"retry_ms\":", f);
		if (!c && d->pick.s[i].next_try_ms > now)
			fprintf(f, "%llu", (unsigned long long)(d->pick.s[i].next_try_ms - now));
		else
			fputs("null", f);
		fputs(",\"since_ms\":", f);
		if (d->srv[i].since_ms)
			fprintf(f, "%llu", (unsigned long long)(now - d->srv[i].since_ms));
		else
			fputs("null", f);
		fputc('}', f);
	}
	fprintf(f, "],\"server_changes\":%lu", d->srv_changes);
}

/*
 * SIGHUP: the names are resolved afresh (main.c) and adopted; a changed
 * list is adopted whole: the connections to servers still on it follow
 * them to their new place, those to servers no longer on it are closed
 * (the one in use too: the sessions negotiating through it fail), and every
 * server may be tried at once.
 */
void d_sig_reload(const struct d_config *n)
{
	struct stuntd *d = g_d;
	struct d_config *o = &d->cfg;
	struct d_srv_info info[D_MAX_SERVERS];
	size_t i, k;
	int map[2] = { -1, -1 };
	bool same = o->nservers == n->nservers;

	for (i = 0; same && i < n->nservers; i++)
		same = !strcmp(o->servers[i].given, n->servers[i].given);
	if (same) {
		/* the same list: the fresh addresses (a name resolved again) are
		 * used from the next connection on */
		memcpy(o->servers, n->servers, sizeof(o->servers));
		return;
	}
	log_info("SIGHUP: server list changed: %zu server(s), was %zu", n->nservers, o->nservers);
	memset(info, 0, sizeof(info));
	for (k = 0; k < 2; k++) {
		if (d->sc[k].state == SRV_DOWN)
			continue;
		for (i = 0; i < n->nservers; i++)
			if (!strcmp(o->servers[d->sc[k].idx].given, n->servers[i].given))
				map[k] = (int)i;
		if (map[k] >= 0)
			info[map[k]] = d->srv[d->sc[k].idx];
	}
	for (k = 0; k < 2; k++) {
		if (d->sc[k].state == SRV_DOWN || map[k] >= 0)
			continue;
		if (d->cur == (int)k) {
			char why[D_NAME_MAX + 64];

			snprintf(why, sizeof(why), "server %s is no longer on the list (SIGHUP)",
				 o->servers[d->sc[k].idx].given);
			(void)d_session_server_gone(why);
		}
		conn_close(&d->sc[k], "no longer on the list (SIGHUP)", false);	/* cur: -1 */
	}
	memcpy(o->servers, n->servers, sizeof(o->servers));
	o->nservers = n->nservers;
	memcpy(d->srv, info, sizeof(d->srv));
	d_srvpick_init(&d->pick, n->nservers);
	for (k = 0; k < 2; k++)
		if (map[k] >= 0)
			d->sc[k].idx = (size_t)map[k];
	/* a connection now less preferred than the one in use: not needed */
	if (d->cur >= 0)
		for (k = 0; k < 2; k++)
			if ((int)k != d->cur && d->sc[k].state != SRV_DOWN &&
			    d->sc[k].idx > d->sc[d->cur].idx)
				conn_close(&d->sc[k], "less preferred than the one in use", false);
}
