// SPDX-License-Identifier: MIT
/*
 * Pure verdicts from raw measurements: mapping (RFC 5780 4.3), filtering
 * (4.4), port allocation, the outermost NAT's hop count, the RFC 3489 name,
 * and the traversal methods that follow from all of them. No I/O: the unit
 * tests call these with made-up measurements.
 */
#include "probes/probe.h"
#include "proto/stunt.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static bool ep_eq(const struct probe_ep *a, const struct probe_ep *b)
{
	return a->known && b->known && a->ip == b->ip && a->port == b->port &&
	       !memcmp(a->ip6, b->ip6, sizeof(a->ip6));
}

static bool ep_ne(const struct probe_ep *a, const struct probe_ep *b)
{
	return a->known && b->known && !ep_eq(a, b);
}

/*
 * RFC 5780 4.3: the mapping seen from one local endpoint towards the
 * server's primary and alternate address and port. Same mapping for every
 * destination: endpoint-independent. Same for both ports of one address but
 * another for the other address: address-dependent. A different mapping
 * for another port of the same address: address-and-port-dependent.
 */
enum probe_mapping probe_classify_mapping(const struct probe_ep mapped[PROBE_EP_MAX],
					  const struct probe_ep *local)
{
	const struct probe_ep *a11 = &mapped[PROBE_EP_A1P1], *a12 = &mapped[PROBE_EP_A1P2];
	const struct probe_ep *a21 = &mapped[PROBE_EP_A2P1], *a22 = &mapped[PROBE_EP_A2P2];
	bool other_ip, same_ip_pair;

	if (!a11->known)
		return PROBE_MAP_UNKNOWN;
	if (local && ep_eq(a11, local))
		return PROBE_MAP_NONE;
	/* another port of the same address got another mapping */
	if (ep_ne(a11, a12) || ep_ne(a21, a22))
		return PROBE_MAP_APDM;
	other_ip = a21->known || a22->known;
	if (!other_ip)
		return PROBE_MAP_UNKNOWN;
	if ((!a21->known || ep_eq(a11, a21)) && (!a22->known || ep_eq(a11, a22)) &&
	    (!a12->known || ep_eq(a11, a12)))
		return PROBE_MAP_EIM;
	/* differs across addresses; port independence needs a same-address pair */
	same_ip_pair = ep_eq(a11, a12) || ep_eq(a21, a22);
	return same_ip_pair ? PROBE_MAP_ADM : PROBE_MAP_APDM;
}

/*
 * RFC 5780 4.4: an answer from the other address and port passes an
 * endpoint-independent filter; from the same address and the other port an
 * address-dependent one; neither: address-and-port-dependent. Without the
 * first test (a one-address server) an answer from the other port kept
 * out still means address-and-port-dependent; one let in leaves EIF and
 * ADF apart: unknown.
 */
enum probe_filtering probe_classify_filtering(int got_change_ip_port, int got_change_port)
{
	if (got_change_ip_port == 1)
		return PROBE_FILT_EIF;
	if (got_change_port == 0)
		return PROBE_FILT_APDF;	/* even the other port was kept out */
	if (got_change_ip_port < 0)
		return PROBE_FILT_UNKNOWN;
	if (got_change_port == 1)
		return PROBE_FILT_ADF;
	return PROBE_FILT_UNKNOWN;
}

static int port_diff(uint16_t from, uint16_t to)
{
	int d = (int)to - (int)from;

	if (d > 32767)
		d -= 65536;
	if (d < -32768)
		d += 65536;
	return d;
}

/*
 * Mappings made one after the other from fresh local ports. Most kept
 * their local port: preserving. Otherwise the commonest step between two
 * consecutive mappings is the delta; when at least half the steps are that
 * one (other hosts behind the NAT take ports in between), the NAT is
 * sequential, else random. A random NAT repeats a step by chance only.
 */
void probe_classify_alloc(struct probe_proto *p)
{
	unsigned n = p->nsamples, kept = 0, i, j, best = 0;
	int diffs[PROBE_ALLOC_SAMPLES], best_d = 0;

	p->allocation = PROBE_ALLOC_UNKNOWN;
	p->delta_known = false;
	p->delta = 0;
	p->delta_hits = 0;
	if (n < 2 || n > PROBE_ALLOC_SAMPLES)
		return;
	for (i = 0; i < n; i++)
		kept += p->sample_local[i] == p->sample_mapped[i];
	if (kept * 2 > n) {
		p->allocation = PROBE_ALLOC_PRESERVING;
		return;
	}
	for (i = 0; i + 1 < n; i++)
		diffs[i] = port_diff(p->sample_mapped[i], p->sample_mapped[i + 1]);
	for (i = 0; i + 1 < n; i++) {
		unsigned c = 0;

		if (diffs[i] == 0)
			continue;
		for (j = 0; j + 1 < n; j++)
			c += diffs[j] == diffs[i];
		if (c > best) {
			best = c;
			best_d = diffs[i];
		}
	}
	if (best >= 2 && best * 2 >= n - 1) {
		p->allocation = PROBE_ALLOC_SEQUENTIAL;
		p->delta_known = true;
		p->delta = best_d;
		p->delta_hits = best;
	} else {
		p->allocation = PROBE_ALLOC_RANDOM;
	}
}

bool probe_ip_is_private(uint32_t ip_be)
{
	uint32_t ip = ntohl(ip_be);

	return (ip >> 24) == 10 ||			/* 10/8, RFC 1918 */
	       (ip >> 20) == (172u << 4 | 1) ||		/* 172.16/12 */
	       (ip >> 16) == (192u << 8 | 168) ||	/* 192.168/16 */
	       (ip >> 22) == (100u << 2 | 1) ||		/* 100.64/10, RFC 6598 CGN */
	       (ip >> 24) == 127 ||
	       (ip >> 16) == (169u << 8 | 254);		/* link-local */
}

/*
 * The outermost NAT from TTL-limited SYNs. A NAT's inside is private
 * address space (a home LAN, or the RFC 6598 shared space behind a carrier
 * NAT), so the routers up to and including the outermost NAT answer from
 * private addresses and the first router beyond it from a public one: the
 * outermost NAT is the hop before the first public answer that follows the
 * last private one. A hop that sends no time-exceeded (silent) is covered
 * by this rule; when no public hop answered at all the last private hop is
 * the best guess. A SYN with TTL = hops + 1 crosses every NAT of ours and
 * dies at the first public router, before it can reach the peer's NAT.
 * (An ISP that numbers routers inside its CGN publicly defeats this; the
 * mapping test tells "no NAT" apart, see probe_run.)
 */
int probe_classify_hops(const uint32_t *hop_addr, int max_ttl, int dest_hop, int *syn_ttl)
{
	int t, last_priv = 0, first_pub = 0, end = max_ttl, nat = -1;

	*syn_ttl = -1;
	if (dest_hop > 0 && dest_hop - 1 < end)
		end = dest_hop - 1;
	for (t = 1; t <= end; t++)
		if (hop_addr[t] && probe_ip_is_private(hop_addr[t]))
			last_priv = t;
	for (t = last_priv + 1; t <= end; t++)
		if (hop_addr[t] && !probe_ip_is_private(hop_addr[t])) {
			first_pub = t;
			break;
		}
	if (!first_pub && dest_hop > 0 && dest_hop > last_priv)
		first_pub = dest_hop;	/* the server itself is public */
	if (first_pub)
		nat = first_pub - 1;
	else if (last_priv)
		nat = last_priv;
	if (nat >= 1)
		*syn_ttl = nat + 1;
	return nat;
}

bool probe_hops_sure(const uint32_t *hop_addr, int max_ttl, int nat_hops)
{
	if (nat_hops < 1 || nat_hops + 1 > max_ttl)
		return false;
	return hop_addr[nat_hops] && probe_ip_is_private(hop_addr[nat_hops]) &&
	       hop_addr[nat_hops + 1] && !probe_ip_is_private(hop_addr[nat_hops + 1]);
}

static double sqrt_pos(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 40; i++)	/* Newton: converges long before */
		r = (r + x / r) / 2;
	return r;
}

/*
 * The loss rate's upper estimate is the observed rate plus two standard
 * errors plus 1/sent (few samples, or none lost by chance, must not look
 * clean). Loss alone takes all tries with chance p^tries.
 */
bool probe_absence_doubtful(unsigned lost, unsigned sent, unsigned tries)
{
	double p, hi, all = 1;
	unsigned i;

	if (!lost)
		return false;
	if (!sent || lost >= sent || !tries)
		return true;
	p = (double)lost / sent;
	hi = p + 2 * sqrt_pos(p * (1 - p) / sent) + 1.0 / sent;
	if (hi >= 1)
		return true;
	for (i = 0; i < tries; i++)
		all *= hi;
	return all > PROBE_DOUBT_MAX;
}

const char *probe_classic_name(enum probe_mapping m, enum probe_filtering f)
{
	switch (m) {
	case PROBE_MAP_NONE:
		return f == PROBE_FILT_EIF ? "open internet" :
		       f == PROBE_FILT_UNKNOWN ? NULL : "symmetric UDP firewall";
	case PROBE_MAP_EIM:
		switch (f) {
		case PROBE_FILT_EIF: return "full cone";
		case PROBE_FILT_ADF: return "restricted cone";
		case PROBE_FILT_APDF: return "port-restricted cone";
		default: return NULL;
		}
	case PROBE_MAP_ADM:
	case PROBE_MAP_APDM:
		return "symmetric";
	default:
		return NULL;
	}
}

static void add(struct probe_result *r, enum probe_method m)
{
	if (r->nmethods < PROBE_M_MAX)
		r->methods[r->nmethods++] = m;
}

/*
 * What will work from this side (the peer's result narrows it further).
 * TCP behaviour that was not measured is taken to be the UDP behaviour,
 * which is what most NATs do.
 */
void probe_choose_methods(struct probe_result *r)
{
	const struct probe_proto *t = r->tcp.mapping ? &r->tcp : &r->udp;
	enum probe_mapping map = t->mapping;
	enum probe_filtering filt = r->tcp.filtering ? r->tcp.filtering : r->udp.filtering;
	enum probe_alloc alloc = t->allocation;
	/* a mapping one server address could not measure, on a NAT whose
	 * allocation was: preserving counts as cone, else as symmetric, as
	 * stuntd's strategy races them (daemon/trav/strategy.h) */
	bool unmeasured = map == PROBE_MAP_UNKNOWN && r->one_addr;
	bool cone = map == PROBE_MAP_EIM || map == PROBE_MAP_NONE ||
		    (unmeasured && alloc == PROBE_ALLOC_PRESERVING);
	bool sym = map == PROBE_MAP_ADM || map == PROBE_MAP_APDM ||
		   (unmeasured && (alloc == PROBE_ALLOC_SEQUENTIAL || alloc == PROBE_ALLOC_RANDOM));
	bool ttl = r->syn_ttl > 0 || map == PROBE_MAP_NONE;
	bool udp_ok;

	r->nmethods = 0;
	if (!r->server_reached) {
		add(r, PROBE_M_RELAY);
		return;
	}
	if (r->udp_only) {
		/* TCP not tested: only what UDP's verdicts support */
		map = r->udp.mapping;
		alloc = r->udp.allocation;
		if (map == PROBE_MAP_EIM || map == PROBE_MAP_NONE ||
		    ((map == PROBE_MAP_ADM || map == PROBE_MAP_APDM) &&
		     (alloc == PROBE_ALLOC_SEQUENTIAL || alloc == PROBE_ALLOC_PRESERVING)))
			add(r, PROBE_M_UDP);
		add(r, PROBE_M_RELAY);
		return;
	}
	if ((map == PROBE_MAP_NONE && filt != PROBE_FILT_APDF && filt != PROBE_FILT_ADF) ||
	    (map == PROBE_MAP_EIM && filt == PROBE_FILT_EIF))
		add(r, PROBE_M_DIRECT);
	if (r->upnp.mapped == 1 || r->natpmp.mapped == 1 || r->pcp.mapped == 1)
		add(r, PROBE_M_PORTMAP);
	add(r, PROBE_M_REVERSAL);
	if (cone)
		add(r, PROBE_M_SIMOPEN);
	if (cone && ttl && r->seq_rewrite == 0)
		add(r, PROBE_M_STUNT1);
	if (cone && ttl)
		add(r, PROBE_M_STUNT2);
	if (cone && ttl && r->seq_rewrite == 0)
		add(r, PROBE_M_SYNTH);
	if (sym && (alloc == PROBE_ALLOC_SEQUENTIAL || alloc == PROBE_ALLOC_PRESERVING))
		add(r, PROBE_M_PREDICT);
	if (sym && alloc == PROBE_ALLOC_RANDOM)
		add(r, PROBE_M_SHOTGUN);
	udp_ok = r->udp.mapping == PROBE_MAP_EIM || r->udp.mapping == PROBE_MAP_NONE ||
		 ((r->udp.mapping == PROBE_MAP_ADM || r->udp.mapping == PROBE_MAP_APDM) &&
		  (r->udp.allocation == PROBE_ALLOC_SEQUENTIAL ||
		   r->udp.allocation == PROBE_ALLOC_PRESERVING));
	if (udp_ok)
		add(r, PROBE_M_UDP);
	add(r, PROBE_M_RELAY);
}

uint32_t probe_classify_foreign(uint16_t port1, uint16_t port2, int delta)
{
	int32_t steps, d = delta ? delta : 1;
	int32_t span = (int32_t)port2 - (int32_t)port1;

	/* port2 is ours, one mapping after port1: span = delta * (1 + foreign) */
	if (d < 0) {
		d = -d;
		span = -span;
	}
	if (span <= 0 || span > 32768)
		return 0;
	steps = span / d - 1;
	return steps > 0 ? (uint32_t)steps : 0;
}

uint32_t probe_classify_pace(uint16_t port1, uint16_t port2, int delta, uint32_t interval_ms)
{
	if (interval_ms == 0)
		return 0;
	return (uint32_t)((uint64_t)probe_classify_foreign(port1, port2, delta) * 10000u /
			  interval_ms);
}

/*
 * IPv6: a peer can reach us directly when the address it learns is ours
 * (no translation, or a translation the same towards every destination)
 * and the firewall lets unsolicited packets in (EIF). A stateful firewall
 * (ADF / APDF), or filtering not measured, still opens for packets that
 * answer ours: both sides send first (simultaneous open). A translation
 * that depends on the destination gives the peer an address it cannot use.
 */
enum probe6_direct probe6_direct_verdict(const struct probe6_result *v6)
{
	if (!v6->reached || v6->translated < 0)
		return PROBE6_D_UNKNOWN;
	if (v6->translated && (v6->udp_mapping == PROBE_MAP_ADM || v6->udp_mapping == PROBE_MAP_APDM))
		return PROBE6_D_RELAY;
	/* UDP's filtering, or TCP's when UDP's is not known (--tcp-only) */
	if ((v6->udp_filtering ? v6->udp_filtering : v6->tcp_filtering) == PROBE_FILT_EIF &&
	    (!v6->translated || v6->udp_mapping == PROBE_MAP_EIM))
		return PROBE6_D_YES;
	return PROBE6_D_SIMOPEN;
}

int probe_classify_fw6_hops(const int res[PROBE6_FW_MAX + 1], int dest_hop)
{
	int h;

	for (h = 1; h <= PROBE6_FW_MAX && (dest_hop <= 0 || h < dest_hop); h++)
		if (res[h] == STUNT_PROBE_SYNACK)
			return h;
	return 0;
}
