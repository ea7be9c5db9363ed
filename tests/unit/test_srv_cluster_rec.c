// SPDX-License-Identifier: MIT
/* The cluster's Redis records and messages (server/cluster_rec.c): what
 * one server writes another reads back, and what anyone else could have
 * written into Redis is refused. */
#include "server/cluster_rec.h"
#include "tests/unit/tap.h"

#include <errno.h>

#define S(lit)	(lit), (sizeof(lit) - 1)

static void a_record_round_trips(void)
{
	struct srv_cluster_rec r = { .server = "10.0.0.1:3478" }, back;
	char buf[SRV_CLUSTER_REC_MAX];
	int n;

	r.endpoint.family = STUN_FAMILY_IPV4;
	memcpy(r.endpoint.ip, "\xcb\x00\x71\x05", 4);
	r.endpoint.port = 40000;
	r.expires_ms = 1700000000123ull;
	n = srv_cluster_rec_format(&r, buf, sizeof(buf));
	CHECK(n > 0 && !strcmp(buf, "10.0.0.1:3478 203.0.113.5:40000 1700000000123"));
	CHECK_EQ(srv_cluster_rec_parse(buf, (size_t)n, &back), 0);
	CHECK(!strcmp(back.server, r.server));
	CHECK_MEM(&back.endpoint, &r.endpoint, sizeof(r.endpoint));
	CHECK(back.expires_ms == r.expires_ms);
	/* IPv6 in brackets */
	r.endpoint.family = STUN_FAMILY_IPV6;
	memset(r.endpoint.ip, 0, sizeof(r.endpoint.ip));
	r.endpoint.ip[0] = 0x20;
	r.endpoint.ip[1] = 0x01;
	r.endpoint.ip[15] = 1;
	n = srv_cluster_rec_format(&r, buf, sizeof(buf));
	CHECK(n > 0 && !strcmp(buf, "10.0.0.1:3478 [2001::1]:40000 1700000000123"));
	CHECK_EQ(srv_cluster_rec_parse(buf, (size_t)n, &back), 0);
	CHECK_MEM(&back.endpoint, &r.endpoint, sizeof(r.endpoint));
	/* too small a buffer is said, not cut */
	CHECK_EQ(srv_cluster_rec_format(&r, buf, 10), -ENOSPC);
	strcpy(r.server, "a b");
	CHECK_EQ(srv_cluster_rec_format(&r, buf, sizeof(buf)), -EINVAL);
}

static void bad_records_are_refused(void)
{
	static const struct { const char *s; } bad[] = {
		{ "" }, { "srv" }, { "srv 1.2.3.4:5" }, { "srv 1.2.3.4:5 " },
		{ "srv 1.2.3.4:5 12 extra" }, { "srv 1.2.3.4:5 12 " }, { " srv 1.2.3.4:5 12" },
		{ "srv 1.2.3.4 12" }, { "srv 1.2.3.4:0 12" }, { "srv 1.2.3.4:65536 12" },
		{ "srv 1.2.3.4:5x 12" }, { "srv 1.2.3.400:5 12" }, { "srv [1.2.3.4]:5 12" },
		{ "srv 2001::1:5 12" }, { "srv [2001::1:5 12" }, { "srv []:5 12" },
		{ "srv 1.2.3.4:5 -1" }, { "srv 1.2.3.4:5 99999999999999999999" },
		{ "srv 1.2.3.4:5 1a" }, { "srv 1.2.3.4:123456 1" }, { "srv :5 1" },
		{ "srv  1.2.3.4:5 1" },
	};
	struct srv_cluster_rec r;
	char long_name[100];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e = srv_cluster_rec_parse(bad[i].s, strlen(bad[i].s), &r);

		if (e != -EBADMSG)
			fprintf(stderr, "accepted: '%s'\n", bad[i].s);
		CHECK_EQ(e, -EBADMSG);
	}
	/* a NUL or a control byte in the name */
	CHECK_EQ(srv_cluster_rec_parse(S("s\0v 1.2.3.4:5 1"), &r), -EBADMSG);
	CHECK_EQ(srv_cluster_rec_parse(S("s\tv 1.2.3.4:5 1"), &r), -EBADMSG);
	/* 65 bytes of name are too many, 64 are fine */
	memset(long_name, 'n', 65);
	strcpy(long_name + 65, " 1.2.3.4:5 1");
	CHECK_EQ(srv_cluster_rec_parse(long_name, strlen(long_name), &r), -EBADMSG);
	CHECK_EQ(srv_cluster_rec_parse(long_name + 1, strlen(long_name + 1), &r), 0);
	/* the length given is the end: bytes after it are not read */
	CHECK_EQ(srv_cluster_rec_parse("srv 1.2.3.4:5 12 tail", 16, &r), 0);
	CHECK(r.expires_ms == 12 && r.endpoint.port == 5);
}

static void notices_round_trip(void)
{
	struct srv_cluster_note n = { .add = true, .id = "alice" }, back;
	char buf[SRV_CLUSTER_REC_MAX];
	int len;

	strcpy(n.rec.server, "s1");
	n.rec.endpoint.family = STUN_FAMILY_IPV4;
	memcpy(n.rec.endpoint.ip, "\x0a\x00\x00\x02", 4);
	n.rec.endpoint.port = 7;
	n.rec.expires_ms = 99;
	len = srv_cluster_note_format(&n, buf, sizeof(buf));
	CHECK(len > 0 && !strcmp(buf, "+alice s1 10.0.0.2:7 99"));
	CHECK_EQ(srv_cluster_note_parse(buf, (size_t)len, &back), 0);
	CHECK(back.add && !strcmp(back.id, "alice") && !strcmp(back.rec.server, "s1"));
	CHECK(back.rec.expires_ms == 99 && back.rec.endpoint.port == 7);
	n.add = false;
	len = srv_cluster_note_format(&n, buf, sizeof(buf));
	CHECK(len > 0 && !strcmp(buf, "-alice s1"));
	CHECK_EQ(srv_cluster_note_parse(buf, (size_t)len, &back), 0);
	CHECK(!back.add && !strcmp(back.id, "alice") && !strcmp(back.rec.server, "s1"));
	/* refused: no sign, bad id, nothing after the id, a space in the name */
	CHECK_EQ(srv_cluster_note_parse(S("alice s1"), &back), -EBADMSG);
	CHECK_EQ(srv_cluster_note_parse(S("-al/ice s1"), &back), -EBADMSG);
	CHECK_EQ(srv_cluster_note_parse(S("-alice"), &back), -EBADMSG);
	CHECK_EQ(srv_cluster_note_parse(S("-alice "), &back), -EBADMSG);
	CHECK_EQ(srv_cluster_note_parse(S("-alice s 1"), &back), -EBADMSG);
	CHECK_EQ(srv_cluster_note_parse(S("+alice s1 10.0.0.2:7"), &back), -EBADMSG);
	CHECK_EQ(srv_cluster_note_parse(S("- s1"), &back), -EBADMSG);
	CHECK_EQ(srv_cluster_note_parse(S("+"), &back), -EBADMSG);
}

static void keys_and_forwards(void)
{
	char buf[100], id[SIG_ID_MAX + 1];
	uint8_t fwd[32];
	const uint8_t *msg;
	size_t ml;
	int n;

	CHECK_EQ(srv_cluster_key_format("bob", buf, sizeof(buf)), 14);
	CHECK(!strcmp(buf, "stunt:peer:bob"));
	CHECK_EQ(srv_cluster_key_parse(S("stunt:peer:bob"), id), 0);
	CHECK(!strcmp(id, "bob"));
	CHECK_EQ(srv_cluster_key_parse(S("stunt:peer:"), id), -EBADMSG);
	CHECK_EQ(srv_cluster_key_parse(S("stunt:peer:b b"), id), -EBADMSG);
	CHECK_EQ(srv_cluster_key_parse(S("stunt:peeR:bob"), id), -EBADMSG);
	CHECK_EQ(srv_cluster_key_format("b b", buf, sizeof(buf)), -EINVAL);

	n = srv_cluster_fwd_format("bob", (const uint8_t *)"\x00\x01\n\x02", 4, fwd, sizeof(fwd));
	CHECK_EQ(n, 8);
	CHECK_EQ(srv_cluster_fwd_parse(fwd, (size_t)n, 100, id, &msg, &ml), 0);
	CHECK(!strcmp(id, "bob") && ml == 4 && !memcmp(msg, "\x00\x01\n\x02", 4));
	/* more than the caller takes, nothing, no id, a bad id */
	CHECK_EQ(srv_cluster_fwd_parse(fwd, (size_t)n, 3, id, &msg, &ml), -EBADMSG);
	CHECK_EQ(srv_cluster_fwd_parse(fwd, 4, 100, id, &msg, &ml), -EBADMSG);
	CHECK_EQ(srv_cluster_fwd_parse((const uint8_t *)"\nxx", 3, 100, id, &msg, &ml), -EBADMSG);
	CHECK_EQ(srv_cluster_fwd_parse((const uint8_t *)"b?b\nxx", 6, 100, id, &msg, &ml),
		 -EBADMSG);
	CHECK_EQ(srv_cluster_fwd_parse((const uint8_t *)"bob", 3, 100, id, &msg, &ml), -EBADMSG);
	CHECK_EQ(srv_cluster_fwd_format("bob", (const uint8_t *)"x", 1, fwd, 4), -ENOSPC);
	CHECK_EQ(srv_cluster_fwd_format("bob", (const uint8_t *)"x", 0, fwd, sizeof(fwd)), -EINVAL);
}

int main(void)
{
	RUN(a_record_round_trips);
	RUN(bad_records_are_refused);
	RUN(notices_round_trip);
	RUN(keys_and_forwards);
	return TAP_DONE();
}
