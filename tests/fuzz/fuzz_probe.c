// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for stunt-probe's parsers of network input outside STUN
 * (probes/probe_parse.c): PCP MAP responses, ICMP time-exceeded quotes on
 * the raw socket, SSDP answers and the URL in them; and the escaping of
 * untrusted text (common/esc.c). Every input goes to all of them; whatever
 * one accepts must be self-consistent.
 */
#include "common/esc.h"
#include "probes/probe_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t nonce[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct probe_pcp_map m;
	uint32_t srv = 0x010200c0, router;	/* 192.0.2.1 */
	uint16_t sport;
	char loc[64];
	int rc;

	rc = probe_pcp_parse_map(data, size, nonce, &m);
	if (rc == 0 && m.result == 0 && (size < 60 || memcmp(data + 24, nonce, 12) != 0))
		abort();
	if (probe_icmp_parse_te(data, size, srv, &router, &sport) == 0 && size < 20 + 8 + 20 + 4)
		abort();
	/* the server's address is the input's own quoted destination, when it has one */
	if (size >= 8 + 40 && probe_icmp6_parse_te(data, size, data + 8 + 24, &sport) == 0 &&
	    size < 8 + 40 + 2)
		abort();
	if (probe_ssdp_location((const char *)data, size, loc, sizeof(loc)) == 0) {
		uint32_t ip;

		if (strlen(loc) == 0 || strlen(loc) >= sizeof(loc))
			abort();
		(void)probe_url_ipv4(loc, &ip);
	}
	/* escaped text: printable ASCII only, terminated, within the buffer */
	{
		char e[ESC_BUF(16)];
		size_t i, n;

		esc_str(e, sizeof(e), data, size);
		n = strlen(e);
		if (n >= sizeof(e))
			abort();
		for (i = 0; i < n; i++)
			if ((unsigned char)e[i] < 0x20 || (unsigned char)e[i] > 0x7e)
				abort();
	}
	return 0;
}
