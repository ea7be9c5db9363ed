// SPDX-License-Identifier: MIT
/* STUNT messages: TCP option parsing, round trips, wrong types, missing
 * and malformed attributes, the codes' place beside STUN/TURN. */
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"
#include "proto/stunt.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdlib.h>

static const uint8_t txid[12] = { 0x51, 0x52, 0x53, 0x54, 0x55, 0x56,
				  0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c };
static const struct stun_addr client = { .family = STUN_FAMILY_IPV4, .port = 50123,
					 .ip = { 198, 51, 100, 20 } };
static const struct stun_addr server_alt = { .family = STUN_FAMILY_IPV4, .port = 3479,
					     .ip = { 203, 0, 113, 2 } };

/* A Linux SYN's options: MSS 1460, SACK permitted, timestamps, NOP, wscale 7. */
static const uint8_t linux_syn_opts[20] = {
	0x02, 0x04, 0x05, 0xb4,			/* MSS 1460 */
	0x04, 0x02,				/* SACK permitted */
	0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40,	/* TSval 123456 */
	0x00, 0x00, 0x00, 0x00,			/* TSecr 0 */
	0x01,					/* NOP */
	0x03, 0x03, 0x07,			/* window scale 7 */
};

static uint8_t buf[1024];
static struct stun_builder b;
static struct stun_msg m;

static void start(uint16_t method, enum stun_class cls)
{
	stun_build_init(&b, buf, sizeof(buf), stun_type(method, cls), txid);
}

static int done(void)
{
	int n;

	stun_build_fingerprint(&b);
	n = stun_build_finish(&b);
	if (n < 0)
		return n;
	if (stun_parse(buf, (size_t)n, &m) < 0)
		return -EBADMSG;
	return stun_check_fingerprint(&m);
}

static void codes_do_not_collide(void)
{
	static const uint16_t ours[] = {
		STUNT_METHOD_CAPTURE, STUNT_METHOD_SYN_REPORT, STUNT_METHOD_SEND_PACKET,
		STUNT_METHOD_PROBE_UNSOLICITED, SIG_METHOD_REGISTER, SIG_METHOD_AUTHENTICATE,
		SIG_METHOD_LOOKUP, SIG_METHOD_EXCHANGE, SIG_METHOD_SCHEDULE, SIG_METHOD_RELAY,
		SIG_METHOD_SYNACK,
	};
	size_t i;

	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		CHECK(ours[i] != STUN_METHOD_BINDING && ours[i] != STUN_METHOD_SHARED_SECRET);
		CHECK(ours[i] < STUN_METHOD_TURN_FIRST || ours[i] > STUN_METHOD_TURN_LAST);
		CHECK(ours[i] != 0x080); /* GOOG-PING */
		CHECK(stunt_method_is_ours(ours[i]));
		/* every class of every method keeps the top two bits zero */
		CHECK(!(stun_type(ours[i], STUN_ERROR) & 0xC000));
	}
	CHECK(!stunt_method_is_ours(0x003)); /* the thesis' Capture = TURN Allocate */
	/* required attributes in the 0x4000-0x7FFF range, optional above 0xC000 */
	CHECK(STUNT_ATTR_CAPTURE_ID >= 0x4000 && SIG_ATTR_SYN < 0x8000);
	CHECK(stun_attr_is_known(SIG_ATTR_SYN));
	CHECK(!stun_attr_is_known(SIG_ATTR_SYN + 1));
	CHECK(SIG_ATTR_NAT_INFO >= 0xC000);
	CHECK(stun_attr_is_known(STUNT_ATTR_SYN_INFO));
	CHECK(stun_attr_is_known(SIG_ATTR_NAT_INFO));
	CHECK(!stun_attr_is_known(0x5A09));
	CHECK(!stun_attr_is_known(0x0100)); /* thesis PACKET-REQUEST, not ours */
}

static void tcp_options_parse(void)
{
	struct stunt_tcp_opts o;
	uint8_t v[44];

	CHECK_EQ(stunt_tcp_opts_parse(linux_syn_opts, sizeof(linux_syn_opts), &o), 0);
	CHECK_EQ(o.present, STUNT_OPT_MSS | STUNT_OPT_SACK_PERM | STUNT_OPT_TIMESTAMPS |
				    STUNT_OPT_WSCALE);
	CHECK_EQ(o.mss, 1460);
	CHECK_EQ(o.wscale, 7);
	CHECK_EQ(o.ts_val, 123456);
	CHECK_EQ(o.ts_ecr, 0);
	CHECK_EQ(stunt_tcp_opts_parse(NULL, 0, &o), 0);
	CHECK_EQ(o.present, 0);
	/* every prefix either parses or is refused, never read past */
	for (size_t k = 0; k < sizeof(linux_syn_opts); k++) {
		uint8_t *c = malloc(k ? k : 1);
		int err;

		memcpy(c, linux_syn_opts, k);
		err = stunt_tcp_opts_parse(c, k, &o);
		CHECK(err == 0 || err == -EBADMSG);
		free(c);
	}
	/* MSS of length 3 */
	memcpy(v, (uint8_t[]){ 0x02, 0x03, 0x05, 0x00 }, 4);
	CHECK_EQ(stunt_tcp_opts_parse(v, 4, &o), -EBADMSG);
	/* length 0 would loop forever */
	memcpy(v, (uint8_t[]){ 0x1e, 0x00, 0x00, 0x00 }, 4);
	CHECK_EQ(stunt_tcp_opts_parse(v, 4, &o), -EBADMSG);
	/* unknown option skipped, end-of-list stops */
	memcpy(v, (uint8_t[]){ 0x1e, 0x04, 0xaa, 0xbb, 0x00, 0x02, 0x01 }, 7);
	CHECK_EQ(stunt_tcp_opts_parse(v, 7, &o), 0);
	CHECK_EQ(o.present, 0);
	memset(v, 1, sizeof(v));
	CHECK_EQ(stunt_tcp_opts_parse(v, 40, &o), 0);
	CHECK_EQ(stunt_tcp_opts_parse(v, 41, &o), -EBADMSG);
}

static void capture_round_trip(void)
{
	struct stunt_capture_req rq = { .timeout_ms = 5000 }, rq2;
	struct stunt_capture_resp rs = { .capture_id = 77, .timeout_ms = 4000, .target = server_alt },
				  rs2;

	start(STUNT_METHOD_CAPTURE, STUN_REQUEST);
	CHECK_EQ(stunt_put_capture_req(&b, &rq), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_capture_req(&m, &rq2), 0);
	CHECK_EQ(rq2.timeout_ms, 5000);
	CHECK_EQ(stunt_get_capture_resp(&m, &rs2), -ENOMSG);

	start(STUNT_METHOD_CAPTURE, STUN_REQUEST);
	stunt_put_capture_req(&b, &(struct stunt_capture_req){ 0 });
	CHECK_EQ(done(), 0);
	CHECK_EQ(m.nattrs, 1); /* only FINGERPRINT */
	CHECK_EQ(stunt_get_capture_req(&m, &rq2), 0);
	CHECK_EQ(rq2.timeout_ms, 0);

	start(STUNT_METHOD_CAPTURE, STUN_SUCCESS);
	CHECK_EQ(stunt_put_capture_resp(&b, &rs), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_capture_resp(&m, &rs2), 0);
	CHECK_EQ(rs2.capture_id, 77);
	CHECK_EQ(rs2.timeout_ms, 4000);
	CHECK(stun_addr_equal(&rs2.target, &server_alt));
	CHECK_EQ(stunt_get_capture_req(&m, &rq2), -ENOMSG);

	/* a response without its target is malformed */
	start(STUNT_METHOD_CAPTURE, STUN_SUCCESS);
	stun_build_u32(&b, STUNT_ATTR_CAPTURE_ID, 1);
	stun_build_u32(&b, STUNT_ATTR_TIMEOUT, 1);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_capture_resp(&m, &rs2), -EBADMSG);
}

static void syn_report_round_trip(void)
{
	struct stunt_syn_report r = {
		.capture_id = 9,
		.source = client,
		.syn = { .seq = 0xfeedc0de, .ttl = 61, .ip_flags = STUNT_IP_DF, .ip_id = 0x1234,
			 .window = 64240, .tcp_flags = 0x02, .elapsed_ms = 35 },
		.opts_len = sizeof(linux_syn_opts),
	}, r2;

	memcpy(r.opts_raw, linux_syn_opts, sizeof(linux_syn_opts));
	start(STUNT_METHOD_SYN_REPORT, STUN_INDICATION);
	CHECK_EQ(stunt_put_syn_report(&b, &r), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_syn_report(&m, &r2), 0);
	CHECK_EQ(r2.capture_id, 9);
	CHECK_EQ(r2.error, 0);
	CHECK(stun_addr_equal(&r2.source, &client));
	CHECK_EQ(r2.syn.seq, 0xfeedc0de);
	CHECK_EQ(r2.syn.ttl, 61);
	CHECK_EQ(r2.syn.ip_flags, STUNT_IP_DF);
	CHECK_EQ(r2.syn.ip_id, 0x1234);
	CHECK_EQ(r2.syn.window, 64240);
	CHECK_EQ(r2.syn.tcp_flags, 0x02);
	CHECK_EQ(r2.syn.elapsed_ms, 35);
	CHECK_EQ(r2.opts_len, 20);
	CHECK_MEM(r2.opts_raw, linux_syn_opts, 20);
	CHECK_EQ(r2.opts.mss, 1460);
	CHECK_EQ(r2.opts.wscale, 7);

	/* timeout: only the id and ERROR-CODE */
	start(STUNT_METHOD_SYN_REPORT, STUN_INDICATION);
	CHECK_EQ(stunt_put_syn_report(&b, &(struct stunt_syn_report){ .capture_id = 9,
									.error = STUN_ERR_TIMEOUT }),
		 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_syn_report(&m, &r2), 0);
	CHECK_EQ(r2.error, 408);
	CHECK(stun_msg_find(&m, STUNT_ATTR_SYN_INFO) == NULL);

	/* options longer than TCP allows are refused both ways */
	r.opts_len = 41;
	start(STUNT_METHOD_SYN_REPORT, STUN_INDICATION);
	CHECK_EQ(stunt_put_syn_report(&b, &r), -EINVAL);
}

static void send_packet_round_trip(void)
{
	struct stunt_send_req rq = {
		.pkt = { .kind = STUNT_PKT_SYNACK,
			 .flags = STUNT_PKT_F_SEQ | STUNT_PKT_F_ACK | STUNT_PKT_F_SOURCE,
			 .dst_port = 50123, .delay_ms = 250, .ttl = 64, .seq = 1000, .ack = 2001 },
		.source = server_alt,
	}, rq2;
	struct stunt_send_resp rs = { .pkt = rq.pkt, .source = server_alt }, rs2;

	start(STUNT_METHOD_SEND_PACKET, STUN_REQUEST);
	CHECK_EQ(stunt_put_send_req(&b, &rq), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_send_req(&m, &rq2), 0);
	CHECK_EQ(rq2.pkt.kind, STUNT_PKT_SYNACK);
	CHECK_EQ(rq2.pkt.flags, rq.pkt.flags);
	CHECK_EQ(rq2.pkt.dst_port, 50123);
	CHECK_EQ(rq2.pkt.delay_ms, 250);
	CHECK_EQ(rq2.pkt.ttl, 64);
	CHECK_EQ(rq2.pkt.seq, 1000);
	CHECK_EQ(rq2.pkt.ack, 2001);
	CHECK(stun_addr_equal(&rq2.source, &server_alt));

	/* SOURCE flag without STUNT-SOURCE */
	start(STUNT_METHOD_SEND_PACKET, STUN_REQUEST);
	stunt_put_send_req(&b, &(struct stunt_send_req){ .pkt = { .kind = STUNT_PKT_SYN } });
	CHECK_EQ(done(), 0);
	/* m's attributes point into buf: set the flag in place */
	buf[m.attrs[0].off + 4 + 1] = STUNT_PKT_F_SOURCE;
	CHECK_EQ(stunt_get_send_req(&m, &rq2), -EBADMSG);
	/* kind 3 is neither SYN nor SYN-ACK */
	buf[m.attrs[0].off + 4] = 3;
	CHECK_EQ(stunt_get_send_req(&m, &rq2), -EBADMSG);
	start(STUNT_METHOD_SEND_PACKET, STUN_REQUEST);
	CHECK_EQ(stunt_put_send_req(&b, &(struct stunt_send_req){ .pkt = { .kind = 3 } }), -EINVAL);

	start(STUNT_METHOD_SEND_PACKET, STUN_SUCCESS);
	CHECK_EQ(stunt_put_send_resp(&b, &rs), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_send_resp(&m, &rs2), 0);
	CHECK_EQ(rs2.pkt.seq, 1000);
	CHECK(stun_addr_equal(&rs2.source, &server_alt));
}

static void probe_round_trip(void)
{
	struct stunt_probe_req rq = { .port = 40001, .flags = STUN_CHANGE_IP, .timeout_ms = 3000 },
			       rq2;
	struct stunt_probe_resp rs = { .result = STUNT_PROBE_ICMP, .icmp_type = 3, .icmp_code = 3,
				       .ttl = 62, .elapsed_ms = 12, .source = server_alt },
				rs2;

	start(STUNT_METHOD_PROBE_UNSOLICITED, STUN_REQUEST);
	CHECK_EQ(stunt_put_probe_req(&b, &rq), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_probe_req(&m, &rq2), 0);
	CHECK_EQ(rq2.port, 40001);
	CHECK_EQ(rq2.flags, STUN_CHANGE_IP);
	CHECK_EQ(rq2.timeout_ms, 3000);

	start(STUNT_METHOD_PROBE_UNSOLICITED, STUN_REQUEST);
	stunt_put_probe_req(&b, &(struct stunt_probe_req){ .port = 0 });
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_probe_req(&m, &rq2), -EBADMSG);

	start(STUNT_METHOD_PROBE_UNSOLICITED, STUN_SUCCESS);
	CHECK_EQ(stunt_put_probe_resp(&b, &rs), 0);
	CHECK_EQ(done(), 0);
	CHECK_EQ(stunt_get_probe_resp(&m, &rs2), 0);
	CHECK_EQ(rs2.result, STUNT_PROBE_ICMP);
	CHECK_EQ(rs2.icmp_type, 3);
	CHECK_EQ(rs2.icmp_code, 3);
	CHECK_EQ(rs2.ttl, 62);
	CHECK_EQ(rs2.elapsed_ms, 12);
	CHECK(stun_addr_equal(&rs2.source, &server_alt));
	rs.result = 4;
	start(STUNT_METHOD_PROBE_UNSOLICITED, STUN_SUCCESS);
	CHECK_EQ(stunt_put_probe_resp(&b, &rs), -EINVAL);
}

/* A full SYN report, cut at every length with the length field made to
 * fit: it parses or not, and the decoder never reads past the end. */
static void truncated_reports_are_safe(void)
{
	struct stunt_syn_report r = { .capture_id = 1, .source = client, .opts_len = 20 }, r2;
	size_t n, k;

	memcpy(r.opts_raw, linux_syn_opts, 20);
	start(STUNT_METHOD_SYN_REPORT, STUN_INDICATION);
	stunt_put_syn_report(&b, &r);
	n = (size_t)stun_build_finish(&b);
	for (k = STUN_HDR_LEN; k < n; k += 4) {
		uint8_t *c = malloc(k);
		struct stun_msg t;

		memcpy(c, buf, k);
		stun_wr16(c + 2, (uint16_t)(k - STUN_HDR_LEN));
		if (stun_parse(c, k, &t) == 0)
			CHECK(stunt_get_syn_report(&t, &r2) < 0);
		free(c);
	}
}

int main(void)
{
	RUN(codes_do_not_collide);
	RUN(tcp_options_parse);
	RUN(capture_round_trip);
	RUN(syn_report_round_trip);
	RUN(send_packet_round_trip);
	RUN(probe_round_trip);
	RUN(truncated_reports_are_safe);
	return TAP_DONE();
}
