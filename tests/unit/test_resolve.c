// SPDX-License-Identifier: MIT
#include "common/resolve.h"
#include "common/addr.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>

static char h[RESOLVE_NAME_MAX + 1];
static uint16_t port;

static void names_and_ports(void)
{
	CHECK_EQ(resolve_split("stun.example.net", 3478, h, sizeof(h), &port), 0);
	CHECK(!strcmp(h, "stun.example.net"));
	CHECK_EQ(port, 3478);
	CHECK_EQ(resolve_split("localhost:5900", 0, h, sizeof(h), &port), 0);
	CHECK(!strcmp(h, "localhost"));
	CHECK_EQ(port, 5900);
	CHECK_EQ(resolve_split("a-b.c9.example.:1", 0, h, sizeof(h), &port), 0);
	CHECK(!strcmp(h, "a-b.c9.example."));
	CHECK_EQ(port, 1);
	/* an IPv4 literal is a valid HOST too (resolved without DNS) */
	CHECK_EQ(resolve_split("192.0.2.1:65535", 0, h, sizeof(h), &port), 0);
	CHECK(!strcmp(h, "192.0.2.1"));
	CHECK_EQ(port, 65535);
	/* no port: the default, which may be 0 */
	CHECK_EQ(resolve_split("vnc-host", 0, h, sizeof(h), &port), 0);
	CHECK_EQ(port, 0);
}

static void bad_names_refused(void)
{
	static const char *const bad[] = {
		"", ":3478", "host:", "host:0", "host:65536", "host:-1", "host:12a", "host: 1",
		"-host", "host-", "a..b", ".host", "ho_st", "ho st", "host:1:2", "[::1]:3478",
		"::1", "h\xc3\xa9", "host/x", ".", "a.-b", "a-.b", "300.1.1.1", "1.2.3",
		"10.0.0.256:80", "1.2.3.4.5",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (resolve_split(bad[i], 3478, h, sizeof(h), &port) != -EINVAL) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			tap_case_failed = 1;
		}
	}
}

static void length_limits(void)
{
	char label[80], name[300], small[8];
	size_t i;

	memset(label, 'a', 63);
	label[63] = '\0';
	CHECK_EQ(resolve_split(label, 1, h, sizeof(h), &port), 0);
	label[63] = 'a';
	label[64] = '\0';
	CHECK_EQ(resolve_split(label, 1, h, sizeof(h), &port), -EINVAL);	/* 64-byte label */
	/* 253 bytes: fine; 254: too long */
	for (i = 0; i < 253; i++)
		name[i] = (i % 10 == 9) ? '.' : 'x';
	name[253] = '\0';
	CHECK_EQ(resolve_split(name, 1, h, sizeof(h), &port), 0);
	name[253] = 'x';
	name[254] = '\0';
	CHECK_EQ(resolve_split(name, 1, h, sizeof(h), &port), -EINVAL);
	/* a buffer too small for the host */
	CHECK_EQ(resolve_split("example.net", 1, small, sizeof(small), &port), -EINVAL);
	CHECK_EQ(resolve_split("example", 1, small, sizeof(small), &port), 0);
}

static void literal_resolves_without_dns(void)
{
	struct sockaddr_in a;
	char why[64];

	CHECK_EQ(resolve_ipv4("127.0.0.1", 5900, &a, why, sizeof(why)), 0);
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK_EQ(a.sin_addr.s_addr, htonl(0x7f000001));
	CHECK_EQ(ntohs(a.sin_port), 5900);
}

/* an expose target's name: IPv4 first, IPv6 when there is no IPv4 one */
static void any_family(void)
{
	union addr_sa a;
	char why[64];

	CHECK_EQ(resolve_any("127.0.0.1", 5900, &a, why, sizeof(why)), 0);
	CHECK_EQ(a.sa.sa_family, AF_INET);
	CHECK_EQ(a.in.sin_addr.s_addr, htonl(0x7f000001));
	CHECK_EQ(addr_sa_port(&a), 5900);
	CHECK_EQ(resolve_any("::1", 5901, &a, why, sizeof(why)), 0);
	CHECK_EQ(a.sa.sa_family, AF_INET6);
	CHECK(IN6_IS_ADDR_LOOPBACK(&a.in6.sin6_addr));
	CHECK_EQ(addr_sa_port(&a), 5901);
	CHECK_EQ(addr_sa_len(&a), sizeof(struct sockaddr_in6));
}

int main(void)
{
	RUN(names_and_ports);
	RUN(bad_names_refused);
	RUN(length_limits);
	RUN(literal_resolves_without_dns);
	RUN(any_family);
	return TAP_DONE();
}
