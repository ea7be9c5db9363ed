// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the STUNT and signalling codecs. The input is parsed
 * as a STUN message and given to every decoder; whatever decodes is encoded
 * again into a message of the same type, parsed and decoded again, and must
 * come out the same. The input is also fed to the TCP option parser.
 */
#include "proto/sig.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"
#include "proto/stunt.h"

#include <stdlib.h>
#include <string.h>

#define OUT_CAP 8192

/*
 * Decode into a, re-encode, decode into b2 and compare. Structs are zeroed
 * by every get, so memcmp covers their padding too.
 */
#define ROUND_TRIP(T, get, put, same)                                              \
	do {                                                                       \
		T a, a2;                                                           \
		if (get(m, &a) == 0) {                                             \
			struct stun_builder b;                                     \
			struct stun_msg m2;                                        \
			int n;                                                     \
			stun_build_init(&b, out, OUT_CAP, m->type, m->txid);       \
			if (put(&b, &a) != 0)                                      \
				abort();                                           \
			stun_build_fingerprint(&b);                                \
			n = stun_build_finish(&b);                                 \
			if (n <= 0 || stun_parse(out, (size_t)n, &m2) != 0 ||      \
			    stun_check_fingerprint(&m2) != 0 || get(&m2, &a2) != 0) \
				abort();                                           \
			if (!(same))                                               \
				abort();                                           \
		}                                                                  \
	} while (0)

#define SAME_BYTES (memcmp(&a, &a2, sizeof(a)) == 0)

static void decode_all(const struct stun_msg *m, uint8_t *out)
{
	ROUND_TRIP(struct stunt_capture_req, stunt_get_capture_req, stunt_put_capture_req,
		   SAME_BYTES);
	ROUND_TRIP(struct stunt_capture_resp, stunt_get_capture_resp, stunt_put_capture_resp,
		   SAME_BYTES);
	ROUND_TRIP(struct stunt_syn_report, stunt_get_syn_report, stunt_put_syn_report,
		   SAME_BYTES);
	ROUND_TRIP(struct stunt_send_req, stunt_get_send_req, stunt_put_send_req, SAME_BYTES);
	ROUND_TRIP(struct stunt_send_resp, stunt_get_send_resp, stunt_put_send_resp, SAME_BYTES);
	ROUND_TRIP(struct stunt_probe_req, stunt_get_probe_req, stunt_put_probe_req, SAME_BYTES);
	ROUND_TRIP(struct stunt_probe_resp, stunt_get_probe_resp, stunt_put_probe_resp,
		   SAME_BYTES);
	ROUND_TRIP(struct sig_register, sig_get_register, sig_put_register, SAME_BYTES);
	ROUND_TRIP(struct sig_register_resp, sig_get_register_resp, sig_put_register_resp,
		   SAME_BYTES);
	ROUND_TRIP(struct sig_auth, sig_get_auth, sig_put_auth, SAME_BYTES);
	ROUND_TRIP(struct sig_auth_resp, sig_get_auth_resp, sig_put_auth_resp, SAME_BYTES);
	ROUND_TRIP(struct sig_lookup, sig_get_lookup, sig_put_lookup, SAME_BYTES);
	ROUND_TRIP(struct sig_lookup_resp, sig_get_lookup_resp, sig_put_lookup_resp, SAME_BYTES);
	ROUND_TRIP(struct sig_exchange, sig_get_exchange, sig_put_exchange, SAME_BYTES);
	ROUND_TRIP(struct sig_schedule, sig_get_schedule, sig_put_schedule, SAME_BYTES);
	ROUND_TRIP(struct sig_synack, sig_get_synack, sig_put_synack, SAME_BYTES);
	ROUND_TRIP(struct sig_relay, sig_get_relay, sig_put_relay,
		   a.len == a2.len && !strcmp(a.peer_id, a2.peer_id) &&
			   (!a.len || !memcmp(a.data, a2.data, a.len)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stunt_tcp_opts o;
	struct stun_msg m;
	uint8_t *out;
	unsigned i;

	stunt_tcp_opts_parse(data, size, &o);
	if (stun_parse(data, size, &m) != 0)
		return 0;
	for (i = 0; i < m.nattrs; i++) {
		struct sig_candidate c;
		struct sig_nat_info n;
		struct sig_round r;

		sig_attr_get_candidate(&m.attrs[i], &c);
		sig_attr_get_nat_info(&m.attrs[i], &n);
		/* SIG-ROUND: decodes only as itself, from 4 bytes or more */
		if (sig_attr_get_round(&m.attrs[i], &r) == 0 &&
		    (m.attrs[i].type != SIG_ATTR_ROUND || m.attrs[i].len < 4 ||
		     r.round != m.attrs[i].val[0] || r.reason != m.attrs[i].val[1]))
			abort();
	}
	if (!(out = malloc(OUT_CAP)))
		return 0;
	decode_all(&m, out);
	free(out);
	return 0;
}
