// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the STUN codec: parse, run every attribute getter and
 * the integrity / fingerprint checks, then rebuild the message from its
 * attributes and check that the copy parses to the same attributes.
 */
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"

#include <stdlib.h>
#include <string.h>

static void touch_attr(const struct stun_msg *m, const struct stun_attr *a)
{
	struct stun_addr addr;
	struct stun_error e;
	uint16_t types[64];
	const char *s;
	size_t n;
	uint32_t u32;
	uint64_t u64;
	uint16_t port;

	stun_attr_get_addr(a, &addr);
	if (stun_attr_get_xor_addr(a, m, &addr) == 0) {
		struct sockaddr_storage ss;
		struct stun_addr back;
		socklen_t sl;

		if (stun_addr_to_sockaddr(&addr, &ss, &sl) == 0 &&
		    (stun_addr_from_sockaddr(&back, (struct sockaddr *)&ss, sl) != 0 ||
		     !stun_addr_equal(&addr, &back)))
			abort();
	}
	if (stun_attr_get_error(a, &e) == 0 && (e.code < 300 || e.code > 699))
		abort();
	stun_attr_get_unknown(a, types, 64, &n);
	stun_attr_get_text(a, &s, &n);
	stun_attr_get_change(a, &u32);
	stun_attr_get_response_port(a, &port);
	stun_attr_get_u32(a, &u32);
	stun_attr_get_u64(a, &u64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[] = "VOkJxbRl1RmTxUk/WvJxBt";
	struct stun_msg m, m2;
	struct stun_builder b;
	uint16_t unk[8];
	uint8_t *copy;
	unsigned i;
	int n;

	stun_frame_len(data, size);
	if (stun_parse(data, size, &m) != 0)
		return 0;
	if (m.len != size || m.nattrs > STUN_MAX_ATTRS)
		abort();
	for (i = 0; i < m.nattrs; i++) {
		const struct stun_attr *a = &m.attrs[i];

		if (a->val < data || a->val + a->len > data + size)
			abort();
		touch_attr(&m, a);
	}
	stun_msg_unknown_required(&m, unk, 8);
	stun_check_fingerprint(&m);
	stun_check_integrity(&m, key, sizeof(key) - 1);
	stun_check_integrity_sha256(&m, key, sizeof(key) - 1);

	/* rebuild: same header, attributes copied, re-signed */
	copy = malloc(size + 64);
	if (!copy)
		return 0;
	stun_build_reply(&b, copy, size + 64, m.type, &m);
	stun_build_copy(&b, &m, NULL, 0);
	stun_build_integrity(&b, key, sizeof(key) - 1);
	stun_build_fingerprint(&b);
	n = stun_build_finish(&b);
	/* the two new attributes may not fit the parse table */
	if (n > 0 && m.nattrs + 2 <= STUN_MAX_ATTRS) {
		unsigned k = 0;

		if (stun_parse(copy, (size_t)n, &m2) != 0 || stun_check_fingerprint(&m2) != 0 ||
		    stun_check_integrity(&m2, key, sizeof(key) - 1) != 0 ||
		    m2.classic != m.classic || memcmp(m2.txid, m.txid, STUN_TXID_LEN))
			abort();
		for (i = 0; i < m.nattrs; i++) {
			const struct stun_attr *a = &m.attrs[i];

			if (a->type == STUN_ATTR_MESSAGE_INTEGRITY ||
			    a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 ||
			    a->type == STUN_ATTR_FINGERPRINT)
				continue;
			if (k >= m2.nattrs || m2.attrs[k].type != a->type ||
			    m2.attrs[k].len != a->len || memcmp(m2.attrs[k].val, a->val, a->len))
				abort();
			k++;
		}
	}
	free(copy);
	return 0;
}
