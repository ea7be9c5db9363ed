// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for stunt-server's STUNT decisions (server/stunt.c).
 * The first input byte sets whether the connection is authenticated and
 * which server socket it came in on; the rest is the message. Checked on
 * every input: whatever is sent goes to the client's own IP, at its
 * control connection's port for SEND-PACKET (nothing else was seen), the
 * reply parses, and refused requests leave nothing outstanding.
 */
#include "server/stunt.h"

#include <stdlib.h>
#include <string.h>

static bool vouch(const struct stun_addr *a, void *arg)
{
	(void)arg;
	return a->ip[3] & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t rnd[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static uint8_t reply[STUNT_BUF];
	struct srv_stunt_cfg cfg;
	struct srv_stunt s;
	struct stunt_conn c;
	struct stunt_action a;
	struct stun_addr peer;
	struct stun_msg m, r;
	unsigned i, j;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	if (stun_parse(data + 1, size - 1, &m) < 0)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			cfg.sock[i][j].family = STUN_FAMILY_IPV4;
			cfg.sock[i][j].ip[0] = 192;
			cfg.sock[i][j].ip[2] = 2;
			cfg.sock[i][j].ip[3] = (uint8_t)(1 + i);
			cfg.sock[i][j].port = (uint16_t)(3478 + j);
		}
	cfg.available = !(sel & 8);
	cfg.require_auth = sel & 16;
	cfg.conn_rate = cfg.conn_burst = 5;
	cfg.all_rate = cfg.all_burst = 100;
	srv_stunt_init(&s, &cfg, 0);
	memset(&peer, 0, sizeof(peer));
	peer.family = STUN_FAMILY_IPV4;
	memcpy(peer.ip, (uint8_t[]){ 198, 18, 1, 2 }, 4);
	peer.port = 40000;
	srv_stunt_conn_init(&c, &s, &peer, sel & 1, sel >> 1 & 1, 0);
	if (srv_stunt_handle(&s, &c, sel & 4, &m, rnd, 0, vouch, NULL, reply, &a) < 0)
		abort();
	if (a.reply_len && (a.reply_len > STUNT_BUF || stun_parse(reply, a.reply_len, &r) < 0))
		abort();
	if (a.verdict == STUNT_V_SEND || a.verdict == STUNT_V_PROBE) {
		if (memcmp(&a.pkt.daddr, peer.ip, 4))
			abort();
		if (a.verdict == STUNT_V_SEND && a.pkt.dport != peer.port)
			abort();
		if (a.verdict == STUNT_V_SEND && a.delay_ms > STUNT_DELAY_MS_MAX)
			abort();
	}
	if (a.verdict > STUNT_V_PROBE && (s.pending || c.pending))
		abort();
	return 0;
}
