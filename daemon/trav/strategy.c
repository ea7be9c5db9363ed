// SPDX-License-Identifier: MIT
/* The traversal strategy: see daemon/trav/strategy.h. Pure. */
#include "daemon/trav/strategy.h"

#include <stdio.h>
#include <string.h>

bool trav_nat_public(const struct sig_nat_info *n)
{
	return n->nat_hops == 0 && n->tcp_mapping == TRAV_MAP_EIM &&
	       n->tcp_filtering == TRAV_FILT_EIF;
}

bool trav_can_accept(const struct sig_nat_info *n)
{
	return trav_nat_public(n) ||
	       (n->tcp_mapping == TRAV_MAP_EIM && n->tcp_filtering == TRAV_FILT_EIF);
}

bool trav_can_accept_from_peer(const struct sig_nat_info *n)
{
	return trav_can_accept(n) ||
	       (n->tcp_mapping == TRAV_MAP_EIM && n->tcp_filtering == TRAV_FILT_ADF);
}

bool trav_predictable(const struct sig_nat_info *n)
{
	return trav_nat_public(n) || n->tcp_mapping == TRAV_MAP_EIM;
}

bool trav_eim_learned(const struct sig_nat_info *n)
{
	return !trav_nat_public(n) && n->tcp_mapping == TRAV_MAP_EIM &&
	       n->tcp_alloc != SIG_ALLOC_PRESERVING;
}

bool trav_maybe_predictable(const struct sig_nat_info *n)
{
	/* allocation unmeasured too (discovery lost its probes, or failed):
	 * the general methods are worth a try, not none -- most NATs are
	 * cones that keep ports */
	return n->tcp_mapping == 0 &&
	       (n->tcp_alloc == SIG_ALLOC_PRESERVING || n->tcp_alloc == 0);
}

/* maybe_predictable, and its filter not known to keep the peer out: an
 * address-dependent or open filter would let the peer in (strategy.h) */
static bool maybe_accept_from_peer(const struct sig_nat_info *n)
{
	return trav_maybe_predictable(n) && n->tcp_filtering != 3 /* APDF */;
}

/* an allocation measured without a mapping (one-address server) still
 * says sequential or random */
bool trav_sequential(const struct sig_nat_info *n)
{
	return !trav_predictable(n) && (n->tcp_mapping != 0 || n->tcp_alloc != 0) &&
	       n->tcp_alloc == SIG_ALLOC_SEQUENTIAL;
}

static bool shotgun_hard(const struct sig_nat_info *n)
{
	return (n->tcp_mapping != 0 || n->tcp_alloc == SIG_ALLOC_RANDOM) &&
	       !trav_predictable(n) && !trav_sequential(n) && !trav_maybe_predictable(n);
}

bool trav_shotgun_pair(const struct sig_nat_info *a, const struct sig_nat_info *b)
{
	return (trav_predictable(a) && shotgun_hard(b)) || (trav_predictable(b) && shotgun_hard(a));
}

double trav_shotgun_odds(unsigned n, unsigned range, unsigned m)
{
	double p = 1.0;
	unsigned i;

	/* C(R-N, M) / C(R, M) = prod_{i<M} (R-N-i) / (R-i) */
	for (i = 0; i < m && i < range; i++) {
		if (range - i <= n)
			return 1.0;
		p *= (double)(range - n - i) / (double)(range - i);
	}
	return 1.0 - p;
}

bool trav_can_map(const struct sig_nat_info *n)
{
	return (n->flags & (SIG_NAT_UPNP | SIG_NAT_NATPMP | SIG_NAT_PCP)) != 0;
}

bool trav_can_relay(const struct sig_nat_info *n)
{
	return (n->flags & SIG_NAT_TURN) != 0;
}

bool trav_relay_requester_allocates(const struct sig_nat_info *req,
				    const struct sig_nat_info *resp)
{
	return !trav_can_relay(resp) && trav_can_relay(req);
}

uint8_t trav_relay_family(bool peer_has4, bool peer_has6, bool prefer6)
{
	if (peer_has6 && (!peer_has4 || prefer6))
		return STUN_FAMILY_IPV6;
	return peer_has4 ? STUN_FAMILY_IPV4 : 0;
}

bool trav_seq_rewrite(const struct sig_nat_info *n)
{
	return (n->flags & SIG_NAT_SEQ_REWRITE) != 0;
}

bool trav_portmap_requester_accepts(const struct sig_nat_info *req,
				    const struct sig_nat_info *resp)
{
	(void)resp;
	return trav_can_map(req);
}

void trav_nat_describe(const struct sig_nat_info *n, char *buf, size_t len)
{
	static const char *const map[] = { "?", "EIM", "ADM", "APDM" };
	static const char *const filt[] = { "?", "EIF", "ADF", "APDF" };
	static const char *const alloc[] = { "?", "preserving", "sequential", "random" };

	if (trav_nat_public(n)) {
		snprintf(buf, len, "no NAT");
		return;
	}
	snprintf(buf, len, "%s/%s %s", map[n->tcp_mapping <= 3 ? n->tcp_mapping : 0],
		 filt[n->tcp_filtering <= 3 ? n->tcp_filtering : 0],
		 alloc[n->tcp_alloc <= 3 ? n->tcp_alloc : 0]);
}

/* predictable; with maybe, also maybe_predictable */
static bool pred(const struct sig_nat_info *n, bool maybe)
{
	return trav_predictable(n) || (maybe && trav_maybe_predictable(n));
}

static bool accepts(const struct sig_nat_info *n, bool maybe)
{
	return (trav_can_accept_from_peer(n) && trav_predictable(n)) ||
	       (maybe && maybe_accept_from_peer(n));
}

/* The direct methods (no shotgun, no relay) for the pair into m; with
 * maybe, a mapping the server could not measure counts as predictable
 * when the NAT keeps ports (trav_maybe_predictable). *stunt2 and
 * *both_predictable as the strategy uses them. */
static size_t direct_methods(const struct sig_nat_info *req, const struct sig_nat_info *resp,
			     bool maybe, uint8_t *m, bool *stunt2, bool *both_predictable)
{
	size_t n = 0;

	if (accepts(resp, maybe))
		m[n++] = SIG_M_DIRECT;
	if (trav_can_map(req) || trav_can_map(resp))
		m[n++] = SIG_M_PORTMAP;
	if (accepts(req, maybe))
		m[n++] = SIG_M_REVERSAL;
	/* the responder's SYN goes to the requester's public endpoint */
	*stunt2 = pred(resp, maybe) && !trav_can_accept(resp) && pred(req, maybe);
	*both_predictable = pred(req, maybe) && pred(resp, maybe);
	if (*both_predictable)
		m[n++] = SIG_M_SIMOPEN;
	/* stunt1 never alone: simopen, which needs no spoofing server, is
	 * raced beside it wherever it is listed */
	if (*both_predictable && !trav_seq_rewrite(req) && !trav_seq_rewrite(resp))
		m[n++] = SIG_M_STUNT1;
	else if (*both_predictable)
		m[n++] = SIG_M_SYNTH;	/* its own SYN again: no sequence number leaves */
	if (!*both_predictable && *stunt2)
		m[n++] = SIG_M_STUNT2;
	if ((trav_sequential(req) && (trav_sequential(resp) || pred(resp, maybe))) ||
	    (trav_sequential(resp) && pred(req, maybe)))
		m[n++] = SIG_M_PREDICT;
	return n;
}

size_t trav_strategy(const struct sig_nat_info *req, const struct sig_nat_info *resp,
		     unsigned forced, uint8_t *out, size_t max, bool *forced_ok,
		     char *why, size_t whylen)
{
	uint8_t m[TRAV_MAX_METHODS], mm[TRAV_MAX_METHODS];
	size_t n = 0, i, j, nm;
	char a[64], b[64];
	bool stunt2, shotgun, both_predictable, stunt2_m, both_m;

	if (forced == SIG_M_UDP)
		return trav_strategy_udp(req, resp, forced, out, max, forced_ok, why, whylen);
	n = direct_methods(req, resp, false, m, &stunt2, &both_predictable);
	/* then what may work where the server could not measure a mapping
	 * (one address): raced after the sure ones, not dropped */
	nm = direct_methods(req, resp, true, mm, &stunt2_m, &both_m);
	for (j = 0; j < nm; j++) {
		for (i = 0; i < n && m[i] != mm[j]; i++)
			;
		if (i == n && n < TRAV_MAX_METHODS)
			m[n++] = mm[j];
	}
	stunt2 |= stunt2_m;
	both_predictable |= both_m;
	/* the last resort: hundreds of sockets and SYNs */
	shotgun = trav_shotgun_pair(req, resp);
	if (shotgun && n == 0)
		m[n++] = SIG_M_SHOTGUN;
	/* the last resort: only when no direct method can work */
	if (n == 0 && (trav_can_relay(resp) || trav_can_relay(req)))
		m[n++] = SIG_M_RELAY;
	if (forced_ok)
		*forced_ok = false;
	if (forced) {
		for (i = 0; i < n; i++)
			if (m[i] == forced && forced_ok)
				*forced_ok = true;
		if (forced == SIG_M_STUNT2 && stunt2 && forced_ok)
			*forced_ok = true;	/* works, only not raced beside simopen */
		if (forced == SIG_M_SHOTGUN && shotgun && forced_ok)
			*forced_ok = true;	/* works, only not raced beside cheaper ones */
		if (forced == SIG_M_RELAY && (trav_can_relay(resp) || trav_can_relay(req)) &&
		    forced_ok)
			*forced_ok = true;	/* works, only not raced beside direct ones */
		if (forced == SIG_M_SYNTH && both_predictable && forced_ok)
			*forced_ok = true;	/* works, raced only instead of stunt1 */
		if (max < 1)
			return 0;
		out[0] = (uint8_t)forced;
		return 1;
	}
	if (n > max)
		n = max;
	memcpy(out, m, n);
	if (n == 0 && why) {
		trav_nat_describe(req, a, sizeof(a));
		trav_nat_describe(resp, b, sizeof(b));
		snprintf(why, whylen,
			 "no traversal method can work between %s (requester) and %s (peer): "
			 "neither can accept or map a port, %s; "
			 "relay needed, but no TURN server configured on either side "
			 "(stuntd --turn)", a, b,
			 shotgun_hard(req) && shotgun_hard(resp) ?
			 "both NATs give each connection a random port (nothing to aim a "
			 "shotgun at)" :
			 "no port can be predicted (random or unmeasured allocation)");
	}
	return n;
}

bool trav_forced_ok(const struct sig_nat_info *req, const struct sig_nat_info *resp,
		    unsigned forced)
{
	uint8_t out[TRAV_MAX_METHODS];
	bool ok = false;

	if (forced == 0)
		return true;
	(void)trav_strategy(req, resp, forced, out, TRAV_MAX_METHODS, &ok, NULL, 0);
	return ok;
}

/* what each method needs, for the refusal */
static const char *forced_needs(unsigned forced)
{
	switch (forced) {
	case SIG_M_DIRECT:
		return "the responder must accept a connection (EIM, no or address-dependent "
		       "filtering) on a predictable port";
	case SIG_M_PORTMAP:
		return "a gateway must map ports (UPnP, NAT-PMP or PCP)";
	case SIG_M_REVERSAL:
		return "the requester must accept a connection (EIM, no or address-dependent "
		       "filtering) on a predictable port";
	case SIG_M_SIMOPEN:
	case SIG_M_SYNTH:
		return "both sides' ports must be predictable";
	case SIG_M_STUNT1:
		return "both sides' ports must be predictable and no NAT may rewrite sequence "
		       "numbers";
	case SIG_M_STUNT2:
		return "both sides' ports must be predictable and the responder unable to accept";
	case SIG_M_PREDICT:
		return "a side must allocate sequentially and the other sequentially or "
		       "predictably";
	case SIG_M_SHOTGUN:
		return "one side's port must be predictable and the other's random";
	case SIG_M_RELAY:
		return "a side must have a TURN server";
	case SIG_M_UDP:
		return "both UDP mappings endpoint-independent, or a symmetric side facing a "
		       "full or restricted cone";
	default:
		return "an unknown method";
	}
}

void trav_forced_refusal(const struct sig_nat_info *req, const struct sig_nat_info *resp,
			 unsigned forced, char *why, size_t whylen)
{
	const char *name = sig_method_name(forced);
	char a[64], b[64];

	if (why == NULL || whylen == 0)
		return;
	trav_nat_describe(req, a, sizeof(a));
	trav_nat_describe(resp, b, sizeof(b));
	snprintf(why, whylen,
		 "method %s refused: the strategy says it cannot work between %s (requester) "
		 "and %s (peer): %s", name ? name : "?", a, b, forced_needs(forced));
}

static bool udp_public(const struct sig_nat_info *n)
{
	return n->nat_hops == 0 && n->udp_mapping == TRAV_MAP_EIM &&
	       n->udp_filtering == TRAV_FILT_EIF;
}

/* EIM, or no NAT at all */
static bool udp_eim(const struct sig_nat_info *n)
{
	return udp_public(n) || n->udp_mapping == TRAV_MAP_EIM;
}

/* lets in a symmetric peer's packets from a port it never sent to */
static bool udp_cone_open(const struct sig_nat_info *n)
{
	return udp_eim(n) && (n->udp_filtering == TRAV_FILT_EIF || n->udp_filtering == 2 /* ADF */);
}

bool trav_udp_can_work(const struct sig_nat_info *req, const struct sig_nat_info *resp)
{
	if (udp_eim(req) && udp_eim(resp))
		return true;
	return (udp_cone_open(req) && resp->udp_mapping > TRAV_MAP_EIM) ||
	       (udp_cone_open(resp) && req->udp_mapping > TRAV_MAP_EIM);
}

size_t trav_strategy_udp(const struct sig_nat_info *req, const struct sig_nat_info *resp,
			 unsigned forced, uint8_t *out, size_t max, bool *forced_ok,
			 char *why, size_t whylen)
{
	static const char *const map[] = { "?", "EIM", "ADM", "APDM" };
	static const char *const filt[] = { "?", "EIF", "ADF", "APDF" };
	bool can = trav_udp_can_work(req, resp);

	if (forced_ok)
		*forced_ok = can;
	if (max < 1)
		return 0;
	if (!can && forced != SIG_M_UDP) {
		if (why)
			snprintf(why, whylen,
				 "UDP hole punching cannot work between UDP %s/%s (requester) and "
				 "%s/%s (peer): it needs both mappings endpoint-independent, or a "
				 "symmetric side facing a full or restricted cone",
				 map[req->udp_mapping <= 3 ? req->udp_mapping : 0],
				 filt[req->udp_filtering <= 3 ? req->udp_filtering : 0],
				 map[resp->udp_mapping <= 3 ? resp->udp_mapping : 0],
				 filt[resp->udp_filtering <= 3 ? resp->udp_filtering : 0]);
		return 0;
	}
	out[0] = SIG_M_UDP;
	return 1;
}
