// SPDX-License-Identifier: MIT
#include "common/addr.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

static void ip_and_port(void)
{
	struct sockaddr_in a;

	CHECK_EQ(addr_parse_ipv4("192.0.2.1:3479", 3478, &a), 0);
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK_EQ(ntohs(a.sin_port), 3479);
	CHECK_EQ(ntohl(a.sin_addr.s_addr), 0xC0000201);
}

static void default_port(void)
{
	struct sockaddr_in a;

	CHECK_EQ(addr_parse_ipv4("198.51.100.10", 3478, &a), 0);
	CHECK_EQ(ntohs(a.sin_port), 3478);
	CHECK_EQ(addr_parse_ipv4("10.0.0.1", 0, &a), 0);	/* no port wanted */
	CHECK_EQ(ntohs(a.sin_port), 0);
}

static void bad_input_refused(void)
{
	static const char *const bad[] = {
		"", ":3478", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:-1",
		"192.0.2.1:34x", "192.0.2.1: 1", "192.0.2", "192.0.2.256", "host.example:3478",
		"2001:db8::1", "192.0.2.1:3478:1",
		"1234567890123456789012345678901234567890:1",	/* longer than an address */
	};
	struct sockaddr_in a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (addr_parse_ipv4(bad[i], 3478, &a) != -EINVAL)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CHECK_EQ(addr_parse_ipv4(bad[i], 3478, &a), -EINVAL);
	}
}

static bool ip6_is(const struct sockaddr_in6 *a, const char *want)
{
	struct in6_addr w;

	return inet_pton(AF_INET6, want, &w) == 1 && memcmp(&a->sin6_addr, &w, sizeof(w)) == 0;
}

static void ipv6_forms(void)
{
	struct sockaddr_in6 a;

	CHECK_EQ(addr_parse_ipv6("2001:db8::1", 3478, &a), 0);
	CHECK_EQ(a.sin6_family, AF_INET6);
	CHECK_EQ(ntohs(a.sin6_port), 3478);
	CHECK(ip6_is(&a, "2001:db8::1"));
	CHECK_EQ(addr_parse_ipv6("[2001:db8:0:1::20]", 0, &a), 0);	/* no port wanted */
	CHECK_EQ(ntohs(a.sin6_port), 0);
	CHECK(ip6_is(&a, "2001:db8:0:1::20"));
	CHECK_EQ(addr_parse_ipv6("[fd00::2]:3479", 3478, &a), 0);
	CHECK_EQ(ntohs(a.sin6_port), 3479);
	CHECK(ip6_is(&a, "fd00::2"));
	CHECK_EQ(addr_parse_ipv6("::", 1, &a), 0);
	CHECK(ip6_is(&a, "::"));
	/* a full-length literal fits */
	CHECK_EQ(addr_parse_ipv6("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", 0, &a), 0);
	CHECK_EQ(ntohs(a.sin6_port), 65535);
}

static void ipv6_bad_refused(void)
{
	static const char *const bad[] = {
		"", "[]", "[]:3478", "[2001:db8::1", "2001:db8::1]", "[2001:db8::1]3478",
		"[2001:db8::1]:", "[2001:db8::1]:0", "[2001:db8::1]:65536", "[2001:db8::1]:-1",
		"[2001:db8::1]:34x", "[2001:db8::1]: 1", "2001:db8::1:3478:1:2:3:4:5",
		"2001:db8::g", "192.0.2.1", "192.0.2.1:3478", "[192.0.2.1]", "fe80::1%eth0",
		"host.example", "[2001:db8::1]:3478:1",
		"[1234:5678:1234:5678:1234:5678:1234:5678:1234:5678:1234:5678]",
	};
	struct sockaddr_in6 a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (addr_parse_ipv6(bad[i], 3478, &a) != -EINVAL)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CHECK_EQ(addr_parse_ipv6(bad[i], 3478, &a), -EINVAL);
	}
}

static void either_family(void)
{
	union addr_sa a;

	CHECK_EQ(addr_parse_any("192.0.2.1:5900", 0, &a), 0);
	CHECK(a.sa.sa_family == AF_INET && addr_sa_port(&a) == 5900 && addr_sa_len(&a) == sizeof(a.in));
	CHECK_EQ(addr_parse_any("[2001:db8::1]:5900", 0, &a), 0);
	CHECK(a.sa.sa_family == AF_INET6 && addr_sa_port(&a) == 5900 && addr_sa_len(&a) == sizeof(a.in6));
	CHECK_EQ(addr_parse_any("2001:db8::1", 3478, &a), 0);
	CHECK_EQ(addr_sa_port(&a), 3478);
	CHECK_EQ(addr_parse_any("localhost:5900", 0, &a), -EINVAL);	/* names are not literals */
	CHECK_EQ(addr_parse_any("2001:db8::1:5900:x", 0, &a), -EINVAL);
	CHECK_EQ(addr_parse_any("", 0, &a), -EINVAL);
}

int main(void)
{
	RUN(ip_and_port);
	RUN(default_port);
	RUN(bad_input_refused);
	RUN(ipv6_forms);
	RUN(ipv6_bad_refused);
	RUN(either_family);
	return TAP_DONE();
}
