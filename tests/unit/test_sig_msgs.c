// SPDX-License-Identifier: MIT
/* Signalling messages: ids, credentials, round trips of every message,
 * verbatim relaying of candidates, malformed input. */
#include "proto/sig.h"
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"
#include "proto/stunt_codes.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <netinet/in.h>

static const uint8_t txid[12] = { 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
				  0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c };
static const uint8_t txid2[12] = { 0x71, 0x72, 0x73, 0x74, 0x75, 0x76,
				   0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c };
static const struct stun_addr pub4 = { .family = STUN_FAMILY_IPV4, .port = 61000,
				       .ip = { 198, 51, 100, 33 } };
static const struct stun_addr host6 = { .family = STUN_FAMILY_IPV6, .port = 5900,
					.ip = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 } };

static uint8_t buf[2048];
static struct stun_builder b;
static struct stun_msg m;

static void start(uint16_t method, enum stun_class cls)
{
	stun_build_init(&b, buf, sizeof(buf), stun_type(method, cls), txid);
}

static int done(void)
{
	int n = stun_build_finish(&b);

	if (n < 0)
		return n;
	return stun_parse(buf, (size_t)n, &m);
}

static void ids(void)
{
	CHECK(sig_id_valid("office-pc", 9));
	CHECK(sig_id_valid("a.b_c-D9", 8));
	CHECK(!sig_id_valid("", 0));
	CHECK(!sig_id_valid("with space", 10));
	CHECK(!sig_id_valid("peer/vnc", 8));
	CHECK(!sig_id_valid("nul\0x", 5));
	{
		char longid[66];

		memset(longid, 'x', sizeof(longid));
		CHECK(sig_id_valid(longid, 64));
		CHECK(!sig_id_valid(longid, 65));
		longid[65] = 0;
		start(SIG_METHOD_REGISTER, STUN_REQUEST);
		struct sig_register r;

		memcpy(r.peer_id, longid, sizeof(r.peer_id));
		r.peer_id[64] = 0;
		CHECK_EQ(sig_put_register(&b, &r), 0);
	}
	CHECK_EQ(sig_method_id("stunt1"), SIG_M_STUNT1);
	CHECK_EQ(sig_method_id("relay"), SIG_M_RELAY);
	CHECK_EQ(sig_method_id("nope"), -ENOENT);
	CHECK(!strcmp(sig_method_name(SIG_M_SIMOPEN), "simopen"));
	CHECK(sig_method_name(0) == NULL && sig_method_name(SIG_M_MAX + 1) == NULL);
}

static void credentials(void)
{
	static const uint8_t secret[] = "correct horse battery staple";
	static const uint8_t nonce[] = "0123456789abcdef";
	uint8_t c1[32], c2[32];

	CHECK_EQ(sig_credential(secret, 28, "alice", nonce, 16, c1), 0);
	CHECK_EQ(sig_credential_check(secret, 28, "alice", nonce, 16, c1), 0);
	CHECK_EQ(sig_credential_check(secret, 27, "alice", nonce, 16, c1), -EACCES);
	CHECK_EQ(sig_credential_check(secret, 28, "alicf", nonce, 16, c1), -EACCES);
	CHECK_EQ(sig_credential_check(secret, 28, "alice", nonce, 15, c1), -EACCES);
	/* id and nonce are separated: "ab"+"c..." differs from "a"+"bc..." */
	CHECK_EQ(sig_credential(secret, 28, "ab", (const uint8_t *)"cd", 2, c1), 0);
	CHECK_EQ(sig_credential(secret, 28, "a", (const uint8_t *)"bcd", 3, c2), 0);
	CHECK(memcmp(c1, c2, 32) != 0);
	CHECK_EQ(sig_credential(secret, 28, "bad id", nonce, 16, c1), -EINVAL);
	CHECK_EQ(sig_credential(secret, 0, "alice", nonce, 16, c1), -EINVAL);
}

static void register_and_authenticate(void)
{
	static const uint8_t secret[] = "s";
	struct sig_register rg = { .peer_id = "office-pc" }, rg2;
	struct sig_register_resp rr = { .nonce = "n0nce-42", .nonce_len = 8 }, rr2;
	struct sig_auth au = { .peer_id = "office-pc" }, au2;
	struct sig_auth_resp ar = { .mapped = pub4, .server_time_ms = 1700000000123ull }, ar2;

	start(SIG_METHOD_REGISTER, STUN_REQUEST);
	CHECK_EQ(sig_put_register(&b, &rg), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_register(&m, &rg2), 0);
	CHECK(!strcmp(rg2.peer_id, "office-pc"));

	start(SIG_METHOD_REGISTER, STUN_SUCCESS);
	CHECK_EQ(sig_put_register_resp(&b, &rr), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_register_resp(&m, &rr2), 0);
	CHECK(rr2.nonce_len == 8 && !memcmp(rr2.nonce, "n0nce-42", 8));

	memcpy(au.nonce, rr2.nonce, rr2.nonce_len);
	au.nonce_len = rr2.nonce_len;
	sig_credential(secret, 1, au.peer_id, au.nonce, au.nonce_len, au.credential);
	start(SIG_METHOD_AUTHENTICATE, STUN_REQUEST);
	CHECK_EQ(sig_put_auth(&b, &au), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_auth(&m, &au2), 0);
	CHECK(!strcmp(au2.peer_id, "office-pc"));
	CHECK_EQ(sig_credential_check(secret, 1, au2.peer_id, au2.nonce, au2.nonce_len,
				      au2.credential),
		 0);
	CHECK_EQ(sig_get_register(&m, &rg2), -ENOMSG);

	start(SIG_METHOD_AUTHENTICATE, STUN_SUCCESS);
	CHECK_EQ(sig_put_auth_resp(&b, &ar), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_auth_resp(&m, &ar2), 0);
	CHECK(stun_addr_equal(&ar2.mapped, &pub4));
	CHECK(ar2.server_time_ms == 1700000000123ull);

	/* an id with a slash is refused on the wire as well */
	start(SIG_METHOD_REGISTER, STUN_REQUEST);
	stun_build_attr(&b, SIG_ATTR_PEER_ID, "a/b", 3);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_register(&m, &rg2), -EBADMSG);
	/* a 16-byte credential is malformed */
	start(SIG_METHOD_AUTHENTICATE, STUN_REQUEST);
	stun_build_attr(&b, SIG_ATTR_PEER_ID, "a", 1);
	stun_build_attr(&b, STUN_ATTR_NONCE, "n", 1);
	stun_build_attr(&b, SIG_ATTR_CREDENTIAL, au.credential, 16);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_auth(&m, &au2), -EBADMSG);
}

static void lookup_round_trip(void)
{
	struct sig_lookup l = { .peer_id = "home" }, l2;
	struct sig_lookup_resp r = { .peer_id = "home", .endpoint = pub4, .has_nat = true,
				     .nat = { .tcp_mapping = 1, .tcp_filtering = 3, .tcp_alloc = 2,
					      .tcp_delta = -2, .udp_delta = 1, .unsolicited = 2,
					      .flags = SIG_NAT_UPNP, .nat_hops = 2 } },
			       r2;

	start(SIG_METHOD_LOOKUP, STUN_REQUEST);
	CHECK_EQ(sig_put_lookup(&b, &l), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_lookup(&m, &l2), 0);
	CHECK(!strcmp(l2.peer_id, "home"));

	start(SIG_METHOD_LOOKUP, STUN_SUCCESS);
	CHECK_EQ(sig_put_lookup_resp(&b, &r), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_lookup_resp(&m, &r2), 0);
	CHECK(stun_addr_equal(&r2.endpoint, &pub4));
	CHECK(r2.has_nat);
	CHECK_EQ(r2.nat.tcp_filtering, 3);
	CHECK_EQ(r2.nat.tcp_delta, -2);
	CHECK_EQ(r2.nat.udp_delta, 1);
	CHECK_EQ(r2.nat.flags, SIG_NAT_UPNP);
	CHECK_EQ(r2.nat.nat_hops, 2);
	/* not found is an ordinary error response */
	start(SIG_METHOD_LOOKUP, STUN_ERROR);
	stun_build_error(&b, STUN_ERR_NOT_FOUND, NULL);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_lookup_resp(&m, &r2), -ENOMSG);
}

static void exchange_round_trip_and_relay(void)
{
	struct sig_exchange x = {
		.peer_id = "office-pc",
		.session_id = 0xabcdef01,
		.service = "vnc",
		.methods = { SIG_M_SIMOPEN, SIG_M_STUNT2, SIG_M_RELAY },
		.nmethods = 3,
		.cand = { { .kind = SIG_CAND_HOST, .proto = IPPROTO_TCP, .priority = 100,
			    .addr = host6 },
			  { .kind = SIG_CAND_SRFLX, .proto = IPPROTO_TCP, .priority = 90,
			    .addr = pub4 } },
		.ncand = 2,
		.has_prediction = true,
		.pred = { .proto = IPPROTO_TCP, .allocation = SIG_ALLOC_SEQUENTIAL, .delta = -3,
			  .last_port = 61000, .count = 5 },
		.has_isn = true,
		.isn = 0x11223344,
	}, x2;
	static const uint16_t skip[] = { SIG_ATTR_PEER_ID };
	uint8_t out[2048];
	struct stun_builder rb;
	struct stun_msg rm;
	int n;

	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	CHECK_EQ(sig_put_exchange(&b, &x), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(!strcmp(x2.peer_id, "office-pc"));
	CHECK_EQ(x2.session_id, 0xabcdef01);
	CHECK(!strcmp(x2.service, "vnc"));
	CHECK_EQ(x2.nmethods, 3);
	CHECK_MEM(x2.methods, x.methods, 3);
	CHECK_EQ(x2.ncand, 2);
	CHECK_EQ(x2.cand[0].kind, SIG_CAND_HOST);
	CHECK_EQ(x2.cand[0].priority, 100);
	CHECK(stun_addr_equal(&x2.cand[0].addr, &host6));
	CHECK(stun_addr_equal(&x2.cand[1].addr, &pub4));
	CHECK(x2.has_prediction);
	CHECK_EQ(x2.pred.delta, -3);
	CHECK_EQ(x2.pred.last_port, 61000);
	CHECK_EQ(x2.pred.count, 5);
	CHECK_EQ(x2.pred.allocation, SIG_ALLOC_SEQUENTIAL);
	CHECK(x2.has_isn && x2.isn == 0x11223344);
	CHECK(!x2.has_nat);

	/* the server relays it: new transaction id, indication, PEER-ID of
	 * the sender, everything else copied byte for byte */
	stun_build_init(&rb, out, sizeof(out), stun_type(SIG_METHOD_EXCHANGE, STUN_INDICATION),
			txid2);
	stun_build_text(&rb, SIG_ATTR_PEER_ID, "laptop", 6);
	stun_build_copy(&rb, &m, skip, 1);
	n = stun_build_finish(&rb);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)n, &rm), 0);
	CHECK_EQ(sig_get_exchange(&rm, &x2), 0);
	CHECK(!strcmp(x2.peer_id, "laptop"));
	CHECK(stun_addr_equal(&x2.cand[0].addr, &host6));
	CHECK(stun_addr_equal(&x2.cand[1].addr, &pub4));

	/* more candidates than the table holds */
	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	x.ncand = 0;
	sig_put_exchange(&b, &x);
	for (int i = 0; i <= SIG_MAX_CANDIDATES; i++)
		sig_build_candidate(&b, &x2.cand[1]);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_exchange(&m, &x2), -E2BIG);
	/* unknown method ids are skipped */
	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	x.nmethods = 0;
	sig_put_exchange(&b, &x);
	stun_build_attr(&b, SIG_ATTR_METHODS, (uint8_t[]){ 200, SIG_M_UDP, 0 }, 3);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK_EQ(x2.nmethods, 1);
	CHECK_EQ(x2.methods[0], SIG_M_UDP);
	/* a bad candidate kind is refused */
	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	x.ncand = 1;
	x.cand[0].kind = 9;
	CHECK_EQ(sig_put_exchange(&b, &x), -EINVAL);
}

/* SIG-ROUND: the relay round's EXCHANGE (and its absence in the first) */
static void exchange_round(void)
{
	struct sig_exchange x = {
		.peer_id = "office-pc",
		.session_id = 7,
		.methods = { SIG_M_RELAY },
		.nmethods = 1,
		.cand = { { .kind = SIG_CAND_RELAY, .proto = IPPROTO_TCP, .priority = SIG_M_RELAY,
			    .addr = pub4 } },
		.ncand = 1,
		.has_round = true,
		.round = { .round = SIG_ROUND_RELAY, .reason = SIG_REASON_TIMEOUT, .race_ms = 6012 },
	}, x2;
	static const uint16_t skip[] = { SIG_ATTR_PEER_ID };
	const struct stun_attr *a;
	struct sig_round r;
	uint8_t out[2048];
	struct stun_builder rb;
	struct stun_msg rm;
	int n;

	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	CHECK_EQ(sig_put_exchange(&b, &x), 0);
	CHECK_EQ(done(), 0);
	/* comprehension-optional, 4 bytes on the wire */
	a = stun_msg_find(&m, SIG_ATTR_ROUND);
	CHECK(a != NULL && a->len == 4);
	CHECK(SIG_ATTR_ROUND >= 0x8000);
	CHECK_EQ(stun_msg_unknown_required(&m, NULL, 0), 0);
	CHECK(a && a->val[0] == 1 && a->val[1] == 3 && a->val[2] == 0x17 && a->val[3] == 0x7c);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(x2.has_round);
	CHECK_EQ(x2.round.round, SIG_ROUND_RELAY);
	CHECK_EQ(x2.round.reason, SIG_REASON_TIMEOUT);
	CHECK_EQ(x2.round.race_ms, 6012);
	CHECK_EQ(x2.cand[0].kind, SIG_CAND_RELAY);
	/* the server copies it into the indication like any other attribute */
	stun_build_init(&rb, out, sizeof(out), stun_type(SIG_METHOD_EXCHANGE, STUN_INDICATION),
			txid2);
	stun_build_text(&rb, SIG_ATTR_PEER_ID, "laptop", 6);
	stun_build_copy(&rb, &m, skip, 1);
	n = stun_build_finish(&rb);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)n, &rm), 0);
	CHECK_EQ(sig_get_exchange(&rm, &x2), 0);
	CHECK(x2.has_round && x2.round.reason == SIG_REASON_TIMEOUT && x2.round.race_ms == 6012);
	/* absent: the first round */
	x.has_round = false;
	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	CHECK_EQ(sig_put_exchange(&b, &x), 0);
	CHECK_EQ(done(), 0);
	CHECK(stun_msg_find(&m, SIG_ATTR_ROUND) == NULL);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(!x2.has_round);
	/* too short: ignored, the rest of the message still decodes */
	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	sig_put_exchange(&b, &x);
	stun_build_attr(&b, SIG_ATTR_ROUND, (uint8_t[]){ 1, 2, 0 }, 3);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(!x2.has_round);
	CHECK_EQ(x2.ncand, 1);
	CHECK_EQ(sig_attr_get_round(stun_msg_find(&m, SIG_ATTR_ROUND), &r), -EBADMSG);
	/* longer (a newer peer): the first 4 bytes count */
	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	sig_put_exchange(&b, &x);
	stun_build_attr(&b, SIG_ATTR_ROUND, (uint8_t[]){ 1, 2, 0, 9, 0xff, 0xff, 0xff, 0xff }, 8);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(x2.has_round && x2.round.round == 1 && x2.round.reason == SIG_REASON_FAILED &&
	      x2.round.race_ms == 9);
	/* another attribute is not a round */
	CHECK_EQ(sig_attr_get_round(stun_msg_find(&m, SIG_ATTR_SESSION_ID), &r), -EBADMSG);
	CHECK_EQ(sig_attr_get_round(NULL, &r), -EINVAL);
	CHECK_EQ(sig_build_round(&b, NULL), -EINVAL);
	CHECK(!strcmp(sig_reason_text(SIG_REASON_FAILED), "every direct attempt failed"));
	CHECK(!strcmp(sig_reason_text(0), "?"));
}

/* SIG-SENDER: the server's word on the sender's address, in indications
 * of all three relayed methods; in a request it counts for nothing */
static void sender_round_trip(void)
{
	struct sig_exchange x = { .peer_id = "laptop", .session_id = 7, .has_sender = true,
				  .sender = pub4 }, x2;
	struct sig_schedule s = { .peer_id = "laptop", .session_id = 7, .has_sender = true,
				  .sender = host6 }, s2;
	struct sig_relay r = { .peer_id = "laptop", .data = (const uint8_t *)"x", .len = 1,
			       .has_sender = true, .sender = pub4 }, r2;
	const struct stun_attr *a;

	start(SIG_METHOD_EXCHANGE, STUN_INDICATION);
	CHECK_EQ(sig_put_exchange(&b, &x), 0);
	CHECK_EQ(done(), 0);
	a = stun_msg_find(&m, SIG_ATTR_SENDER);
	/* comprehension-optional, XOR'd like XOR-MAPPED-ADDRESS */
	CHECK(SIG_ATTR_SENDER >= 0x8000);
	CHECK(stunt_attr_is_known(SIG_ATTR_SENDER));
	CHECK_EQ(stun_msg_unknown_required(&m, NULL, 0), 0);
	CHECK(a != NULL && a->len == 8 && a->val[4] != 198);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(x2.has_sender && stun_addr_equal(&x2.sender, &pub4));
	/* IPv6: XOR'd with the transaction id too */
	s.start_time_ms = 2;
	s.server_time_ms = 1;
	start(SIG_METHOD_SCHEDULE, STUN_INDICATION);
	CHECK_EQ(sig_put_schedule(&b, &s), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_schedule(&m, &s2), 0);
	CHECK(s2.has_sender && stun_addr_equal(&s2.sender, &host6));
	start(SIG_METHOD_RELAY, STUN_INDICATION);
	CHECK_EQ(sig_put_relay(&b, &r), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_relay(&m, &r2), 0);
	CHECK(r2.has_sender && stun_addr_equal(&r2.sender, &pub4));
	/* absent (an old server): no word */
	x.has_sender = false;
	start(SIG_METHOD_EXCHANGE, STUN_INDICATION);
	CHECK_EQ(sig_put_exchange(&b, &x), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(!x2.has_sender);
	/* in a request it is the sender's own claim: not decoded */
	x.has_sender = true;
	start(SIG_METHOD_EXCHANGE, STUN_REQUEST);
	CHECK_EQ(sig_put_exchange(&b, &x), 0);
	CHECK_EQ(done(), 0);
	CHECK(stun_msg_find(&m, SIG_ATTR_SENDER) != NULL);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(!x2.has_sender);
	/* malformed: ignored, the rest still decodes */
	x.has_sender = false;
	start(SIG_METHOD_EXCHANGE, STUN_INDICATION);
	sig_put_exchange(&b, &x);
	stun_build_attr(&b, SIG_ATTR_SENDER, (uint8_t[]){ 0, 9, 1, 2 }, 4);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_exchange(&m, &x2), 0);
	CHECK(!x2.has_sender && x2.session_id == 7);
	CHECK_EQ(sig_build_sender(&b, NULL), -EINVAL);
}

/* A candidate counts only on the address the server vouches for. */
static void candidate_vouched(void)
{
	struct sig_candidate c = { .kind = SIG_CAND_SRFLX, .proto = IPPROTO_TCP,
				   .priority = SIG_M_REVERSAL, .addr = pub4 };
	struct stun_addr seen = pub4;

	seen.port = 40000;	/* the control connection's port: not compared */
	CHECK(sig_candidate_vouched(&seen, &c));
	c.kind = SIG_CAND_PREDICTED;
	CHECK(sig_candidate_vouched(&seen, &c));
	c.addr.ip[3] = 10;	/* a third party */
	CHECK(!sig_candidate_vouched(&seen, &c));
	c.kind = SIG_CAND_PORTMAP;
	CHECK(!sig_candidate_vouched(&seen, &c));
	c.kind = SIG_CAND_HOST;
	CHECK(!sig_candidate_vouched(&seen, &c));
	/* relayed: a TURN server's address, not judged here */
	c.kind = SIG_CAND_RELAY;
	CHECK(sig_candidate_vouched(&seen, &c));
	/* another family never matches */
	c.kind = SIG_CAND_SRFLX;
	c.addr = host6;
	CHECK(!sig_candidate_vouched(&seen, &c));
	seen = host6;
	CHECK(sig_candidate_vouched(&seen, &c));
	seen.family = 0;
	CHECK(!sig_candidate_vouched(&seen, &c));
	CHECK(!sig_candidate_vouched(NULL, &c));
}

static void schedule_round_trip(void)
{
	struct sig_schedule s = { .peer_id = "home", .session_id = 5, .delay_ms = 1500 }, s2;

	start(SIG_METHOD_SCHEDULE, STUN_REQUEST);
	CHECK_EQ(sig_put_schedule(&b, &s), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_schedule(&m, &s2), 0);
	CHECK_EQ(s2.delay_ms, 1500);
	CHECK(s2.start_time_ms == 0);

	s.start_time_ms = 1700000001500ull;
	s.server_time_ms = 1700000000000ull;
	start(SIG_METHOD_SCHEDULE, STUN_INDICATION);
	CHECK_EQ(sig_put_schedule(&b, &s), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_schedule(&m, &s2), 0);
	CHECK(s2.start_time_ms == 1700000001500ull);
	CHECK(s2.server_time_ms == 1700000000000ull);
	CHECK_EQ(s2.delay_ms, 0);

	start(SIG_METHOD_SCHEDULE, STUN_SUCCESS);
	stun_build_text(&b, SIG_ATTR_PEER_ID, "home", 4);
	stun_build_u32(&b, SIG_ATTR_SESSION_ID, 5);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_schedule(&m, &s2), -EBADMSG);
}

static void relay_round_trip(void)
{
	static uint8_t data[SIG_DATA_MAX + 1];
	struct sig_relay r = { .peer_id = "home", .data = (const uint8_t *)"hello", .len = 5 }, r2;

	start(SIG_METHOD_RELAY, STUN_REQUEST);
	CHECK_EQ(sig_put_relay(&b, &r), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_relay(&m, &r2), 0);
	CHECK(r2.len == 5 && !memcmp(r2.data, "hello", 5));
	CHECK(r2.data >= buf && r2.data < buf + sizeof(buf));
	CHECK_EQ(sig_get_exchange(&m, (struct sig_exchange[1]){ 0 }), -ENOMSG);

	r.data = data;
	r.len = SIG_DATA_MAX;
	start(SIG_METHOD_RELAY, STUN_INDICATION);
	CHECK_EQ(sig_put_relay(&b, &r), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_relay(&m, &r2), 0);
	CHECK_EQ(r2.len, SIG_DATA_MAX);
	r.len = SIG_DATA_MAX + 1;
	start(SIG_METHOD_RELAY, STUN_REQUEST);
	CHECK_EQ(sig_put_relay(&b, &r), -EINVAL);
	start(SIG_METHOD_RELAY, STUN_REQUEST);
	stun_build_text(&b, SIG_ATTR_PEER_ID, "home", 4);
	stun_build_attr(&b, SIG_ATTR_DATA, data, SIG_DATA_MAX + 1);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_relay(&m, &r2), -EBADMSG);
	/* a relay success response is not a relay */
	start(SIG_METHOD_RELAY, STUN_SUCCESS);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_relay(&m, &r2), -ENOMSG);
}

static void synack_round_trip(void)
{
	struct sig_synack r = { .peer_id = "office-pc", .session_id = 0x01020304,
				.syn = { .port = 40001, .window = 64240, .seq = 0xfedcba98,
					 .mss = 1460, .wscale = 7, .present = SIG_SYN_ALL,
					 .ts_val = 0x11223344 } }, r2;
	uint8_t raw[16] = { 0x9c, 0x41, 0, 0, 0, 0, 0, 1, 0x05, 0xb4, 15, 0x0f, 0, 0, 0, 0 };

	start(SIG_METHOD_SYNACK, STUN_REQUEST);
	CHECK_EQ(sig_put_synack(&b, &r), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_synack(&m, &r2), 0);
	CHECK(!strcmp(r2.peer_id, "office-pc"));
	CHECK_EQ(r2.session_id, 0x01020304u);
	CHECK_EQ(r2.syn.port, 40001);
	CHECK_EQ(r2.syn.window, 64240);
	CHECK_EQ(r2.syn.seq, 0xfedcba98u);
	CHECK_EQ(r2.syn.mss, 1460);
	CHECK_EQ(r2.syn.wscale, 7);
	CHECK_EQ(r2.syn.present, SIG_SYN_ALL);
	CHECK_EQ(r2.syn.ts_val, 0x11223344u);
	CHECK_EQ(sig_get_relay(&m, (struct sig_relay[1]){ 0 }), -ENOMSG);
	/* only requests: the server never relays it */
	start(SIG_METHOD_SYNACK, STUN_INDICATION);
	CHECK_EQ(sig_put_synack(&b, &r), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_synack(&m, &r2), -ENOMSG);
	/* port 0 and unknown option bits are refused both ways */
	r.syn.port = 0;
	start(SIG_METHOD_SYNACK, STUN_REQUEST);
	CHECK_EQ(sig_put_synack(&b, &r), -EINVAL);
	r.syn.port = 1;
	r.syn.present = 0x10;
	start(SIG_METHOD_SYNACK, STUN_REQUEST);
	CHECK_EQ(sig_put_synack(&b, &r), -EINVAL);
	/* on the wire: a window scale of 15, a short attribute, no SYN */
	start(SIG_METHOD_SYNACK, STUN_REQUEST);
	stun_build_text(&b, SIG_ATTR_PEER_ID, "home", 4);
	stun_build_u32(&b, SIG_ATTR_SESSION_ID, 9);
	stun_build_attr(&b, SIG_ATTR_SYN, raw, sizeof(raw));
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_synack(&m, &r2), -EBADMSG);
	raw[10] = 14;
	start(SIG_METHOD_SYNACK, STUN_REQUEST);
	stun_build_text(&b, SIG_ATTR_PEER_ID, "home", 4);
	stun_build_u32(&b, SIG_ATTR_SESSION_ID, 9);
	stun_build_attr(&b, SIG_ATTR_SYN, raw, sizeof(raw));
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_synack(&m, &r2), 0);
	CHECK_EQ(r2.syn.port, 40001);
	start(SIG_METHOD_SYNACK, STUN_REQUEST);
	stun_build_text(&b, SIG_ATTR_PEER_ID, "home", 4);
	stun_build_u32(&b, SIG_ATTR_SESSION_ID, 9);
	stun_build_attr(&b, SIG_ATTR_SYN, raw, 12);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_synack(&m, &r2), -EBADMSG);
	start(SIG_METHOD_SYNACK, STUN_REQUEST);
	stun_build_text(&b, SIG_ATTR_PEER_ID, "home", 4);
	stun_build_u32(&b, SIG_ATTR_SESSION_ID, 9);
	CHECK_EQ(done(), 0);
	CHECK_EQ(sig_get_synack(&m, &r2), -EBADMSG);
}

int main(void)
{
	RUN(ids);
	RUN(credentials);
	RUN(register_and_authenticate);
	RUN(lookup_round_trip);
	RUN(exchange_round_trip_and_relay);
	RUN(exchange_round);
	RUN(sender_round_trip);
	RUN(candidate_vouched);
	RUN(schedule_round_trip);
	RUN(relay_round_trip);
	RUN(synack_round_trip);
	return TAP_DONE();
}
