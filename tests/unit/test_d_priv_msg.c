// SPDX-License-Identifier: MIT
/* stuntd's privilege-separation messages (daemon/priv_msg.c): round trips,
 * every length check, the spec check. */
#include "daemon/priv_msg.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <string.h>

static uint8_t buf[D_PRIV_MSG_MAX];

static void policy_add_roundtrip(void)
{
	struct nfq_flow f = { .laddr = 0x0100000a, .raddr = 0x0200000a, .lport = 1000,
			      .rport = 2000, .proto = PKT_PROTO_TCP };
	struct nfq_policy_spec s;
	struct d_priv_msg m;
	uint8_t bytes[40];
	int n;

	nfq_spec_syn_ttl(&s, &f, 1, 2, 5000);
	s.cookie = 0x1122334455667788ull;
	n = d_priv_enc_policy_add(buf, sizeof(buf), 7, &s);
	CHECK(n > 0);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.hdr.type, D_PRIV_POLICY_ADD);
	CHECK_EQ(m.hdr.seq, 7u);
	CHECK(!memcmp(&m.u.spec.flow, &f, sizeof(f)));
	CHECK_EQ(m.u.spec.action, NFQ_ACT_TTL);
	CHECK_EQ(m.u.spec.ttl, 2);
	CHECK_EQ(m.u.spec.timeout_ms, 5000u);
	CHECK(m.u.spec.cookie == 0x1122334455667788ull);
	CHECK(m.u.spec.bytes == NULL);
	CHECK_EQ(d_priv_spec_check(&m.u.spec), 0);

	/* a replacement: the bytes follow the struct, the pointer is rebuilt */
	memset(bytes, 0xab, sizeof(bytes));
	nfq_spec_replace(&s, &f, NFQ_MATCH_IN_ICMP_TE, bytes, sizeof(bytes), 1000);
	n = d_priv_enc_policy_add(buf, sizeof(buf), 8, &s);
	CHECK(n > 0);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK(m.u.spec.bytes == buf + sizeof(struct d_priv_hdr) + sizeof(struct nfq_policy_spec));
	CHECK_EQ(m.u.spec.len, sizeof(bytes));
	CHECK_MEM(m.u.spec.bytes, bytes, sizeof(bytes));
	/* one byte more or less than spec.len says */
	CHECK_EQ(d_priv_decode(buf, (size_t)n - 1, &m), -EBADMSG);
	((struct d_priv_hdr *)buf)->len++;
	CHECK_EQ(d_priv_decode(buf, (size_t)n + 1, &m), -EBADMSG);
	/* too long a replacement cannot be encoded */
	s.len = NFQ_POLICY_MAX_REPLACE + 1;
	CHECK_EQ(d_priv_enc_policy_add(buf, sizeof(buf), 9, &s), -EINVAL);
	s.len = 10;
	s.bytes = NULL;
	CHECK_EQ(d_priv_enc_policy_add(buf, sizeof(buf), 9, &s), -EINVAL);
}

static void spec_check(void)
{
	struct nfq_flow f = { .lport = 1 };
	struct nfq_policy_spec s, t;
	uint8_t b[20] = { 0 };

	nfq_spec_drop_outbound_rst(&s, &f, 1000);
	CHECK_EQ(d_priv_spec_check(&s), 0);
	t = s;
	t.match = 0;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.match = 0x80000000u;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.timeout_ms = 0;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t.timeout_ms = NFQ_POLICY_MAX_TIMEOUT_MS + 1;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.action = 0;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.len = 4;	/* a length without bytes */
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.bytes = b;	/* bytes without a length */
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	nfq_spec_syn_ttl(&t, &f, 1, 2, 1000);
	t.ttl = 0;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
}

static void small_messages(void)
{
	struct nfq_flow f = { .rport = 9, .proto = PKT_PROTO_TCP };
	struct d_priv_msg m;
	uint8_t pkt[28] = { 0x45 };
	int n;

	n = d_priv_enc_policy_remove(buf, sizeof(buf), 1, 42);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.u.id, 42u);
	CHECK_EQ(d_priv_decode(buf, (size_t)n - 1, &m), -EBADMSG);

	n = d_priv_enc_policy_remove_flow(buf, sizeof(buf), 2, &f);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.u.flow.rport, 9);

	n = d_priv_enc_socket(buf, sizeof(buf), 3, 40000);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.hdr.type, D_PRIV_SOCKET);
	CHECK_EQ(m.u.port, 40000);

	n = d_priv_enc_inject(buf, sizeof(buf), 4, pkt, sizeof(pkt));
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.data_len, sizeof(pkt));
	CHECK(m.data == buf + sizeof(struct d_priv_hdr));
	CHECK_EQ(d_priv_enc_inject(buf, sizeof(buf), 4, pkt, 0), -EINVAL);
	CHECK_EQ(d_priv_enc_inject(buf, sizeof(buf), 4, NULL, 1), -EINVAL);
	CHECK_EQ(d_priv_enc_inject(buf, 20, 4, pkt, sizeof(pkt)), -EMSGSIZE);

	n = d_priv_enc_probe_fds(buf, sizeof(buf), 5);
	CHECK_EQ(n, (int)sizeof(struct d_priv_hdr));
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);

	n = d_priv_enc_reply(buf, sizeof(buf), 6, -ENOSPC, 77);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.hdr.type, D_PRIV_REPLY);
	CHECK_EQ(m.hdr.seq, 6u);
	CHECK_EQ(m.u.reply.result, -ENOSPC);
	CHECK_EQ(m.u.reply.value, 77u);
}

static void events(void)
{
	struct nfq_event ev = { .policy_id = 3, .cookie = 99, .match = NFQ_MATCH_IN_ICMP_TE,
				.router = 0x01020304, .icmp_type = 11, .has_seq = 1, .seq = 1234 };
	struct pkt k = { .len = 56, .l4 = PKT_L4_ICMP };
	struct d_priv_msg m;
	int n;

	ev.pkt = &k;
	n = d_priv_enc_event(buf, sizeof(buf), &ev);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.hdr.type, D_PRIV_EVENT);
	CHECK(m.u.event.ev.pkt == &m.u.event.pkt);
	CHECK_EQ(m.u.event.ev.pkt->len, 56u);
	CHECK_EQ(m.u.event.ev.cookie, 99u);
	CHECK_EQ(m.u.event.ev.seq, 1234u);
	CHECK_EQ(m.u.event.ev.router, 0x01020304u);
	ev.pkt = NULL;
	n = d_priv_enc_event(buf, sizeof(buf), &ev);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK(m.u.event.ev.pkt == NULL);
	/* has_pkt must be 0 or 1 */
	buf[sizeof(struct d_priv_hdr) + offsetof(struct d_priv_event, has_pkt)] = 2;
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), -EBADMSG);
}

static void headers(void)
{
	struct d_priv_hdr h = { .type = 999 };
	struct d_priv_msg m;

	CHECK_EQ(d_priv_decode(buf, 0, &m), -EBADMSG);
	CHECK_EQ(d_priv_decode(buf, sizeof(h) - 1, &m), -EBADMSG);
	CHECK_EQ(d_priv_decode(NULL, 100, &m), -EBADMSG);
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ(d_priv_decode(buf, sizeof(h), &m), -ENOTSUP);
	h.type = D_PRIV_PROBE_FDS;
	h.pad = 1;
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ(d_priv_decode(buf, sizeof(h), &m), -EBADMSG);
	h.pad = 0;
	h.len = 4;	/* says more than there is */
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ(d_priv_decode(buf, sizeof(h), &m), -EBADMSG);
	/* a request type from the wrong direction still decodes: the receiver checks it */
	CHECK(D_PRIV_REPLY > D_PRIV_REQ_MAX && D_PRIV_EVENT > D_PRIV_REQ_MAX);
}

int main(void)
{
	RUN(policy_add_roundtrip);
	RUN(spec_check);
	RUN(small_messages);
	RUN(events);
	RUN(headers);
	return TAP_DONE();
}
