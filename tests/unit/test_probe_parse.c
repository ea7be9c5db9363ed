// SPDX-License-Identifier: MIT
/* The probe's parsers of network input outside STUN (probes/probe_parse.c):
 * PCP MAP responses, ICMP time-exceeded quotes, SSDP LOCATION headers; and
 * the STUN Binding answer read from a stream (probes/probe_binding.c). */
#include "probes/probe_int.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>

static const uint8_t nonce[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* A PCP MAP success response, RFC 6887 11.1. */
static void pcp_resp(uint8_t b[60], uint8_t result)
{
	memset(b, 0, 60);
	b[0] = 2;			/* version */
	b[1] = 0x81;			/* R=1, opcode MAP */
	b[3] = result;			/* result code */
	b[7] = 60;			/* lifetime 60 s */
	b[11] = 7;			/* epoch */
	memcpy(b + 24, nonce, 12);	/* mapping nonce */
	b[36] = 6;			/* protocol TCP */
	b[40] = 0x9c; b[41] = 0x40;	/* internal port 40000 */
	b[42] = 0xab; b[43] = 0xcd;	/* assigned external port 43981 */
	b[54] = b[55] = 0xff;		/* ::ffff: */
	b[56] = 11; b[57] = 0; b[58] = 2; b[59] = 2;	/* 11.0.2.2 */
}

static void pcp_map(void)
{
	uint8_t b[60], other[12] = { 0 };
	struct probe_pcp_map m;
	struct in_addr a;

	pcp_resp(b, 0);
	CHECK_EQ(probe_pcp_parse_map(b, sizeof(b), nonce, &m), 0);
	CHECK_EQ(m.result, 0);
	CHECK_EQ(m.lifetime, 60);
	CHECK_EQ(m.ext_port, 43981);
	inet_pton(AF_INET, "11.0.2.2", &a);
	CHECK_EQ(m.ext_ip, a.s_addr);
	/* RFC 6887 8.3: a success for another nonce is not ours */
	CHECK_EQ(probe_pcp_parse_map(b, sizeof(b), other, &m), -EINVAL);
	/* truncated success, a request (R clear), another opcode */
	CHECK_EQ(probe_pcp_parse_map(b, 59, nonce, &m), -EINVAL);
	b[1] = 0x01;
	CHECK_EQ(probe_pcp_parse_map(b, sizeof(b), nonce, &m), -EINVAL);
	b[1] = 0x82;
	CHECK_EQ(probe_pcp_parse_map(b, sizeof(b), nonce, &m), -EINVAL);
	/* an error (1 UNSUPP_VERSION) may come with the header alone */
	pcp_resp(b, 1);
	CHECK_EQ(probe_pcp_parse_map(b, 24, nonce, &m), 0);
	CHECK_EQ(m.result, 1);
	CHECK_EQ(m.ext_port, 0);
	CHECK_EQ(probe_pcp_parse_map(b, 23, nonce, &m), -EINVAL);
	/* an external address that is not IPv4-mapped is left unknown */
	pcp_resp(b, 0);
	b[54] = 0;
	CHECK_EQ(probe_pcp_parse_map(b, sizeof(b), nonce, &m), 0);
	CHECK_EQ(m.ext_ip, 0);
}

/* outer IP (20, from 198.18.1.1) + ICMP (8) + quoted IP (20, to srv) + TCP (8) */
static size_t icmp_te(uint8_t *b, uint8_t type, uint8_t quoted_proto)
{
	memset(b, 0, 56);
	b[0] = 0x45;				/* IPv4, ihl 5 */
	b[9] = 1;				/* ICMP */
	b[12] = 198; b[13] = 18; b[14] = 1; b[15] = 1;	/* router */
	b[20] = type;				/* 11 time exceeded */
	b[28] = 0x45;				/* quoted IPv4, ihl 5 */
	b[28 + 9] = quoted_proto;
	b[28 + 16] = 192; b[28 + 17] = 0; b[28 + 18] = 2; b[28 + 19] = 1;	/* srv */
	b[48] = 0xc3; b[49] = 0x50;		/* quoted source port 50000 */
	b[50] = 0x0d; b[51] = 0x96;		/* dport 3478 */
	return 56;
}

static void icmp_time_exceeded(void)
{
	uint8_t b[64];
	uint32_t srv, router, want;
	uint16_t sport = 0;
	size_t n;

	inet_pton(AF_INET, "192.0.2.1", &srv);
	inet_pton(AF_INET, "198.18.1.1", &want);
	n = icmp_te(b, 11, 6);
	CHECK_EQ(probe_icmp_parse_te(b, n, srv, &router, &sport), 0);
	CHECK_EQ(sport, 50000);
	CHECK_EQ(router, want);
	/* RFC 792: 8 bytes of the quoted datagram are enough for the port */
	CHECK_EQ(probe_icmp_parse_te(b, 52, srv, &router, &sport), 0);
	CHECK_EQ(probe_icmp_parse_te(b, 51, srv, &router, &sport), -EINVAL);
	/* not about our SYN to the server, not time exceeded, bad ihl */
	CHECK_EQ(probe_icmp_parse_te(b, n, want, &router, &sport), -EINVAL);
	n = icmp_te(b, 3, 6);
	CHECK_EQ(probe_icmp_parse_te(b, n, srv, &router, &sport), -EINVAL);
	n = icmp_te(b, 11, 17);
	CHECK_EQ(probe_icmp_parse_te(b, n, srv, &router, &sport), -EINVAL);
	n = icmp_te(b, 11, 6);
	b[0] = 0x44;
	CHECK_EQ(probe_icmp_parse_te(b, n, srv, &router, &sport), -EINVAL);
	b[0] = 0x4f;				/* ihl 60 > what follows */
	CHECK_EQ(probe_icmp_parse_te(b, n, srv, &router, &sport), -EINVAL);
	CHECK_EQ(probe_icmp_parse_te(b, 10, srv, &router, &sport), -EINVAL);
}

/* ICMPv6 time exceeded on a raw ICMPv6 socket: type 3, 4 unused bytes,
 * the quoted IPv6 header (TCP, to the server) and our source port. */
static void icmp6_time_exceeded(void)
{
	uint8_t b[8 + 40 + 20] = { 3, 0 }, srv[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
	uint16_t sport = 0;

	b[8] = 0x60;
	b[8 + 6] = 6;		/* TCP */
	b[8 + 7] = 1;		/* the hop limit it died with */
	memcpy(b + 8 + 24, srv, 16);
	b[8 + 40] = 0xc3;	/* source port 50000 */
	b[8 + 41] = 0x50;
	CHECK_EQ(probe_icmp6_parse_te(b, sizeof(b), srv, &sport), 0);
	CHECK_EQ(sport, 50000);
	CHECK_EQ(probe_icmp6_parse_te(b, 8 + 40 + 2, srv, &sport), 0);	/* the port is all we need */
	CHECK_EQ(probe_icmp6_parse_te(b, 8 + 40 + 1, srv, &sport), -EINVAL);
	srv[15] = 6;		/* to another address */
	CHECK_EQ(probe_icmp6_parse_te(b, sizeof(b), srv, &sport), -EINVAL);
	srv[15] = 5;
	b[8 + 6] = 17;		/* UDP */
	CHECK_EQ(probe_icmp6_parse_te(b, sizeof(b), srv, &sport), -EINVAL);
	b[8 + 6] = 6;
	b[0] = 1;		/* destination unreachable */
	CHECK_EQ(probe_icmp6_parse_te(b, sizeof(b), srv, &sport), -EINVAL);
	b[0] = 3;
	b[8] = 0x45;		/* an IPv4 quote */
	CHECK_EQ(probe_icmp6_parse_te(b, sizeof(b), srv, &sport), -EINVAL);
	CHECK_EQ(probe_icmp6_parse_te(NULL, sizeof(b), srv, &sport), -EINVAL);
}

static void ssdp_location(void)
{
	static const char ans[] = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
				  "Location:  http://10.2.0.1:2189/rootDesc.xml\r\nST: x\r\n\r\n";
	char loc[64];

	CHECK_EQ(probe_ssdp_location(ans, sizeof(ans) - 1, loc, sizeof(loc)), 0);
	CHECK(!strcmp(loc, "http://10.2.0.1:2189/rootDesc.xml"));
	/* too long for the buffer, no CRLF after it, no header, empty value */
	CHECK_EQ(probe_ssdp_location(ans, sizeof(ans) - 1, loc, 20), -ENOENT);
	CHECK_EQ(probe_ssdp_location(ans, 70, loc, sizeof(loc)), -ENOENT);
	CHECK_EQ(probe_ssdp_location("HTTP/1.1 200 OK\r\n\r\n", 19, loc, sizeof(loc)), -ENOENT);
	CHECK_EQ(probe_ssdp_location("LOCATION: \r\n", 12, loc, sizeof(loc)), -ENOENT);
	CHECK_EQ(probe_ssdp_location("", 0, loc, sizeof(loc)), -ENOENT);
	/* a NUL or a control byte in the URL (found by fuzz_probe) */
	CHECK_EQ(probe_ssdp_location("Location: http\0x\r\n", 19, loc, sizeof(loc)), -ENOENT);
	CHECK_EQ(probe_ssdp_location("Location: a\tb\r\n", 16, loc, sizeof(loc)), -ENOENT);
}

static void url_ipv4(void)
{
	uint32_t ip = 0;

	CHECK_EQ(probe_url_ipv4("http://10.2.0.1:2189/rootDesc.xml", &ip), 0);
	CHECK_EQ(ip, htonl(0x0a020001));
	CHECK_EQ(probe_url_ipv4("HTTP://192.168.1.254/ctl/IPConn", &ip), 0);
	CHECK_EQ(ip, htonl(0xc0a801fe));
	CHECK_EQ(probe_url_ipv4("http://10.0.0.1", &ip), 0);
	CHECK_EQ(ip, htonl(0x0a000001));
	/* names, IPv6, other schemes, short forms, empty parts */
	CHECK_EQ(probe_url_ipv4("http://router.lan:5000/x", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4("http://[fe80::1]:5000/x", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4("https://10.0.0.1/x", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4("http://10.1/x", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4("http:///x", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4("http://10.0.0.1:", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4("http://10.0.0.1@10.0.0.2/x", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4("http://999.0.0.1/x", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4("", &ip), -EINVAL);
	CHECK_EQ(probe_url_ipv4(NULL, &ip), -EINVAL);
}

/* A Binding success for txid with XOR-MAPPED-ADDRESS 198.18.1.2:port. */
static int binding_ok(uint8_t *buf, size_t len, const uint8_t *txid, uint16_t port)
{
	struct stun_addr a = { .family = STUN_FAMILY_IPV4, .port = port,
			       .ip = { 198, 18, 1, 2 } };
	struct stun_builder b;

	stun_build_init(&b, buf, len, stun_type(STUN_METHOD_BINDING, STUN_SUCCESS), txid);
	stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
	return stun_build_finish(&b);
}

static void binding_answer(void)
{
	uint8_t req[PROBE_BINDING_BUF], txid[STUN_TXID_LEN], ans[PROBE_BINDING_BUF];
	uint8_t other[STUN_TXID_LEN];
	uint16_t port = 0;
	int n, len;
	size_t i;

	len = probe_binding_request(req, sizeof(req), txid);
	CHECK_EQ(len, 20);
	CHECK_EQ(stun_frame_len(req, (size_t)len), 20);
	n = binding_ok(ans, sizeof(ans), txid, 21005);
	CHECK(n > 20);
	/* every prefix: more to read, never a port */
	for (i = 0; i < (size_t)n; i++)
		if (probe_binding_answer(ans, i, txid, &port) != 0)
			break;
	CHECK_EQ(i, (size_t)n);
	CHECK_EQ(port, 0);
	CHECK_EQ(probe_binding_answer(ans, (size_t)n, txid, &port), 1);
	CHECK_EQ(port, 21005);
	/* someone else's transaction */
	memcpy(other, txid, sizeof(other));
	other[0] ^= 1;
	CHECK_EQ(probe_binding_answer(ans, (size_t)n, other, &port), -ENOMSG);
	/* an error answer, and a success without the address */
	n = binding_ok(ans, sizeof(ans), txid, 1);
	ans[0] = 0x01;
	ans[1] = 0x11;
	CHECK_EQ(probe_binding_answer(ans, (size_t)n, txid, &port), -ENOMSG);
	{
		struct stun_builder b;

		stun_build_init(&b, ans, sizeof(ans),
				stun_type(STUN_METHOD_BINDING, STUN_SUCCESS), txid);
		n = stun_build_finish(&b);
		CHECK_EQ(probe_binding_answer(ans, (size_t)n, txid, &port), -ENOMSG);
	}
	/* not STUN at all, and a frame longer than the buffer */
	memcpy(ans, "HTTP/1.1 400 Bad Request\r\n", 26);
	CHECK_EQ(probe_binding_answer(ans, 26, txid, &port), -EBADMSG);
	n = binding_ok(ans, sizeof(ans), txid, 1);
	ans[2] = 0x02;		/* length 512 + ... */
	CHECK_EQ(probe_binding_answer(ans, (size_t)n, txid, &port), -EBADMSG);
	CHECK_EQ(port, 21005);
}

int main(void)
{
	RUN(binding_answer);
	RUN(pcp_map);
	RUN(icmp_time_exceeded);
	RUN(icmp6_time_exceeded);
	RUN(ssdp_location);
	RUN(url_ipv4);
	return TAP_DONE();
}
