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

void d_nat_merge(struct sig_nat_info *acc, const struct sig_nat_info *n)
{
	if (!acc->udp_mapping)
		acc->udp_mapping = n->udp_mapping;
	if (!acc->udp_filtering)
		acc->udp_filtering = n->udp_filtering;
	if (!acc->udp_alloc) {
		acc->udp_alloc = n->udp_alloc;
		acc->udp_delta = n->udp_delta;	/* the delta goes with its allocation */
	}
	if (!acc->tcp_mapping)
		acc->tcp_mapping = n->tcp_mapping;
	if (!acc->tcp_filtering)
		acc->tcp_filtering = n->tcp_filtering;
	if (!acc->tcp_alloc) {
		acc->tcp_alloc = n->tcp_alloc;
		acc->tcp_delta = n->tcp_delta;
	}
	if (!acc->unsolicited)
		acc->unsolicited = n->unsolicited;
	if (!acc->nat_hops)
		acc->nat_hops = n->nat_hops;
	acc->flags |= n->flags;
}
