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
	RUN(candidate_encoding);
	return TAP_DONE();
}
