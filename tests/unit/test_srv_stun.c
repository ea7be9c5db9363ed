// SPDX-License-Identifier: MIT
/*
 * stunt-server's Binding responder (server/stun.c), called as the pure
 * function it is: which attributes a response carries, which of the four
 * sockets it leaves from, where it goes, and what is refused or dropped.
 */
#include "server/stun.h"
#include "proto/stun_auth.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdlib.h>

static const uint8_t txid[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
				  0xfa, 0x87, 0xdf, 0xae };

/* Server 192.0.2.1 / 192.0.2.2, ports 3478 / 3479; client 203.0.113.9:40000. */
static struct srv_stun_ctx ctx_at(unsigned ip, unsigned port, enum srv_transport t)
{
	struct srv_stun_ctx c;
	unsigned i, j;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			c.sock[i][j].family = STUN_FAMILY_IPV4;
			c.sock[i][j].ip[0] = 192;
			c.sock[i][j].ip[2] = 2;
			c.sock[i][j].ip[3] = (uint8_t)(1 + i);
			c.sock[i][j].port = (uint16_t)(3478 + j);
		}
	c.rx_ip = ip;
	c.rx_port = port;
	c.transport = t;
	c.peer.family = STUN_FAMILY_IPV4;
	memcpy(c.peer.ip, (uint8_t[]){ 203, 0, 113, 9 }, 4);
	c.peer.port = 40000;
	return c;
}

/* A Binding request with optional CHANGE-REQUEST flags (or none: ~0u). */
static size_t req_binding(uint8_t *buf, size_t cap, uint32_t change, bool fingerprint)
{
	struct stun_builder b;

	stun_build_init(&b, buf, cap, stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	if (change != ~0u)
		stun_build_change(&b, change);
	if (fingerprint)
		stun_build_fingerprint(&b);
	return (size_t)stun_build_finish(&b);
}

static int handle(const struct srv_stun_ctx *c, const uint8_t *req, size_t len, uint8_t *out,
		  struct srv_stun_reply *r, struct stun_msg *m)
{
	int err = srv_stun_handle(c, req, len, out, SRV_STUN_BUF, r);

	if (err == 0 && r->len)
		return stun_parse(out, r->len, m);
	return err;
}

static bool addr_is(const struct stun_addr *a, unsigned last, uint16_t port)
{
	return a->family == STUN_FAMILY_IPV4 && a->ip[0] == 192 && a->ip[3] == last &&
	       a->port == port;
}

static void binding_answers_with_mapped_origin_and_other(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_msg m;
	struct stun_addr a;
	size_t n = req_binding(req, sizeof(req), ~0u, false);

	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_BINDING);
	CHECK_EQ(m.type, 0x0101);
	CHECK(!m.classic);
	CHECK_MEM(m.txid, txid, 12);
	/* back from the receiving socket, to the source */
	CHECK_EQ(r.tx_ip, 0);
	CHECK_EQ(r.tx_port, 0);
	CHECK(stun_addr_equal(&r.dst, &c.peer));
	CHECK_EQ(stun_attr_get_xor_addr(stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &m, &a), 0);
	CHECK(stun_addr_equal(&a, &c.peer));
	/* the plain form is optional: not for a 20-byte request over UDP */
	CHECK(!stun_msg_find(&m, STUN_ATTR_MAPPED_ADDRESS));
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_RESPONSE_ORIGIN), &a), 0);
	CHECK(addr_is(&a, 1, 3478));
	/* RFC 5780 7.4: the other IP and the other port */
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_OTHER_ADDRESS), &a), 0);
	CHECK(addr_is(&a, 2, 3479));
	CHECK(!stun_msg_find(&m, STUN_ATTR_SOFTWARE));
	CHECK(!stun_msg_find(&m, STUN_ATTR_FINGERPRINT));
	/* the size the man page promises: header + three IPv4 addresses */
	CHECK_EQ(r.len, 20 + 3 * 12);
	/* over TCP (no spoofing possible) the plain form is there too */
	c = ctx_at(0, 0, SRV_TCP);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_MAPPED_ADDRESS), &a), 0);
	CHECK(stun_addr_equal(&a, &c.peer));
	CHECK_EQ(r.len, 20 + 4 * 12);
}

static void change_request_picks_the_socket(void)
{
	static const struct {
		unsigned rx_ip, rx_port;
		uint32_t change;
		unsigned tx_ip, tx_port;
		unsigned other_ip, other_port;
	} cases[] = {
		{ 0, 0, 0, 0, 0, 1, 1 },
		{ 0, 0, STUN_CHANGE_IP, 1, 0, 1, 1 },
		{ 0, 0, STUN_CHANGE_PORT, 0, 1, 1, 1 },
		{ 0, 0, STUN_CHANGE_IP | STUN_CHANGE_PORT, 1, 1, 1, 1 },
		{ 1, 1, STUN_CHANGE_IP, 0, 1, 0, 0 },
		{ 1, 0, STUN_CHANGE_PORT, 1, 1, 0, 1 },
		{ 0, 1, STUN_CHANGE_IP | STUN_CHANGE_PORT, 1, 0, 1, 0 },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct srv_stun_ctx c = ctx_at(cases[i].rx_ip, cases[i].rx_port, SRV_UDP);
		uint8_t req[64], out[SRV_STUN_BUF];
		struct srv_stun_reply r;
		struct stun_msg m;
		struct stun_addr a;
		size_t n = req_binding(req, sizeof(req), cases[i].change, false);

		CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
		CHECK_EQ(r.verdict, SRV_V_BINDING);
		CHECK_EQ(r.tx_ip, cases[i].tx_ip);
		CHECK_EQ(r.tx_port, cases[i].tx_port);
		CHECK(stun_addr_equal(&r.dst, &c.peer));
		CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_RESPONSE_ORIGIN), &a), 0);
		CHECK(addr_is(&a, 1 + cases[i].tx_ip, (uint16_t)(3478 + cases[i].tx_port)));
		CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_OTHER_ADDRESS), &a), 0);
		CHECK(addr_is(&a, 1 + cases[i].other_ip, (uint16_t)(3478 + cases[i].other_port)));
	}
}

/* The Vovida client's RFC 3489 request: 128-bit transaction id, CHANGE-REQUEST
 * for the other IP and port. */
static const uint8_t classic_req[] = {
	0x00, 0x01, 0x00, 0x08,	/* Binding Request, length 8 */
	0x5a, 0x0c, 0x71, 0x3e, 0x99, 0x01, 0x42, 0x7d, /* 128-bit transaction id */
	0xc4, 0x11, 0x0b, 0xf2, 0x38, 0x6d, 0x10, 0xa1,
	0x00, 0x03, 0x00, 0x04,	/* CHANGE-REQUEST */
	0x00, 0x00, 0x00, 0x06,	/* change IP and port */
};

static void classic_request_gets_rfc3489_answer(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_msg m;
	struct stun_addr a;

	CHECK_EQ(handle(&c, classic_req, sizeof(classic_req), out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_CLASSIC);
	CHECK(m.classic);
	CHECK_EQ(m.type, 0x0101);
	/* the whole 128-bit transaction id comes back */
	CHECK_MEM(out + 4, classic_req + 4, 16);
	CHECK_EQ(r.tx_ip, 1);
	CHECK_EQ(r.tx_port, 1);
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_MAPPED_ADDRESS), &a), 0);
	CHECK(stun_addr_equal(&a, &c.peer));
	/* SOURCE-ADDRESS: where the response really leaves from */
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_SOURCE_ADDRESS), &a), 0);
	CHECK(addr_is(&a, 2, 3479));
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_CHANGED_ADDRESS), &a), 0);
	CHECK(addr_is(&a, 2, 3479));
	CHECK(!stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS));
	CHECK(!stun_msg_find(&m, STUN_ATTR_RESPONSE_ORIGIN));
	CHECK_EQ(r.len, 56);
}

static void response_port_changes_only_the_port(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct stun_builder b;
	struct srv_stun_reply r;
	struct stun_msg m;
	int n;

	stun_build_init(&b, req, sizeof(req), 0x0001, txid);
	stun_build_response_port(&b, 5555);
	n = stun_build_finish(&b);
	CHECK_EQ(handle(&c, req, (size_t)n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_BINDING);
	CHECK_EQ(r.dst.port, 5555);
	CHECK_MEM(r.dst.ip, c.peer.ip, 4);

	stun_build_init(&b, req, sizeof(req), 0x0001, txid);
	stun_build_response_port(&b, 0);
	n = stun_build_finish(&b);
	CHECK_EQ(handle(&c, req, (size_t)n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_DROP_PORT);
	CHECK_EQ(r.len, 0);

	/* "only used over UDP" */
	c = ctx_at(0, 0, SRV_TCP);
	stun_build_init(&b, req, sizeof(req), 0x0001, txid);
	stun_build_response_port(&b, 5555);
	n = stun_build_finish(&b);
	CHECK_EQ(handle(&c, req, (size_t)n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_400);
	CHECK_EQ(m.type, 0x0111);
}

static void response_address_only_toward_the_source_ip(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct stun_builder b;
	struct srv_stun_reply r;
	struct stun_msg m;
	struct stun_addr third = c.peer;
	int n;

	/* same IP, other port: honoured */
	third.port = 6000;
	memcpy(req, classic_req, 20);
	stun_build_reply(&b, req, sizeof(req), 0x0001, &(struct stun_msg){ .classic = true,
		.cookie = stun_rd32(classic_req + 4) });
	memcpy(req + 8, classic_req + 8, 12);
	stun_build_addr(&b, STUN_ATTR_RESPONSE_ADDRESS, &third);
	n = stun_build_finish(&b);
	CHECK_EQ(handle(&c, req, (size_t)n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_CLASSIC);
	CHECK_EQ(r.dst.port, 6000);

	/* a third party: refused, and the refusal goes to the source */
	third.ip[3] = 10;
	stun_build_reply(&b, req, sizeof(req), 0x0001, &(struct stun_msg){ .classic = true,
		.cookie = stun_rd32(classic_req + 4) });
	memcpy(req + 8, classic_req + 8, 12);
	stun_build_addr(&b, STUN_ATTR_RESPONSE_ADDRESS, &third);
	n = stun_build_finish(&b);
	CHECK_EQ(handle(&c, req, (size_t)n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_400);
	CHECK(stun_addr_equal(&r.dst, &c.peer));
}

static void unknown_required_attribute_is_420(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct stun_builder b;
	struct srv_stun_reply r;
	struct stun_msg m;
	struct stun_error e;
	uint16_t types[4];
	size_t nt = 0;
	int n;

	stun_build_init(&b, req, sizeof(req), 0x0001, txid);
	stun_build_u32(&b, 0x7FF1, 1);		/* comprehension-required, unknown */
	stun_build_u32(&b, 0xFFF1, 1);		/* comprehension-optional: ignored */
	n = stun_build_finish(&b);
	CHECK_EQ(handle(&c, req, (size_t)n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_420);
	CHECK_EQ(m.type, 0x0111);
	CHECK_EQ(stun_attr_get_error(stun_msg_find(&m, STUN_ATTR_ERROR_CODE), &e), 0);
	CHECK_EQ(e.code, 420);
	CHECK_EQ(stun_attr_get_unknown(stun_msg_find(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES), types, 4, &nt), 0);
	CHECK_EQ(nt, 1);
	CHECK_EQ(types[0], 0x7FF1);
	CHECK_EQ(r.tx_ip, 0);
	CHECK_EQ(r.tx_port, 0);

	/* only the optional one: answered */
	stun_build_init(&b, req, sizeof(req), 0x0001, txid);
	stun_build_u32(&b, 0xFFF1, 1);
	n = stun_build_finish(&b);
	CHECK_EQ(handle(&c, req, (size_t)n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_BINDING);
}

static void fingerprint_is_checked_and_echoed(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_msg m;
	size_t n = req_binding(req, sizeof(req), 0, true);

	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_BINDING);
	CHECK(m.fingerprint >= 0);
	CHECK_EQ(stun_check_fingerprint(&m), 0);
	CHECK_EQ(r.len, 64);

	req[n - 1] ^= 1;
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_DROP_FINGERPRINT);
	CHECK_EQ(r.len, 0);
}

static void malformed_and_non_requests_are_dropped(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_msg m;
	size_t n = req_binding(req, sizeof(req), 0, false);

	/* truncated: every shorter prefix */
	for (size_t k = 0; k < n; k++) {
		CHECK_EQ(handle(&c, req, k, out, &r, &m), 0);
		CHECK_EQ(r.verdict, SRV_V_DROP_MALFORMED);
		CHECK_EQ(r.len, 0);
	}
	/* trailing bytes after the message */
	CHECK_EQ(handle(&c, req, n + 4, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_DROP_MALFORMED);
	/* top bits set (RTP, TLS, ...) */
	req[0] = 0x80;
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_DROP_MALFORMED);
	/* a Binding indication (keepalive) and a success response */
	req[0] = 0x00;
	req[1] = 0x11;
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_DROP_NOT_REQUEST);
	req[1] = 0x01;
	req[0] = 0x01;
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_DROP_NOT_REQUEST);
	CHECK_EQ(r.len, 0);
	/* a request of another method (TURN Allocate): 400 */
	req[0] = 0x00;
	req[1] = 0x03;
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_400);
	CHECK_EQ(m.type, 0x0113);
}

static void bad_attribute_values_are_400(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct stun_builder b;
	struct srv_stun_reply r;
	struct stun_msg m;
	size_t n;
	int k;

	/* CHANGE-REQUEST of 8 bytes */
	stun_build_init(&b, req, sizeof(req), 0x0001, txid);
	stun_build_u64(&b, STUN_ATTR_CHANGE_REQUEST, 6);
	k = stun_build_finish(&b);
	CHECK_EQ(handle(&c, req, (size_t)k, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_400);
	/* CHANGE-REQUEST over TCP cannot be honoured */
	c = ctx_at(0, 0, SRV_TCP);
	n = req_binding(req, sizeof(req), STUN_CHANGE_IP, false);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_400);
	/* ... but an all-zero one is just a Binding request */
	n = req_binding(req, sizeof(req), 0, false);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_BINDING);
}

static void software_when_configured(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[128], out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_msg m;
	const char *s;
	size_t sl, n = req_binding(req, sizeof(req), ~0u, false);

	c.software = "stunt-server 0.1";
	/* over UDP a 20-byte request leaves no room for it ... */
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK(!stun_msg_find(&m, STUN_ATTR_SOFTWARE));
	/* ... a request as large as the full answer does */
	{
		struct stun_builder b;

		stun_build_init(&b, req, sizeof(req), 0x0001, txid);
		stun_build_text(&b, STUN_ATTR_SOFTWARE,
				"a client with a long name, 48 bytes long, yes...", 48);
		n = (size_t)stun_build_finish(&b);
		CHECK_EQ(n, 72);
		CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
		CHECK(stun_msg_find(&m, STUN_ATTR_MAPPED_ADDRESS));
		CHECK(!stun_msg_find(&m, STUN_ATTR_SOFTWARE));
		CHECK_EQ(r.len, 68);
	}
	n = req_binding(req, sizeof(req), ~0u, false);
	c.transport = SRV_TCP;
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(stun_attr_get_text(stun_msg_find(&m, STUN_ATTR_SOFTWARE), &s, &sl), 0);
	CHECK_EQ(sl, 16);
	CHECK(memcmp(s, "stunt-server 0.1", 16) == 0);
}

/*
 * Amplification, measured: every kind of unauthenticated UDP request, from
 * an IPv4 and an IPv6 client, with the longest SOFTWARE configured. The
 * response is never larger than max(request, the RFC's required minimum):
 * for a success, header + XOR-MAPPED-ADDRESS + RESPONSE-ORIGIN +
 * OTHER-ADDRESS (RFC 3489: MAPPED, SOURCE, CHANGED) + FINGERPRINT if asked;
 * for an error, header + ERROR-CODE without phrase (+ UNKNOWN-ATTRIBUTES).
 * The sizes are printed as TAP comments (docs/security.md quotes them).
 */
static void responses_never_amplify(void)
{
	static const char sw[] = "0123456789012345678901234567890123456789012345678901234567890123";
	uint8_t req[256], out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_builder b;
	struct stun_msg m;
	const char *kinds[] = { "binding", "binding+fingerprint", "change-ip+port", "classic",
				"classic+change", "unknown method (400)", "unknown attr (420)",
				"bad change-request (400)", "response-port" };

	for (int v6 = 0; v6 < 2; v6++) {
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
			size_t n, alen, min;
			bool fp = k == 1, classic = k == 3 || k == 4, err = k >= 5 && k <= 7;

			c.software = sw;
			if (v6) {
				c.peer.family = STUN_FAMILY_IPV6;
				memcpy(c.peer.ip, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 7 }, 16);
			}
			stun_build_init(&b, req, sizeof(req), k == 5 ? 0x0002 : 0x0001, txid);
			if (k == 2 || k == 4)
				stun_build_change(&b, STUN_CHANGE_IP | STUN_CHANGE_PORT);
			if (k == 6)
				stun_build_u32(&b, 0x7F01, 1);
			if (k == 7)
				stun_build_attr(&b, STUN_ATTR_CHANGE_REQUEST, "xy", 2);
			if (k == 8)
				stun_build_response_port(&b, 5555);
			if (fp)
				stun_build_fingerprint(&b);
			n = (size_t)stun_build_finish(&b);
			if (classic)
				req[4] ^= 0xFF;	/* no magic cookie */
			CHECK_EQ(srv_stun_handle(&c, req, n, out, sizeof(out), &r), 0);
			CHECK(r.len > 0);
			CHECK(stun_parse(out, r.len, &m) == 0);
			alen = 4 + stun_addr_wire_len(&c.peer);
			if (err)
				min = 20 + 8 + (k == 6 ? 8 : 0) + (fp ? 8 : 0);
			else if (classic)
				min = 20 + alen + 2 * 12;
			else
				min = 20 + alen + 2 * 12 + (fp ? 8 : 0);
			CHECK(r.len <= (n > min ? n : min));
			CHECK(r.len <= n + min - 20);
			printf("# %s %-26s request %3zu response %3zu (required %3zu) ratio %.2f\n",
			       v6 ? "IPv6" : "IPv4", kinds[k], n, r.len, min,
			       (double)r.len / (double)n);
		}
	}
}

static void padding_never_makes_a_reply_larger_than_its_request(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[4096], out[SRV_STUN_BUF];
	struct stun_builder b;
	struct srv_stun_reply r;
	struct stun_msg m;
	size_t pads[] = { 0, 4, 40, 100, 500, 1400, 1500, 3000 };

	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		int n;

		stun_build_init(&b, req, sizeof(req), 0x0001, txid);
		stun_build_padding(&b, pads[i]);
		stun_build_fingerprint(&b);
		n = stun_build_finish(&b);
		CHECK(n > 0);
		CHECK_EQ(handle(&c, req, (size_t)n, out, &r, &m), 0);
		CHECK_EQ(r.verdict, SRV_V_BINDING);
		CHECK_EQ(stun_check_fingerprint(&m), 0);
		/* padded up to the request (or the buffer), never past it */
		CHECK(r.len <= (size_t)n || r.len <= SRV_STUN_MAX_REPLY);
		if ((size_t)n > SRV_STUN_MAX_REPLY + 8) {
			size_t want = (size_t)n < SRV_STUN_BUF ? (size_t)n : SRV_STUN_BUF;

			CHECK(r.len <= want && r.len + 8 > want);
		}
	}
}

static void ipv6_client(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_msg m;
	struct stun_addr a;
	size_t n = req_binding(req, sizeof(req), ~0u, false);

	c.peer.family = STUN_FAMILY_IPV6;
	memcpy(c.peer.ip, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 7 }, 16);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(stun_attr_get_xor_addr(stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &m, &a), 0);
	CHECK(stun_addr_equal(&a, &c.peer));
}

/* Random bytes and bit-flipped requests: never a crash (the asan build
 * checks the memory), never a reply over the bound. */
static void random_input_is_survived(void)
{
	struct srv_stun_ctx c = ctx_at(0, 1, SRV_UDP);
	uint8_t req[256], base[256], out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_builder b;
	unsigned seed = 42;
	int bn;

	stun_build_init(&b, base, sizeof(base), 0x0001, txid);
	stun_build_change(&b, STUN_CHANGE_IP);
	stun_build_response_port(&b, 7000);
	stun_build_text(&b, STUN_ATTR_SOFTWARE, "x", 1);
	stun_build_fingerprint(&b);
	bn = stun_build_finish(&b);
	for (int i = 0; i < 200000; i++) {
		size_t n;

		if (i & 1) {
			n = (size_t)rand_r(&seed) % sizeof(req);
			for (size_t k = 0; k < n; k++)
				req[k] = (uint8_t)rand_r(&seed);
			if (n >= 4)
				req[0] &= 0x3F;
		} else {
			n = (size_t)bn;
			memcpy(req, base, n);
			for (int f = rand_r(&seed) % 4; f >= 0; f--)
				req[(size_t)rand_r(&seed) % n] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		}
		if (srv_stun_handle(&c, req, n, out, sizeof(out), &r) != 0 ||
		    r.len > SRV_STUN_MAX_REPLY || r.verdict >= SRV_V_MAX ||
		    (r.len && memcmp(r.dst.ip, c.peer.ip, 4) != 0)) {
			CHECK(0);
			return;
		}
	}
}

static void bad_arguments(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t out[SRV_STUN_BUF];
	struct srv_stun_reply r;

	CHECK_EQ(srv_stun_handle(NULL, classic_req, sizeof(classic_req), out, sizeof(out), &r), -EINVAL);
	CHECK_EQ(srv_stun_handle(&c, classic_req, sizeof(classic_req), out, 100, &r), -EINVAL);
	c.rx_ip = 2;
	CHECK_EQ(srv_stun_handle(&c, classic_req, sizeof(classic_req), out, sizeof(out), &r), -EINVAL);
	CHECK(strcmp(srv_verdict_name(SRV_V_ERR_420), "err_420") == 0);
}

/* One address (RFC 5780 6): no OTHER-ADDRESS, 420 naming CHANGE-REQUEST when
 * it asks for another IP, and the other port of the same address honoured. */
static void one_address_server(void)
{
	struct srv_stun_ctx c = ctx_at(0, 0, SRV_UDP);
	uint8_t req[64], out[SRV_STUN_BUF];
	struct srv_stun_reply r;
	struct stun_msg m;
	struct stun_addr a;
	uint16_t unk[4];
	size_t n, nu = 0;

	c.one_addr = true;
	c.sock[1][0] = c.sock[0][0];
	c.sock[1][1] = c.sock[0][1];
	n = req_binding(req, sizeof(req), ~0u, false);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_BINDING);
	CHECK(!stun_msg_find(&m, STUN_ATTR_OTHER_ADDRESS));
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_RESPONSE_ORIGIN), &a), 0);
	CHECK(addr_is(&a, 1, 3478));
	/* change IP, alone or with the port: 420, UNKNOWN-ATTRIBUTES names it,
	 * sent back from the receiving socket */
	n = req_binding(req, sizeof(req), STUN_CHANGE_IP, true);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_420);
	CHECK_EQ(m.cls, STUN_ERROR);
	CHECK_EQ(r.tx_ip, 0);
	CHECK_EQ(r.tx_port, 0);
	CHECK_EQ(stun_attr_get_unknown(stun_msg_find(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES), unk, 4, &nu),
		 0);
	CHECK_EQ(nu, 1);
	CHECK_EQ(unk[0], STUN_ATTR_CHANGE_REQUEST);
	CHECK(stun_msg_find(&m, STUN_ATTR_FINGERPRINT) != NULL);
	n = req_binding(req, sizeof(req), STUN_CHANGE_IP | STUN_CHANGE_PORT, false);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_420);
	/* change port: from the same address's other port */
	n = req_binding(req, sizeof(req), STUN_CHANGE_PORT, false);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_BINDING);
	CHECK_EQ(r.tx_ip, 0);
	CHECK_EQ(r.tx_port, 1);
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&m, STUN_ATTR_RESPONSE_ORIGIN), &a), 0);
	CHECK(addr_is(&a, 1, 3479));
	CHECK(!stun_msg_find(&m, STUN_ATTR_OTHER_ADDRESS));
	/* RFC 3489: no CHANGED-ADDRESS, change IP refused the same way */
	CHECK_EQ(handle(&c, classic_req, sizeof(classic_req), out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_ERR_420);
	/* the two-address server still changes the IP */
	c = ctx_at(0, 0, SRV_UDP);
	n = req_binding(req, sizeof(req), STUN_CHANGE_IP, false);
	CHECK_EQ(handle(&c, req, n, out, &r, &m), 0);
	CHECK_EQ(r.verdict, SRV_V_BINDING);
	CHECK_EQ(r.tx_ip, 1);
}

int main(void)
{
	RUN(binding_answers_with_mapped_origin_and_other);
	RUN(change_request_picks_the_socket);
	RUN(classic_request_gets_rfc3489_answer);
	RUN(one_address_server);
	RUN(response_port_changes_only_the_port);
	RUN(response_address_only_toward_the_source_ip);
	RUN(unknown_required_attribute_is_420);
	RUN(fingerprint_is_checked_and_echoed);
	RUN(malformed_and_non_requests_are_dropped);
	RUN(bad_attribute_values_are_400);
	RUN(software_when_configured);
	RUN(responses_never_amplify);
	RUN(padding_never_makes_a_reply_larger_than_its_request);
	RUN(ipv6_client);
	RUN(random_input_is_survived);
	RUN(bad_arguments);
	return TAP_DONE();
}
