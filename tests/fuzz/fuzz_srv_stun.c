// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for stunt-server's Binding responder (server/stun.c).
 * The first input byte picks the receiving socket, the transport and the
 * client's address family; the rest is the request. Checked on every
 * input: the reply parses as STUN, goes only to the client's own IP, and is
 * never larger than SRV_STUN_MAX_REPLY or (with PADDING) the request.
 */
#include "server/stun.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SRV_STUN_BUF];
	struct srv_stun_ctx c;
	struct srv_stun_reply r;
	struct stun_msg m;
	unsigned i, j;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			c.sock[i][j].family = STUN_FAMILY_IPV4;
			c.sock[i][j].ip[0] = 192;
			c.sock[i][j].ip[2] = 2;
			c.sock[i][j].ip[3] = (uint8_t)(1 + i);
			c.sock[i][j].port = (uint16_t)(3478 + j);
		}
	c.rx_ip = sel & 1;
	c.rx_port = sel >> 1 & 1;
	c.transport = sel & 4 ? SRV_TCP : SRV_UDP;
	c.software = sel & 8 ? "stunt-server fuzz" : NULL;
	c.peer.family = sel & 16 ? STUN_FAMILY_IPV6 : STUN_FAMILY_IPV4;
	memset(c.peer.ip, 0x5a, sizeof(c.peer.ip));
	c.peer.port = 40000;

	if (srv_stun_handle(&c, data, size, out, sizeof(out), &r) != 0)
		abort();
	if (r.verdict >= SRV_V_MAX || r.tx_ip > 1 || r.tx_port > 1)
		abort();
	if (r.len == 0)
		return 0;
	if (r.len > SRV_STUN_BUF || (r.len > SRV_STUN_MAX_REPLY && r.len > size))
		abort();
	if (memcmp(r.dst.ip, c.peer.ip, sizeof(c.peer.ip)) != 0 || r.dst.family != c.peer.family)
		abort();
	if (stun_parse(out, r.len, &m) != 0 || m.cls == STUN_REQUEST)
		abort();
	if (c.transport == SRV_TCP && (r.tx_ip != c.rx_ip || r.tx_port != c.rx_port))
		abort();
	return 0;
}
