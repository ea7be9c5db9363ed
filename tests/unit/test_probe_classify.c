// SPDX-License-Identifier: MIT
/* stunt-probe's verdicts from made-up measurements (probes/probe_classify.c):
 * RFC 5780 mapping and filtering, allocation and its delta, the outermost
 * NAT's hop count, the RFC 3489 name, the methods list. */
#include "probes/probe.h"
#include "proto/stunt.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <string.h>

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void set(struct probe_ep *e, const char *a, uint16_t port)
{
	e->known = true;
	e->ip = ip(a);
	e->port = port;
}

static void set6(struct probe_ep *e, const char *a, uint16_t port)
{
	e->known = e->v6 = true;
	e->ip = 0;
	inet_pton(AF_INET6, a, e->ip6);
	e->port = port;
}

/* An IPv6 endpoint compares by its 16 bytes: ip (0 for both) must not
 * make two different IPv6 addresses equal. */
static void mapping_ipv6(void)
{
	struct probe_ep m[PROBE_EP_MAX] = { 0 }, local = { 0 };

	set6(&local, "2001:db8:1::10", 40000);
	set6(&m[PROBE_EP_A1P1], "2001:db8:1::10", 40000);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_NONE);
	/* NAT66 / NPTv6: another address, same port */
	set6(&m[PROBE_EP_A1P1], "2001:db8:2::1", 40000);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_UNKNOWN);
	set6(&m[PROBE_EP_A1P2], "2001:db8:2::1", 40000);
	set6(&m[PROBE_EP_A2P1], "2001:db8:2::1", 40000);
	set6(&m[PROBE_EP_A2P2], "2001:db8:2::1", 40000);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_EIM);
	/* another address (only the last byte) towards the other server address */
	set6(&m[PROBE_EP_A2P1], "2001:db8:2::2", 40000);
	set6(&m[PROBE_EP_A2P2], "2001:db8:2::2", 40000);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_ADM);
	set6(&m[PROBE_EP_A1P2], "2001:db8:2::3", 40000);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_APDM);
}

static void direct6(void)
{
	struct probe6_result v;

	memset(&v, 0, sizeof(v));
	v.translated = -1;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_UNKNOWN);
	v.reached = true;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_UNKNOWN);	/* translation unknown */
	v.translated = 0;
	v.udp_mapping = PROBE_MAP_NONE;
	v.udp_filtering = PROBE_FILT_EIF;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_YES);
	v.udp_filtering = PROBE_FILT_APDF;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_SIMOPEN);
	v.udp_filtering = PROBE_FILT_ADF;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_SIMOPEN);
	v.udp_filtering = PROBE_FILT_UNKNOWN;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_SIMOPEN);
	/* no UDP (--tcp-only): TCP's filtering decides; with UDP's, UDP's does */
	v.tcp_filtering = PROBE_FILT_EIF;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_YES);
	v.udp_filtering = PROBE_FILT_APDF;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_SIMOPEN);
	v.udp_filtering = PROBE_FILT_UNKNOWN;
	v.tcp_filtering = PROBE_FILT_APDF;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_SIMOPEN);
	v.tcp_filtering = PROBE_FILT_UNKNOWN;
	/* NPTv6: one translation for every destination */
	v.translated = 1;
	v.udp_mapping = PROBE_MAP_EIM;
	v.udp_filtering = PROBE_FILT_EIF;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_YES);
	v.udp_mapping = PROBE_MAP_UNKNOWN;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_SIMOPEN);
	v.udp_mapping = PROBE_MAP_APDM;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_RELAY);
	v.udp_mapping = PROBE_MAP_ADM;
	CHECK_EQ(probe6_direct_verdict(&v), PROBE6_D_RELAY);
}

static void mapping_rfc5780(void)
{
	struct probe_ep m[PROBE_EP_MAX] = { 0 }, local = { 0 };

	set(&local, "10.1.0.10", 40000);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_UNKNOWN);
	/* the same public endpoint towards all four server endpoints */
	for (int i = 0; i < PROBE_EP_MAX; i++)
		set(&m[i], "198.18.1.2", 40000);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_EIM);
	/* one per server address, the same for both its ports */
	set(&m[PROBE_EP_A2P1], "198.18.1.2", 40001);
	set(&m[PROBE_EP_A2P2], "198.18.1.2", 40001);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_ADM);
	/* one per address and port */
	set(&m[PROBE_EP_A1P2], "198.18.1.2", 40002);
	set(&m[PROBE_EP_A2P2], "198.18.1.2", 40003);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_APDM);
	/* public address = local address: no NAT */
	set(&m[PROBE_EP_A1P1], "10.1.0.10", 40000);
	CHECK_EQ(probe_classify_mapping(m, &local), PROBE_MAP_NONE);
	/* only the first answer: nothing to compare with */
	struct probe_ep one[PROBE_EP_MAX] = { 0 };
	set(&one[PROBE_EP_A1P1], "198.18.1.2", 40000);
	CHECK_EQ(probe_classify_mapping(one, &local), PROBE_MAP_UNKNOWN);
	/* a lost A2:P1 answer: A2:P2 alone still tells EIM */
	set(&one[PROBE_EP_A2P2], "198.18.1.2", 40000);
	CHECK_EQ(probe_classify_mapping(one, &local), PROBE_MAP_EIM);
}

static void filtering_rfc5780(void)
{
	CHECK_EQ(probe_classify_filtering(1, 1), PROBE_FILT_EIF);
	CHECK_EQ(probe_classify_filtering(1, 0), PROBE_FILT_EIF);
	CHECK_EQ(probe_classify_filtering(0, 1), PROBE_FILT_ADF);
	CHECK_EQ(probe_classify_filtering(0, 0), PROBE_FILT_APDF);
	/* a server that cannot change address: unknown, not "filtered" */
	CHECK_EQ(probe_classify_filtering(-1, -1), PROBE_FILT_UNKNOWN);
	CHECK_EQ(probe_classify_filtering(0, -1), PROBE_FILT_UNKNOWN);
	/* one address: no IP+port test; the other port kept out is APDF,
	 * let in leaves EIF and ADF apart */
	CHECK_EQ(probe_classify_filtering(-1, 0), PROBE_FILT_APDF);
	CHECK_EQ(probe_classify_filtering(-1, 1), PROBE_FILT_UNKNOWN);
}

static void alloc_of(struct probe_proto *p, const uint16_t *loc, const uint16_t *map, unsigned n)
{
	p->nsamples = n;
	for (unsigned i = 0; i < n; i++) {
		p->sample_local[i] = loc[i];
		p->sample_mapped[i] = map[i];
	}
	probe_classify_alloc(p);
}

static void allocation(void)
{
	static const uint16_t loc[6] = { 35869, 41998, 43254, 43083, 52555, 45747 };
	struct probe_proto p = { 0 };

	alloc_of(&p, loc, loc, 6);
	CHECK_EQ(p.allocation, PROBE_ALLOC_PRESERVING);
	CHECK(!p.delta_known);
	/* sym-seq:3 as the lab builds it */
	static const uint16_t seq3[6] = { 20000, 20003, 20006, 20009, 20012, 20015 };
	alloc_of(&p, loc, seq3, 6);
	CHECK_EQ(p.allocation, PROBE_ALLOC_SEQUENTIAL);
	CHECK(p.delta_known);
	CHECK_EQ(p.delta, 3);
	CHECK_EQ(p.delta_hits, 5);
	/* another host took two ports in between: still sequential, 4 of 5 */
	static const uint16_t busy[6] = { 20000, 20001, 20002, 20005, 20006, 20007 };
	alloc_of(&p, loc, busy, 6);
	CHECK_EQ(p.allocation, PROBE_ALLOC_SEQUENTIAL);
	CHECK_EQ(p.delta, 1);
	CHECK_EQ(p.delta_hits, 4);
	/* wrapping past 65535 and a negative delta */
	static const uint16_t wrap[4] = { 65534, 0, 2, 4 };
	alloc_of(&p, loc, wrap, 4);
	CHECK_EQ(p.allocation, PROBE_ALLOC_SEQUENTIAL);
	CHECK_EQ(p.delta, 2);
	static const uint16_t down[4] = { 30000, 29999, 29998, 29997 };
	alloc_of(&p, loc, down, 4);
	CHECK_EQ(p.delta, -1);
	/* fully random */
	static const uint16_t rnd[6] = { 51234, 1033, 60211, 40222, 33333, 17771 };
	alloc_of(&p, loc, rnd, 6);
	CHECK_EQ(p.allocation, PROBE_ALLOC_RANDOM);
	CHECK(!p.delta_known);
	/* one sample says nothing */
	alloc_of(&p, loc, rnd, 1);
	CHECK_EQ(p.allocation, PROBE_ALLOC_UNKNOWN);
}

/* The IPv6 firewall's distance: the first hop limit the server's SYN got
 * in after, below the server's hop */
static void fw6_hops(void)
{
	int res[PROBE6_FW_MAX + 1] = { -1, STUNT_PROBE_DROP, STUNT_PROBE_SYNACK, STUNT_PROBE_DROP,
				       STUNT_PROBE_DROP };

	CHECK_EQ(probe_classify_fw6_hops(res, 3), 2);
	CHECK_EQ(probe_classify_fw6_hops(res, -1), 2);	/* dest_hop unknown */
	CHECK_EQ(probe_classify_fw6_hops(res, 2), 0);	/* hop 2 reached the server */
	res[1] = STUNT_PROBE_SYNACK;			/* no firewall in the way */
	CHECK_EQ(probe_classify_fw6_hops(res, 3), 1);
	res[1] = STUNT_PROBE_RST;
	res[2] = -1;					/* no answer for hop limit 2 */
	res[3] = STUNT_PROBE_SYNACK;
	CHECK_EQ(probe_classify_fw6_hops(res, 5), 3);
	CHECK_EQ(probe_classify_fw6_hops(res, 3), 0);
	res[3] = STUNT_PROBE_ICMP;
	CHECK_EQ(probe_classify_fw6_hops(res, -1), 0);
}

static void hops(void)
{
	uint32_t h[PROBE_TTL_MAX + 1] = { 0 };
	int ttl;

	/* home NAT (10.1.0.1), then the first public router, server at 3 */
	h[1] = ip("10.1.0.1");
	h[2] = ip("198.18.1.1");
	CHECK_EQ(probe_classify_hops(h, PROBE_TTL_MAX, 3, &ttl), 1);
	CHECK_EQ(ttl, 2);
	/* home NAT, carrier NAT in 100.64/10, public router */
	h[2] = ip("100.64.1.1");
	h[3] = ip("198.18.1.1");
	CHECK_EQ(probe_classify_hops(h, PROBE_TTL_MAX, 4, &ttl), 2);
	CHECK_EQ(ttl, 3);
	/* the carrier NAT sends no time-exceeded: still the hop before the
	 * first public one */
	h[2] = 0;
	CHECK_EQ(probe_classify_hops(h, PROBE_TTL_MAX, 4, &ttl), 2);
	CHECK_EQ(ttl, 3);
	/* nothing but the server answered: the NATs are the hops before it */
	uint32_t none[PROBE_TTL_MAX + 1] = { 0 };
	CHECK_EQ(probe_classify_hops(none, PROBE_TTL_MAX, 3, &ttl), 2);
	/* nothing at all */
	CHECK_EQ(probe_classify_hops(none, PROBE_TTL_MAX, -1, &ttl), -1);
	CHECK_EQ(ttl, -1);
	/* no public hop before the probes ran out: the last private one */
	uint32_t priv[PROBE_TTL_MAX + 1] = { 0 };
	priv[1] = ip("192.168.1.1");
	priv[2] = ip("172.16.0.1");
	CHECK_EQ(probe_classify_hops(priv, 2, -1, &ttl), 2);
	CHECK(probe_ip_is_private(ip("100.127.255.255")));
	CHECK(!probe_ip_is_private(ip("100.128.0.1")));
	CHECK(!probe_ip_is_private(ip("172.32.0.1")));
	CHECK(!probe_ip_is_private(ip("192.0.2.1")));
}

static void classic_names(void)
{
	CHECK(!strcmp(probe_classic_name(PROBE_MAP_EIM, PROBE_FILT_EIF), "full cone"));
	CHECK(!strcmp(probe_classic_name(PROBE_MAP_EIM, PROBE_FILT_ADF), "restricted cone"));
	CHECK(!strcmp(probe_classic_name(PROBE_MAP_EIM, PROBE_FILT_APDF), "port-restricted cone"));
	CHECK(!strcmp(probe_classic_name(PROBE_MAP_APDM, PROBE_FILT_APDF), "symmetric"));
	CHECK(!strcmp(probe_classic_name(PROBE_MAP_NONE, PROBE_FILT_EIF), "open internet"));
	CHECK(!probe_classic_name(PROBE_MAP_UNKNOWN, PROBE_FILT_EIF));
}

static void methods_str(const struct probe_result *r, char *out, size_t cap)
{
	out[0] = '\0';
	for (unsigned i = 0; i < r->nmethods; i++) {
		strncat(out, i ? " " : "", cap - strlen(out) - 1);
		strncat(out, probe_method_name(r->methods[i]), cap - strlen(out) - 1);
	}
}

static void methods(void)
{
	struct probe_result r;
	char s[200];

	probe_result_init(&r);
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "relay"));	/* server unreachable */

	/* one server address: mapping unknown, preserving, APDF: the cone
	 * methods; sequential: predict */
	probe_result_init(&r);
	r.server_reached = true;
	r.one_addr = true;
	r.udp.filtering = r.tcp.filtering = PROBE_FILT_APDF;
	r.udp.allocation = r.tcp.allocation = PROBE_ALLOC_PRESERVING;
	r.nat_hops = 1;
	r.syn_ttl = 2;
	r.seq_rewrite = 0;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "reversal simopen stunt1 stunt2 synth relay"));
	r.udp.allocation = r.tcp.allocation = PROBE_ALLOC_SEQUENTIAL;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "reversal predict relay"));
	r.one_addr = false;	/* unknown for another reason: nothing assumed */
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "reversal relay"));

	/* full cone, TTL known, no sequence rewriting, UPnP mapping made */
	probe_result_init(&r);
	r.server_reached = true;
	r.udp.mapping = r.tcp.mapping = PROBE_MAP_EIM;
	r.udp.filtering = r.tcp.filtering = PROBE_FILT_EIF;
	r.tcp.allocation = PROBE_ALLOC_PRESERVING;
	r.nat_hops = 1;
	r.syn_ttl = 2;
	r.seq_rewrite = 0;
	r.upnp.mapped = 1;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "direct portmap reversal simopen stunt1 stunt2 synth udp relay"));

	/* port-restricted cone, no root: TTL and sequence numbers unknown */
	r.udp.filtering = r.tcp.filtering = PROBE_FILT_APDF;
	r.upnp.mapped = -1;
	r.nat_hops = r.syn_ttl = r.seq_rewrite = -1;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "reversal simopen udp relay"));

	/* symmetric, sequential: prediction */
	r.udp.mapping = r.tcp.mapping = PROBE_MAP_APDM;
	r.udp.allocation = r.tcp.allocation = PROBE_ALLOC_SEQUENTIAL;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "reversal predict udp relay"));

	/* symmetric, random: shotgun, no UDP hole punching */
	r.udp.allocation = r.tcp.allocation = PROBE_ALLOC_RANDOM;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "reversal shotgun relay"));

	/* TCP not measured: the UDP behaviour stands in for it */
	r.tcp.mapping = PROBE_MAP_UNKNOWN;
	r.udp.mapping = PROBE_MAP_EIM;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "reversal simopen udp relay"));

	/* --udp-only: no TCP method, whatever UDP says */
	r.udp_only = true;
	r.udp.filtering = PROBE_FILT_EIF;
	r.upnp.mapped = 1;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "udp relay"));
	r.udp.mapping = PROBE_MAP_APDM;
	r.udp.allocation = PROBE_ALLOC_RANDOM;
	probe_choose_methods(&r);
	methods_str(&r, s, sizeof(s));
	CHECK(!strcmp(s, "relay"));
}

/* Silence as a verdict: certain on a clean path, doubted on a lossy one
 * until enough tries make loss alone unlikely (PROBE_DOUBT_MAX). */
static void doubt(void)
{
	/* no loss seen: the retransmitted test is believed */
	CHECK(!probe_absence_doubtful(0, 40, 1));
	CHECK(!probe_absence_doubtful(0, 0, 3));
	/* loss seen, but nothing to judge it by, or every try lost */
	CHECK(probe_absence_doubtful(1, 0, 3));
	CHECK(probe_absence_doubtful(5, 5, 10));
	CHECK(probe_absence_doubtful(3, 40, 0));
	/* 19 % round-trip loss (10 % each way) seen over 100 round trips:
	 * one or three tries are not enough, eight are */
	CHECK(probe_absence_doubtful(19, 100, 1));
	CHECK(probe_absence_doubtful(19, 100, 3));
	CHECK(!probe_absence_doubtful(19, 100, 8));
	/* 51 % (30 % each way): even eight tries leave doubt */
	CHECK(probe_absence_doubtful(51, 100, 8));
	/* a little loss over many samples: three tries suffice */
	CHECK(!probe_absence_doubtful(1, 200, 3));
}

static void hops_sure(void)
{
	uint32_t h[PROBE_TTL_MAX + 1] = { 0 };

	h[1] = ip("10.1.0.1");
	h[2] = ip("198.18.1.1");
	CHECK(probe_hops_sure(h, PROBE_TTL_MAX, 1));
	CHECK(!probe_hops_sure(h, PROBE_TTL_MAX, 0));
	CHECK(!probe_hops_sure(h, PROBE_TTL_MAX, -1));
	CHECK(!probe_hops_sure(h, PROBE_TTL_MAX, PROBE_TTL_MAX));
	/* the public hop's answer was lost: 2 is a guess from the server's hop */
	h[2] = 0;
	CHECK(!probe_hops_sure(h, PROBE_TTL_MAX, 2));
	CHECK(!probe_hops_sure(h, PROBE_TTL_MAX, 1));
	/* a CGN: private, shared (RFC 6598), then public */
	h[2] = ip("100.64.1.1");
	h[3] = ip("198.18.1.1");
	CHECK(probe_hops_sure(h, PROBE_TTL_MAX, 2));
	/* the NAT's own hop silent */
	h[2] = 0;
	CHECK(!probe_hops_sure(h, PROBE_TTL_MAX, 2));
}

/* foreign ports per second (tenths) between two Bindings of ours */
static void pace(void)
{
	/* back to back on a quiet NAT: the next port, nobody between */
	CHECK_EQ(probe_classify_pace(20000, 20001, 1, 40), 0);
	/* 4 others in 40 ms: 100 per second */
	CHECK_EQ(probe_classify_pace(20000, 20005, 1, 40), 1000);
	/* delta 2: 3 others in 60 ms = 50 per second */
	CHECK_EQ(probe_classify_pace(20000, 20008, 2, 60), 500);
	/* a negative delta counts downwards */
	CHECK_EQ(probe_classify_pace(30000, 29990, -1, 90), 1000);
	/* backwards, a wrap, no time: no pace rather than a wrong one */
	CHECK_EQ(probe_classify_pace(20005, 20000, 1, 40), 0);
	CHECK_EQ(probe_classify_pace(1100, 65000, 1, 40), 0);
	CHECK_EQ(probe_classify_pace(20000, 20010, 1, 0), 0);
	/* delta 0 reads as 1 */
	CHECK_EQ(probe_classify_pace(20000, 20003, 0, 20), 1000);
	/* the ports alone, by the same rules */
	CHECK_EQ(probe_classify_foreign(20000, 20001, 1), 0);
	CHECK_EQ(probe_classify_foreign(20000, 20005, 1), 4);
	CHECK_EQ(probe_classify_foreign(20000, 20008, 2), 3);
	CHECK_EQ(probe_classify_foreign(30000, 29990, -1), 9);
	CHECK_EQ(probe_classify_foreign(20005, 20000, 1), 0);
	CHECK_EQ(probe_classify_foreign(1100, 65000, 1), 0);
}

int main(void)
{
	RUN(pace);
	RUN(mapping_rfc5780);
	RUN(mapping_ipv6);
	RUN(direct6);
	RUN(filtering_rfc5780);
	RUN(allocation);
	RUN(hops);
	RUN(fw6_hops);
	RUN(classic_names);
	RUN(methods);
	RUN(doubt);
	RUN(hops_sure);
	return TAP_DONE();
}
