// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for stunt-server's capture conversions
 * (server/capture.c). The first input byte picks the link type; the
 * rest is a captured frame. Checked on every input: a report's options fit
 * STUNT_TCP_OPTS_MAX and its source is the awaited client, a probe answer
 * (to an IPv4 probe, and to an IPv6 one for an IPv6 packet) is one of the
 * defined results.
 */
#include "server/capture.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* A probe's answer, if it matched, is one of the defined results. */
static void probe_check(const uint8_t *ip, size_t len, const struct srv_cap_want *w)
{
	struct stunt_probe_resp pr;

	memset(&pr, 0, sizeof(pr));
	if (srv_capture_probe_match(ip, len, w, &pr) == 0 && pr.result != STUNT_PROBE_RST &&
	    pr.result != STUNT_PROBE_ICMP && pr.result != STUNT_PROBE_SYNACK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = { SRV_DLT_EN10MB, SRV_DLT_LINUX_SLL, SRV_DLT_LINUX_SLL2,
				    SRV_DLT_RAW, SRV_DLT_IPV4, SRV_DLT_IPV6, 147 };
	struct srv_cap_want syn = { .kind = SRV_CAP_SYN, .srv_port = 3478 };
	struct srv_cap_want probe = { .kind = SRV_CAP_PROBE, .srv_port = 3479,
				      .client_port = 40000 };
	struct srv_cap_want probe6 = { .kind = SRV_CAP_PROBE, .v6 = true, .srv_port = 3479,
				       .client_port = 40000 };
	struct stunt_syn_report rep;
	uint8_t *copy;
	size_t off;
	int dlt;

	if (size < 1)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	/* an exact-size heap copy, so ASan sees any read past the end */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (srv_capture_l3(dlt, copy, size - 1, &off) == 0) {
		const uint8_t *ip = copy + off;
		size_t len = size - 1 - off;

		/* the awaited addresses are the packet's own when it has them */
		memcpy(&syn.client, ip + 12, 4);
		memcpy(&syn.srv, ip + 16, 4);
		probe.client = syn.client;
		probe.srv = syn.srv;
		if (srv_capture_syn_report(ip, len, &syn, 1, &rep) == 0) {
			if (rep.opts_len > STUNT_TCP_OPTS_MAX || memcmp(rep.source.ip, &syn.client, 4))
				abort();
		}
		probe_check(ip, len, &probe);
		/* l3 checked: an IPv6 packet has its 40 bytes of header */
		if (ip[0] >> 4 == 6) {
			memcpy(probe6.client6, ip + 8, 16);
			memcpy(probe6.srv6, ip + 24, 16);
			probe_check(ip, len, &probe6);
		}
	}
	free(copy);
	return 0;
}
