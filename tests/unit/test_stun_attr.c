// SPDX-License-Identifier: MIT
/* Round trips and malformed values for every STUN attribute codec. */
#include "proto/stun_attr.h"
#include "proto/stun_msg.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t txid[12] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
				  0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab };

static const struct stun_addr v4 = { .family = STUN_FAMILY_IPV4, .port = 3478,
				     .ip = { 203, 0, 113, 9 } };
static const struct stun_addr v6 = { .family = STUN_FAMILY_IPV6, .port = 65535,
				     .ip = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };

static uint8_t buf[4096];
static struct stun_builder b;
static struct stun_msg m;

static void start(void)
{
	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_SUCCESS), txid);
}

static int done(void)
{
	int n = stun_build_finish(&b);

	if (n < 0)
		return n;
	return stun_parse(buf, (size_t)n, &m);
}

static void addresses_round_trip(void)
{
	static const uint16_t plain[] = {
		STUN_ATTR_MAPPED_ADDRESS, STUN_ATTR_SOURCE_ADDRESS, STUN_ATTR_CHANGED_ADDRESS,
		STUN_ATTR_RESPONSE_ORIGIN, STUN_ATTR_OTHER_ADDRESS, STUN_ATTR_ALTERNATE_SERVER,
	};
	struct stun_addr got;
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		start();
		stun_build_addr(&b, plain[i], &v4);
		stun_build_addr(&b, plain[i] ^ 0x4000, &v6);
		CHECK_EQ(done(), 0);
		CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, plain[i]), &got), 0);
		CHECK(stun_addr_equal(&got, &v4));
		CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, plain[i] ^ 0x4000), &got), 0);
		CHECK(stun_addr_equal(&got, &v6));
	}
	start();
	stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &v4);
	stun_build_xor_addr(&b, 0x7020, &v6);
	CHECK_EQ(done(), 0);
	/* on the wire the port is port ^ 0x2112 */
	CHECK_EQ(stun_rd16(m.attrs[0].val + 2), 3478 ^ 0x2112);
	CHECK_EQ(stun_attr_get_xor_addr(&m.attrs[0], &m, &got), 0);
	CHECK(stun_addr_equal(&got, &v4));
	CHECK_EQ(stun_attr_get_xor_addr(&m.attrs[1], &m, &got), 0);
	CHECK(stun_addr_equal(&got, &v6));
	/* bad family builds nothing */
	{
		struct stun_addr bad = v4;

		bad.family = 3;
		start();
		CHECK_EQ(stun_build_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &bad), -EINVAL);
	}
}

static void malformed_addresses(void)
{
	struct stun_attr a = { .type = STUN_ATTR_MAPPED_ADDRESS };
	uint8_t v[20] = { 0, 1, 0x12, 0x34, 10, 0, 0, 1 };
	struct stun_addr got;

	a.val = v;
	a.len = 8;
	CHECK_EQ(stun_attr_get_addr(&a, &got), 0);
	a.len = 7;
	CHECK_EQ(stun_attr_get_addr(&a, &got), -EBADMSG);
	a.len = 20; /* IPv4 with the IPv6 length */
	CHECK_EQ(stun_attr_get_addr(&a, &got), -EBADMSG);
	v[1] = 2;
	CHECK_EQ(stun_attr_get_addr(&a, &got), 0);
	a.len = 8;
	CHECK_EQ(stun_attr_get_addr(&a, &got), -EBADMSG);
	v[1] = 0; /* unknown family */
	CHECK_EQ(stun_attr_get_addr(&a, &got), -EBADMSG);
	a.len = 0;
	CHECK_EQ(stun_attr_get_addr(&a, &got), -EBADMSG);
}

static void sockaddr_conversion(void)
{
	struct sockaddr_storage ss;
	struct stun_addr back;
	socklen_t sl;

	CHECK_EQ(stun_addr_to_sockaddr(&v4, &ss, &sl), 0);
	CHECK_EQ(sl, sizeof(struct sockaddr_in));
	CHECK_EQ(((struct sockaddr_in *)&ss)->sin_port, htons(3478));
	CHECK_EQ(stun_addr_from_sockaddr(&back, (struct sockaddr *)&ss, sl), 0);
	CHECK(stun_addr_equal(&back, &v4));
	CHECK_EQ(stun_addr_to_sockaddr(&v6, &ss, &sl), 0);
	CHECK_EQ(sl, sizeof(struct sockaddr_in6));
	CHECK_EQ(stun_addr_from_sockaddr(&back, (struct sockaddr *)&ss, sl), 0);
	CHECK(stun_addr_equal(&back, &v6));
	CHECK_EQ(stun_addr_from_sockaddr(&back, (struct sockaddr *)&ss, 8), -EAFNOSUPPORT);
}

static void error_code_round_trip(void)
{
	struct stun_error e;

	start();
	stun_build_error(&b, 420, NULL);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stun_attr_get_error(&m.attrs[0], &e), 0);
	CHECK_EQ(e.code, 420);
	CHECK(e.reason_len == 17 && !memcmp(e.reason, "Unknown Attribute", 17));
	/* class 3 number 0 .. class 6 number 99 */
	start();
	stun_build_error(&b, 699, "x");
	CHECK_EQ(done(), 0);
	CHECK_EQ(stun_attr_get_error(&m.attrs[0], &e), 0);
	CHECK_EQ(e.code, 699);
	start();
	CHECK_EQ(stun_build_error(&b, 299, "x"), -EINVAL);
	/* number 100 or class 7 on the wire are refused */
	{
		uint8_t v[4] = { 0, 0, 4, 100 };
		struct stun_attr a = { .type = STUN_ATTR_ERROR_CODE, .len = 4, .val = v };

		CHECK_EQ(stun_attr_get_error(&a, &e), -EBADMSG);
		v[2] = 7;
		v[3] = 0;
		CHECK_EQ(stun_attr_get_error(&a, &e), -EBADMSG);
		v[2] = 0xFC; /* reserved bits are not the class */
		CHECK_EQ(stun_attr_get_error(&a, &e), 0);
		CHECK_EQ(e.code, 400);
		a.len = 3;
		CHECK_EQ(stun_attr_get_error(&a, &e), -EBADMSG);
	}
}

static void unknown_attributes_round_trip(void)
{
	static const uint16_t t[] = { 0x0024, 0x5A99, 0x7001 };
	uint16_t got[8];
	size_t n;

	start();
	stun_build_unknown(&b, t, 3);
	CHECK_EQ(done(), 0);
	CHECK_EQ(m.attrs[0].len, 6);
	CHECK_EQ(stun_attr_get_unknown(&m.attrs[0], got, 8, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_MEM(got, t, sizeof(t));
	CHECK_EQ(stun_attr_get_unknown(&m.attrs[0], got, 2, &n), -E2BIG);
	m.attrs[0].len = 5;
	CHECK_EQ(stun_attr_get_unknown(&m.attrs[0], got, 8, &n), -EBADMSG);
}

static void text_limits(void)
{
	static char big[800];
	const char *s;
	size_t n;

	memset(big, 'a', sizeof(big));
	start();
	CHECK_EQ(stun_build_text(&b, STUN_ATTR_USERNAME, big, 508), 0);
	CHECK_EQ(stun_build_text(&b, STUN_ATTR_REALM, big, 509), 0);
	CHECK_EQ(stun_build_text(&b, STUN_ATTR_NONCE, "n", 1), 0);
	CHECK_EQ(stun_build_text(&b, STUN_ATTR_SOFTWARE, "", 0), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stun_attr_get_text(stun_msg_find(&m, STUN_ATTR_USERNAME), &s, &n), 0);
	CHECK_EQ(n, 508);
	CHECK_EQ(stun_attr_get_text(stun_msg_find(&m, STUN_ATTR_REALM), &s, &n), 0);
	CHECK_EQ(n, 509);
	CHECK_EQ(stun_attr_get_text(stun_msg_find(&m, STUN_ATTR_SOFTWARE), &s, &n), 0);
	CHECK_EQ(n, 0);
	start();
	CHECK_EQ(stun_build_text(&b, STUN_ATTR_USERNAME, big, 509), -EINVAL);
	start();
	CHECK_EQ(stun_build_text(&b, STUN_ATTR_SOFTWARE, big, 510), -EINVAL);
	/* decoders accept more (RFC 5389 usernames, 763-byte phrases) */
	start();
	stun_build_attr(&b, STUN_ATTR_USERNAME, big, 512);
	stun_build_attr(&b, STUN_ATTR_SOFTWARE, big, 763);
	stun_build_attr(&b, STUN_ATTR_REALM, big, 764);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stun_attr_get_text(&m.attrs[0], &s, &n), 0);
	CHECK_EQ(stun_attr_get_text(&m.attrs[1], &s, &n), 0);
	CHECK_EQ(stun_attr_get_text(&m.attrs[2], &s, &n), -EBADMSG);
}

static void rfc5780_attributes_round_trip(void)
{
	uint32_t flags;
	uint16_t port;

	start();
	stun_build_change(&b, STUN_CHANGE_IP);
	stun_build_response_port(&b, 40000);
	stun_build_padding(&b, 5);
	stun_build_addr(&b, STUN_ATTR_RESPONSE_ORIGIN, &v4);
	stun_build_addr(&b, STUN_ATTR_OTHER_ADDRESS, &v6);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stun_attr_get_change(stun_msg_find(&m, STUN_ATTR_CHANGE_REQUEST), &flags), 0);
	CHECK_EQ(flags, STUN_CHANGE_IP);
	CHECK_EQ(stun_attr_get_response_port(stun_msg_find(&m, STUN_ATTR_RESPONSE_PORT), &port), 0);
	CHECK_EQ(port, 40000);
	CHECK_EQ(stun_msg_find(&m, STUN_ATTR_PADDING)->len, 5);
	/* padding counted to a multiple of 4 in the message */
	CHECK_EQ(m.len, 20 + 8 + 8 + 12 + 12 + 24);
	m.attrs[0].len = 2;
	CHECK_EQ(stun_attr_get_change(&m.attrs[0], &flags), -EBADMSG);
}

static void integers_round_trip(void)
{
	uint32_t a;
	uint64_t c;

	start();
	stun_build_u32(&b, 0x8123, 0xdeadbeef);
	stun_build_u64(&b, 0x8124, 0x0123456789abcdefull);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stun_attr_get_u32(&m.attrs[0], &a), 0);
	CHECK_EQ(a, 0xdeadbeef);
	CHECK_EQ(stun_attr_get_u64(&m.attrs[1], &c), 0);
	CHECK(c == 0x0123456789abcdefull);
	CHECK_EQ(stun_attr_get_u32(&m.attrs[1], &a), -EBADMSG);
	CHECK_EQ(stun_attr_get_u64(&m.attrs[0], &c), -EBADMSG);
}

static void addr_to_text(void)
{
	struct stun_addr a = { .family = STUN_FAMILY_IPV4, .port = 3478, .ip = { 192, 0, 2, 1 } };
	char t[STUN_ADDR_STRLEN], small[8];

	CHECK(strcmp(stun_addr_str(&a, t, sizeof(t)), "192.0.2.1:3478") == 0);
	a.port = 0;
	CHECK(strcmp(stun_addr_str(&a, t, sizeof(t)), "192.0.2.1") == 0);
	a.family = STUN_FAMILY_IPV6;
	memset(a.ip, 0xff, 16);
	a.port = 65535;
	CHECK(strcmp(stun_addr_str(&a, t, sizeof(t)),
		     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535") == 0);
	CHECK_EQ(strlen(t) + 1 <= STUN_ADDR_STRLEN, 1);
	memset(a.ip, 0, 16);
	a.ip[0] = 0x20;
	a.ip[1] = 0x01;
	a.ip[2] = 0x0d;
	a.ip[3] = 0xb8;
	a.ip[15] = 1;
	a.port = 0;
	CHECK(strcmp(stun_addr_str(&a, t, sizeof(t)), "2001:db8::1") == 0);
	/* truncated, still terminated */
	a.port = 3478;
	CHECK(strcmp(stun_addr_str(&a, small, sizeof(small)), "[2001:d") == 0);
	a.family = 7;
	CHECK(strcmp(stun_addr_str(&a, t, sizeof(t)), "?") == 0);
}

int main(void)
{
	RUN(addresses_round_trip);
	RUN(malformed_addresses);
	RUN(sockaddr_conversion);
	RUN(error_code_round_trip);
	RUN(unknown_attributes_round_trip);
	RUN(text_limits);
	RUN(rfc5780_attributes_round_trip);
	RUN(integers_round_trip);
	RUN(addr_to_text);
	return TAP_DONE();
}
