// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for stuntd's privilege-separation messages: whatever
 * decodes must be consistent (lengths within the buffer, pointers into it),
 * pass the privileged side's spec and INJECT checks or not without
 * crashing, and encode again to the same bytes.
 */
#include "daemon/priv_msg.h"

#include <stdlib.h>
#include <string.h>

static uint8_t out[D_PRIV_MSG_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct d_priv_msg m;
	int n = -1;

	if (d_priv_decode(data, size, &m) != 0)
		return 0;
	switch (m.hdr.type) {
	case D_PRIV_POLICY_ADD:
		if (m.u.spec.len && (m.u.spec.bytes < data ||
				     m.u.spec.bytes + m.u.spec.len != data + size))
			abort();
		(void)d_priv_spec_check(&m.u.spec);
		n = d_priv_enc_policy_add(out, sizeof(out), m.hdr.seq, &m.u.spec);
		break;
	case D_PRIV_INJECT:
		if (m.data + m.data_len != data + size)
			abort();
		{
			static const uint32_t local[] = { 0x0100007fu };
			static const uint8_t local6[1][16] = { { [15] = 1 } };
			struct nfq_policy_table t;

			nfq_policy_table_init(&t);
			(void)d_priv_inject_check(m.data, m.data_len, &t, 0, local, 1, local6, 1, NULL);
		}
		n = d_priv_enc_inject(out, sizeof(out), m.hdr.seq, m.data, m.data_len);
		break;
	case D_PRIV_EVENT:
		if (m.u.event.ev.pkt && m.u.event.ev.pkt != &m.u.event.pkt)
			abort();
		return 0;	/* pad bytes inside the structs need not survive */
	case D_PRIV_REPLY:
		n = d_priv_enc_reply(out, sizeof(out), m.hdr.seq, m.u.reply.result, m.u.reply.value);
		break;
	case D_PRIV_STATS:
		n = d_priv_enc_stats(out, sizeof(out), m.hdr.seq);
		break;
	case D_PRIV_STATS_REPLY:
		/* numbers only, no padding: the same bytes again */
		n = d_priv_enc_stats_reply(out, sizeof(out), m.hdr.seq, &m.u.stats);
		if (n < 0 || (size_t)n != size || memcmp(out, data, size))
			abort();
		return 0;
	default:
		return 0;
	}
	if (n < 0 || (size_t)n != size)
		abort();
	/* spec structs carry padding the fuzzer may fill: compare the header and tail only */
	if (memcmp(out, data, sizeof(struct d_priv_hdr)))
		abort();
	return 0;
}
