// SPDX-License-Identifier: MIT
/*
 * Negotiating a session through stunt-server:
 *
 *   requester R                    server                     responder P
 *   LOOKUP P ----------------------->| 404: "not registered"
 *   EXCHANGE [sid, SERVICE, METHODS = forced or none, --------> P checks the
 *     CANDIDATE per method, NAT-INFO]                         service, R's right
 *                                                             to it, runs the
 *                                                             strategy
 *   <-------- RELAY "sid err TEXT"  (refused / no method), or
 *   <-------- EXCHANGE [sid, METHODS = the race, CANDIDATE per method, NAT-INFO]
 *   SCHEDULE [sid, DELAY] ---------->| -------- indication --> both convert the
 *   <- success [START, SERVER-TIME]                           start to their clock
 *   ... at the start both run their half of the race (race.c); the methods
 *   that need no common start go early: P listens before its EXCHANGE, R
 *   connects on it; R listens before its SCHEDULE, P connects on the
 *   indication (sess_start_early) ...
 *   the winning connection is confirmed by the session header and 'K'
 *   (confirm.c); R -> RELAY "sid cancel" when it gives up, so P stops at once.
 *
 * Before its EXCHANGE each side runs the gather of every method it offers
 * (trav_gather: udp learns its socket's public endpoint, portmap maps the
 * port on the gateway, relay allocates on the TURN server, predict learns
 * the last public port -- that one last, right before the EXCHANGE); an
 * asynchronous gather holds the EXCHANGE (S_MAPPING) until its ready event.
 * The roles of portmap (who maps) and relay (who allocates) are negotiated
 * here, before the gather.
 *
 * A CANDIDATE's priority field carries the method it is for (the port of
 * that method's socket); its address is our public IP as the server sees
 * the control connection (port-preserving NATs only, see strategy.h); a
 * method may advertise another (trav_offer: a mapping, a relayed address, a
 * UDP endpoint, a predicted port with SIG-PREDICTION).
 *
 * UDP sessions (method udp) are negotiated the same way, with no TCP method
 * beside; the authenticated punch handshake replaces the session header and
 * the 'K'. A udp: service takes only UDP sessions, a tcp: service only TCP
 * ones, an exec: service both. Our SIG-NAT-INFO carries SIG_NAT_TURN when a
 * TURN server is configured.
 *
 * The relay round (SIG-ROUND): when the race of direct methods failed or
 * ran out of its share of the time (S_RACE_SHARE_PCT), or the strategy chose
 * relay and only the requester can allocate, the requester ends the first
 * round and negotiates relay alone, through the same EXCHANGE / SCHEDULE.
 */
#include "daemon/budget.h"
#include "daemon/hostaddr6.h"
#include "daemon/nfq.h"
#include "daemon/session.h"

#include "common/clock.h"
#include "common/esc.h"
#include "common/log.h"
#include "proto/stun_attr.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static const uint8_t s_race[] = { SIG_M_SIMOPEN6, SIG_M_HOST, SIG_M_DIRECT, SIG_M_PORTMAP,
				  SIG_M_REVERSAL, SIG_M_SIMOPEN, SIG_M_STUNT1, SIG_M_SYNTH,
				  SIG_M_STUNT2, SIG_M_PREDICT, SIG_M_SHOTGUN, SIG_M_RELAY };

/* ---- EXCHANGE ---- */

struct exch_arg {
	struct d_session	*s;
	bool			 with_service;
};

static int put_exchange(struct stun_builder *b, const void *arg)
{
	const struct exch_arg *ea = arg;
	const struct d_session *s = ea->s;
	struct sig_exchange x;
	uint32_t ip;
	unsigned m;
	size_t i;

	memset(&x, 0, sizeof(x));
	snprintf(x.peer_id, sizeof(x.peer_id), "%s", s->peer);
	x.session_id = s->id;
	if (ea->with_service)
		snprintf(x.service, sizeof(x.service), "%s", s->service);
	if (s->requester && !s->round && sess_is_udp(s)) {
		/* a UDP session: udp first even without its candidate (an older
		 * peer reads the first id: a UDP session, which fails cleanly
		 * there without one), then udp6 */
		x.methods[x.nmethods++] = SIG_M_UDP;
		if (s->prepared[SIG_M_UDP6])
			x.methods[x.nmethods++] = SIG_M_UDP6;
	} else if (s->requester && !s->round) {
		if (s->forced)
			x.methods[x.nmethods++] = s->forced;
	} else {
		memcpy(x.methods, s->methods, s->nmethods);
		x.nmethods = s->nmethods;
	}
	/* test-candidate-ip: lie about our address, as a hostile peer would
	 * (a lab test knob, daemon/config.h) */
	ip = g_d->cfg.test_cand_ip ? g_d->cfg.test_cand_ip : g_d->public_ip;
	for (m = 1; m <= SIG_M_MAX && x.ncand < SIG_MAX_CANDIDATES; m++)
		if (s->prepared[m] && m != SIG_M_HOST) {
			struct sig_candidate *c = &x.cand[x.ncand++];

			trav_offer(&s->att[m], ip, c, &x);
			/* the knob lies about a relayed address too */
			if (g_d->cfg.test_cand_ip && c->kind == SIG_CAND_RELAY &&
			    c->addr.family == STUN_FAMILY_IPV4)
				memcpy(c->addr.ip, &g_d->cfg.test_cand_ip, 4);
		}
	/* host: one candidate per address of ours, in the room left */
	for (i = 0; s->prepared[SIG_M_HOST] && i < s->nown_host && x.ncand < SIG_MAX_CANDIDATES;
	     i++) {
		struct sig_candidate *c = &x.cand[x.ncand++];

		trav_offer(&s->att[SIG_M_HOST], s->own_host[i].ip, c, &x);
		c->kind = SIG_CAND_HOST;
	}
	/* our key half: the connection proofs, udp's and udp6's MAC */
	if (!x.has_key) {
		x.has_key = true;
		memcpy(x.key, s->own_key, sizeof(x.key));
	}
	x.has_nat = true;
	x.nat = sess_own_nat();
	/* simopen6's order: offered by the requester, echoed by a responder
	 * that runs it (daemon/trav/simopen6.c) */
	if (s->prepared[SIG_M_SIMOPEN6] && (s->requester || s->v6_first) &&
	    !g_d->cfg.test_v6_req_first)
		x.nat.flags |= SIG_NAT_V6_FIRST;
	/* Happy Eyeballs, the same way: offered, echoed (race.c) */
	if (s->prepared[SIG_M_SIMOPEN6] && (s->requester || s->v4_later) &&
	    !g_d->cfg.test_v6_req_first)
		x.nat.flags |= SIG_NAT_V4_LATER;
	if (s->round) {
		x.has_round = true;
		x.round = s->rinfo;
	}
	return sig_put_exchange(b, &x);
}

/*
 * Is candidate c on the peer's own address? The server vouches for that
 * one (SIG-SENDER: its control connection as the server sees it); a
 * candidate's address is only the peer's word. Without this check a hostile
 * but authenticated peer could name a third party's address and make us
 * send it SYNs, connects, punches and shotgun probes. Host, server
 * reflexive, predicted and udp candidates are the peer's public address by
 * construction (our own are g_d->public_ip, the address the server sees,
 * and a udp socket's STUN-learned one); a portmap candidate is the
 * gateway's external address, which is the peer's public address too (a
 * gateway behind another NAT is refused at its side). A relay candidate's
 * address is on a TURN server, not the peer: the connecting side connects
 * to it itself (a plain connect(), daemon/trav/relay.c), so it is taken
 * only on the peer's own address or on a TURN server this stuntd knows
 * (d_config_relay_known: our turn, our stunt-server, relay-servers).
 */
static bool candidate_vouched(const struct d_session *s, const struct sig_exchange *x,
			      const struct sig_candidate *c)
{
	char named[INET_ADDRSTRLEN], seen[INET6_ADDRSTRLEN] = "?";
	uint32_t ip;

	memcpy(&ip, c->addr.ip, 4);
	if (c->kind == SIG_CAND_RELAY) {
		if ((x->has_sender && x->sender.family == STUN_FAMILY_IPV4 &&
		     !memcmp(x->sender.ip, c->addr.ip, 4)) || d_config_relay_known(&g_d->cfg, ip))
			return true;
		log_warnx("session %u: %s's relay candidate names %s, which is neither its "
			  "address nor a TURN server we know (turn, server, relay-servers): dropped",
			  s->id, s->peer, d_ip_str(ip, named));
		g_d->candidates_refused++;
		return false;
	}
	if (!x->has_sender || sig_candidate_vouched(&x->sender, c))
		return true;
	inet_ntop(x->sender.family == STUN_FAMILY_IPV6 ? AF_INET6 : AF_INET, x->sender.ip, seen,
		  sizeof(seen));
	log_warnx("session %u: %s's %s candidate names %s, not its address %s as the server "
		  "sees it: dropped", s->id, s->peer, sig_method_name(c->priority),
		  d_ip_str(ip, named), seen);
	g_d->candidates_refused++;
	return false;
}

/*
 * A host candidate (an interface address of the peer, method host) is
 * taken only when the peer is behind the same NAT as we are: the server
 * vouches (SIG-SENDER) that its public address is ours. Then it may name
 * its private addresses (RFC 1918, or RFC 6598 inside a carrier NAT) and
 * nothing else: a host candidate lets a peer aim our SYNs at addresses the
 * server cannot vouch for, and a peer on our own LAN reaches those itself
 * anyway. From a peer behind another NAT it is dropped without a word (an
 * honest peer offers its host addresses to everyone); one that names a
 * public address is logged and counted (security.candidates_refused).
 */
static void take_host_candidate(struct d_session *s, const struct sig_exchange *x,
				const struct sig_candidate *c)
{
	char named[INET_ADDRSTRLEN];
	uint32_t ip;
	size_t i;

	memcpy(&ip, c->addr.ip, 4);
	if (!d_hostaddr_private(ip)) {
		log_warnx("session %u: %s's host candidate names %s, which is not a private "
			  "address: dropped", s->id, s->peer, d_ip_str(ip, named));
		g_d->candidates_refused++;
		return;
	}
	if (!x->has_sender || x->sender.family != STUN_FAMILY_IPV4 || g_d->public_ip == 0 ||
	    memcmp(x->sender.ip, &g_d->public_ip, 4)) {
		log_debug("session %u: %s's host candidate %s: not behind our NAT, not taken",
			  s->id, s->peer, d_ip_str(ip, named));
		return;
	}
	for (i = 0; i < s->npeer_host && s->peer_host[i] != ip; i++)
		;
	if (i < s->npeer_host || s->npeer_host >= D_MAX_HOST_ADDRS)
		return;
	s->peer_host[s->npeer_host++] = ip;
	s->peer_kind[SIG_M_HOST] = SIG_CAND_HOST;
	s->peer_port[SIG_M_HOST] = c->addr.port;
	log_debug("session %u: %s is behind our NAT: host candidate %s:%u", s->id, s->peer,
		  d_ip_str(ip, named), c->addr.port);
}

/*
 * The peer's IPv6 candidate (method simopen6): its global address, as it
 * says -- a dual-stack peer signals over IPv4, and the server vouches for
 * the address of that control connection only. Taken with ipv6 on, when
 * it is global unicast (2000::/3) and none of ours (our public form behind
 * NPTv6 included); the first such one only. A peer that signals over IPv6
 * (an IPv6-only host) has its address vouched for (SIG-SENDER): its
 * candidate must be that address. Anything else is logged and counted
 * (security.candidates_refused). What stops a dual-stack peer from aiming
 * us at a third party is in simopen6.c and docs/security.md: the
 * attempt's SYNs are all that goes to the address before the peer proved
 * who it is on the connection.
 */
/* May a peer's IPv6 candidate name ip: global unicast and none of ours? */
static bool peer6_ok(struct d_session *s, const uint8_t ip[16])
{
	uint8_t own[D_MAX_HOST6_ADDRS + 1][16];
	const struct d_host6 *h = sess_host6(s);
	int n = d_hostaddr6_ours(h->addr, h->n, &g_d->v6pub, own, D_MAX_HOST6_ADDRS + 1);

	return d_hostaddr6_peer_ok(ip, own, n > 0 ? (size_t)n : 0);
}

static void take_v6_candidate(struct d_session *s, const struct sig_exchange *x,
			      const struct sig_candidate *c)
{
	char named[INET6_ADDRSTRLEN], seen[INET6_ADDRSTRLEN];

	if (!g_d->cfg.ipv6 || (s->peer_has_ip6 && memcmp(s->peer_ip6, c->addr.ip, 16)))
		return;		/* one IPv6 address per peer: the first named */
	if (!peer6_ok(s, c->addr.ip) || c->addr.port == 0) {
		inet_ntop(AF_INET6, c->addr.ip, named, sizeof(named));
		log_warnx("session %u: %s's IPv6 candidate names [%s]:%u, which is not a global "
			  "unicast address of another host: dropped", s->id, s->peer, named,
			  c->addr.port);
		g_d->candidates_refused++;
		return;
	}
	if (x->has_sender && x->sender.family == STUN_FAMILY_IPV6 &&
	    memcmp(x->sender.ip, c->addr.ip, 16)) {
		inet_ntop(AF_INET6, c->addr.ip, named, sizeof(named));
		inet_ntop(AF_INET6, x->sender.ip, seen, sizeof(seen));
		log_warnx("session %u: %s's IPv6 candidate names [%s]:%u, not its address [%s] as "
			  "the server sees it: dropped", s->id, s->peer, named, c->addr.port, seen);
		g_d->candidates_refused++;
		return;
	}
	memcpy(s->peer_ip6, c->addr.ip, 16);
	s->peer_has_ip6 = true;
	s->peer_kind[c->priority] = SIG_CAND_HOST;
	s->peer_port[c->priority] = c->addr.port;
}

/*
 * relay's IPv6 candidate (daemon/trav/relay.c). A relayed address (kind
 * relay) is taken, as an IPv4 one (candidate_vouched), only on the peer's
 * own address as the server sees it or on a TURN server we know
 * (d_config_relay_known6: turn, server, server6, relay-servers): we connect to it.
 * The peer's own address (kind host) is what we permit on our TURN server
 * for an IPv6 relayed address, taken as simopen6's is (global unicast,
 * none of ours); a permission sends nothing to it.
 */
static void take_relay6_candidate(struct d_session *s, const struct sig_exchange *x,
				  const struct sig_candidate *c)
{
	bool sender6 = x->has_sender && x->sender.family == STUN_FAMILY_IPV6;
	char named[INET6_ADDRSTRLEN];
	bool ok;

	if (c->proto != IPPROTO_TCP || c->addr.port == 0)
		return;
	if (c->kind == SIG_CAND_RELAY)
		ok = (sender6 && !memcmp(x->sender.ip, c->addr.ip, 16)) ||
		     d_config_relay_known6(&g_d->cfg, c->addr.ip);
	else if (c->kind == SIG_CAND_HOST)	/* signalling over IPv6: vouched */
		ok = sender6 ? !memcmp(x->sender.ip, c->addr.ip, 16) : peer6_ok(s, c->addr.ip);
	else
		return;
	if (!ok) {
		inet_ntop(AF_INET6, c->addr.ip, named, sizeof(named));
		log_warnx("session %u: %s's IPv6 relay candidate names %s, which is %s: dropped",
			  s->id, s->peer, named, c->kind == SIG_CAND_RELAY ?
			  "neither its address nor a TURN server we know (turn, server, server6, relay-servers)" :
			  sender6 ? "not its address as the server sees it" :
			  "not a global unicast address of another host");
		g_d->candidates_refused++;
		return;
	}
	s->peer_relay6_kind = c->kind;
	memcpy(s->peer_relay6, c->addr.ip, 16);
	if (c->kind == SIG_CAND_RELAY || !s->peer_port[SIG_M_RELAY]) {
		s->peer_kind[SIG_M_RELAY] = c->kind;
		s->peer_port[SIG_M_RELAY] = c->addr.port;
	}
}

static void take_peer_exchange(struct d_session *s, const struct sig_exchange *x)
{
	static bool warned;
	size_t i;

	if (x->has_sender && x->sender.family == STUN_FAMILY_IPV4) {
		memcpy(&s->peer_ip, x->sender.ip, 4);
	} else if (x->has_sender && x->sender.family == STUN_FAMILY_IPV6) {
		/* a peer that signals over IPv6 (no IPv4): relay permits this one */
		s->peer_relay6_kind = SIG_CAND_HOST;
		memcpy(s->peer_relay6, x->sender.ip, 16);
	} else if (!x->has_sender && !warned) {
		/* an old stunt-server: as before, the candidates are taken on trust */
		log_warnx("session %u: the server does not vouch for peer addresses (no SIG-SENDER: "
			  "an older stunt-server); %s's candidates are taken on its word", s->id,
			  s->peer);
		warned = true;
	}
	if (x->has_nat)
		s->peer_nat = x->nat;
	if (x->has_prediction && x->pred.proto == IPPROTO_TCP && x->pred.count > 0 &&
	    x->pred.delta != 0) {
		s->peer_has_pred = true;
		s->peer_pred = x->pred;
	}
	if (x->has_key) {
		s->peer_has_key = true;
		memcpy(s->peer_key, x->key, sizeof(s->peer_key));
	}
	for (i = 0; i < x->ncand; i++) {
		const struct sig_candidate *c = &x->cand[i];

		if (c->priority == SIG_M_HOST) {
			if (c->kind == SIG_CAND_HOST && c->proto == IPPROTO_TCP &&
			    c->addr.family == STUN_FAMILY_IPV4)
				take_host_candidate(s, x, c);
			continue;
		}
		if (c->priority == SIG_M_RELAY && c->addr.family == STUN_FAMILY_IPV6) {
			take_relay6_candidate(s, x, c);
			continue;
		}
		if (c->priority == SIG_M_SIMOPEN6 || c->priority == SIG_M_UDP6) {
			if (c->kind == SIG_CAND_HOST && c->addr.family == STUN_FAMILY_IPV6 &&
			    c->proto == (c->priority == SIG_M_UDP6 ? IPPROTO_UDP : IPPROTO_TCP))
				take_v6_candidate(s, x, c);
			continue;
		}
		/* TCP candidates for the TCP methods, a UDP one for udp */
		if (c->proto != (c->priority == SIG_M_UDP ? IPPROTO_UDP : IPPROTO_TCP) ||
		    c->addr.family != STUN_FAMILY_IPV4 || c->priority == 0 ||
		    c->priority > SIG_M_MAX || !candidate_vouched(s, x, c))
			continue;
		if (c->priority == SIG_M_UDP) {
			/* its own socket's STUN-learned endpoint */
			s->peer_port[SIG_M_UDP] = c->addr.port;
			memcpy(&s->peer_addr[SIG_M_UDP], c->addr.ip, 4);
			continue;
		}
		s->peer_kind[c->priority] = c->kind;
		s->peer_port[c->priority] = c->addr.port;
		if (c->kind == SIG_CAND_PORTMAP || c->kind == SIG_CAND_RELAY)
			memcpy(&s->peer_addr[c->priority], c->addr.ip, 4);	/* gateway's / relay's */
		else
			memcpy(&s->peer_ip, c->addr.ip, 4);
	}
}

static void exchange_now(struct d_session *s)
{
	struct exch_arg ea = { .s = s, .with_service = s->requester };

	if (d_sig_request(SIG_METHOD_EXCHANGE, s->id, put_exchange, &ea) < 0)
		sess_fail(s, "cannot reach the server", false);
}

/* Our EXCHANGE: the requester's names the service; the responder listens
 * (and primes, or has mapped) before it lets the requester connect, and in
 * simopen6's responder-first order (v6_first) sends that method's
 * hop-limited SYN first: the requester connects at full hop limit on our
 * EXCHANGE, which waits for the queue's report that the SYN left (as the
 * requester's SCHEDULE does in the other order, sess_held_due). */
static void send_exchange(struct d_session *s)
{
	if (s->requester) {
		s->state = S_EXCHANGE;
	} else {
		s->state = S_WAIT_SCHEDULE;
		if (!sess_start_early(s, TRAV_ACCEPT))
			return;
		if (s->v6_first && s->prepared[SIG_M_SIMOPEN6]) {
			if (!sess_start_early_one(s, SIG_M_SIMOPEN6))
				return;
			s->hold_by = clock_ms() + S_SYN_FIRST_WAIT_MS;
			sess_held_due(s, clock_ms());
			return;
		}
	}
	exchange_now(s);
}

/* ---- each method's gather, then the EXCHANGE ---- */

/* a's gather failed (a->why): the method is dropped, the session fails when
 * nothing is left. false: it failed. */
static bool gather_failed(struct d_session *s, struct trav_attempt *a)
{
	const char *name = sig_method_name(a->method);
	char why[200];
	unsigned m;

	if (!strncmp(a->why, name, strlen(name)))
		snprintf(why, sizeof(why), "%s", a->why);
	else
		snprintf(why, sizeof(why), "%s: %s", name, a->why[0] ? a->why : "cannot start");
	sess_drop_method(s, a->method);
	for (m = 1; m <= SIG_M_MAX && !s->prepared[m]; m++)
		;
	if (m > SIG_M_MAX) {
		/* the peer knows of the session unless we are a requester
		 * that has not sent its first EXCHANGE */
		sess_fail(s, why, !s->requester || s->round);
		return false;
	}
	log_info("session %u: %s; not trying it", s->id, why);
	return true;
}

/* Behind an EIM NAT that picks its own ports, every attempt's public
 * port, all at once (daemon/trav/learn.c; S_MAPPING until the last ready
 * event, s->learning of them out); then the EXCHANGE. */
static void learn_then_exchange(struct d_session *s)
{
	struct trav_attempt *a;
	unsigned m;
	int err;

	for (m = 1; m <= SIG_M_MAX; m++) {
		a = &s->att[m];
		if (!s->prepared[m])
			continue;
		err = trav_learn_start(a);
		if (err == 0)
			s->learning++;
		else if (err < 0 && !gather_failed(s, a))
			return;
	}
	if (s->learning) {
		s->state = S_MAPPING;
		return;
	}
	send_exchange(s);
}

/* Run the gathers not run yet, in method order, one at a time (an
 * asynchronous one holds the EXCHANGE in S_MAPPING until its ready event);
 * the TRAV_F_GATHER_LAST ones after every other; then the public ports to
 * learn, and the EXCHANGE. */
static void gather_then_exchange(struct d_session *s)
{
	struct trav_attempt *a;
	unsigned pass, m;
	int err;

	for (pass = 0; pass < 2; pass++)
		for (m = 1; m <= SIG_M_MAX; m++) {
			a = &s->att[m];
			if (!s->prepared[m] || s->gathered[m] ||
			    !(a->ops->flags & TRAV_F_GATHER_LAST) != !pass)
				continue;
			s->gathered[m] = true;
			a->raddr = s->peer_ip;	/* relay: the address to permit */
			if (m == SIG_M_RELAY && s->peer_relay6_kind == SIG_CAND_HOST)
				memcpy(a->raddr6, s->peer_relay6, 16);	/* or this one */
			err = trav_gather(a);
			if (err == 0) {
				s->state = S_MAPPING;
				return;		/* sess_gather_ready() goes on */
			}
			if (err < 0 && !gather_failed(s, a))
				return;
		}
	learn_then_exchange(s);
}

void sess_gather_ready(struct trav_attempt *a, int err)
{
	struct d_session *s = a->s;

	if (s->state != S_MAPPING)
		return;
	if (s->learning) {
		s->learning--;
		if (err < 0 && !gather_failed(s, a))
			return;
		if (s->learning == 0)
			send_exchange(s);
		return;
	}
	if (err < 0 && !gather_failed(s, a))
		return;
	gather_then_exchange(s);
}

/* ---- the relay round ---- */

bool sess_relay_possible(const struct d_session *s)
{
	/* an IPv6-only host allocates only through a TURN server it reaches
	 * over IPv6 (sess_can_allocate), else connects to the relayed address
	 * of the peer's (daemon/trav/relay.c) */
	return sess_can_allocate() || trav_can_relay(&s->peer_nat);
}

/* Do we allocate the relay (trav_relay_requester_allocates)? */
static bool we_allocate(const struct d_session *s)
{
	struct sig_nat_info own = sess_own_nat();

	return s->requester ? trav_relay_requester_allocates(&own, &s->peer_nat) :
			      !trav_relay_requester_allocates(&s->peer_nat, &own);
}

const char *sess_no_relay_note(const struct d_session *s)
{
	if (s->forced || s->round || sess_relay_possible(s))
		return "";
	return "; no relay to fall back to: no TURN server configured on either side "
	       "(stuntd --turn)";
}

/* "direct: failed (why); simopen: running" -- the race's attempts */
static void describe_race(const struct d_session *s, char *buf, size_t len)
{
	size_t i, k = 0;
	const struct trav_attempt *a;
	int n;

	buf[0] = '\0';
	for (i = 0; i < s->nmethods && k < len; i++) {
		a = &s->att[s->methods[i]];
		n = snprintf(buf + k, len - k, "%s%s: %s%s%.60s%s", i ? "; " : "",
			     sig_method_name(s->methods[i]), trav_state_name(a->state),
			     a->why[0] ? " (" : "", a->why, a->why[0] ? ")" : "");
		if (n < 0)
			break;
		k += (size_t)n;
	}
}

/* Prepare the relay attempt of the relay round in role. */
static int prepare_relay(struct d_session *s, enum trav_role role)
{
	uint8_t m = SIG_M_RELAY;
	int err = sess_prepare(s, &m, 1);

	if (err < 0)
		return err;
	s->att[SIG_M_RELAY].role = role;
	s->methods[0] = SIG_M_RELAY;
	s->nmethods = 1;
	return 0;
}

/*
 * Requester: the relay round. The race of direct methods failed (reason
 * SIG_REASON_FAILED / _TIMEOUT), or the strategy chose relay and we are
 * the side that allocates (SIG_REASON_STRATEGY). We allocate first when
 * it is ours to (permission for the peer's public IP), then send an
 * EXCHANGE with SIG-ROUND, METHODS = relay and our relay candidate (the
 * relayed address, kind relay, or our connecting socket's); the peer stops
 * its attempts, allocates if it is its turn, and answers with its EXCHANGE;
 * from there the session runs as in the first round (SCHEDULE, header, 'K').
 */
void sess_relay_round(struct d_session *s, uint8_t reason)
{
	uint64_t now = clock_ms();
	bool alloc = we_allocate(s);
	char why[SIG_DATA_MAX - 80];

	s->rinfo.round = SIG_ROUND_RELAY;
	s->rinfo.reason = reason;
	s->rinfo.race_ms = reason == SIG_REASON_STRATEGY ? 0 :
			   now - s->t0 > 0xffff ? 0xffff : (uint16_t)(now - s->t0);
	if (reason != SIG_REASON_STRATEGY) {
		describe_race(s, s->direct_why, sizeof(s->direct_why));
		log_warnx("session %u: the direct race failed after %llu ms (%s: %s); "
			  "falling back to relay, allocated by %s", s->id,
			  (unsigned long long)(now - s->t0), sig_reason_text(reason),
			  s->direct_why, alloc ? "us (the peer has no TURN server)" : s->peer);
		snprintf(why, sizeof(why), "given up after %llu ms: falling back to relay",
			 (unsigned long long)(now - s->t0));
	} else {
		log_info("session %u: relay with our TURN server (the peer has none): "
			 "allocating before the relay round", s->id);
		snprintf(why, sizeof(why), "replaced by the relay round");
	}
	sess_end_first_round(s, why);
	if (prepare_relay(s, alloc ? TRAV_ACCEPT : TRAV_CONNECT) < 0) {
		sess_fail(s, "cannot open local sockets", true);
		return;
	}
	gather_then_exchange(s);	/* allocating: after the ready event */
}

bool sess_can_fall_back(const struct d_session *s)
{
	return s->requester && !s->forced && !s->round && !s->winner && sess_relay_possible(s) &&
	       !s->prepared[SIG_M_RELAY];
}

/*
 * Responder: the requester's EXCHANGE of the relay round. Our attempts stop;
 * if its candidate is a relayed address, it allocated and we connect to it
 * (on its SCHEDULE), else we allocate and it connects.
 */
static void responder_relay_round(struct d_session *s, const struct sig_exchange *x)
{
	bool alloc;

	s->rinfo = x->round;
	if (x->round.reason == SIG_REASON_STRATEGY)
		snprintf(s->direct_why, sizeof(s->direct_why), "none: relay from the start");
	else
		snprintf(s->direct_why, sizeof(s->direct_why), "%s after %u ms",
			 sig_reason_text(x->round.reason), x->round.race_ms);
	sess_end_first_round(s, "given up: the requester falls back to relay");
	take_peer_exchange(s, x);
	alloc = s->peer_kind[SIG_M_RELAY] != SIG_CAND_RELAY;
	log_warnx("session %u: %s starts the relay round (%s): %s", s->id, s->peer,
		  s->direct_why, alloc ? "we allocate, it connects" : "it allocated, we connect");
	if (!s->peer_port[SIG_M_RELAY]) {
		sess_fail(s, "relay round without a relay candidate", true);
		return;
	}
	if (alloc && !sess_can_allocate()) {
		sess_fail(s, "relay round refused: we have no TURN server we can reach (we signal "
			  "over IPv6 and turn is an IPv4 one, or none)", true);
		return;
	}
	if (prepare_relay(s, alloc ? TRAV_ACCEPT : TRAV_CONNECT) < 0) {
		sess_fail(s, "cannot open local sockets", true);
		return;
	}
	gather_then_exchange(s);
}

/* ---- requester ---- */

void d_session_request(struct d_ctl_client *c, const char *peer, const char *service,
		       const char *method)
{
	struct d_session tmp, *s;
	char why[160];
	int mid = 0;

	memset(&tmp, 0, sizeof(tmp));
	tmp.ctl = c;
	tmp.t0 = clock_ms();
	if (!sig_id_valid(peer, strlen(peer)) || !sig_id_valid(service, strlen(service))) {
		sess_answer_connect(&tmp, false, NULL, "connect needs \"peer\" and \"service\" ids", -1);
		return;
	}
	if (method) {
		mid = sig_method_id(method);
		if (mid < 0) {
			snprintf(why, sizeof(why), "unknown method '%s'", method);
			sess_answer_connect(&tmp, false, NULL, why, -1);
			return;
		}
		if (trav_role_of((uint8_t)mid, true) == TRAV_NONE) {
			snprintf(why, sizeof(why),
				 "method '%s' is not implemented by this stuntd (direct, portmap, reversal, simopen, stunt1, synth, stunt2, predict, shotgun, udp, relay, host, simopen6, udp6 are)",
				 method);
			sess_answer_connect(&tmp, false, NULL, why, -1);
			return;
		}
	}
	if (!strcmp(peer, g_d->cfg.id)) {
		sess_answer_connect(&tmp, false, NULL, "that is this host's own id", -1);
		return;
	}
	if (d_budget_admit_any(why, sizeof(why)) < 0) {
		log_warnx("connect to %s/%s refused: %s", peer, service, why);
		sess_answer_connect(&tmp, false, NULL, why, -1);
		return;
	}
	s = sess_new(true, peer, service);
	if (s == NULL) {
		sess_answer_connect(&tmp, false, NULL, "out of memory", -1);
		return;
	}
	s->ctl = c;
	s->forced = (uint8_t)mid;
	do {
		if (RAND_bytes((uint8_t *)&s->id, sizeof(s->id)) != 1)
			s->id = ++g_d->next_session;
		s->id &= ~S_PEERQ_BIT;
	} while (s->id == 0 || sess_find(NULL, s->id, true) != s);
	s->state = S_LOOKUP;
	log_info("session %u: connect to %s/%s%s%s requested", s->id, peer, service,
		 method ? ", method " : "", method ? method : "");
	sess_lookup(s);
}

/*
 * s's LOOKUP, now if stuntd is registered, else once it is again: a
 * connect asked for while the signalling connection is being made again
 * (under loss a keepalive goes unanswered and the connection is replaced
 * within a second or two) waits for it within its deadline instead of
 * failing at once.
 */
void sess_lookup(struct d_session *s)
{
	s->lookup_at = 0;
	s->wait_server = !d_sig_up();
	if (s->wait_server) {
		log_info("session %u: waiting for the server: stuntd is not registered", s->id);
		return;
	}
	if (d_sig_request(SIG_METHOD_LOOKUP, s->id, sess_put_lookup, s->peer) < 0)
		sess_fail(s, "cannot reach the server", false);
}

void d_session_server_up(void)
{
	struct d_session *s;

	for (s = g_d->sessions; s; s = s->next)
		if (s->wait_server && !sess_over(s) && s->state == S_LOOKUP && d_sig_up())
			sess_lookup(s);
}

/* Our host addresses for s (host-candidates, host-interfaces): their number. */
static size_t gather_hosts(struct d_session *s)
{
	int n;

	s->nown_host = 0;
	if (!g_d->cfg.host_candidates)
		return 0;
	n = d_hostaddr_gather(&g_d->cfg, s->own_host, D_MAX_HOST_ADDRS);
	if (n < 0)
		log_warnx("session %u: cannot list this host's addresses: %s", s->id,
			  strerror(-n));
	s->nown_host = n > 0 ? (size_t)n : 0;
	return s->nown_host;
}

const struct d_host6 *sess_host6(struct d_session *s)
{
	d_hostaddr6_once(&g_d->cfg, &s->own6);
	return &s->own6;
}

/* Have we a global IPv6 address to offer (ipv6 on)? */
static bool have_v6(struct d_session *s)
{
	return sess_host6(s)->n > 0;
}

static void requester_lookup_ok(struct d_session *s)
{
	uint8_t race[sizeof(s_race)];
	size_t i, n = 0;
	int err;

	/* simopen6 only with an IPv6 address of ours to offer, the others
	 * only when we have IPv4 (we signal over it); relay either way (an
	 * IPv6-only host connects to the relayed address of the peer's TURN
	 * server, which the responder offers when it has no IPv6) */
	for (i = 0; i < sizeof(s_race); i++)
		if (s_race[i] == SIG_M_SIMOPEN6 ? have_v6(s) :
		    sess_have_ipv4() || s_race[i] == SIG_M_RELAY)
			race[n++] = s_race[i];
	if (s->forced == SIG_M_SIMOPEN6 && !have_v6(s)) {
		sess_fail(s, "method simopen6: no global IPv6 address to offer (ipv6, "
			  "host-interfaces)", false);
		return;
	}
	if (sess_is_udp(s)) {
		/* a UDP session: udp over IPv4, udp6 over IPv6, raced */
		n = 0;
		if (s->forced == SIG_M_UDP && sess_have_ipv4())
			race[n++] = SIG_M_UDP;
		if (have_v6(s))
			race[n++] = SIG_M_UDP6;
		if (n == 0) {
			sess_fail(s, s->forced == SIG_M_UDP6 ?
				  "method udp6: no global IPv6 address to offer (ipv6, host-interfaces)" :
				  "a UDP session needs IPv4 or a global IPv6 address to offer: we "
				  "signal over IPv6 and have none (ipv6, host-interfaces)", false);
			return;
		}
		if (sess_prepare(s, race, n) < 0) {
			sess_fail(s, "cannot open local sockets", false);
			return;
		}
		gather_then_exchange(s);
		return;
	}
	if (!sess_have_ipv4() && s->forced && s->forced != SIG_M_SIMOPEN6 &&
	    s->forced != SIG_M_RELAY) {
		char why[128];

		snprintf(why, sizeof(why), "method %s needs IPv4, and we signal over IPv6 (an "
			 "IPv6-only host runs simopen6, or relay)", sig_method_name(s->forced));
		sess_fail(s, why, false);
		return;
	}
	if (n == 0 && !s->forced) {
		sess_fail(s, "no method can run: we signal over IPv6 and have no global IPv6 "
			  "address to offer (ipv6, host-interfaces)", false);
		return;
	}
	err = s->forced ? sess_prepare(s, &s->forced, 1) : sess_prepare(s, race, n);
	if (err < 0) {
		sess_fail(s, "cannot open local sockets", false);
		return;
	}
	/* host: offered when we have addresses to offer */
	if (s->prepared[SIG_M_HOST] && gather_hosts(s) == 0) {
		if (s->forced == SIG_M_HOST) {
			sess_fail(s, "method host: no host address to offer (host-candidates, "
				  "host-interfaces)", false);
			return;
		}
		sess_drop_method(s, SIG_M_HOST);
	}
	/* portmap: we accept if our gateway maps (trav_portmap_requester_accepts) */
	if (s->prepared[SIG_M_PORTMAP])
		s->att[SIG_M_PORTMAP].role = trav_can_map(&g_d->nat) ? TRAV_ACCEPT : TRAV_CONNECT;
	gather_then_exchange(s);
}

/*
 * The server stamps its answer to us and its indication to the peer with
 * the same START = now + DELAY and its SERVER-TIME; each side starts DELAY
 * after its copy arrives (scheduled()). So the two starts differ by the
 * difference of the server's one-way delays to the two sides whatever
 * DELAY is: a longer lead does not bring them closer, it only waits. DELAY
 * is the margin for the loop to see the start (D_TICK_BUSY_MS); the
 * methods that need one side to go first carry their own offsets
 * (TRAV_STUNT2_DELAY_MS, TRAV_SHOTGUN_LEAD_MS) and stunt1 / synth wait for
 * both SYNs to be reported. (It was 300 ms + 2 x the negotiation time:
 * 426 ms of pure waiting at 10 ms one way, 1.3 s at 50 ms.)
 */
static int put_schedule(struct stun_builder *b, const void *arg)
{
	const struct d_session *s = arg;
	struct sig_schedule sc;

	memset(&sc, 0, sizeof(sc));
	snprintf(sc.peer_id, sizeof(sc.peer_id), "%s", s->peer);
	sc.session_id = s->id;
	sc.delay_ms = D_SCHEDULE_DELAY_MS;
	return sig_put_schedule(b, &sc);
}

static void requester_got_exchange(struct d_session *s, const struct sig_exchange *x)
{
	unsigned m;
	size_t i;
	bool keep[SIG_M_MAX + 1] = { false };

	take_peer_exchange(s, x);
	s->nmethods = 0;
	for (i = 0; i < x->nmethods && s->nmethods < TRAV_MAX_METHODS; i++) {
		m = x->methods[i];
		/* portmap: exactly one side advertises a mapping */
		if (m == SIG_M_PORTMAP && (s->att[m].role == TRAV_ACCEPT) ==
					  (s->peer_kind[m] == SIG_CAND_PORTMAP))
			continue;
		if (m && m <= SIG_M_MAX && s->prepared[m] && s->peer_port[m]) {
			s->methods[s->nmethods++] = (uint8_t)m;
			keep[m] = true;
		}
	}
	if (s->nmethods == 0) {
		sess_fail(s, "the peer proposed no method we can run", true);
		return;
	}
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m] && !keep[m]) {
			trav_close(&s->att[m], false);
			s->prepared[m] = false;
		}
	/* simopen6: the responder that echoed the order sent its
	 * hop-limited SYN before this EXCHANGE; ours goes at full hop limit */
	s->v6_first = s->prepared[SIG_M_SIMOPEN6] && (s->peer_nat.flags & SIG_NAT_V6_FIRST) &&
		      !g_d->cfg.test_v6_req_first;
	s->v4_later = s->prepared[SIG_M_SIMOPEN6] && (s->peer_nat.flags & SIG_NAT_V4_LATER) &&
		      !g_d->cfg.test_v6_req_first;
	if (!s->round && s->nmethods == 1 && s->methods[0] == SIG_M_RELAY && we_allocate(s)) {
		/* relay, and only we have a TURN server: allocate, then tell the
		 * peer the relayed address in the relay round */
		sess_relay_round(s, SIG_REASON_STRATEGY);
		return;
	}
	if (sess_can_fall_back(s)) {
		s->race_end = s->t0 + (uint64_t)g_d->cfg.connect_timeout_ms * S_RACE_SHARE_PCT / 100;
		log_debug("session %u: the direct race has %llu ms, then relay", s->id,
			  (unsigned long long)(s->race_end - s->t0));
	}
	s->state = S_WAIT_SCHEDULE;
	/* direct / reversal / portmap need no common start: our listeners first
	 * (the peer connects only once our SCHEDULE reaches it), then our
	 * connects (the peer listened before it sent its EXCHANGE) */
	if (!sess_start_early(s, TRAV_ACCEPT) || !sess_start_early(s, TRAV_CONNECT))
		return;
	s->hold_by = clock_ms() + S_SYN_FIRST_WAIT_MS;
	sess_held_due(s, clock_ms());
}

/* Has the hop-limited first SYN of each of our running connects that must
 * go before the peer's (TRAV_F_SYN_FIRST) left, as the queue reported it? */
static bool first_syns_out(const struct d_session *s)
{
	const struct trav_attempt *a;
	size_t i;

	if (!d_nfq_on())
		return true;	/* no queue: no report will come */
	for (i = 0; i < s->nmethods; i++) {
		a = &s->att[s->methods[i]];
		if (s->prepared[a->method] && (a->ops->flags & TRAV_F_SYN_FIRST) && a->ttl > 0 &&
		    a->role == TRAV_CONNECT && a->state == TA_RUNNING && !a->syn.has)
			return false;
	}
	return true;
}

void sess_held_due(struct d_session *s, uint64_t now)
{
	const char *what = s->requester ? "SCHEDULE" : "EXCHANGE";

	if (!s->hold_by || s->state != S_WAIT_SCHEDULE)
		return;
	if (!first_syns_out(s)) {
		if (now < s->hold_by)
			return;
		log_debug("session %u: a first SYN not reported within %d ms: %s all the same",
			  s->id, S_SYN_FIRST_WAIT_MS, what);
	}
	log_debug("session %u: %s sent %llu ms after our early starts", s->id, what,
		  (unsigned long long)(now + S_SYN_FIRST_WAIT_MS - s->hold_by));
	s->hold_by = 0;
	if (!s->requester)
		exchange_now(s);
	else if (d_sig_request(SIG_METHOD_SCHEDULE, s->id, put_schedule, s) < 0)
		sess_fail(s, "cannot reach the server", true);
}

static void scheduled(struct d_session *s, const struct sig_schedule *sc)
{
	/* the peer's clock and ours both follow the server's: start together */
	s->start_at = clock_ms() + (sc->start_time_ms > sc->server_time_ms ?
				    sc->start_time_ms - sc->server_time_ms : 0);
	s->state = S_SCHEDULED;
	log_debug("session %u: start in %llu ms", s->id,
		  (unsigned long long)(s->start_at - clock_ms()));
	/* responder: the requester opened its listeners before it sent the
	 * SCHEDULE this indication is: our early connects can go now */
	if (!s->requester)
		(void)sess_start_early(s, TRAV_CONNECT);
}

void sess_on_answer(struct d_session *s, uint16_t method, const struct stun_msg *m)
{
	struct sig_schedule sc;
	char why[200];

	if (s->asked_method && method == s->asked_method) {
		/* an attempt's own request (stunt1's SYNACK): the others go on,
		 * whatever it says, and it goes nowhere once the attempt is gone */
		if (s->asked)
			trav_answer(s->asked, m);
		return;
	}
	if (m->cls == STUN_ERROR) {
		const struct stun_attr *ea = stun_msg_find(m, STUN_ATTR_ERROR_CODE);
		struct stun_error e = { 0 };

		if (ea)
			(void)stun_attr_get_error(ea, &e);
		if (e.code == 404 && method == SIG_METHOD_LOOKUP && s->state == S_LOOKUP &&
		    clock_ms() - s->t0 + S_PEER_AGAIN_MS < S_PEER_WAIT_MS) {
			if (!s->lookups_again++)
				log_info("session %u: peer %s is not registered: asking again "
					 "for %u ms", s->id, s->peer, S_PEER_WAIT_MS);
			else
				log_debug("session %u: LOOKUP %s: still not registered (%u)", s->id,
					  s->peer, s->lookups_again);
			s->lookup_at = clock_ms() + S_PEER_AGAIN_MS;
			return;
		}
		if (e.code == 404)
			snprintf(why, sizeof(why), "peer %s is not registered", s->peer);
		else
			snprintf(why, sizeof(why), "server refused %s (%u)",
				 method == SIG_METHOD_LOOKUP ? "LOOKUP" :
				 method == SIG_METHOD_EXCHANGE ? "EXCHANGE" : "a request", e.code);
		sess_fail(s, why, false);
		return;
	}
	if (method == SIG_METHOD_LOOKUP && s->state == S_LOOKUP) {
		log_debug("session %u: LOOKUP %s: registered%s", s->id, s->peer,
			  s->lookups_again ? " now" : "");
		requester_lookup_ok(s);
	}
	else if (method == SIG_METHOD_SCHEDULE && s->state == S_WAIT_SCHEDULE &&
		 sig_get_schedule(m, &sc) == 0)
		scheduled(s, &sc);
}

/* ---- responder ---- */

/* "stunt1, shotgun": the strategy's methods, for a log line */
static void unmet_methods(const uint8_t *list, size_t n, char *buf, size_t len)
{
	size_t i, k = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; i < n && k < len; i++) {
		w = snprintf(buf + k, len - k, "%s%s", i ? ", " : "", sig_method_name(list[i]));
		if (w < 0)
			break;
		k += (size_t)w;
	}
}

static void responder_exchange(const struct sig_exchange *x)
{
	struct d_session *s;
	const struct d_expose *e;
	char why[SIG_DATA_MAX - 32], a[64], b[64], race[80];
	bool forced_ok, pm_accept, udp, udp6_asked, udp6, host, v6;
	uint8_t list[TRAV_MAX_METHODS];
	struct sig_nat_info own;
	size_t n, i, k;

	if ((s = sess_find(x->peer_id, x->session_id, false)) != NULL) {
		/* the requester's relay round, or a duplicate */
		if (x->has_round && x->round.round == SIG_ROUND_RELAY && !s->round && !sess_over(s))
			responder_relay_round(s, x);
		return;
	}
	e = d_config_find_expose(&g_d->cfg, x->service);
	if (e == NULL) {
		snprintf(why, sizeof(why), "service '%s' is not exposed by %s", x->service, g_d->cfg.id);
		goto refuse;
	}
	if (!d_config_allowed(&g_d->cfg, x->service, x->peer_id)) {
		snprintf(why, sizeof(why), "peer %s is not allowed to use %s/%s", x->peer_id,
			 g_d->cfg.id, x->service);
		goto refuse;
	}
	/* a UDP session asks for udp and udp6, or one of them (stuntctl
	 * connect --udp) */
	udp = x->nmethods > 0 && (x->methods[0] == SIG_M_UDP || x->methods[0] == SIG_M_UDP6);
	udp6_asked = udp && memchr(x->methods, SIG_M_UDP6, x->nmethods) != NULL;
	if (udp && e->kind == D_TARGET_TCP) {
		snprintf(why, sizeof(why), "service '%s' is a TCP service: it takes no UDP session",
			 x->service);
		goto refuse;
	}
	if (!udp && e->kind == D_TARGET_UDP) {
		snprintf(why, sizeof(why), "service '%s' is a UDP service: connect with --udp",
			 x->service);
		goto refuse;
	}
	/* budgets: sessions at once, starts a minute (daemon/budget.c) */
	if (d_budget_admit(x->peer_id, clock_ms(), why, sizeof(why)) < 0) {
		log_warnx("session %u: refused %s: %s", x->session_id, x->peer_id, why);
		sess_relay(x->peer_id, x->session_id, "err", why);
		return;
	}
	/* signalling over IPv6 (an IPv6-only host): simopen6 alone */
	if (x->nmethods && x->methods[0] != SIG_M_SIMOPEN6 && x->methods[0] != SIG_M_RELAY &&
	    !udp6_asked && !sess_have_ipv4()) {
		snprintf(why, sizeof(why), "method %s refused: %s signals over IPv6 (no IPv4): "
			 "it runs simopen6, or relay (udp6 for a UDP session)",
			 sig_method_name(x->methods[0]), g_d->cfg.id);
		g_d->methods_refused++;
		log_warnx("session %u: refused %s: %s", x->session_id, x->peer_id, why);
		sess_relay(x->peer_id, x->session_id, "err", why);
		return;
	}
	/* a forced method runs only where our strategy says it can work (host:
	 * where the peer is behind our NAT, below; udp beside udp6: below) */
	own = sess_own_nat();
	if (x->nmethods && x->methods[0] != SIG_M_HOST && x->methods[0] != SIG_M_SIMOPEN6 &&
	    !udp6_asked && !g_d->cfg.allow_forced_methods) {
		struct sig_nat_info pn;

		memset(&pn, 0, sizeof(pn));
		if (x->has_nat)
			pn = x->nat;
		if (!trav_forced_ok(&pn, &own, x->methods[0])) {
			trav_forced_refusal(&pn, &own, x->methods[0], why, sizeof(why));
			g_d->methods_refused++;
			log_warnx("session %u: refused %s: %s", x->session_id, x->peer_id, why);
			sess_relay(x->peer_id, x->session_id, "err", why);
			return;
		}
	}
	s = sess_new(false, x->peer_id, x->service);
	if (s == NULL) {
		snprintf(why, sizeof(why), "out of memory on %s", g_d->cfg.id);
		goto refuse;
	}
	s->id = x->session_id;
	s->forced = x->nmethods ? x->methods[0] : 0;
	take_peer_exchange(s, x);
	/* host: the requester is behind our NAT (its host candidates were
	 * taken) and we have addresses to offer; raced first, beside the
	 * strategy's methods, or alone when forced */
	host = !udp && s->npeer_host && (!s->forced || s->forced == SIG_M_HOST) &&
	       gather_hosts(s) > 0;
	/* simopen6: the requester offered a global IPv6 address we take and
	 * we have one; raced first (Happy Eyeballs), or alone when forced */
	v6 = !udp && s->peer_has_ip6 && s->peer_port[SIG_M_SIMOPEN6] &&
	     (!s->forced || s->forced == SIG_M_SIMOPEN6) && have_v6(s);
	/* udp6: the requester offered an IPv6 UDP endpoint we take */
	udp6 = udp6_asked && s->peer_has_ip6 && s->peer_port[SIG_M_UDP6] && have_v6(s);
	/* ... in the responder-first order when the requester knows it */
	s->v6_first = v6 && (s->peer_nat.flags & SIG_NAT_V6_FIRST) && !g_d->cfg.test_v6_req_first;
	s->v4_later = v6 && (s->peer_nat.flags & SIG_NAT_V4_LATER) && !g_d->cfg.test_v6_req_first;
	if (s->forced == SIG_M_SIMOPEN6) {
		if (!v6) {
			snprintf(why, sizeof(why), "method simopen6 refused: no global IPv6 address "
				 "of %s's taken, or none of %s's (ipv6 off?)", s->peer, g_d->cfg.id);
			sess_fail(s, why, true);
			return;
		}
		n = 0;
		forced_ok = true;
	} else if (s->forced == SIG_M_HOST) {
		if (!host) {
			snprintf(why, sizeof(why), "method host refused: %s is not behind the NAT "
				 "of %s (the server sees another public address), or no host "
				 "address on either side", s->peer, g_d->cfg.id);
			sess_fail(s, why, true);
			return;
		}
		n = 0;
		forced_ok = true;
	} else if (udp) {
		/* udp where IPv4 can carry it (the strategy's word, unless
		 * allow-forced-methods), udp6 where both have IPv6: raced */
		n = 0;
		forced_ok = true;
		if (s->forced == SIG_M_UDP && sess_have_ipv4() && s->peer_port[SIG_M_UDP] &&
		    !(x->has_sender && x->sender.family == STUN_FAMILY_IPV6)) {
			n = trav_strategy(&s->peer_nat, &own, SIG_M_UDP, list, TRAV_MAX_METHODS,
					  &forced_ok, why, sizeof(why));
			if (!forced_ok && !g_d->cfg.allow_forced_methods) {
				if (!udp6) {
					/* as the refusal above, which udp6 put off */
					trav_forced_refusal(&s->peer_nat, &own, SIG_M_UDP, why,
							    sizeof(why));
					g_d->methods_refused++;
					sess_fail(s, why, true);
					return;
				}
				n = 0;	/* IPv4 cannot carry it: udp6 alone */
			}
		}
		if (n == 0 && !udp6) {
			if (s->forced == SIG_M_UDP6 || !sess_have_ipv4())
				snprintf(why, sizeof(why), "method udp6 refused: no IPv6 UDP endpoint "
					 "of %s's taken, or no global IPv6 address of %s's%s", s->peer,
					 g_d->cfg.id, g_d->cfg.ipv6 ? "" : " (ipv6 off)");
			else
				snprintf(why, sizeof(why), "no common method for a UDP session: %s "
					 "offered no IPv4 UDP endpoint%s, and no IPv6 one %s takes%s",
					 s->peer, x->has_sender && x->sender.family == STUN_FAMILY_IPV6 ?
					 " (it signals over IPv6)" : "", g_d->cfg.id,
					 g_d->cfg.ipv6 ? "" : " (ipv6 off)");
			g_d->methods_refused++;
			sess_fail(s, why, true);
			return;
		}
		if (n == 0)
			forced_ok = true;
	} else if (!sess_have_ipv4() && s->forced == SIG_M_RELAY) {
		/* through the peer's TURN server, or ours reached over IPv6 */
		list[0] = SIG_M_RELAY;
		n = 1;
		host = false;
		forced_ok = sess_relay_possible(s);
	} else if (!sess_have_ipv4() || (x->has_sender && x->sender.family == STUN_FAMILY_IPV6)) {
		/* one side signals over IPv6 (an IPv6-only host): no IPv4 method
		 * can run; simopen6, else relay from the start through a TURN
		 * server (the relayed address in the IPv6-only side's family) */
		n = 0;
		host = false;
		forced_ok = true;
		if (!v6 && sess_relay_possible(s) && s->peer_port[SIG_M_RELAY])
			list[n++] = SIG_M_RELAY;
		if (!v6 && n == 0 && !sess_have_ipv4()) {
			snprintf(why, sizeof(why), "no common method: %s signals over IPv6 (no IPv4) "
				 "and %s offered no IPv6 address it takes, and no relay (no TURN "
				 "server on %s)", g_d->cfg.id, s->peer, s->peer);
			sess_fail(s, why, true);
			return;
		}
	} else {
		n = trav_strategy(&s->peer_nat, &own, s->forced, list, TRAV_MAX_METHODS,
				  &forced_ok, why, sizeof(why));
		if (n == 0 && !host && !v6) {
			sess_fail(s, why, true);
			return;
		}
	}
	/* only methods we implement, with a port the requester opened */
	s->nmethods = 0;
	if (v6)
		s->methods[s->nmethods++] = SIG_M_SIMOPEN6;
	if (udp6)
		s->methods[s->nmethods++] = SIG_M_UDP6;
	if (host)
		s->methods[s->nmethods++] = SIG_M_HOST;
	for (i = 0; i < n && s->nmethods < TRAV_MAX_METHODS; i++)
		if (list[i] != SIG_M_HOST && list[i] != SIG_M_SIMOPEN6 && list[i] != SIG_M_UDP6 &&
		    trav_role_of(list[i], false) != TRAV_NONE && s->peer_port[list[i]])
			s->methods[s->nmethods++] = list[i];
	if (s->nmethods == 0 && x->has_sender && x->sender.family == STUN_FAMILY_IPV6) {
		/* an IPv6-only requester offers simopen6 and relay alone */
		snprintf(why, sizeof(why), "no common method: %s signals over IPv6 (no IPv4) and "
			 "%s took no IPv6 address of it%s, and no relay (no TURN server on %s)",
			 s->peer, g_d->cfg.id, g_d->cfg.ipv6 ? "" : " (ipv6 off)", g_d->cfg.id);
		sess_fail(s, why, true);
		return;
	}
	/* portmap: the requester accepts if it advertised a mapping, else we
	 * do if our gateway can map (or the method is forced) */
	pm_accept = s->peer_kind[SIG_M_PORTMAP] != SIG_CAND_PORTMAP;
	for (i = 0; i < s->nmethods; i++)
		if (s->methods[i] == SIG_M_PORTMAP && pm_accept && !trav_can_map(&g_d->nat) &&
		    s->forced != SIG_M_PORTMAP)
			sess_drop_method(s, SIG_M_PORTMAP);
	if (s->nmethods == 0 && !s->forced && !udp && n > 0 && sess_relay_possible(s) &&
	    s->peer_port[SIG_M_RELAY]) {
		/* the requester opened no port for what the strategy chose (its
		 * Binding for that socket's public port got no answer): relay
		 * from the start rather than fail, as with an IPv6-only side */
		unmet_methods(list, n, race, sizeof(race));
		log_warnx("session %u: %s offered no usable candidate for %s: relay from the start",
			  s->id, s->peer, race);
		s->methods[s->nmethods++] = SIG_M_RELAY;
	}
	if (s->nmethods == 0) {
		unmet_methods(list, n, race, sizeof(race));
		snprintf(why, sizeof(why), "no common method: %s offered no usable candidate for %s%s",
			 s->peer, n ? race : "any method the strategy chose", sess_no_relay_note(s));
		sess_fail(s, why, true);
		return;
	}
	trav_nat_describe(&s->peer_nat, a, sizeof(a));
	trav_nat_describe(&g_d->nat, b, sizeof(b));
	if (s->forced && !forced_ok)
		log_warnx("session %u: %s forced by %s although the strategy says it cannot work "
			  "(%s / %s): run because allow-forced-methods is on", s->id,
			  sig_method_name(s->forced), s->peer, a, b);
	for (i = 0, k = 0; i < s->nmethods && k < sizeof(race); i++)
		k += (size_t)snprintf(race + k, sizeof(race) - k, "%s%s", i ? ", " : "",
				      sig_method_name(s->methods[i]));
	log_info("session %u: %s asks for %s (requester %s, us %s): racing %s", s->id,
		 s->peer, s->service, a, b, race);
	if (sess_prepare(s, s->methods, s->nmethods) < 0) {
		sess_fail(s, "cannot open local sockets", true);
		return;
	}
	if (s->prepared[SIG_M_PORTMAP])
		s->att[SIG_M_PORTMAP].role = pm_accept ? TRAV_ACCEPT : TRAV_CONNECT;
	/* relay: when only the requester has a TURN server, it allocates in
	 * the relay round and we connect */
	if (s->prepared[SIG_M_RELAY] && !we_allocate(s))
		s->att[SIG_M_RELAY].role = TRAV_CONNECT;
	gather_then_exchange(s);
	return;
refuse:
	g_d->peers_refused++;
	log_info("session %u: refused %s: %s", x->session_id, x->peer_id, why);
	sess_relay(x->peer_id, x->session_id, "err", why);
}

/* RELAY "sid verb text": err / cancel end the session; any other verb is
 * for one attempt, named by the text's first word (RELAY "syn METHOD":
 * the peer's first SYN(s) of that attempt left its NAT), so that a synth
 * and a predict attempt of one session do not take each other's. */
static void on_relay(const struct sig_relay *r)
{
	char text[SIG_DATA_MAX + 1], verb[16], name[16];
	struct d_session *s;
	unsigned long sid;
	int off = 0, m;
	char why[SIG_DATA_MAX + 80], etext[ESC_BUF(200)], everb[ESC_BUF(15)];

	memcpy(text, r->data, r->len);
	text[r->len] = '\0';
	if (sscanf(text, "%lu %15s %n", &sid, verb, &off) < 2)
		return;
	s = sess_find(r->peer_id, (uint32_t)sid, true);
	if (s == NULL)
		s = sess_find(r->peer_id, (uint32_t)sid, false);
	if (s == NULL)
		return;
	/* the peer's words, escaped before they reach a log or stuntctl */
	esc_str(etext, sizeof(etext), r->data + off, r->len > (size_t)off ? r->len - (size_t)off : 0);
	esc_cstr(everb, sizeof(everb), verb);
	if (!strcmp(verb, "err")) {
		snprintf(why, sizeof(why), "%s", etext);
		sess_fail(s, why, false);
	} else if (!strcmp(verb, "cancel")) {
		snprintf(why, sizeof(why), "cancelled by %s: %s", s->peer, etext);
		sess_fail(s, why, false);
	} else if (sscanf(text + off, "%15s", name) != 1 || (m = sig_method_id(name)) < 0 ||
		   !s->prepared[m]) {
		log_debug("session %u: RELAY %s '%s' names no attempt of ours", s->id, everb,
			  etext);
	} else {
		trav_peer_signal(&s->att[m], everb, text + off);
	}
}

void d_session_on_indication(const struct stun_msg *m)
{
	struct sig_exchange x;
	struct sig_schedule sc;
	struct sig_relay r;
	struct d_session *s;

	switch (m->method) {
	case SIG_METHOD_EXCHANGE:
		if (sig_get_exchange(m, &x) < 0)
			return;
		s = sess_find(x.peer_id, x.session_id, true);
		if (s) {
			if (s->state == S_EXCHANGE)
				requester_got_exchange(s, &x);
		} else if (x.service[0]) {
			responder_exchange(&x);
		}
		break;
	case SIG_METHOD_SCHEDULE:
		if (sig_get_schedule(m, &sc) < 0)
			return;
		s = sess_find(sc.peer_id, sc.session_id, false);
		if (s && s->state == S_WAIT_SCHEDULE)
			scheduled(s, &sc);
		break;
	case SIG_METHOD_RELAY:
		if (sig_get_relay(m, &r) == 0)
			on_relay(&r);
		break;
	default:
		break;
	}
}
