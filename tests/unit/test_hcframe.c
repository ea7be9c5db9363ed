// SPDX-License-Identifier: MIT
/* The relayed session's framing (proto/hcframe.h): frames built and parsed,
 * byte by byte, and what a hostile peer may send: unknown types, empty or
 * oversized data, EOFs with payloads, frames out of order. */
#include "proto/hcframe.h"
#include "tests/unit/tap.h"

#include <errno.h>

static void build_and_parse(void)
{
	uint8_t b[HCF_MAX_FRAME + 8];
	struct hcf_frame f;

	CHECK_EQ(hcf_put_hdr(b, HCF_DATA, 4), 0);
	memcpy(b + 3, "PING", 4);
	CHECK_EQ(b[0], 'D');
	CHECK_EQ(b[1], 0);
	CHECK_EQ(b[2], 4);
	CHECK_EQ(hcf_parse(b, 7, &f), 1);
	CHECK_EQ(f.type, HCF_DATA);
	CHECK_EQ(f.len, 4);
	CHECK_EQ(f.size, 7);
	CHECK(f.data == b + 3);
	/* a second frame right behind: only the first is consumed */
	CHECK_EQ(hcf_put_hdr(b + 7, HCF_EOF, 0), 0);
	CHECK_EQ(hcf_parse(b, 10, &f), 1);
	CHECK_EQ(f.size, 7);
	CHECK_EQ(hcf_parse(b + 7, 3, &f), 1);
	CHECK_EQ(f.type, HCF_EOF);
	CHECK_EQ(f.len, 0);
	CHECK(f.data == NULL);
	CHECK_EQ(f.size, 3);
	CHECK_EQ(hcf_put_hdr(b, HCF_CLOSE, 0), 0);
	CHECK_EQ(hcf_parse(b, 3, &f), 1);
	CHECK_EQ(f.type, HCF_CLOSE);
	/* the largest data frame */
	CHECK_EQ(hcf_put_hdr(b, HCF_DATA, HCF_MAX_DATA), 0);
	CHECK_EQ(b[1], HCF_MAX_DATA >> 8);
	CHECK_EQ(hcf_parse(b, HCF_MAX_FRAME, &f), 1);
	CHECK_EQ(f.len, HCF_MAX_DATA);
}

static void truncated(void)
{
	uint8_t b[16];
	struct hcf_frame f;
	size_t i;

	CHECK_EQ(hcf_put_hdr(b, HCF_DATA, 5), 0);
	memcpy(b + 3, "hello", 5);
	/* every prefix asks for more, none reads past its length */
	for (i = 0; i < 8; i++)
		CHECK_EQ(hcf_parse(b, i, &f), 0);
	CHECK_EQ(hcf_parse(b, 8, &f), 1);
	CHECK_EQ(hcf_put_hdr(b, HCF_EOF, 0), 0);
	CHECK_EQ(hcf_parse(b, 2, &f), 0);
}

static void malformed(void)
{
	uint8_t b[HCF_MAX_FRAME + 8];
	struct hcf_frame f;

	memset(b, 0, sizeof(b));
	/* an unknown type fails on its first byte (a plain stream, a stranger) */
	CHECK_EQ(hcf_parse((const uint8_t *)"P", 1, &f), -EBADMSG);
	CHECK_EQ(hcf_parse((const uint8_t *)"\0\0\0", 3, &f), -EBADMSG);
	/* empty data */
	CHECK_EQ(hcf_parse((const uint8_t *)"D\0\0", 3, &f), -EBADMSG);
	/* an EOF or a close with a payload */
	CHECK_EQ(hcf_parse((const uint8_t *)"E\0\1x", 4, &f), -EBADMSG);
	CHECK_EQ(hcf_parse((const uint8_t *)"C\1\0", 3, &f), -EBADMSG);
	/* oversized: refused from the header, before the payload arrives */
	b[0] = 'D';
	b[1] = (HCF_MAX_DATA + 1) >> 8;
	b[2] = (uint8_t)(HCF_MAX_DATA + 1);
	CHECK_EQ(hcf_parse(b, 3, &f), -EBADMSG);
	CHECK_EQ(hcf_parse((const uint8_t *)"D\xff\xff", 3, &f), -EBADMSG);
	/* and nothing invalid is built */
	CHECK_EQ(hcf_put_hdr(b, HCF_DATA, 0), -EINVAL);
	CHECK_EQ(hcf_put_hdr(b, HCF_DATA, HCF_MAX_DATA + 1), -EINVAL);
	CHECK_EQ(hcf_put_hdr(b, HCF_EOF, 1), -EINVAL);
	CHECK_EQ(hcf_put_hdr(b, 'X', 0), -EINVAL);
}

static void order(void)
{
	struct hcf_order o = { 0 };

	CHECK_EQ(hcf_order_next(&o, HCF_DATA), 0);
	CHECK_EQ(hcf_order_next(&o, HCF_DATA), 0);
	CHECK_EQ(hcf_order_next(&o, HCF_EOF), 0);
	CHECK_EQ(hcf_order_next(&o, HCF_DATA), -EPROTO);	/* data after the EOF */
	CHECK_EQ(hcf_order_next(&o, HCF_EOF), -EPROTO);	/* a second EOF */
	CHECK_EQ(hcf_order_next(&o, HCF_CLOSE), 0);
	CHECK_EQ(hcf_order_next(&o, HCF_CLOSE), -EPROTO);	/* anything after the close */
	CHECK_EQ(hcf_order_next(&o, HCF_DATA), -EPROTO);
	o = (struct hcf_order){ 0 };
	CHECK_EQ(hcf_order_next(&o, HCF_CLOSE), -EPROTO);	/* a close before the EOF */
	CHECK_EQ(hcf_order_next(&o, 'X'), -EPROTO);
	CHECK_EQ(hcf_order_next(&o, HCF_EOF), 0);
}

int main(void)
{
	RUN(build_and_parse);
	RUN(truncated);
	RUN(malformed);
	RUN(order);
	return TAP_DONE();
}
