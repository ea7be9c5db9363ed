// SPDX-License-Identifier: MIT
/* Which methods are raced for a pair of NATs (daemon/trav/strategy.c). */
#include "daemon/trav/strategy.h"
#include "tests/unit/tap.h"

/* SIG-NAT-INFO as the lab's NATs measure (TCP fields matter) */
static const struct sig_nat_info full_cone = { .tcp_mapping = 1, .tcp_filtering = 1,
	.tcp_alloc = SIG_ALLOC_PRESERVING, .unsolicited = 2, .nat_hops = 1 };
static const struct sig_nat_info port_restricted = { .tcp_mapping = 1, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_PRESERVING, .unsolicited = 2, .nat_hops = 1 };
static const struct sig_nat_info sym_random = { .tcp_mapping = 3, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_RANDOM, .unsolicited = 2, .nat_hops = 1 };
static const struct sig_nat_info public_host = { .tcp_mapping = 1, .tcp_filtering = 1,
	.tcp_alloc = SIG_ALLOC_PRESERVING, .nat_hops = 0 };
static const struct sig_nat_info unknown = { 0 };
/* lab eim-random: EIM/APDF, the NAT's own port per internal endpoint; and
 * an EIM NAT whose ports count up (both: a Binding tells the port) */
static const struct sig_nat_info eim_random = { .tcp_mapping = 1, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_RANDOM, .unsolicited = 2, .nat_hops = 1 };
static const struct sig_nat_info eim_seq = { .tcp_mapping = 1, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_SEQUENTIAL, .tcp_delta = 1, .unsolicited = 2, .nat_hops = 1 };
/* lab sym-seq:1 / sym-seq:2, and a restricted cone (EIM/ADF) */
static const struct sig_nat_info sym_seq = { .tcp_mapping = 3, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_SEQUENTIAL, .tcp_delta = 1, .unsolicited = 2, .nat_hops = 1 };
static const struct sig_nat_info sym_seq2 = { .tcp_mapping = 3, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_SEQUENTIAL, .tcp_delta = 2, .unsolicited = 2, .nat_hops = 1 };
static const struct sig_nat_info restricted_cone = { .tcp_mapping = 1, .tcp_filtering = 2,
	.tcp_alloc = SIG_ALLOC_PRESERVING, .unsolicited = 2, .nat_hops = 1 };
/* the lab's --upnp-a gateway: a port-restricted cone whose miniupnpd maps */
static const struct sig_nat_info pr_upnp = { .tcp_mapping = 1, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_PRESERVING, .unsolicited = 2, .nat_hops = 1,
	.flags = SIG_NAT_UPNP | SIG_NAT_NATPMP };
static const struct sig_nat_info sym_pcp = { .tcp_mapping = 3, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_RANDOM, .unsolicited = 2, .nat_hops = 1, .flags = SIG_NAT_PCP };
static const struct sig_nat_info fc_natpmp = { .tcp_mapping = 1, .tcp_filtering = 1,
	.tcp_alloc = SIG_ALLOC_PRESERVING, .unsolicited = 2, .nat_hops = 1,
	.flags = SIG_NAT_NATPMP };

/* the same NATs, with a TURN server configured on that side */
static const struct sig_nat_info sym_random_turn = { .tcp_mapping = 3, .tcp_filtering = 3,
	.tcp_alloc = SIG_ALLOC_RANDOM, .unsolicited = 2, .nat_hops = 1, .flags = SIG_NAT_TURN };
static const struct sig_nat_info full_cone_turn = { .tcp_mapping = 1, .tcp_filtering = 1,
	.tcp_alloc = SIG_ALLOC_PRESERVING, .unsolicited = 2, .nat_hops = 1,
	.flags = SIG_NAT_TURN };

static size_t run(const struct sig_nat_info *req, const struct sig_nat_info *resp,
		  unsigned forced, uint8_t *out, bool *fok, char *why)
{
	return trav_strategy(req, resp, forced, out, TRAV_MAX_METHODS, fok, why, 512);
}

static void pairs(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512];
	bool fok;

	/* requester behind port-restricted, responder full cone: direct, then simopen */
	CHECK_EQ(run(&port_restricted, &full_cone, 0, m, &fok, why), 3);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK_EQ(m[1], SIG_M_SIMOPEN);
	/* the other way round: reversal, then simopen */
	CHECK_EQ(run(&full_cone, &port_restricted, 0, m, &fok, why), 3);
	CHECK_EQ(m[0], SIG_M_REVERSAL);
	CHECK_EQ(m[1], SIG_M_SIMOPEN);
	/* two port-restricted cones: only simultaneous open */
	CHECK_EQ(run(&port_restricted, &port_restricted, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	/* full cone and a random symmetric NAT: only the cone can accept */
	CHECK_EQ(run(&sym_random, &full_cone, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK_EQ(run(&full_cone, &sym_random, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_REVERSAL);
	/* public and full cone: everything */
	CHECK_EQ(run(&public_host, &full_cone, 0, m, &fok, why), 4);
}

static void impossible(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512] = "";
	bool fok;

	/* two random symmetric NATs: nothing to predict, nothing to aim at */
	CHECK_EQ(run(&sym_random, &sym_random, 0, m, &fok, why), 0);
	CHECK(strstr(why, "no traversal method") != NULL);
	CHECK(strstr(why, "APDM/APDF random") != NULL);
	CHECK(strstr(why, "both NATs give each connection a random port") != NULL);
	CHECK(strstr(why, "relay needed") != NULL);
}

/* A side whose discovery measured nothing of its TCP NAT (probes lost at
 * 30 % loss, or discovery failed: all zero) is not a side nothing can
 * reach: the methods of a port-preserving cone are raced, simopen and
 * stunt1 as between two cones, direct / reversal towards it since its
 * filter is not known to be APDF. Before, no method was proposed and
 * every connect failed ("no traversal method can work"). */
static void unknown_tries_the_general_methods(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512];
	bool fok;

	CHECK(trav_maybe_predictable(&unknown));
	CHECK(!trav_shotgun_pair(&unknown, &port_restricted));
	/* requester unknown: reversal (its filter may be open), simopen, stunt1 */
	CHECK_EQ(run(&unknown, &port_restricted, 0, m, &fok, why), 3);
	CHECK_EQ(m[0], SIG_M_REVERSAL);
	CHECK_EQ(m[1], SIG_M_SIMOPEN);
	CHECK_EQ(m[2], SIG_M_STUNT1);
	/* responder unknown: direct first */
	CHECK_EQ(run(&port_restricted, &unknown, 0, m, &fok, why), 3);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK_EQ(m[1], SIG_M_SIMOPEN);
	CHECK_EQ(m[2], SIG_M_STUNT1);
	/* both unknown */
	CHECK_EQ(run(&unknown, &unknown, 0, m, &fok, why), 4);
	/* beside a full cone the sure direct comes first */
	CHECK_EQ(run(&unknown, &full_cone, 0, m, &fok, why), 4);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	/* a random symmetric NAT beside it: simopen cannot aim; nothing sure,
	 * the unknown side may still accept (reversal) */
	CHECK_EQ(run(&sym_random, &unknown, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	/* forcing simopen with an unknown side is agreed */
	CHECK(trav_forced_ok(&unknown, &port_restricted, SIG_M_SIMOPEN));
}

static void shotgun(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512] = "";
	bool fok;

	/* EIM/APDF facing a random symmetric NAT, both role orders: shotgun only */
	CHECK_EQ(run(&port_restricted, &sym_random, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_SHOTGUN);
	CHECK_EQ(run(&sym_random, &port_restricted, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_SHOTGUN);
	CHECK(trav_shotgun_pair(&port_restricted, &sym_random));
	CHECK(trav_shotgun_pair(&sym_random, &port_restricted));
	/* a cone that accepts does it cheaper: no shotgun raced ... */
	CHECK_EQ(run(&full_cone, &sym_random, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_REVERSAL);
	/* ... but forced, the strategy agrees it works */
	CHECK_EQ(run(&full_cone, &sym_random, SIG_M_SHOTGUN, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_SHOTGUN);
	CHECK(fok);
	/* a restricted cone primes its filter for the peer's address: direct /
	 * reversal, no shotgun */
	CHECK_EQ(run(&sym_random, &restricted_cone, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK_EQ(run(&restricted_cone, &sym_random, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_REVERSAL);
	/* a sequential side is predict's; facing a random one, neither works */
	CHECK(!trav_shotgun_pair(&sym_seq, &port_restricted));
	CHECK(!trav_shotgun_pair(&sym_seq, &sym_random));
	CHECK_EQ(run(&sym_seq, &sym_random, 0, m, &fok, why), 0);
	/* forced on two cones or two random NATs: tried, not agreed */
	CHECK_EQ(run(&port_restricted, &port_restricted, SIG_M_SHOTGUN, m, &fok, why), 1);
	CHECK(!fok);
	CHECK_EQ(run(&sym_random, &sym_random, SIG_M_SHOTGUN, m, &fok, why), 1);
	CHECK(!fok);
	/* the odds the constants give (daemon/trav/trav.h): 256 of 64512, 1000 guesses */
	CHECK(trav_shotgun_odds(256, 64512, 1000) > 0.98);
	CHECK(trav_shotgun_odds(256, 64512, 1000) < 0.985);
	CHECK(trav_shotgun_odds(256, 64512, 2000) > 0.9995);
	CHECK(trav_shotgun_odds(256, 64512, 0) == 0.0);
	CHECK(trav_shotgun_odds(10, 10, 1) == 1.0);
}

static void forced(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512];
	bool fok;

	CHECK_EQ(run(&port_restricted, &port_restricted, SIG_M_SIMOPEN, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK(fok);
	/* tried anyway, but the strategy disagrees */
	CHECK_EQ(run(&port_restricted, &port_restricted, SIG_M_DIRECT, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK(!fok);
}

static void portmap(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512];
	bool fok;

	/* the responder's gateway maps, two port-restricted cones: portmap, then simopen */
	CHECK_EQ(run(&port_restricted, &pr_upnp, 0, m, &fok, why), 3);
	CHECK_EQ(m[0], SIG_M_PORTMAP);
	CHECK_EQ(m[1], SIG_M_SIMOPEN);
	CHECK(!trav_portmap_requester_accepts(&port_restricted, &pr_upnp));
	/* the requester's gateway maps: the same race, the requester accepts */
	CHECK_EQ(run(&pr_upnp, &port_restricted, 0, m, &fok, why), 3);
	CHECK_EQ(m[0], SIG_M_PORTMAP);
	CHECK_EQ(m[1], SIG_M_SIMOPEN);
	CHECK(trav_portmap_requester_accepts(&pr_upnp, &port_restricted));
	/* both can: the requester accepts (it maps before its EXCHANGE) */
	CHECK(trav_portmap_requester_accepts(&pr_upnp, &pr_upnp));
	/* a random symmetric NAT can still connect out to a mapping ... */
	CHECK_EQ(run(&sym_random, &pr_upnp, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PORTMAP);
	CHECK_EQ(run(&pr_upnp, &sym_random, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PORTMAP);
	/* ... and a PCP gateway in front of one maps for it */
	CHECK_EQ(run(&sym_pcp, &sym_random, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PORTMAP);
	/* DESIGN order: after direct, before reversal */
	CHECK_EQ(run(&fc_natpmp, &fc_natpmp, 0, m, &fok, why), 5);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK_EQ(m[1], SIG_M_PORTMAP);
	CHECK_EQ(m[2], SIG_M_REVERSAL);
	CHECK_EQ(m[3], SIG_M_SIMOPEN);
	/* forced: agreed only where a gateway maps */
	CHECK_EQ(run(&port_restricted, &pr_upnp, SIG_M_PORTMAP, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PORTMAP);
	CHECK(fok);
	CHECK_EQ(run(&port_restricted, &port_restricted, SIG_M_PORTMAP, m, &fok, why), 1);
	CHECK(!fok);
	/* no gateway maps: no portmap, and the two random NATs still have nothing */
	CHECK_EQ(run(&port_restricted, &port_restricted, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK_EQ(run(&sym_random, &sym_random, 0, m, &fok, why), 0);
	CHECK(strstr(why, "or map a port") != NULL);
}

static void predict(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512];
	bool fok;

	/* two sequential NATs: only port prediction */
	CHECK_EQ(run(&sym_seq, &sym_seq, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PREDICT);
	/* sequential x port-restricted, both ways */
	CHECK_EQ(run(&sym_seq2, &port_restricted, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PREDICT);
	CHECK_EQ(run(&port_restricted, &sym_seq2, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PREDICT);
	/* after direct / reversal where a full cone accepts */
	CHECK_EQ(run(&sym_seq, &full_cone, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK_EQ(m[1], SIG_M_PREDICT);
	/* a random NAT cannot be predicted, not even facing a sequential one */
	CHECK_EQ(run(&sym_seq, &sym_random, 0, m, &fok, why), 0);
	CHECK_EQ(run(&sym_random, &sym_seq, 0, m, &fok, why), 0);
	CHECK(strstr(why, "relay needed, but no TURN server configured") != NULL);
	/* two cones: simopen does it, predict is not raced; forced: not agreed */
	CHECK_EQ(run(&port_restricted, &port_restricted, SIG_M_PREDICT, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PREDICT);
	CHECK(!fok);
	CHECK_EQ(run(&sym_seq, &port_restricted, SIG_M_PREDICT, m, &fok, why), 1);
	CHECK(fok);
	CHECK(trav_sequential(&sym_seq));
	CHECK(!trav_sequential(&sym_random));
	CHECK(!trav_sequential(&port_restricted));
	CHECK(!trav_sequential(&unknown));
}

static void stunt1(void)
{
	struct sig_nat_info pr_rewrite = port_restricted;
	uint8_t m[TRAV_MAX_METHODS];
	char why[256];
	bool fok;

	/* two cones: raced right after simopen */
	CHECK_EQ(run(&port_restricted, &port_restricted, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK_EQ(m[1], SIG_M_STUNT1);
	CHECK_EQ(run(&full_cone, &port_restricted, 0, m, &fok, why), 3);
	CHECK_EQ(m[2], SIG_M_STUNT1);
	/* a NAT that rewrites sequence numbers, on either side: never; synth
	 * (which hands no sequence number to anyone) instead */
	pr_rewrite.flags |= SIG_NAT_SEQ_REWRITE;
	CHECK(trav_seq_rewrite(&pr_rewrite));
	CHECK(!trav_seq_rewrite(&port_restricted));
	CHECK_EQ(run(&pr_rewrite, &port_restricted, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK_EQ(m[1], SIG_M_SYNTH);
	CHECK_EQ(run(&port_restricted, &pr_rewrite, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK_EQ(m[1], SIG_M_SYNTH);
	/* and not otherwise */
	CHECK_EQ(run(&port_restricted, &port_restricted, 0, m, &fok, why), 2);
	CHECK_EQ(m[1], SIG_M_STUNT1);
	/* forced through it: tried, but not agreed */
	CHECK_EQ(run(&port_restricted, &pr_rewrite, SIG_M_STUNT1, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_STUNT1);
	CHECK(!fok);
	CHECK_EQ(run(&port_restricted, &port_restricted, SIG_M_STUNT1, m, &fok, why), 1);
	CHECK(fok);
	/* an unpredictable port: the SYN-ACK could not be addressed */
	CHECK_EQ(run(&sym_random, &port_restricted, SIG_M_STUNT1, m, &fok, why), 1);
	CHECK(!fok);
	/* synth: forced only, agreed where simopen is */
	CHECK_EQ(run(&port_restricted, &port_restricted, SIG_M_SYNTH, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_SYNTH);
	CHECK(fok);
	CHECK_EQ(run(&sym_random, &port_restricted, SIG_M_SYNTH, m, &fok, why), 1);
	CHECK(!fok);
}

static void stunt2(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512];
	bool fok;

	/* two port-restricted cones: it works, but simopen, before it, does it
	 * already, so it is not raced; forced, the strategy agrees */
	CHECK_EQ(run(&port_restricted, &port_restricted, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK_EQ(run(&port_restricted, &port_restricted, SIG_M_STUNT2, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_STUNT2);
	CHECK(fok);
	CHECK_EQ(run(&port_restricted, &restricted_cone, SIG_M_STUNT2, m, &fok, why), 1);
	CHECK(fok);
	/* the requester's port must be known: its SYN aims at it */
	CHECK_EQ(run(&sym_random, &restricted_cone, SIG_M_STUNT2, m, &fok, why), 1);
	CHECK(!fok);
	/* the responder's too: the requester connects to it */
	CHECK_EQ(run(&port_restricted, &sym_random, SIG_M_STUNT2, m, &fok, why), 1);
	CHECK(!fok);
	/* a full cone accepts anyway: direct, no stunt2 */
	CHECK_EQ(run(&sym_random, &full_cone, SIG_M_STUNT2, m, &fok, why), 1);
	CHECK(!fok);
}

static void predicates(void)
{
	CHECK(trav_nat_public(&public_host));
	CHECK(!trav_nat_public(&full_cone));
	CHECK(trav_can_accept(&full_cone));
	CHECK(!trav_can_accept(&port_restricted));
	CHECK(!trav_can_accept(&restricted_cone));
	CHECK(trav_can_accept_from_peer(&restricted_cone));
	CHECK(trav_can_accept_from_peer(&full_cone));
	CHECK(!trav_can_accept_from_peer(&port_restricted));
	CHECK(!trav_can_accept_from_peer(&sym_random));
	CHECK(trav_predictable(&port_restricted));
	CHECK(!trav_predictable(&sym_random));
	CHECK(trav_can_map(&pr_upnp));
	CHECK(trav_can_map(&sym_pcp));
	CHECK(!trav_can_map(&port_restricted));
	CHECK(!trav_can_map(&unknown));
}

/* UDP sessions: udp alone, and only for the pairs trav_strategy_udp names */
static void udp(void)
{
	static const struct sig_nat_info u_pr = { .udp_mapping = 1, .udp_filtering = 3,
		.tcp_mapping = 1, .tcp_filtering = 3, .nat_hops = 1 };
	static const struct sig_nat_info u_fc = { .udp_mapping = 1, .udp_filtering = 1,
		.tcp_mapping = 1, .tcp_filtering = 1, .nat_hops = 1 };
	static const struct sig_nat_info u_rc = { .udp_mapping = 1, .udp_filtering = 2,
		.nat_hops = 1 };
	static const struct sig_nat_info u_sym = { .udp_mapping = 3, .udp_filtering = 3,
		.nat_hops = 1 };
	static const struct sig_nat_info u_pub = { .udp_mapping = 1, .udp_filtering = 1,
		.nat_hops = 0 };
	uint8_t out[TRAV_MAX_METHODS];
	char why[512] = "";
	bool fok;
	size_t i, n;

	CHECK(trav_udp_can_work(&u_pr, &u_pr));
	CHECK(trav_udp_can_work(&u_fc, &u_pr));
	CHECK(trav_udp_can_work(&u_pub, &u_sym));
	CHECK(trav_udp_can_work(&u_sym, &u_fc));
	CHECK(trav_udp_can_work(&u_rc, &u_sym));
	CHECK(!trav_udp_can_work(&u_pr, &u_sym));
	CHECK(!trav_udp_can_work(&u_sym, &u_sym));
	CHECK(!trav_udp_can_work(&unknown, &u_pr));
	/* a UDP request (udp forced): udp and only udp, even when it cannot work */
	n = run(&u_pr, &u_pr, SIG_M_UDP, out, &fok, why);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0], SIG_M_UDP);
	CHECK(fok);
	n = run(&u_sym, &u_pr, SIG_M_UDP, out, &fok, why);
	CHECK_EQ(n, 1);
	CHECK(!fok);
	n = trav_strategy_udp(&u_sym, &u_pr, 0, out, TRAV_MAX_METHODS, &fok, why, sizeof(why));
	CHECK_EQ(n, 0);
	CHECK(strstr(why, "UDP hole punching cannot work") != NULL);
	/* a TCP request never gets udp */
	n = run(&full_cone, &port_restricted, 0, out, &fok, why);
	for (i = 0; i < n; i++)
		CHECK(out[i] != SIG_M_UDP);
	CHECK_EQ(TRAV_MAX_METHODS, SIG_M_MAX);	/* room for every method, simopen6, udp6 and host too */
}

static void relay(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512];
	bool fok;

	/* two random NATs, the responder has TURN: the relay, alone */
	CHECK_EQ(run(&sym_random, &sym_random_turn, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_RELAY);
	CHECK(!trav_relay_requester_allocates(&sym_random, &sym_random_turn));
	/* only the requester has TURN: relay too, the requester allocates */
	CHECK_EQ(run(&sym_random_turn, &sym_random, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_RELAY);
	CHECK(trav_relay_requester_allocates(&sym_random_turn, &sym_random));
	/* both have: the responder allocates */
	CHECK_EQ(run(&sym_random_turn, &sym_random_turn, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_RELAY);
	CHECK(!trav_relay_requester_allocates(&sym_random_turn, &sym_random_turn));
	/* the relayed address's family, from the peer's addresses: IPv4 by
	 * default, IPv6 for a peer without IPv4 or with the test knob */
	CHECK_EQ(trav_relay_family(true, false, false), STUN_FAMILY_IPV4);
	CHECK_EQ(trav_relay_family(true, true, false), STUN_FAMILY_IPV4);
	CHECK_EQ(trav_relay_family(false, true, false), STUN_FAMILY_IPV6);
	CHECK_EQ(trav_relay_family(true, true, true), STUN_FAMILY_IPV6);
	CHECK_EQ(trav_relay_family(true, false, true), STUN_FAMILY_IPV4);	/* no IPv6 to permit */
	CHECK_EQ(trav_relay_family(false, false, true), 0);
	CHECK_EQ(trav_relay_family(false, false, false), 0);
	/* neither: no method, and the sentence says why */
	CHECK_EQ(run(&sym_random, &sym_random, 0, m, &fok, why), 0);
	CHECK(strstr(why, "no TURN server configured on either side") != NULL);
	/* a direct method works: never the relay beside it */
	CHECK_EQ(run(&port_restricted, &full_cone_turn, 0, m, &fok, why), 3);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK_EQ(m[1], SIG_M_SIMOPEN);
	CHECK_EQ(m[2], SIG_M_STUNT1);
	/* forced: agreed when the responder has TURN, whatever the NATs */
	CHECK_EQ(run(&port_restricted, &full_cone_turn, SIG_M_RELAY, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_RELAY);
	CHECK(fok);
	CHECK_EQ(run(&port_restricted, &full_cone, SIG_M_RELAY, m, &fok, why), 1);
	CHECK(!fok);
	/* ... or the requester has */
	CHECK_EQ(run(&full_cone_turn, &port_restricted, SIG_M_RELAY, m, &fok, why), 1);
	CHECK(fok);
	CHECK(trav_can_relay(&sym_random_turn));
	CHECK(!trav_can_relay(&sym_random));
}

/* A peer's forced method runs only where the strategy says it can work:
 * every method the lab tests force on their pairs passes, the rest is
 * refused with a sentence naming the method, both NATs and the need. */
static void forced_gate(void)
{
	static const struct sig_nat_info pr_turn = { .tcp_mapping = 1, .tcp_filtering = 3,
		.tcp_alloc = SIG_ALLOC_PRESERVING, .unsolicited = 2, .nat_hops = 1,
		.flags = SIG_NAT_TURN };
	static const struct sig_nat_info u_pr = { .udp_mapping = 1, .udp_filtering = 3,
		.tcp_mapping = 1, .tcp_filtering = 3, .nat_hops = 1 };
	static const struct sig_nat_info u_fc = { .udp_mapping = 1, .udp_filtering = 1,
		.tcp_mapping = 1, .tcp_filtering = 1, .nat_hops = 1 };
	static const struct sig_nat_info u_sym = { .udp_mapping = 3, .udp_filtering = 3,
		.nat_hops = 1 };
	char why[400];

	/* what t_stuntd*.sh and t_matrix force, requester first */
	CHECK(trav_forced_ok(&port_restricted, &full_cone, SIG_M_DIRECT));
	CHECK(trav_forced_ok(&full_cone, &port_restricted, SIG_M_REVERSAL));
	CHECK(trav_forced_ok(&port_restricted, &port_restricted, SIG_M_SIMOPEN));
	CHECK(trav_forced_ok(&port_restricted, &port_restricted, SIG_M_STUNT1));
	CHECK(trav_forced_ok(&full_cone, &port_restricted, SIG_M_STUNT1));
	CHECK(trav_forced_ok(&port_restricted, &port_restricted, SIG_M_SYNTH));
	CHECK(trav_forced_ok(&port_restricted, &port_restricted, SIG_M_STUNT2));
	CHECK(trav_forced_ok(&sym_seq, &sym_seq, SIG_M_PREDICT));
	CHECK(trav_forced_ok(&sym_seq2, &port_restricted, SIG_M_PREDICT));
	CHECK(trav_forced_ok(&port_restricted, &sym_seq2, SIG_M_PREDICT));
	CHECK(trav_forced_ok(&port_restricted, &pr_upnp, SIG_M_PORTMAP));
	CHECK(trav_forced_ok(&pr_upnp, &port_restricted, SIG_M_PORTMAP));
	CHECK(trav_forced_ok(&port_restricted, &sym_random, SIG_M_SHOTGUN));
	CHECK(trav_forced_ok(&sym_random, &port_restricted, SIG_M_SHOTGUN));
	CHECK(trav_forced_ok(&port_restricted, &pr_turn, SIG_M_RELAY));
	CHECK(trav_forced_ok(&pr_turn, &port_restricted, SIG_M_RELAY));
	CHECK(trav_forced_ok(&u_fc, &u_pr, SIG_M_UDP));
	CHECK(trav_forced_ok(&port_restricted, &port_restricted, 0));	/* nothing forced */

	/* refused: shotgun where both ports are predictable (the attack) */
	CHECK(!trav_forced_ok(&full_cone, &port_restricted, SIG_M_SHOTGUN));
	CHECK(!trav_forced_ok(&port_restricted, &port_restricted, SIG_M_SHOTGUN));
	CHECK(!trav_forced_ok(&public_host, &full_cone, SIG_M_SHOTGUN));
	/* direct to a side that cannot accept, reversal from one */
	CHECK(!trav_forced_ok(&full_cone, &port_restricted, SIG_M_DIRECT));
	CHECK(!trav_forced_ok(&port_restricted, &full_cone, SIG_M_REVERSAL));
	/* predict without a sequential side, relay without TURN, portmap
	 * without a mapping gateway, stunt1 through a random NAT */
	CHECK(!trav_forced_ok(&port_restricted, &port_restricted, SIG_M_PREDICT));
	CHECK(!trav_forced_ok(&port_restricted, &port_restricted, SIG_M_RELAY));
	CHECK(!trav_forced_ok(&port_restricted, &port_restricted, SIG_M_PORTMAP));
	CHECK(!trav_forced_ok(&sym_random, &port_restricted, SIG_M_STUNT1));
	/* a peer that tells nothing about its NAT gets only what the
	 * strategy races for it itself (the general methods), never shotgun */
	CHECK(trav_forced_ok(&unknown, &full_cone, SIG_M_SIMOPEN));
	CHECK(!trav_forced_ok(&unknown, &full_cone, SIG_M_SHOTGUN));
	CHECK(!trav_forced_ok(&unknown, &port_restricted, SIG_M_SHOTGUN));
	CHECK(!trav_forced_ok(&unknown, &unknown, SIG_M_PREDICT));
	/* UDP: symmetric facing port-restricted */
	CHECK(!trav_forced_ok(&u_sym, &u_pr, SIG_M_UDP));

	trav_forced_refusal(&full_cone, &port_restricted, SIG_M_SHOTGUN, why, sizeof(why));
	CHECK(strstr(why, "method shotgun refused: the strategy says it cannot work") == why);
	CHECK(strstr(why, "between EIM/EIF preserving (requester) and EIM/APDF preserving (peer)"));
	CHECK(strstr(why, "predictable and the other's random"));
	trav_forced_refusal(&port_restricted, &port_restricted, SIG_M_RELAY, why, sizeof(why));
	CHECK(strstr(why, "method relay refused") && strstr(why, "TURN server"));
	trav_forced_refusal(&port_restricted, &port_restricted, 99, why, sizeof(why));
	CHECK(strstr(why, "method ? refused"));
	trav_forced_refusal(&port_restricted, &port_restricted, SIG_M_DIRECT, why, 8);
	CHECK_EQ(strlen(why), 7);	/* cut, terminated */
}

/* What a one-address server measures: mapping unknown (EIM and ADM look
 * alike from one address), allocation and (STUNT) filtering known. */
static void one_address_unknowns(void)
{
	static const struct sig_nat_info pr_1 = { .tcp_filtering = 3,
		.tcp_alloc = SIG_ALLOC_PRESERVING, .unsolicited = 2, .nat_hops = 1 };
	static const struct sig_nat_info open_1 = { .tcp_alloc = SIG_ALLOC_PRESERVING,
		.unsolicited = 2, .nat_hops = 1 };
	static const struct sig_nat_info seq_1 = { .tcp_filtering = 3,
		.tcp_alloc = SIG_ALLOC_SEQUENTIAL, .tcp_delta = 1, .nat_hops = 1 };
	static const struct sig_nat_info rnd_1 = { .tcp_filtering = 3,
		.tcp_alloc = SIG_ALLOC_RANDOM, .nat_hops = 1 };
	uint8_t m[TRAV_MAX_METHODS];
	char why[512];
	bool fok;

	CHECK(trav_maybe_predictable(&pr_1));
	CHECK(!trav_maybe_predictable(&port_restricted));	/* measured: no maybe */
	/* two preserving NATs behind APDF filters: simopen and stunt1 raced,
	 * stunt1 never without simopen */
	CHECK_EQ(run(&pr_1, &pr_1, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK_EQ(m[1], SIG_M_STUNT1);
	/* beside a measured port-restricted cone: the same */
	CHECK_EQ(run(&port_restricted, &pr_1, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	/* a filter not known to be APDF: direct and reversal may work too,
	 * after what surely does (full cone accepts: direct first) */
	CHECK_EQ(run(&open_1, &full_cone, 0, m, &fok, why), 4);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK_EQ(m[1], SIG_M_REVERSAL);
	CHECK_EQ(m[2], SIG_M_SIMOPEN);
	CHECK_EQ(m[3], SIG_M_STUNT1);
	/* sequential without a mapping: predict; random: shotgun */
	CHECK(trav_sequential(&seq_1));
	CHECK_EQ(run(&seq_1, &pr_1, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PREDICT);
	CHECK_EQ(run(&rnd_1, &port_restricted, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_SHOTGUN);
	/* forcing simopen between two of them is agreed */
	CHECK(trav_forced_ok(&pr_1, &pr_1, SIG_M_SIMOPEN));
}

/* issue 16: an EIM NAT that picks its own ports is a cone with the port a
 * Binding learns -- neither shotgun nor predict */
static void eim_not_preserving(void)
{
	uint8_t m[TRAV_MAX_METHODS];
	char why[512] = "";
	bool fok;

	CHECK(trav_predictable(&eim_random));
	CHECK(trav_eim_learned(&eim_random));
	CHECK(trav_eim_learned(&eim_seq));
	CHECK(!trav_eim_learned(&port_restricted));
	CHECK(!trav_eim_learned(&public_host));
	CHECK(!trav_eim_learned(&sym_random));
	CHECK(!trav_sequential(&eim_seq));
	CHECK(!trav_shotgun_pair(&eim_random, &port_restricted));
	/* against a port-restricted cone, both role orders: simopen and
	 * stunt1, as two port-preserving cones (it was shotgun) */
	CHECK_EQ(run(&eim_random, &port_restricted, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK_EQ(m[1], SIG_M_STUNT1);
	CHECK_EQ(run(&port_restricted, &eim_random, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	CHECK_EQ(run(&eim_random, &eim_seq, 0, m, &fok, why), 2);
	CHECK_EQ(m[0], SIG_M_SIMOPEN);
	/* the requester can accept from a random NAT only as a cone: reversal
	 * against a full cone stays; against a random symmetric NAT the
	 * EIM side is the predictable one of a shotgun pair */
	CHECK_EQ(run(&eim_random, &full_cone, 0, m, &fok, why), 3);
	CHECK_EQ(m[0], SIG_M_DIRECT);
	CHECK(trav_shotgun_pair(&eim_random, &sym_random));
	CHECK_EQ(run(&eim_random, &sym_random, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_SHOTGUN);
	/* an EIM side facing a sequential one: predict aims at the EIM
	 * side's one learnt port */
	CHECK_EQ(run(&eim_random, &sym_seq, 0, m, &fok, why), 1);
	CHECK_EQ(m[0], SIG_M_PREDICT);
}

int main(void)
{
	RUN(forced_gate);
	RUN(relay);
	RUN(pairs);
	RUN(impossible);
	RUN(unknown_tries_the_general_methods);
	RUN(shotgun);
	RUN(forced);
	RUN(portmap);
	RUN(predict);
	RUN(stunt1);
	RUN(stunt2);
	RUN(predicates);
	RUN(udp);
	RUN(one_address_unknowns);
	RUN(eim_not_preserving);
	return TAP_DONE();
}
