// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the policy table: the input is a packet; policies of
 * every kind are registered for its own flow (both orientations, and the
 * flow of the datagram an ICMP error quotes, and a wildcard), then the
 * decision is taken for each hook direction. A replacement must parse.
 */
#include "nfq/nfq_policy.h"
#include "nfq/pkt.h"

#include <stdlib.h>
#include <string.h>

static void add_all(struct nfq_policy_table *t, const struct nfq_flow *f, const uint8_t *data,
		    size_t size)
{
	struct nfq_policy_spec s;

	nfq_spec_syn_ttl(&s, f, 2, 3, 1000);
	nfq_policy_add(t, &s, 0, NULL);
	nfq_spec_drop_inbound_errors(&s, f, 1000);
	nfq_policy_add(t, &s, 0, NULL);
	nfq_spec_drop_outbound_rst(&s, f, 1000);
	nfq_policy_add(t, &s, 0, NULL);
	nfq_spec_report_icmp_te(&s, f, 1000, 1);
	nfq_policy_add(t, &s, 0, NULL);
	nfq_spec_report_syn(&s, f, 1000, 2);
	nfq_policy_add(t, &s, 0, NULL);
	nfq_spec_replace(&s, f, NFQ_MATCH_ALL, data, size, 1000);
	nfq_policy_add(t, &s, 0, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t dirs[] = { NFQ_MATCH_OUT_ALL, NFQ_MATCH_IN_ALL, NFQ_MATCH_ALL };
	struct nfq_policy_table t;
	struct nfq_decision d;
	struct nfq_flow f, any;
	struct pkt k, r;
	size_t i;

	if (pkt_parse(data, size, &k) != 0)
		return 0;
	memset(&f, 0, sizeof(f));
	memset(&any, 0, sizeof(any));
	f.laddr = k.ip.saddr;
	f.raddr = k.ip.daddr;
	f.proto = k.ip.proto;
	if (k.l4 == PKT_L4_TCP) {
		f.lport = k.tcp.sport;
		f.rport = k.tcp.dport;
	} else if (k.l4 == PKT_L4_UDP) {
		f.lport = k.udp.sport;
		f.rport = k.udp.dport;
	} else if (k.l4 == PKT_L4_ICMP && k.icmp.quote.valid) {
		f.laddr = k.icmp.quote.ip.saddr;
		f.raddr = k.icmp.quote.ip.daddr;
		f.proto = k.icmp.quote.ip.proto;
		f.lport = k.icmp.quote.sport;
		f.rport = k.icmp.quote.dport;
	}
	nfq_policy_table_init(&t);
	add_all(&t, &f, data, size);
	add_all(&t, &any, data, size);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		nfq_policy_decide(&t, &k, dirs[i], 1, &d);
		if (d.replace && pkt_parse(d.replace, d.replace_len, &r) != 0)
			abort();
		if (d.n_events > NFQ_DECISION_MAX_EVENTS)
			abort();
	}
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 5000, &d);    /* all expired */
	if (d.matched != 0 || nfq_policy_count(&t) != 0)
		abort();
	nfq_policy_table_free(&t);
	return 0;
}
