// SPDX-License-Identifier: MIT
/* STUN framing: type encoding, header checks, the attribute walk, RFC 3489
 * classic messages and the builder's bounds. */
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdlib.h>

static const uint8_t txid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void type_interleaves_method_and_class(void)
{
	/* RFC 8489 5: Binding request 0x0001, success 0x0101, error 0x0111,
	 * indication 0x0011 */
	CHECK_EQ(stun_type(STUN_METHOD_BINDING, STUN_REQUEST), 0x0001);
	CHECK_EQ(stun_type(STUN_METHOD_BINDING, STUN_SUCCESS), 0x0101);
	CHECK_EQ(stun_type(STUN_METHOD_BINDING, STUN_ERROR), 0x0111);
	CHECK_EQ(stun_type(STUN_METHOD_BINDING, STUN_INDICATION), 0x0011);
	/* TURN Allocate error response is 0x0113 (RFC 8656) */
	CHECK_EQ(stun_type(0x003, STUN_ERROR), 0x0113);
	for (unsigned m = 0; m < 0x1000; m++) {
		for (unsigned c = 0; c < 4; c++) {
			uint16_t t = stun_type((uint16_t)m, (enum stun_class)c);

			CHECK(!(t & 0xC000));
			if (stun_type_method(t) != m || stun_type_class(t) != c) {
				CHECK(0);
				return;
			}
		}
	}
}

/* An RFC 3489 Binding Request as the Vovida client sends it: 128-bit
 * transaction id, CHANGE-REQUEST asking for the other address and port. */
static const uint8_t classic_req[] = {
	0x00, 0x01, 0x00, 0x08,	/* Binding Request, length 8 */
	0x5a, 0x0c, 0x71, 0x3e, 0x99, 0x01, 0x42, 0x7d, /* 128-bit transaction id */
	0xc4, 0x11, 0x0b, 0xf2, 0x38, 0x6d, 0x10, 0xa1,
	0x00, 0x03, 0x00, 0x04,	/* CHANGE-REQUEST */
	0x00, 0x00, 0x00, 0x06,	/* change IP and port */
};

static void classic_request_is_recognised(void)
{
	uint8_t buf[128];
	struct stun_builder b;
	struct stun_msg m, r;
	struct stun_addr a = { .family = STUN_FAMILY_IPV4, .port = 4242, .ip = { 198, 51, 100, 7 } };
	struct stun_addr got;
	uint32_t flags;
	int n;

	CHECK_EQ(stun_parse(classic_req, sizeof(classic_req), &m), 0);
	CHECK(m.classic);
	CHECK_EQ(m.method, STUN_METHOD_BINDING);
	CHECK_EQ(m.cls, STUN_REQUEST);
	CHECK_EQ(m.cookie, 0x5a0c713eu);
	CHECK_EQ(stun_attr_get_change(stun_msg_find(&m, STUN_ATTR_CHANGE_REQUEST), &flags), 0);
	CHECK_EQ(flags, STUN_CHANGE_IP | STUN_CHANGE_PORT);

	/* the answer old clients understand echoes all 128 bits */
	stun_build_reply(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_SUCCESS), &m);
	stun_build_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &a);
	stun_build_addr(&b, STUN_ATTR_SOURCE_ADDRESS, &a);
	stun_build_addr(&b, STUN_ATTR_CHANGED_ADDRESS, &a);
	n = stun_build_finish(&b);
	CHECK_EQ(n, 20 + 3 * 12);
	CHECK_MEM(buf + 4, classic_req + 4, 16);
	CHECK_EQ(stun_parse(buf, (size_t)n, &r), 0);
	CHECK(r.classic);
	CHECK_EQ(r.cls, STUN_SUCCESS);
	CHECK_EQ(stun_attr_get_addr(stun_msg_find(&r, STUN_ATTR_CHANGED_ADDRESS), &got), 0);
	CHECK(stun_addr_equal(&got, &a));
}

static void header_errors(void)
{
	uint8_t m[24] = { 0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42 };
	struct stun_msg msg;

	m[20] = 0x80; /* SOFTWARE, empty */
	m[21] = 0x22;
	CHECK_EQ(stun_parse(m, sizeof(m), &msg), 0);
	CHECK_EQ(stun_parse(m, 19, &msg), -EMSGSIZE);
	CHECK_EQ(stun_parse(m, 20, &msg), -EMSGSIZE);
	CHECK_EQ(stun_parse(NULL, 20, &msg), -EINVAL);
	m[0] = 0x40; /* top bits must be zero */
	CHECK_EQ(stun_parse(m, sizeof(m), &msg), -EBADMSG);
	m[0] = 0;
	m[3] = 0x02; /* length not a multiple of 4 */
	CHECK_EQ(stun_parse(m, 22, &msg), -EBADMSG);
	m[3] = 0x00; /* bytes after the message */
	CHECK_EQ(stun_parse(m, sizeof(m), &msg), -EBADMSG);
	CHECK_EQ(stun_parse(m, 20, &msg), 0);
	CHECK_EQ(msg.nattrs, 0);
	m[3] = 0x04;
	m[23] = 0x01; /* attribute longer than the message */
	CHECK_EQ(stun_parse(m, sizeof(m), &msg), -EBADMSG);
}

static void frame_len_for_streams(void)
{
	uint8_t h[4] = { 0x00, 0x01, 0x00, 0x08 };

	CHECK_EQ(stun_frame_len(h, 3), 0);
	CHECK_EQ(stun_frame_len(h, 4), 28);
	h[3] = 0x09;
	CHECK_EQ(stun_frame_len(h, 4), -EBADMSG);
	h[0] = 0x80;
	h[3] = 0x08;
	CHECK_EQ(stun_frame_len(h, 4), -EBADMSG);
}

static void fingerprint_must_be_last(void)
{
	uint8_t buf[128];
	struct stun_builder b;
	struct stun_msg m;
	int n;

	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	stun_build_fingerprint(&b);
	stun_build_text(&b, STUN_ATTR_SOFTWARE, "x", 1);
	n = stun_build_finish(&b);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), -EBADMSG);
}

static void attributes_after_integrity_are_ignored(void)
{
	static const uint8_t key[] = "k";
	uint8_t buf[256];
	struct stun_builder b;
	struct stun_msg m;
	int n;

	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	stun_build_text(&b, STUN_ATTR_USERNAME, "u", 1);
	stun_build_integrity(&b, key, 1);
	stun_build_text(&b, STUN_ATTR_SOFTWARE, "ignored", 7);
	stun_build_integrity_sha256(&b, key, 1);
	stun_build_text(&b, STUN_ATTR_REALM, "ignored too", 11);
	stun_build_fingerprint(&b);
	n = stun_build_finish(&b);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.ignored, 2);
	CHECK_EQ(m.nattrs, 4);
	CHECK(stun_msg_find(&m, STUN_ATTR_SOFTWARE) == NULL);
	CHECK(stun_msg_find(&m, STUN_ATTR_REALM) == NULL);
	CHECK_EQ(stun_check_integrity(&m, key, 1), 0);
	/* MESSAGE-INTEGRITY-SHA256 covers the ignored SOFTWARE too */
	CHECK_EQ(stun_check_integrity_sha256(&m, key, 1), 0);
	CHECK_EQ(stun_check_fingerprint(&m), 0);
}

static void attribute_table_is_bounded(void)
{
	uint8_t buf[1024];
	struct stun_builder b;
	struct stun_msg m;
	int n, i;

	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	for (i = 0; i < STUN_MAX_ATTRS; i++)
		stun_build_attr(&b, 0x8100, NULL, 0);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.nattrs, STUN_MAX_ATTRS);
	stun_build_attr(&b, 0x8100, NULL, 0);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), -E2BIG);
}

static void builder_respects_capacity(void)
{
	uint8_t buf[64], *big;
	struct stun_builder b;
	size_t cap;
	int n;

	/* find the full length, then every smaller capacity fails cleanly */
	for (cap = 0; cap <= sizeof(buf); cap++) {
		memset(buf, 0xEE, sizeof(buf));
		stun_build_init(&b, buf, cap, stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
		stun_build_text(&b, STUN_ATTR_SOFTWARE, "abc", 3);
		stun_build_fingerprint(&b);
		n = stun_build_finish(&b);
		if (cap < 36) {
			CHECK_EQ(n, -ENOSPC);
		} else {
			CHECK_EQ(n, 36);
		}
		/* never a byte written past cap */
		for (size_t k = cap; k < sizeof(buf); k++)
			CHECK_EQ(buf[k], 0xEE);
	}
	/* the 16-bit length is the limit whatever the buffer */
	big = malloc(STUN_MAX_MSG_LEN + 64);
	stun_build_init(&b, big, STUN_MAX_MSG_LEN + 64, 1, txid);
	stun_build_padding(&b, STUN_MAX_BODY_LEN - 4);
	CHECK_EQ(stun_build_finish(&b), STUN_MAX_MSG_LEN);
	stun_build_attr(&b, STUN_ATTR_SOFTWARE, NULL, 0);
	CHECK_EQ(stun_build_finish(&b), -EMSGSIZE);
	free(big);
	CHECK_EQ(stun_build_init(&b, buf, sizeof(buf), 0xC001, txid), -EINVAL);
}

static void copy_skips_integrity(void)
{
	static const uint16_t skip[] = { STUN_ATTR_USERNAME };
	uint8_t a[128], c[128];
	struct stun_builder b;
	struct stun_msg m, m2;
	int n;

	stun_build_init(&b, a, sizeof(a), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	stun_build_text(&b, STUN_ATTR_USERNAME, "user", 4);
	stun_build_text(&b, STUN_ATTR_SOFTWARE, "sw", 2);
	stun_build_integrity(&b, (const uint8_t *)"k", 1);
	stun_build_fingerprint(&b);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(a, (size_t)n, &m), 0);
	stun_build_init(&b, c, sizeof(c), m.type, m.txid);
	stun_build_copy(&b, &m, skip, 1);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(c, (size_t)n, &m2), 0);
	CHECK_EQ(m2.nattrs, 1);
	CHECK_EQ(m2.attrs[0].type, STUN_ATTR_SOFTWARE);
}

int main(void)
{
	RUN(type_interleaves_method_and_class);
	RUN(classic_request_is_recognised);
	RUN(header_errors);
	RUN(frame_len_for_streams);
	RUN(fingerprint_must_be_last);
	RUN(attributes_after_integrity_are_ignored);
	RUN(attribute_table_is_bounded);
	RUN(builder_respects_capacity);
	RUN(copy_skips_integrity);
	return TAP_DONE();
}
