// SPDX-License-Identifier: MIT
/*
 * IPv6 candidates (daemon/hostaddr6.c, method simopen6): which lines of
 * /proc/net/if_inet6 give an address we offer, which peer addresses we
 * take, and the candidate's encoding in an EXCHANGE (proto/sig.c) with
 * the method's id and name.
 */
#include "daemon/hostaddr6.h"
#include "proto/sig.h"
#include "proto/stun_msg.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

static int line(const char *l, uint8_t ip[16], char *ifn)
{
	return d_hostaddr6_parse_line(l, ip, ifn);
}

static void own_lines(void)
{
	uint8_t ip[16], want[16];
	char ifn[IFNAMSIZ];

	/* a global, permanent address: offered, with its interface */
	CHECK_EQ(line("20010db8000a00000000000000000010 02 40 00 80     eth0\n", ip, ifn), 1);
	inet_pton(AF_INET6, "2001:db8:a::10", want);
	CHECK(!memcmp(ip, want, 16));
	CHECK(!strcmp(ifn, "eth0"));
	/* a temporary (privacy) one is fine too: flag 0x01 */
	CHECK_EQ(line("2a0100000000000000000000000000ff 03 40 00 01 wlan0\n", ip, ifn), 1);
	/* tentative, deprecated, DAD failed: not */
	CHECK_EQ(line("20010db8000a00000000000000000011 02 40 00 40     eth0\n", ip, ifn), 0);
	CHECK_EQ(line("20010db8000a00000000000000000012 02 40 00 20     eth0\n", ip, ifn), 0);
	CHECK_EQ(line("20010db8000a00000000000000000013 02 40 00 08     eth0\n", ip, ifn), 0);
	/* loopback, link-local, ULA, multicast, v4-mapped, unspecified: not */
	CHECK_EQ(line("00000000000000000000000000000001 01 80 10 80       lo\n", ip, ifn), 0);
	CHECK_EQ(line("fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n", ip, ifn), 0);
	CHECK_EQ(line("fd000000000000000000000000000002 04 40 00 80     eth0\n", ip, ifn), 0);
	CHECK_EQ(line("ff020000000000000000000000000001 04 40 00 80     eth0\n", ip, ifn), 0);
	CHECK_EQ(line("00000000000000000000ffffc6336401 04 60 00 80     eth0\n", ip, ifn), 0);
	CHECK_EQ(line("00000000000000000000000000000000 04 00 00 80     eth0\n", ip, ifn), 0);
	/* a global address of another scope (the kernel says site): not */
	CHECK_EQ(line("20010db8000a00000000000000000014 02 40 40 80     eth0\n", ip, ifn), 0);
	/* not a line */
	CHECK_EQ(line("", ip, ifn), -EINVAL);
	CHECK_EQ(line("20010db8000a0000000000000000001 02 40 00 80 eth0\n", ip, ifn), -EINVAL);
	CHECK_EQ(line("20010db8000a0000000000000000001x 02 40 00 80 eth0\n", ip, ifn), -EINVAL);
	CHECK_EQ(line("20010db8000a00000000000000000010 02 40 00\n", ip, ifn), -EINVAL);
	CHECK_EQ(line("20010db8000a00000000000000000010 02 ff 00 80 eth0\n", ip, ifn), -EINVAL);
	CHECK_EQ(line("20010db8000a00000000000000000010:02 40 00 80 eth0\n", ip, ifn), -EINVAL);
}

static void peer_addresses(void)
{
	uint8_t own[2][16], ip[16];

	inet_pton(AF_INET6, "2001:db8:10::10", own[0]);
	inet_pton(AF_INET6, "2001:db8:10::99", own[1]);
	inet_pton(AF_INET6, "2001:db8:20::10", ip);
	CHECK(d_hostaddr6_peer_ok(ip, (const uint8_t (*)[16])own, 2));
	inet_pton(AF_INET6, "3fff:ffff::1", ip);
	CHECK(d_hostaddr6_peer_ok(ip, (const uint8_t (*)[16])own, 2));
	/* ours: never (a peer must not make us connect to ourselves) */
	CHECK(!d_hostaddr6_peer_ok(own[1], (const uint8_t (*)[16])own, 2));
	CHECK(d_hostaddr6_peer_ok(own[1], (const uint8_t (*)[16])own, 1));
	/* outside 2000::/3: loopback, unspecified, link-local, ULA,
	 * multicast, v4-mapped, 4000:: */
	static const char *const bad[] = { "::1", "::", "fe80::1", "fd00::7", "fc00::1",
					   "ff02::1", "ff0e::1", "::ffff:198.51.100.1", "4000::1",
					   "1fff:ffff::1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(inet_pton(AF_INET6, bad[i], ip), 1);
		CHECK(!d_hostaddr6_peer_ok(ip, (const uint8_t (*)[16])own, 2));
	}
}

static void ep6(struct probe_ep *e, const char *ip, uint16_t port)
{
	e->known = e->v6 = true;
	inet_pton(AF_INET6, ip, e->ip6);
	e->port = port;
}

/* simopen6's and udp6's first hop limit: configured, else measured (kept
 * across runs that measure nothing), else 2 */
static void first_hop_limit(void)
{
	struct probe6_result v;
	struct d_v6hops hops = { 0 };
	struct d_v6pub pub = { 0 };
	struct d_config c;
	const char *from = NULL;

	d_config_init(&c);
	CHECK_EQ(d_hostaddr6_hops(&c, &hops, &from), (unsigned)D_IPV6_HOPS_FALLBACK);
	CHECK(from && !strcmp(from, "default"));
	memset(&v, 0, sizeof(v));
	v.syn_hop_limit = -1;
	snprintf(v.syn_hop_limit_why, PROBE_NOTE_LEN, "no answer from the server in time");
	CHECK(!d_hostaddr6_learn_hops(&v, &hops));
	CHECK_EQ(hops.value, 0);
	CHECK(!strcmp(hops.why, "no answer from the server in time"));
	v.syn_hop_limit = 3;
	CHECK(d_hostaddr6_learn_hops(&v, &hops));
	CHECK_EQ(hops.value, 3);
	CHECK_EQ(hops.why[0], '\0');
	CHECK_EQ(d_hostaddr6_hops(&c, &hops, &from), 3u);
	CHECK(!strcmp(from, "measured"));
	CHECK_EQ(d_hostaddr6_hops(&c, &hops, NULL), 3u);
	/* a later run that measured nothing leaves it, and so does learning
	 * the address */
	v.syn_hop_limit = -1;
	CHECK(!d_hostaddr6_learn_hops(&v, &hops));
	CHECK_EQ(hops.value, 3);
	CHECK_EQ(hops.why[0], '\0');
	ep6(&v.tcp_local, "2001:db8:10::10", 41000);
	ep6(&v.tcp_mapped, "2001:db8:10::10", 41000);
	d_hostaddr6_learn(&v, &pub);
	CHECK(pub.known && hops.value == 3);
	/* ipv6-hop-limit set: it wins */
	c.ipv6_hops = 5;
	CHECK_EQ(d_hostaddr6_hops(&c, &hops, &from), 5u);
	CHECK(!strcmp(from, "configured"));
}

/* NPTv6 (server6): what discovery's IPv6 part learnt, and what simopen6
 * binds and offers from it */
static void learnt_public(void)
{
	struct probe6_result v;
	struct d_v6pub pub = { 0 };
	uint8_t own[3][16], local[16], offer[16], want[16];

	/* nothing answered: nothing learnt, the host's own offered */
	memset(&v, 0, sizeof(v));
	d_hostaddr6_learn(&v, &pub);
	CHECK(!pub.known);
	inet_pton(AF_INET6, "2001:db8:10::99", own[0]);
	inet_pton(AF_INET6, "2001:db8:10::10", own[1]);
	CHECK_EQ(d_hostaddr6_pick(&pub, (const uint8_t (*)[16])own, 2, local, offer), 0);
	CHECK(!memcmp(local, own[0], 16) && !memcmp(offer, own[0], 16));
	CHECK_EQ(d_hostaddr6_pick(&pub, (const uint8_t (*)[16])own, 0, local, offer), -ENOENT);

	/* UDP only: learnt from it */
	ep6(&v.local, "2001:db8:10::10", 40000);
	ep6(&v.mapped[PROBE_EP_A1P1], "2001:db8:11::10", 40000);
	d_hostaddr6_learn(&v, &pub);
	CHECK(pub.known && !pub.tcp && pub.translated && pub.port_kept);
	/* the TCP Binding first: what simopen6's TCP meets */
	ep6(&v.tcp_local, "2001:db8:10::10", 41000);
	ep6(&v.tcp_mapped, "2001:db8:11::10", 41000);
	d_hostaddr6_learn(&v, &pub);
	CHECK(pub.known && pub.tcp && pub.translated && pub.port_kept);
	inet_pton(AF_INET6, "2001:db8:11::10", want);
	CHECK(!memcmp(pub.mapped, want, 16));
	/* the address the server saw leave is bound, its translation offered */
	CHECK_EQ(d_hostaddr6_pick(&pub, (const uint8_t (*)[16])own, 2, local, offer), 1);
	CHECK(!memcmp(local, own[1], 16) && !memcmp(offer, want, 16));
	/* it is not one of ours (gone, another interface): own[0] as it is */
	CHECK_EQ(d_hostaddr6_pick(&pub, (const uint8_t (*)[16])own, 1, local, offer), 0);
	CHECK(!memcmp(local, own[0], 16) && !memcmp(offer, own[0], 16));
	/* ours, a peer must not name: the learnt public one too */
	memcpy(own[2], pub.mapped, 16);
	CHECK(!d_hostaddr6_peer_ok(want, (const uint8_t (*)[16])own, 3));

	/* NAT66 that changed the port: not offered, the address is no use
	 * without the port */
	ep6(&v.tcp_mapped, "2001:db8:11::10", 52000);
	d_hostaddr6_learn(&v, &pub);
	CHECK(pub.known && pub.translated && !pub.port_kept);
	CHECK_EQ(d_hostaddr6_pick(&pub, (const uint8_t (*)[16])own, 2, local, offer), 0);
	CHECK(!memcmp(offer, own[1], 16));
	/* not translated */
	ep6(&v.tcp_mapped, "2001:db8:10::10", 41000);
	d_hostaddr6_learn(&v, &pub);
	CHECK(pub.known && !pub.translated && pub.port_kept);
	CHECK_EQ(d_hostaddr6_pick(&pub, (const uint8_t (*)[16])own, 2, local, offer), 0);
	CHECK(!memcmp(offer, own[1], 16));
	/* a server answering with a non-global address is not believed */
	ep6(&v.tcp_mapped, "fe80::10", 41000);
	d_hostaddr6_learn(&v, &pub);
	CHECK_EQ(d_hostaddr6_pick(&pub, (const uint8_t (*)[16])own, 2, local, offer), 0);
	CHECK(!memcmp(offer, own[1], 16));
	/* an IPv4 endpoint where IPv6 belongs: not learnt from */
	memset(&v, 0, sizeof(v));
	v.tcp_local.known = v.tcp_mapped.known = true;
	d_hostaddr6_learn(&v, &pub);
	CHECK(!pub.known);
}

/* the list a peer's candidate is checked against: ours as read, in
 * order, at most max - 1, the learnt public one after when translated; a
 * failed read stays the error */
static void ours_list(void)
{
	struct d_v6pub pub;
	uint8_t own[D_MAX_HOST6_ADDRS][16], out[D_MAX_HOST6_ADDRS + 1][16];
	size_t i;

	memset(&pub, 0, sizeof(pub));
	for (i = 0; i < D_MAX_HOST6_ADDRS; i++) {
		memset(own[i], 0, 16);
		own[i][0] = 0x20;
		own[i][1] = 0x01;
		own[i][15] = (uint8_t)(i + 1);
	}
	CHECK_EQ(d_hostaddr6_ours((const uint8_t (*)[16])own, 2, &pub, out, D_MAX_HOST6_ADDRS + 1), 2);
	CHECK(!memcmp(out[0], own[0], 16) && !memcmp(out[1], own[1], 16));
	CHECK_EQ(d_hostaddr6_ours((const uint8_t (*)[16])own, -EACCES, &pub, out, 3), -EACCES);
	CHECK_EQ(d_hostaddr6_ours((const uint8_t (*)[16])own, 0, &pub, out, 3), 0);
	pub.known = pub.translated = true;
	inet_pton(AF_INET6, "2001:db8:11::10", pub.mapped);
	CHECK_EQ(d_hostaddr6_ours((const uint8_t (*)[16])own, D_MAX_HOST6_ADDRS, &pub, out,
				  D_MAX_HOST6_ADDRS + 1), D_MAX_HOST6_ADDRS + 1);
	CHECK(!memcmp(out[D_MAX_HOST6_ADDRS - 1], own[D_MAX_HOST6_ADDRS - 1], 16));
	CHECK(!memcmp(out[D_MAX_HOST6_ADDRS], pub.mapped, 16));
	/* room for max - 1 of ours, the learnt one last */
	CHECK_EQ(d_hostaddr6_ours((const uint8_t (*)[16])own, D_MAX_HOST6_ADDRS, &pub, out, 2), 2);
	CHECK(!memcmp(out[0], own[0], 16) && !memcmp(out[1], pub.mapped, 16));
	CHECK_EQ(d_hostaddr6_ours((const uint8_t (*)[16])own, -EACCES, &pub, out, 3), -EACCES);
	CHECK_EQ(d_hostaddr6_ours((const uint8_t (*)[16])own, 1, &pub, out, 0), 0);
	/* known, not translated: ours only */
	pub.translated = false;
	CHECK_EQ(d_hostaddr6_ours((const uint8_t (*)[16])own, 1, &pub, out, 3), 1);
}

/* a session's list is read once: with ipv6 off none (no read); once read,
 * its answer is what every later use gets */
static void read_once(void)
{
	struct d_config c;
	struct d_host6 h;

	memset(&c, 0, sizeof(c));
	memset(&h, 0, sizeof(h));
	c.ipv6 = false;
	CHECK_EQ(d_hostaddr6_once(&c, &h), 0);
	CHECK(h.gathered);
	/* stored: not read again, whatever the configuration says now */
	c.ipv6 = true;
	h.n = 3;
	CHECK_EQ(d_hostaddr6_once(&c, &h), 3);
	h.n = -EACCES;
	CHECK_EQ(d_hostaddr6_once(&c, &h), -EACCES);
	CHECK(h.gathered);
}

/* the candidate simopen6 offers: kind host, family IPv6, its method as the
 * priority; through an EXCHANGE and back unchanged */
static void candidate_encoding(void)
{
	static const uint8_t txid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct sig_exchange x = { .peer_id = "laptop", .session_id = 7, .ncand = 2 }, y;
	uint8_t buf[1024];
	struct stun_builder b;
	struct stun_msg m;
	int n;

	CHECK_EQ(sig_method_id("simopen6"), SIG_M_SIMOPEN6);
	CHECK(!strcmp(sig_method_name(SIG_M_SIMOPEN6), "simopen6"));
	x.cand[0] = (struct sig_candidate){ .kind = SIG_CAND_HOST, .proto = IPPROTO_TCP,
					    .priority = SIG_M_SIMOPEN6,
					    .addr = { .family = STUN_FAMILY_IPV6, .port = 40123 } };
	inet_pton(AF_INET6, "2001:db8:10::10", x.cand[0].addr.ip);
	x.cand[1] = (struct sig_candidate){ .kind = SIG_CAND_SRFLX, .proto = IPPROTO_TCP,
					    .priority = SIG_M_SIMOPEN,
					    .addr = { .family = STUN_FAMILY_IPV4, .port = 5000,
						      .ip = { 198, 51, 100, 1 } } };
	x.methods[0] = SIG_M_SIMOPEN6;
	x.nmethods = 1;
	stun_build_init(&b, buf, sizeof(buf), stun_type(SIG_METHOD_EXCHANGE, STUN_REQUEST), txid);
	CHECK_EQ(sig_put_exchange(&b, &x), 0);
	n = stun_build_finish(&b);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(sig_get_exchange(&m, &y), 0);
	CHECK_EQ(y.ncand, 2u);
	CHECK_EQ(y.cand[0].kind, SIG_CAND_HOST);
	CHECK_EQ(y.cand[0].priority, SIG_M_SIMOPEN6);
	CHECK_EQ(y.cand[0].addr.family, STUN_FAMILY_IPV6);
	CHECK_EQ(y.cand[0].addr.port, 40123);
	CHECK(!memcmp(y.cand[0].addr.ip, x.cand[0].addr.ip, 16));
	CHECK_EQ(y.nmethods, 1u);
	CHECK_EQ(y.methods[0], SIG_M_SIMOPEN6);
	/* the address is XOR'd on the wire: no ALG finds it in the clear */
	CHECK(memmem(buf, (size_t)n, x.cand[0].addr.ip, 16) == NULL);
}

int main(void)
{
	RUN(own_lines);
	RUN(peer_addresses);
	RUN(learnt_public);
	RUN(first_hop_limit);
	RUN(ours_list);
	RUN(read_once);
	RUN(candidate_encoding);
	return TAP_DONE();
}
