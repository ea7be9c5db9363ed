// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the TURN client codec (proto/turn.c). The input is
 * parsed as a STUN message and read as a TURN answer, with and without a
 * long-term key; its first bytes also feed the builders, whose output must
 * parse and read back with the same values.
 */
#include "proto/turn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t txid[STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t out[1024];
	struct turn_cred c;
	struct stun_msg m;
	struct turn_msg t;
	struct stun_addr peer = { .family = STUN_FAMILY_IPV4 };
	uint32_t v = 0;
	int n;

	turn_cred_init(&c, "user", "pass");
	if (stun_parse(data, size, &m) == 0) {
		(void)turn_read(&m, NULL, 0, &t);
		if (turn_read(&m, NULL, 0, &t) == 0 && t.realm && t.nonce)
			(void)turn_cred_challenge(&c, t.realm, t.realm_len, t.nonce, t.nonce_len);
		(void)turn_read(&m, c.key, sizeof(c.key), &t);
	}
	if (size >= 8) {
		memcpy(&v, data, 4);
		memcpy(peer.ip, data + 4, 4);
		peer.port = (uint16_t)v;
		n = turn_build_connection_bind(out, sizeof(out), txid, v, &c);
		if (n <= 0 || stun_parse(out, (size_t)n, &m) != 0 ||
		    turn_read(&m, c.ready ? c.key : NULL, sizeof(c.key), &t) != 0 ||
		    !t.has_conn_id || t.conn_id != v)
			abort();
		n = turn_build_create_permission(out, sizeof(out), txid, &peer, &c);
		if (n <= 0 || stun_parse(out, (size_t)n, &m) != 0 ||
		    turn_read(&m, NULL, 0, &t) != 0 || !t.has_peer ||
		    !stun_addr_equal(&t.peer, &peer))
			abort();
		n = turn_build_refresh(out, sizeof(out), txid, v, &c);
		if (n <= 0 || stun_parse(out, (size_t)n, &m) != 0 ||
		    turn_read(&m, NULL, 0, &t) != 0 || !t.has_lifetime || t.lifetime != v)
			abort();
		/* REQUESTED-ADDRESS-FAMILY: 0 (left out), 1, 2, or refused */
		n = turn_build_allocate_tcp(out, sizeof(out), txid, v, data[0] & 3, &c);
		if ((data[0] & 3) == 3 ? n != -EINVAL :
		    n <= 0 || stun_parse(out, (size_t)n, &m) != 0 ||
		    turn_read(&m, NULL, 0, &t) != 0 ||
		    !stun_msg_find(&m, TURN_ATTR_REQUESTED_FAMILY) != !(data[0] & 3))
			abort();
	}
	if (size >= 20) {
		/* an IPv6 peer */
		peer.family = STUN_FAMILY_IPV6;
		memcpy(peer.ip, data + 4, 16);
		n = turn_build_create_permission(out, sizeof(out), txid, &peer, &c);
		if (n <= 0 || stun_parse(out, (size_t)n, &m) != 0 ||
		    turn_read(&m, NULL, 0, &t) != 0 || !t.has_peer ||
		    !stun_addr_equal(&t.peer, &peer))
			abort();
	}
	return 0;
}
