// SPDX-License-Identifier: MIT
/* Discovery runs put together: see natmerge.h. Pure. */
#include "daemon/natmerge.h"

static bool lacks(const struct probe_result *r, int known, enum probe_verdict v)
{
	return !known && !r->unmeasurable[v][0];
}

bool d_nat_incomplete(const struct probe_result *r)
{
	if (r->udp_only || r->unreachable[0] || r->tcp.mapping == PROBE_MAP_NONE)
		return false;
	/* the TCP filter is measured with STUNT requests only (not coturn) */
	return lacks(r, r->tcp.mapping != PROBE_MAP_UNKNOWN, PROBE_V_TCP_MAPPING) ||
	       lacks(r, r->tcp.filtering != PROBE_FILT_UNKNOWN || r->stunt != 1,
		     PROBE_V_TCP_FILTERING) ||
	       lacks(r, r->tcp.allocation != PROBE_ALLOC_UNKNOWN, PROBE_V_TCP_ALLOCATION);
}

/* a field one run left unknown (0) takes the other's */
static void fill(uint8_t *acc, uint8_t v)
{
	if (!*acc)
		*acc = v;
}

void d_nat_merge(struct sig_nat_info *acc, const struct sig_nat_info *n)
{
	/* a delta goes with its allocation */
	if (!acc->udp_alloc)
		acc->udp_delta = n->udp_delta;
	if (!acc->tcp_alloc)
		acc->tcp_delta = n->tcp_delta;
	fill(&acc->udp_mapping, n->udp_mapping);
	fill(&acc->udp_filtering, n->udp_filtering);
	fill(&acc->udp_alloc, n->udp_alloc);
	fill(&acc->tcp_mapping, n->tcp_mapping);
	fill(&acc->tcp_filtering, n->tcp_filtering);
	fill(&acc->tcp_alloc, n->tcp_alloc);
	fill(&acc->unsolicited, n->unsolicited);
	fill(&acc->nat_hops, n->nat_hops);
	acc->flags |= n->flags;
}
