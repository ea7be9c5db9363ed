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
 *
 * udp6 is the same over IPv6, through the stateful firewalls in front of
 * two hosts with global addresses: the socket is bound to the global IPv6
 * address simopen6 would offer (daemon/hostaddr6.c; behind NPTv6 the
 * candidate is that address as the server saw it, the port kept), and no
 * Binding is needed; the first PUNCH is hop-limited (ipv6-hop-limit), so
 * that it opens our firewall and dies before the peer's. A UDP session
 * races both families when both sides have them (Happy Eyeballs); so that
 * both sides hand on the same one, the responder is then done only on the
 * requester's FINAL (final_only), which goes on the first family whose
 * ACK reached the requester: the responder stops punching on a family once
 * an ACK proved it (it answers the requester's PUNCHes), and the requester
 * keeps punching until one of its own is ACKed.
 */
#include "daemon/trav/trav.h"

#include "common/addr.h"
#include "common/clock.h"
#include "common/log.h"
#include "daemon/hostaddr6.h"
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
#define U_LABEL6		"stunt-ud6-v1"	/* udp6: the same length, another
						   label, so that no datagram of
						   one family verifies on the other */
#define U_FINALS		3	/* FINALs sent (the responder racing both
					   families completes on one alone) */
#define U_V6_UNVERIFIED_MS	2000	/* udp6: punches to an address nothing
					   verified came from, at most this long */
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
	uint8_t		key[2 * SIG_SESSION_KEY_LEN];	/* requester's | responder's */
	bool		have_key;
	int		first_ttl;	/* TTL, or hop limit (udp6) */
	unsigned	delay_ms;	/* test knob: this side starts late */
	uint64_t	t0, next_punch;
	bool		first_sent;
	bool		seen;		/* a verified datagram came in */
	bool		v6;		/* udp6 */
	bool		racing;		/* udp and udp6 race (both sides know) */
	bool		final_only;	/* racing, the responder */
	uint8_t		own6[16];	/* udp6: the socket's address */
	union addr_sa	peer;		/* the peer as seen */
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

/* A UDP socket (not marked: nothing of it goes through the queue); udp6's
 * on our global IPv6 address, the one it offers (mapped: as the server saw
 * it). */
static int prepare(struct trav_attempt *a)
{
	union addr_sa sa;
	socklen_t sl = sizeof(sa);
	struct trav_udp *u;
	int fd, err;

	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	memset(&sa, 0, sizeof(sa));
	sa.sa.sa_family = AF_INET;
	if (a->method == SIG_M_UDP6) {
		const struct d_host6 *h = a->events->host6(a);

		if (h->n <= 0) {
			snprintf(a->why, sizeof(a->why), "udp6: no global IPv6 address%s",
				 g_d->cfg.ipv6 ? "" : " (ipv6 off)");
			free(u);
			return h->n < 0 ? h->n : -EADDRNOTAVAIL;
		}
		u->v6 = true;
		d_hostaddr6_pick(&g_d->v6pub, h->addr, (size_t)h->n, u->own6, u->mapped.ip);
		u->mapped.family = STUN_FAMILY_IPV6;
		u->have_mapped = true;
		sa.in6.sin6_family = AF_INET6;
		memcpy(&sa.in6.sin6_addr, u->own6, 16);
	}
	errno = 0;
	fd = socket(sa.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, &sa.sa, addr_sa_len(&sa)) < 0 ||
	    getsockname(fd, &sa.sa, &sl) < 0) {
		err = errno ? -errno : -EIO;
		if (fd >= 0)
			close(fd);
		free(u);
		return err;
	}
	a->priv = u;
	a->lport = addr_sa_port(&sa);
	u->mapped.port = u->v6 ? a->lport : 0;
	a->family = u->v6 ? AF_INET6 : 0;
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

/* The candidate: the socket's STUN-learned endpoint (udp6: its own).
 * The key half is the session's (SIG-SESSION-KEY), one for udp and udp6. */
static void offer(const struct trav_attempt *a, struct sig_candidate *c, struct sig_exchange *x)
{
	const struct trav_udp *u = U(a);

	(void)x;
	if (u->have_mapped) {
		c->kind = u->v6 ? SIG_CAND_HOST : SIG_CAND_SRFLX;
		c->proto = IPPROTO_UDP;
		c->addr = u->mapped;
	}
}

/* The peer's key half (none: it sent none) and the TTL of the first punch
 * packet (a test knob may change it; 0: not limited). */
static void arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl)
{
	struct trav_udp *u = U(a);
	const uint8_t *peer_key = p->key;
	bool req = a->requester;

	if (u->v6) {
		a->raddr = 0;
		if (p->ip6)
			memcpy(a->raddr6, p->ip6, 16);
		a->ttl = g_d->cfg.udp_first_ttl != 0 ?
			 (int)d_hostaddr6_hops(&g_d->cfg, &g_d->v6hops, NULL) : 0;
	} else {
		a->ttl = g_d->cfg.udp_first_ttl >= 0 ? g_d->cfg.udp_first_ttl : syn_ttl;
	}
	u->first_ttl = a->ttl;
	u->racing = p->udp_final_only;
	u->final_only = u->racing && !req;
	u->delay_ms = g_d->cfg.udp_test_delay_ms;
	u->have_key = peer_key != NULL && p->own_key != NULL;
	if (u->have_key) {
		memcpy(u->key, req ? p->own_key : peer_key, SIG_SESSION_KEY_LEN);
		memcpy(u->key + SIG_SESSION_KEY_LEN, req ? peer_key : p->own_key,
		       SIG_SESSION_KEY_LEN);
	}
}

static void mac(const struct trav_udp *u, const uint8_t hdr[12], uint8_t out[16])
{
	uint8_t msg[sizeof(U_LABEL) - 1 + 12], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	memcpy(msg, u->v6 ? U_LABEL6 : U_LABEL, sizeof(U_LABEL) - 1);
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

/* One datagram of type to the peer's endpoint as seen, with ttl (the hop
 * limit, udp6) when > 0 (restored afterwards). */
static void send_pkt(struct trav_attempt *a, uint8_t type, int ttl)
{
	const union addr_sa *to = &U(a)->peer;
	int lvl = U(a)->v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int opt = U(a)->v6 ? IPV6_UNICAST_HOPS : IP_TTL;
	uint8_t pkt[U_LEN];
	int old = 0;
	socklen_t ol = sizeof(old);

	if (trav_budget_take(a, 1) < 0)
		return;
	build(a, type, pkt);
	if (ttl > 0 && (getsockopt(a->ev.fd, lvl, opt, &old, &ol) < 0 ||
			setsockopt(a->ev.fd, lvl, opt, &ttl, sizeof(ttl)) < 0))
		ttl = 0;
	if (sendto(a->ev.fd, pkt, sizeof(pkt), 0, &to->sa, addr_sa_len(to)) < 0)
		log_debug("%s: send: %s", sig_method_name(a->method), strerror(errno));
	if (ttl > 0)
		(void)setsockopt(a->ev.fd, lvl, opt, &old, sizeof(old));
	U(a)->punches += type == U_PUNCH;
}

static void tick(struct trav_attempt *a, uint64_t now);

static int start(struct trav_attempt *a, uint64_t now)
{
	static const uint8_t any6[16];
	struct trav_udp *u = U(a);
	struct sockaddr_storage ss;
	const char *name = sig_method_name(a->method);

	if (!u->have_mapped) {
		snprintf(a->why, sizeof(a->why), "%s: no public endpoint learned", name);
		return -EINVAL;
	}
	if (!u->have_key) {
		snprintf(a->why, sizeof(a->why), "%s: the peer sent no session key", name);
		return -EPROTO;
	}
	if (a->rport == 0 || (u->v6 ? !memcmp(a->raddr6, any6, 16) : a->raddr == 0)) {
		snprintf(a->why, sizeof(a->why), "%s: the peer advertised no UDP endpoint%s", name,
			 u->v6 ? " over IPv6 we take" : "");
		return -EINVAL;
	}
	(void)trav_sockaddr(a, a->rport, &ss);
	memcpy(&u->peer, &ss, sizeof(u->peer));
	/* udp6 learnt nothing: its socket joins the loop now */
	if (u->v6 && d_loop_add(&a->ev, EPOLLIN) < 0) {
		snprintf(a->why, sizeof(a->why), "%s: %s", name, strerror(errno));
		return -errno;
	}
	u->t0 = now + u->delay_ms;
	u->next_punch = u->t0;
	tick(a, now);
	return 0;
}

static void done(struct trav_attempt *a)
{
	struct trav_udp *u = U(a);
	struct sockaddr_storage adv;
	char ep[ADDR_SA_STRLEN], want[ADDR_SA_STRLEN];
	const char *name = sig_method_name(a->method);
	int fd;

	d_loop_del(&a->ev);
	if (connect(a->ev.fd, &u->peer.sa, addr_sa_len(&u->peer)) < 0) {
		snprintf(a->why, sizeof(a->why), "%s: connect: %s", name, strerror(errno));
		trav_report_failed(a);
		return;
	}
	(void)trav_sockaddr(a, a->rport, &adv);
	if (!addr_sa_same_ip(&u->peer, (const union addr_sa *)(const void *)&adv) ||
	    addr_sa_port(&u->peer) != a->rport)
		log_info("session %u: %s: the peer answers from %s, not the advertised %s "
			 "(peer-reflexive)", a->sid, name, addr_sa_str(&u->peer, ep, sizeof(ep)),
			 addr_sa_str((const union addr_sa *)(const void *)&adv, want, sizeof(want)));
	if (u->v6)
		memcpy(a->raddr6, &u->peer.in6.sin6_addr, 16);
	else
		a->raddr = u->peer.in.sin_addr.s_addr;
	a->rport = addr_sa_port(&u->peer);
	fd = a->ev.fd;
	a->ev.fd = -1;
	log_debug("session %u: %s: %u punches sent, %u stray datagrams ignored",
		  a->sid, name, u->punches, u->strays);
	trav_connected(a, fd);
}

static void on_punch_pkt(struct trav_attempt *a, const uint8_t *buf, size_t len,
			 const union addr_sa *from)
{
	struct trav_udp *u = U(a);
	uint8_t want[16];
	uint32_t sid;
	bool peer_req = !a->requester;
	char ep[ADDR_SA_STRLEN];
	int i;

	if (!trav_udp_is_handshake(buf, len) || !u->have_key || a->state != TA_RUNNING)
		goto stray;
	sid = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
	if (sid != a->sid || (buf[6] & U_FROM_REQ) != (peer_req ? U_FROM_REQ : 0))
		goto stray;
	mac(u, buf, want);
	if (CRYPTO_memcmp(want, buf + 12, 16) != 0)
		goto stray;
	if (!u->seen || !addr_sa_same_ip(&u->peer, from) ||
	    addr_sa_port(&u->peer) != addr_sa_port(from))
		log_debug("session %u: %s: verified %s from %s", sid, sig_method_name(a->method),
			  buf[5] == U_PUNCH ? "PUNCH" : buf[5] == U_ACK ? "ACK" : "FINAL",
			  addr_sa_str(from, ep, sizeof(ep)));
	u->seen = true;
	u->peer = *from;
	switch (buf[5]) {
	case U_PUNCH:
		send_pkt(a, U_ACK, 0);
		/* quiet: the FINAL comes -- unless racing, where the requester
		 * goes on until an ACK of its own PUNCH */
		if (!(u->racing && a->requester) && u->next_punch < clock_ms() + U_AFTER_ACK_MS)
			u->next_punch = clock_ms() + U_AFTER_ACK_MS;
		return;
	case U_ACK:
		if (u->final_only) {
			/* both ways work; the requester's FINAL says which family
			 * wins: only answer its PUNCHes from now on */
			u->next_punch = UINT64_MAX;
			return;
		}
		/* racing, the responder completes on our FINAL alone: more
		 * than one, so that one lost does not leave it waiting */
		for (i = u->racing ? U_FINALS : 1; i > 0; i--)
			send_pkt(a, U_FINAL, 0);
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
	log_debug("%s: ignored a datagram of %zu bytes from %s", sig_method_name(a->method), len,
		  addr_sa_str(from, ep, sizeof(ep)));
}

static void on_udp(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	struct trav_udp *u = U(a);
	union addr_sa from;
	socklen_t fl;
	uint8_t buf[1500];
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; i < 64 && a->ev.fd >= 0; i++) {
		fl = sizeof(from);
		memset(&from, 0, sizeof(from));
		n = recvfrom(ev->fd, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &fl);
		if (n < 0)
			return;		/* EAGAIN; errors of an unconnected socket: none */
		if (fl != addr_sa_len(&from) ||
		    from.sa.sa_family != (u->v6 ? AF_INET6 : AF_INET))
			continue;
		if (u->learning) {
			if (from.in.sin_addr.s_addr == d_sig_server()->addr.in.sin_addr.s_addr &&
			    from.in.sin_port == d_sig_server()->addr.in.sin_port)
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
	if (u->v6 && !u->seen && now >= u->t0 + U_V6_UNVERIFIED_MS) {
		/* the peer's word alone names this address (the server vouches
		 * for its IPv4 one): no more punches at it than this */
		char ep[ADDR_SA_STRLEN], why[96];

		snprintf(why, sizeof(why), "nothing verified from %s within %u ms",
			 addr_sa_str(&u->peer, ep, sizeof(ep)), U_V6_UNVERIFIED_MS);
		trav_fail(a, why);
		return;
	}
	if (!u->first_sent) {
		/* the first packet: TTL-limited when first_ttl says so */
		u->first_sent = true;
		send_pkt(a, U_PUNCH, u->first_ttl);
		u->next_punch = now + (u->first_ttl > 0 ? U_GAP_MS : U_INTERVAL_MS);
		return;
	}
	send_pkt(a, U_PUNCH, 0);
	u->next_punch = now + U_INTERVAL_MS;
}

/* The authenticated punch handshake replaces the session header. */
const struct trav_ops trav_udp_ops = {
	.method = SIG_M_UDP, .flags = TRAV_F_OWN_GUARD | TRAV_F_CONFIRMED | TRAV_F_OWN_ENDPOINT,
	.role = trav_role_connect, .prepare = prepare, .gather = gather, .offer = offer,
	.arm = arm, .start = start, .tick = tick, .close = trav_free_priv,
};

/* udp6: no Binding to learn an endpoint (the socket's own address) */
const struct trav_ops trav_udp6_ops = {
	.method = SIG_M_UDP6, .flags = TRAV_F_OWN_GUARD | TRAV_F_CONFIRMED | TRAV_F_OWN_ENDPOINT,
	.role = trav_role_connect, .prepare = prepare, .offer = offer,
	.arm = arm, .start = start, .tick = tick, .close = trav_free_priv,
};
