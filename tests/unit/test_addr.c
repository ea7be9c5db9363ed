// SPDX-License-Identifier: MIT
#include "common/addr.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>

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

int main(void)
{
	RUN(ip_and_port);
	RUN(default_port);
	RUN(bad_input_refused);
	return TAP_DONE();
}
