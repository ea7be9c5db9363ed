// SPDX-License-Identifier: MIT
/*
 * UDP hole punching (thesis 3.1.3.2) for UDP sessions.
 *
 * Before its EXCHANGE each side opens one UDP socket and learns the public
 * endpoint of THAT socket with a STUN Binding to stunt-server over UDP
 * (retransmitted, bounded); it advertises it as a SIG_CAND_SRFLX / UDP
 * candidate together with 16 random bytes, its half of the session key
 * (SIG-SESSION-KEY). At the common start each side sends:
 *
 *   t0            one PUNCH with a limited TTL (the TTL stuntd's first SYNs
 *                 use): it passes our own NAT, which now maps and lets the
 *                 peer in, and dies before the peer's NAT. A plain Linux
 *                 masquerade gateway answers an early packet to a port it
 *                 has no entry for with ICMP port unreachable AND keeps a
 *                 conntrack entry for it; its host's own later packet to us
 *                 then collides with that entry and is given another public
 *                 port, which a port-restricted NAT on our side drops.
 *   t0 + GAP      PUNCHes with the normal TTL every INTERVAL until done;
 *                 GAP covers the skew between the two starts, so that our
 *                 first full packet reaches the peer's NAT after the peer's
 *                 limited one opened it.
 *
 * Datagram (32 bytes):
 *   "STNU" | version 1 | type (1 PUNCH, 2 ACK, 3 FINAL) | flags (0x01: from
 *   the requester) | 0 | session id (4) | MAC (16)
 *   MAC = HMAC-SHA256(requester key half | responder key half,
 *                     "stunt-udp-v1" | the first 12 bytes), first 16 bytes.
 * Only the two daemons (and the server that relayed the EXCHANGEs) know
 * both key halves: a datagram that does not verify is ignored. A verified
 * one is accepted from any source: a symmetric peer's packets come from a
 * port nobody advertised (peer-reflexive), and we answer where it came from.
 *
 * A PUNCH is answered with an ACK. An ACK proves both directions: the side
 * that gets one is done and sends one FINAL; a FINAL also makes a side done
 * (it answers nothing). Done: connect() the socket to the peer's endpoint
 * as seen and hand it on (a->conn). A PUNCH of the peer still in flight
 * then reaches the application: stuntd's UDP forwarder and stuntctl drop
 * datagrams of this form (trav_udp_is_handshake), see docs/control.md.
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/log.h"
#include "proto/stun_attr.h"

#include <errno.h>
#include <netinet/ip.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define U_LEN			32
#define U_MAGIC			"STNU"
#define U_PUNCH			1
#define U_ACK			2
#define U_FINAL			3
#define U_FROM_REQ		0x01
#define U_LABEL			"stunt-udp-v1"
#define U_BIND_RTO_MS		200	/* STUN retransmission: 200, 400, 800 ms */
#define U_BIND_TIMEOUT_MS	2000
#define U_GAP_MS		100	/* limited first packet -> full ones */
#define U_INTERVAL_MS		100
#define U_AFTER_ACK_MS		(2 * U_INTERVAL_MS)	/* quiet after an ACK: the FINAL comes */

struct trav_udp {
	bool		learning;
	uint8_t		txid[STUN_TXID_LEN];
	uint64_t	bind_deadline, bind_next;
	unsigned	bind_rto;
	struct stun_addr mapped;
	bool		have_mapped;
	uint8_t		own_key[SIG_SESSION_KEY_LEN];
	uint8_t		key[2 * SIG_SESSION_KEY_LEN];	/* requester's | responder's */
	bool		have_key;
	int		first_ttl;
	unsigned	delay_ms;	/* test knob: this side starts late */
	uint64_t	t0, next_punch;
	bool		first_sent;
	bool		seen;		/* a verified datagram came in */
	uint32_t	paddr;		/* the peer as seen (network order) */
	uint16_t	pport;
	unsigned	punches, strays;
};

/* a->priv */
static struct trav_udp *U(const struct trav_attempt *a)
{
	return a->priv;
}

bool trav_udp_is_handshake(const uint8_t *buf, size_t len)
{
	return len == U_LEN && !memcmp(buf, U_MAGIC, 4) && buf[4] == 1;
}

static void on_udp(struct d_ev *ev, uint32_t events);

/* A UDP socket (not marked: nothing of it goes through the queue). */
static int prepare(struct trav_attempt *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct trav_udp *u;
	int fd, err;

	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || RAND_bytes(u->own_key, sizeof(u->own_key)) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		err = errno ? -errno : -EIO;
		if (fd >= 0)
			close(fd);
		free(u);
		return err;
	}
	a->priv = u;
	a->lport = ntohs(sa.sin_port);
	a->ev = (struct d_ev){ .fd = fd, .cb = on_udp, .arg = a };
	return 0;
}

static int send_binding(struct trav_attempt *a)
{
	uint8_t buf[64];
	struct stun_builder b;
	int len;

	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST),
			U(a)->txid);
	len = stun_build_finish(&b);
	if (len < 0)
		return len;
	if (d_sig_server()->addr.sa.sa_family != AF_INET)
		return -EAFNOSUPPORT;	/* an IPv4 method: the server is IPv6 */
	if (sendto(a->ev.fd, buf, (size_t)len, 0, &d_sig_server()->addr.sa,
		   sizeof(d_sig_server()->addr.in)) != len)
		return -errno;
	return 0;
}

/* Learn the socket's public endpoint (a STUN Binding over UDP to the
 * server, retransmitted); events->ready when it is known or not. */
static int gather(struct trav_attempt *a)
{
	struct trav_udp *u = U(a);
	uint64_t now = clock_ms();
	int err;

	if (u == NULL)
		return -EINVAL;
	if (RAND_bytes(u->txid, sizeof(u->txid)) != 1)
		return -EIO;
	u->learning = true;
	u->bind_rto = U_BIND_RTO_MS;
	u->bind_next = now + u->bind_rto;
	u->bind_deadline = now + U_BIND_TIMEOUT_MS;
	if (d_loop_add(&a->ev, EPOLLIN) < 0) {
		snprintf(a->why, sizeof(a->why), "udp: %s", strerror(errno));
		return -errno;
	}
	err = send_binding(a);
	if (err < 0)
		log_debug("udp: binding request: %s (retrying)", strerror(-err));
	return 0;
}

static void learn_done(struct trav_attempt *a, int err)
{
	struct trav_udp *u = U(a);

	u->learning = false;
	a->events->ready(a, err);
}

static void on_binding(struct trav_attempt *a, const uint8_t *buf, size_t len)
{
	struct trav_udp *u = U(a);
	const struct stun_attr *at;
	struct stun_msg m;
	char ip[INET_ADDRSTRLEN];

	if (stun_parse(buf, len, &m) < 0 || m.cls != STUN_SUCCESS ||
	    m.method != STUN_METHOD_BINDING || memcmp(m.txid, u->txid, sizeof(u->txid)))
		return;
	at = stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS);
	if (at == NULL || stun_attr_get_xor_addr(at, &m, &u->mapped) < 0 ||
	    u->mapped.family != STUN_FAMILY_IPV4)
		return;
	u->have_mapped = true;
	log_info("session %u: udp: port %u is %s:%u in public", a->sid, a->lport,
		 d_ip_str(*(const uint32_t *)(const void *)u->mapped.ip, ip), u->mapped.port);
	learn_done(a, 0);
}

/* The candidate: the socket's STUN-learned endpoint, and our key half. */
static void offer(const struct trav_attempt *a, struct sig_candidate *c, struct sig_exchange *x)
{
	const struct trav_udp *u = U(a);

	if (u->have_mapped) {
		c->kind = SIG_CAND_SRFLX;
		c->proto = IPPROTO_UDP;
		c->addr = u->mapped;
	}
	x->has_key = true;
	memcpy(x->key, u->own_key, SIG_SESSION_KEY_LEN);
}

/* The peer's key half (none: it sent none) and the TTL of the first punch
 * packet (a test knob may change it; 0: not limited). */
static void arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl)
{
	struct trav_udp *u = U(a);
	const uint8_t *peer_key = p->key;
	bool req = a->requester;

	a->ttl = g_d->cfg.udp_first_ttl >= 0 ? g_d->cfg.udp_first_ttl : syn_ttl;
	u->first_ttl = a->ttl;
	u->delay_ms = g_d->cfg.udp_test_delay_ms;
	u->have_key = peer_key != NULL;
	if (peer_key) {
		memcpy(u->key, req ? u->own_key : peer_key, SIG_SESSION_KEY_LEN);
		memcpy(u->key + SIG_SESSION_KEY_LEN, req ? peer_key : u->own_key,
		       SIG_SESSION_KEY_LEN);
	}
}

static void mac(const struct trav_udp *u, const uint8_t hdr[12], uint8_t out[16])
{
	uint8_t msg[sizeof(U_LABEL) - 1 + 12], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	memcpy(msg, U_LABEL, sizeof(U_LABEL) - 1);
	memcpy(msg + sizeof(U_LABEL) - 1, hdr, 12);
	if (HMAC(EVP_sha256(), u->key, sizeof(u->key), msg, sizeof(msg), md, &mdlen) == NULL ||
	    mdlen < 16)
		memset(md, 0, 16);	/* verifies against nothing a peer sends */
	memcpy(out, md, 16);
}

static void build(const struct trav_attempt *a, uint8_t type, uint8_t pkt[U_LEN])
{
	uint32_t sid = a->sid;

	memcpy(pkt, U_MAGIC, 4);
	pkt[4] = 1;
	pkt[5] = type;
	pkt[6] = a->requester ? U_FROM_REQ : 0;
	pkt[7] = 0;
	pkt[8] = (uint8_t)(sid >> 24);
	pkt[9] = (uint8_t)(sid >> 16);
	pkt[10] = (uint8_t)(sid >> 8);
	pkt[11] = (uint8_t)sid;
	mac(U(a), pkt, pkt + 12);
	memset(pkt + 28, 0, 4);
}

/* One datagram of type to addr:port (network order addr, host port), with
 * ttl when > 0 (restored afterwards). */
static void send_pkt(struct trav_attempt *a, uint8_t type, uint32_t addr, uint16_t port, int ttl)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = addr };
	uint8_t pkt[U_LEN];
	int old = 0;
	socklen_t ol = sizeof(old);

	if (trav_budget_take(a, 1) < 0)
		return;
	build(a, type, pkt);
	if (ttl > 0 && (getsockopt(a->ev.fd, IPPROTO_IP, IP_TTL, &old, &ol) < 0 ||
			setsockopt(a->ev.fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0))
		ttl = 0;
	if (sendto(a->ev.fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		log_debug("udp: send: %s", strerror(errno));
	if (ttl > 0)
		(void)setsockopt(a->ev.fd, IPPROTO_IP, IP_TTL, &old, sizeof(old));
	U(a)->punches += type == U_PUNCH;
}

static void tick(struct trav_attempt *a, uint64_t now);

static int start(struct trav_attempt *a, uint64_t now)
{
	struct trav_udp *u = U(a);

	if (!u->have_mapped) {
		snprintf(a->why, sizeof(a->why), "udp: no public endpoint learned");
		return -EINVAL;
	}
	if (!u->have_key) {
		snprintf(a->why, sizeof(a->why), "udp: the peer sent no session key");
		return -EPROTO;
	}
	if (a->rport == 0 || a->raddr == 0) {
		snprintf(a->why, sizeof(a->why), "udp: the peer advertised no UDP endpoint");
		return -EINVAL;
	}
	u->paddr = a->raddr;
	u->pport = a->rport;
	u->t0 = now + u->delay_ms;
	u->next_punch = u->t0;
	tick(a, now);
	return 0;
}

static void done(struct trav_attempt *a)
{
	struct trav_udp *u = U(a);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(u->pport),
				  .sin_addr.s_addr = u->paddr };
	char ip[INET_ADDRSTRLEN];
	int fd;

	d_loop_del(&a->ev);
	if (connect(a->ev.fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		snprintf(a->why, sizeof(a->why), "udp: connect: %s", strerror(errno));
		trav_report_failed(a);
		return;
	}
	if (u->paddr != a->raddr || u->pport != a->rport)
		log_info("session %u: udp: the peer answers from %s:%u, not the advertised %u "
			 "(peer-reflexive)", a->sid, d_ip_str(u->paddr, ip), u->pport,
			 a->rport);
	a->raddr = u->paddr;
	a->rport = u->pport;
	fd = a->ev.fd;
	a->ev.fd = -1;
	log_debug("session %u: udp: %u punches sent, %u stray datagrams ignored",
		  a->sid, u->punches, u->strays);
	trav_connected(a, fd);
}

static void on_punch_pkt(struct trav_attempt *a, const uint8_t *buf, size_t len,
			 const struct sockaddr_in *from)
{
	struct trav_udp *u = U(a);
	uint8_t want[16];
	uint32_t sid;
	bool peer_req = !a->requester;
	char ip[INET_ADDRSTRLEN];

	if (!trav_udp_is_handshake(buf, len) || !u->have_key || a->state != TA_RUNNING)
		goto stray;
	sid = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
	if (sid != a->sid || (buf[6] & U_FROM_REQ) != (peer_req ? U_FROM_REQ : 0))
		goto stray;
	mac(u, buf, want);
	if (CRYPTO_memcmp(want, buf + 12, 16) != 0)
		goto stray;
	if (!u->seen || u->paddr != from->sin_addr.s_addr || u->pport != ntohs(from->sin_port))
		log_debug("session %u: udp: verified %s from %s:%u", sid,
			  buf[5] == U_PUNCH ? "PUNCH" : buf[5] == U_ACK ? "ACK" : "FINAL",
			  d_ip_str(from->sin_addr.s_addr, ip), ntohs(from->sin_port));
	u->seen = true;
	u->paddr = from->sin_addr.s_addr;
	u->pport = ntohs(from->sin_port);
	switch (buf[5]) {
	case U_PUNCH:
		send_pkt(a, U_ACK, u->paddr, u->pport, 0);
		if (u->next_punch < clock_ms() + U_AFTER_ACK_MS)
			u->next_punch = clock_ms() + U_AFTER_ACK_MS;
		return;
	case U_ACK:
		send_pkt(a, U_FINAL, u->paddr, u->pport, 0);
		done(a);
		return;
	case U_FINAL:
		done(a);
		return;
	default:
		break;
	}
stray:
	u->strays++;
	log_debug("udp: ignored a datagram of %zu bytes from %s:%u", len,
		  d_ip_str(from->sin_addr.s_addr, ip), ntohs(from->sin_port));
}

static void on_udp(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	struct trav_udp *u = U(a);
	struct sockaddr_in from;
	socklen_t fl;
	uint8_t buf[1500];
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; i < 64 && a->ev.fd >= 0; i++) {
		fl = sizeof(from);
		n = recvfrom(ev->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;		/* EAGAIN; errors of an unconnected socket: none */
		if (fl != sizeof(from) || from.sin_family != AF_INET)
			continue;
		if (u->learning) {
			if (from.sin_addr.s_addr == d_sig_server()->addr.in.sin_addr.s_addr &&
			    from.sin_port == d_sig_server()->addr.in.sin_port)
				on_binding(a, buf, (size_t)n);
			continue;
		}
		on_punch_pkt(a, buf, (size_t)n, &from);
	}
}

/* The STUN retransmissions while learning, the punches while running. */
static void tick(struct trav_attempt *a, uint64_t now)
{
	struct trav_udp *u = U(a);
	int err;

	if (u == NULL || a->ev.fd < 0)
		return;
	if (u->learning) {
		if (now >= u->bind_deadline) {
			snprintf(a->why, sizeof(a->why),
				 "udp: no STUN answer from the server within %u ms", U_BIND_TIMEOUT_MS);
			learn_done(a, -ETIMEDOUT);
		} else if (now >= u->bind_next) {
			u->bind_rto *= 2;
			u->bind_next = now + u->bind_rto;
			err = send_binding(a);
			if (err < 0)
				log_debug("udp: binding request: %s", strerror(-err));
		}
		return;
	}
	if (a->state != TA_RUNNING || u->t0 == 0 || now < u->next_punch)
		return;
	if (!u->first_sent) {
		/* the first packet: TTL-limited when first_ttl says so */
		u->first_sent = true;
		send_pkt(a, U_PUNCH, u->paddr, u->pport, u->first_ttl);
		u->next_punch = now + (u->first_ttl > 0 ? U_GAP_MS : U_INTERVAL_MS);
		return;
	}
	send_pkt(a, U_PUNCH, u->paddr, u->pport, 0);
	u->next_punch = now + U_INTERVAL_MS;
}

/* The authenticated punch handshake replaces the session header. */
const struct trav_ops trav_udp_ops = {
	.method = SIG_M_UDP, .flags = TRAV_F_OWN_GUARD | TRAV_F_CONFIRMED | TRAV_F_OWN_ENDPOINT,
	.role = trav_role_connect, .prepare = prepare, .gather = gather, .offer = offer,
	.arm = arm, .start = start, .tick = tick, .close = trav_free_priv,
};
