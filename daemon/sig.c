// SPDX-License-Identifier: MIT
/*
 * stuntd's session with stunt-server (docs/protocol.md section 5): one TCP
 * connection, REGISTER + AUTHENTICATE with the HMAC credential, a Binding
 * request every D_KEEPALIVE_MS (the server drops idle clients after 30 s),
 * signalling requests for the sessions, and the server's indications handed
 * to daemon/session.c. When the connection goes, it is made again after an
 * exponential backoff (1 s doubling to 60 s). When the server sees us at
 * another public address, discovery runs again.
 *
 * With TLS (daemon/tls.c) the connection is made the same way, then the handshake
 * runs in the event loop and the server is authenticated (CA and name or IP,
 * and/or key pin) before REGISTER goes out; a server that fails is logged
 * with the reason, counted and tried again after the same backoff. The
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

static void set_events(void)
{
	struct stuntd *d = g_d;

	d_loop_mod(&d->sev, EPOLLIN | (d->wlen || d->tls_want_write ? EPOLLOUT : 0));
}

/* recv()/send() or their TLS versions: bytes, 0 closed, -errno */
static ssize_t sig_recv(void *buf, size_t len)
{
	struct stuntd *d = g_d;
	ssize_t n;

	if (d->tls)
		return d_tls_read(d->tls, buf, len, &d->tls_want_write);
	n = recv(d->sev.fd, buf, len, 0);
	return n < 0 ? -errno : n;
}

static ssize_t sig_send(const void *buf, size_t len)
{
	struct stuntd *d = g_d;
	ssize_t n;

	if (d->tls)
		return d_tls_write(d->tls, buf, len, &d->tls_want_write);
	n = send(d->sev.fd, buf, len, MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

bool d_sig_up(void)
{
	return g_d->sstate == SRV_UP;
}

uint64_t d_sig_server_to_local(uint64_t server_ms)
{
	return (uint64_t)((int64_t)server_ms - g_d->server_offset_ms);
}

void d_sig_close(const char *why)
{
	struct stuntd *d = g_d;
	uint64_t now = clock_ms();

	if (d->tls) {
		d_tls_free(d->tls);
		d->tls = NULL;
	}
	d->tls_want_write = false;
	if (d->sev.fd >= 0) {
		d_loop_del(&d->sev);
		close(d->sev.fd);
		d->sev.fd = -1;
	}
	if (d->sstate != SRV_DOWN)
		log_warnx("server %s: %s; again in %llu ms", srv_state_name[d->sstate], why,
			  (unsigned long long)d->backoff_ms);
	d->sstate = SRV_DOWN;
	sig_sec_stop(&d->sec);
	memset(&d->sig_keys, 0, sizeof(d->sig_keys));
	d->rlen = d->wlen = 0;
	memset(d->pend, 0, sizeof(d->pend));
	d->next_try_ms = now + d->backoff_ms;
	d->backoff_ms *= 2;
	if (d->backoff_ms > D_BACKOFF_MAX_MS)
		d->backoff_ms = D_BACKOFF_MAX_MS;
}

static void flush_out(void)
{
	struct stuntd *d = g_d;
	ssize_t n;

	if (d->sstate == SRV_CONNECTING || d->sstate == SRV_HANDSHAKE)
		return;		/* sent once the connection is ready */
	while (d->wlen > 0) {
		n = sig_send(d->wbuf, d->wlen);
		if (n < 0) {
			if (n == -EAGAIN || n == -EINTR)
				break;
			d_sig_close(strerror((int)-n));
			return;
		}
		memmove(d->wbuf, d->wbuf + n, d->wlen - (size_t)n);
		d->wlen -= (size_t)n;
	}
	set_events();
}

static int queue_msg(const uint8_t *buf, size_t len)
{
	struct stuntd *d = g_d;

	if (d->sev.fd < 0)
		return -ENOTCONN;
	if (len > sizeof(d->wbuf) - d->wlen)
		return -ENOBUFS;
	memcpy(d->wbuf + d->wlen, buf, len);
	d->wlen += len;
	d->last_tx_ms = clock_ms();
	flush_out();
	return 0;
}

static int remember(const uint8_t *txid, uint16_t method, uint32_t session_id)
{
	struct d_pending *p;
	size_t i;

	for (i = 0; i < D_MAX_PENDING; i++) {
		p = &g_d->pend[i];
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

/* Build and send a request: method, an optional body writer. */
static int send_request(uint16_t method, uint32_t session_id,
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
	if (n >= 0 && g_d->sec.on)
		n = sig_sec_seal(&g_d->sec, buf, (size_t)n, sizeof(buf));
	if (n < 0)
		return n;
	if (method != STUN_METHOD_BINDING && remember(txid, method, session_id) < 0)
		return -ENOSPC;
	return queue_msg(buf, (size_t)n);
}

int d_sig_request(uint16_t method, uint32_t session_id,
		  int (*put)(struct stun_builder *b, const void *arg), const void *arg)
{
	if (g_d->sstate != SRV_UP)
		return -ENOTCONN;
	return send_request(method, session_id, put, arg);
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
 * Server and TURN names resolved again before each connection (a name whose
 * address changed is followed). getaddrinfo blocks the loop while it waits
 * for DNS: names in /etc/hosts or a local resolver keep that short. 0, or
 * -1 after a failure (logged, the next try after the backoff).
 */
static int resolve_again(uint64_t now)
{
	struct stuntd *d = g_d;
	struct in_addr old = d->cfg.server.sin_addr;
	char err[D_NAME_MAX + 128], a[INET_ADDRSTRLEN];

	if (!d->cfg.server_host[0] && !d->cfg.turn_host[0])
		return 0;
	if (d_config_resolve(&d->cfg, D_RESOLVE_SERVER | D_RESOLVE_TURN, err, sizeof(err)) < 0) {
		log_warnx("%s; again in %llu ms", err, (unsigned long long)d->backoff_ms);
		d->next_try_ms = now + d->backoff_ms;
		d->backoff_ms *= 2;
		if (d->backoff_ms > D_BACKOFF_MAX_MS)
			d->backoff_ms = D_BACKOFF_MAX_MS;
		return -1;
	}
	if (d->cfg.server_host[0] && old.s_addr != d->cfg.server.sin_addr.s_addr)
		log_info("server %s is %s", d->cfg.server_host,
			 d_ip_str(d->cfg.server.sin_addr.s_addr, a));
	return 0;
}

static void start_connect(uint64_t now)
{
	struct stuntd *d = g_d;
	int fd, one = 1;

	if (resolve_again(now) < 0)
		return;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("server socket");
		d->next_try_ms = now + d->backoff_ms;
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* signalling is a thin stream: a lost request or answer is sent again
	 * at the base RTO (about 200 ms) up to 6 times, not after doubling
	 * waits (syn-pacing, the daemon's clock) */
	if (d->cfg.syn_pacing)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, &one, sizeof(one));
	d->sev.fd = fd;
	d->sstate = SRV_CONNECTING;
	d->conn_started_ms = now;
	if (connect(fd, (struct sockaddr *)&d->cfg.sig_server, sizeof(d->cfg.sig_server)) < 0 &&
	    errno != EINPROGRESS) {
		d_loop_add(&d->sev, EPOLLIN);
		d_sig_close(strerror(errno));
		return;
	}
	d_loop_add(&d->sev, EPOLLOUT | EPOLLIN);
}

static void on_connected(void);

/* The server failed authentication: never accepted, counted, tried again
 * after the backoff like any failed connection. */
static void refuse_server(const char *why)
{
	struct stuntd *d = g_d;
	char a[INET_ADDRSTRLEN];

	d->tls_refused++;
	log_warnx("TLS: server %s:%u refused (%lu so far): %s",
		  d_ip_str(d->cfg.sig_server.sin_addr.s_addr, a), ntohs(d->cfg.sig_server.sin_port),
		  d->tls_refused, why);
	d_sig_close(why);
}

static void handshake(void)
{
	struct stuntd *d = g_d;
	char why[256], desc[128];
	int r;

	r = d_tls_handshake(d->tls, d->cfg.have_pin ? d->cfg.tls_pin : NULL, &d->tls_want_write,
			    why, sizeof(why));
	if (r == -EACCES) {
		refuse_server(why);
		return;
	}
	if (r < 0) {
		d_sig_close(why);
		return;
	}
	if (r == 0) {
		set_events();
		return;
	}
	d_tls_describe(d->tls, desc, sizeof(desc));
	log_info("TLS with the server: %s, authenticated by %s", desc,
		 d->cfg.tls_ca[0] && d->cfg.have_pin ? "CA and pin" :
		 d->cfg.tls_ca[0] ? "CA" : "pin");
	on_connected();
}

static void start_tls(void)
{
	struct stuntd *d = g_d;

	d->tls = d_tls_new(d->tls_ctx, d->sev.fd, d->cfg.server_name,
			   &d->cfg.sig_server.sin_addr);
	if (d->tls == NULL) {
		d_sig_close("cannot start TLS");
		return;
	}
	d->sstate = SRV_HANDSHAKE;
	handshake();
}

static void on_connected(void)
{
	struct stuntd *d = g_d;

	d->sstate = SRV_REGISTERING;
	if (send_request(SIG_METHOD_REGISTER, 0, put_register, NULL) < 0)
		d_sig_close("cannot send REGISTER");
}

static void on_register_ok(const struct stun_msg *m)
{
	struct stuntd *d = g_d;
	struct sig_register_resp rr;
	struct sig_auth a;

	if (sig_get_register_resp(m, &rr) < 0) {
		d_sig_close("bad REGISTER answer");
		return;
	}
	memset(&a, 0, sizeof(a));
	snprintf(a.peer_id, sizeof(a.peer_id), "%s", d->cfg.id);
	memcpy(a.nonce, rr.nonce, rr.nonce_len);
	a.nonce_len = rr.nonce_len;
	if (sig_credential((const uint8_t *)d->secret, d->secret_len, d->cfg.id, rr.nonce,
			   rr.nonce_len, a.credential) < 0 ||
	    sig_session_keys((const uint8_t *)d->secret, d->secret_len, d->cfg.id, rr.nonce,
			     rr.nonce_len, &d->sig_keys) < 0) {
		d_sig_close("cannot compute the credential");
		return;
	}
	d->sstate = SRV_AUTHENTICATING;
	if (send_request(SIG_METHOD_AUTHENTICATE, 0, put_auth, &a) < 0)
		d_sig_close("cannot send AUTHENTICATE");
}

static void on_auth_ok(const struct stun_msg *m)
{
	struct stuntd *d = g_d;
	struct sig_auth_resp ar;
	uint32_t ip;
	char a[INET_ADDRSTRLEN];
	uint64_t now = clock_ms();

	if (sig_get_auth_resp(m, &ar) < 0 || ar.mapped.family != STUN_FAMILY_IPV4) {
		d_sig_close("bad AUTHENTICATE answer");
		return;
	}
	/* half the registration's round trip is our best guess of the delay */
	d->server_offset_ms = (int64_t)ar.server_time_ms - (int64_t)now +
			      (int64_t)(now - d->conn_started_ms) / 4;
	memcpy(&ip, ar.mapped.ip, 4);
	d->mapped = ar.mapped;
	d->have_mapped = true;
	d->sstate = SRV_UP;
	d->backoff_ms = D_BACKOFF_MIN_MS;
	log_info("registered with %s:%u%s as %s, seen as %s:%u",
		 d_ip_str(d->cfg.sig_server.sin_addr.s_addr, a), ntohs(d->cfg.sig_server.sin_port),
		 d->tls ? " over TLS" : "", d->cfg.id, d_ip_str(ip, (char[INET_ADDRSTRLEN]){ 0 }),
		 ar.mapped.port);
	if (d->public_ip != 0 && d->public_ip != ip) {
		log_info("public address changed: discovery again");
		(void)d_discovery_run();
	}
	d->public_ip = ip;
}

static void auth_failed(const struct stun_msg *m, const char *what)
{
	const struct stun_attr *ea = stun_msg_find(m, STUN_ATTR_ERROR_CODE);
	struct stun_error e = { 0 };
	char why[160];

	if (ea)
		(void)stun_attr_get_error(ea, &e);
	snprintf(why, sizeof(why), "%s refused (%u%s)", what, e.code,
		 e.code == 403 ? ": id not in the server's secrets" :
		 e.code == 401 ? ": wrong secret" : "");
	d_sig_close(why);
}

/* Verify m when the connection is sealed (or becomes so with this very
 * message, AUTHENTICATE's success). true: go on. */
static bool open_msg(const struct stun_msg *m)
{
	struct stuntd *d = g_d;
	enum sig_sec_verdict v;
	unsigned long n;

	if (!d->sec.on && d->sstate == SRV_AUTHENTICATING &&
	    m->method == SIG_METHOD_AUTHENTICATE && m->cls == STUN_SUCCESS)
		sig_sec_start(&d->sec, &d->sig_keys, false);
	if (!d->sec.on)	/* before: only REGISTER's answers, AUTHENTICATE's error */
		return m->method == SIG_METHOD_REGISTER || m->method == SIG_METHOD_AUTHENTICATE;
	v = sig_sec_open(&d->sec, m);
	if (v == SIG_SEC_OK)
		return true;
	n = ++d->sec_refused[v];
	if (n <= 5 || n % 100 == 0)
		log_warnx("server: message 0x%03x refused: %s (%lu so far)", m->method,
			  sig_sec_verdict_name(v), n);
	if (d->sstate == SRV_AUTHENTICATING)
		d_sig_close("the server did not prove it knows our secret");
	return false;
}

static void handle(const struct stun_msg *m)
{
	struct stuntd *d = g_d;
	struct d_pending *p = NULL;
	size_t i;

	if (!open_msg(m))
		return;

	if (m->cls == STUN_INDICATION) {
		d_session_on_indication(m);
		return;
	}
	if (m->cls == STUN_REQUEST)
		return;		/* the server asks us nothing */
	if (m->method == STUN_METHOD_BINDING)
		return;		/* keepalive answer */
	for (i = 0; i < D_MAX_PENDING; i++)
		if (d->pend[i].used && !memcmp(d->pend[i].txid, m->txid, STUN_TXID_LEN))
			p = &d->pend[i];
	if (p == NULL) {
		log_debug("server: answer to nothing we asked, dropped");
		return;
	}
	p->used = false;
	if (m->method == SIG_METHOD_REGISTER) {
		if (m->cls == STUN_SUCCESS)
			on_register_ok(m);
		else
			auth_failed(m, "REGISTER");
	} else if (m->method == SIG_METHOD_AUTHENTICATE) {
		if (m->cls == STUN_SUCCESS)
			on_auth_ok(m);
		else
			auth_failed(m, "AUTHENTICATE");
	} else {
		d_session_on_answer(m->method, p->session_id, m);
	}
}

static int on_frames(void);

static void on_readable(void)
{
	struct stuntd *d = g_d;
	ssize_t n;

	/* TLS may hold decrypted bytes the socket no longer signals: read it dry */
	do {
		n = sig_recv(d->rbuf + d->rlen, sizeof(d->rbuf) - d->rlen);
		if (n == 0) {
			d_sig_close("server closed the connection");
			return;
		}
		if (n < 0) {
			if (n != -EAGAIN && n != -EINTR)
				d_sig_close(strerror((int)-n));
			else if (d->tls)
				set_events();
			return;
		}
		d->rlen += (size_t)n;
		if (on_frames() < 0)
			return;
	} while (d->tls);
}

/* Handle the whole frames in rbuf. 0, or -1 when the connection closed. */
static int on_frames(void)
{
	struct stuntd *d = g_d;
	struct stun_msg m;
	int fl;

	while (d->rlen >= 4) {
		fl = stun_frame_len(d->rbuf, d->rlen);
		if (fl < 0 || (size_t)fl > sizeof(d->rbuf)) {
			d_sig_close("server sent something that is not STUN");
			return -1;
		}
		if (fl == 0 || (size_t)fl > d->rlen)
			break;
		if (stun_parse(d->rbuf, (size_t)fl, &m) == 0)
			handle(&m);
		else
			log_debug("server: malformed message dropped");
		if (d->sev.fd < 0)
			return -1;	/* closed while handling */
		memmove(d->rbuf, d->rbuf + fl, d->rlen - (size_t)fl);
		d->rlen -= (size_t)fl;
	}
	return 0;
}

static void on_event(struct d_ev *ev, uint32_t events)
{
	struct stuntd *d = g_d;
	int err = 0;
	socklen_t el = sizeof(err);

	(void)ev;
	if (d->sstate == SRV_CONNECTING) {
		if (getsockopt(d->sev.fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			d_sig_close(strerror(err));
			return;
		}
		if (events & (EPOLLOUT | EPOLLIN)) {
			if (d->tls_ctx) {
				start_tls();
				return;
			}
			on_connected();
			if (d->sev.fd < 0)
				return;
		} else if (d->tls_ctx) {
			d_sig_close("connection failed");
			return;
		}
	}
	if (d->sstate == SRV_HANDSHAKE) {
		handshake();
		return;
	}
	if (events & EPOLLOUT)
		flush_out();
	/* with TLS a read may have waited for writability too */
	if (d->sev.fd >= 0 && ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || d->tls))
		on_readable();
}

void d_sig_tick(uint64_t now)
{
	struct stuntd *d = g_d;
	size_t i;

	if (d->sev.cb == NULL) {
		d->sev.cb = on_event;
		d->sev.fd = -1;
		d->backoff_ms = D_BACKOFF_MIN_MS;
	}
	if (d->sstate == SRV_DOWN) {
		if (now >= d->next_try_ms)
			start_connect(now);
		return;
	}
	if (d->sstate != SRV_UP) {
		if (now - d->conn_started_ms > D_SIG_REPLY_MS)
			d_sig_close("no answer");
		return;
	}
	if (now - d->last_tx_ms >= D_KEEPALIVE_MS && send_request(STUN_METHOD_BINDING, 0, NULL, NULL) < 0)
		d_sig_close("cannot send keepalive");
	for (i = 0; i < D_MAX_PENDING; i++)
		if (d->pend[i].used && now - d->pend[i].sent_ms > D_SIG_REPLY_MS)
			d->pend[i].used = false;
}
