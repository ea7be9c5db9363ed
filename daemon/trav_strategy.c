// SPDX-License-Identifier: MIT
/* The traversal strategy: see trav_strategy.h. Pure. */
#include "daemon/trav_strategy.h"

#include <stdio.h>
#include <string.h>

bool trav_nat_public(const struct sig_nat_info *n)
{
	return n->nat_hops == 0 && n->tcp_mapping == TRAV_MAP_EIM &&
	       n->tcp_filtering == TRAV_FILT_EIF;
}

bool trav_can_accept(const struct sig_nat_info *n)
{
	return trav_nat_public(n) ||
	       (n->tcp_mapping == TRAV_MAP_EIM && n->tcp_filtering == TRAV_FILT_EIF);
}

bool trav_predictable(const struct sig_nat_info *n)
{
	return trav_nat_public(n) ||
	       (n->tcp_mapping == TRAV_MAP_EIM && n->tcp_alloc == SIG_ALLOC_PRESERVING);
}

bool trav_sequential(const struct sig_nat_info *n)
{
	return !trav_predictable(n) && n->tcp_mapping != 0 &&
	       n->tcp_alloc == SIG_ALLOC_SEQUENTIAL;
}

bool trav_can_map(const struct sig_nat_info *n)
{
	return (n->flags & (SIG_NAT_UPNP | SIG_NAT_NATPMP | SIG_NAT_PCP)) != 0;
}

bool trav_seq_rewrite(const struct sig_nat_info *n)
{
	return (n->flags & SIG_NAT_SEQ_REWRITE) != 0;
}

bool trav_portmap_requester_accepts(const struct sig_nat_info *req,
				    const struct sig_nat_info *resp)
{
	(void)resp;
	return trav_can_map(req);
}

void trav_nat_describe(const struct sig_nat_info *n, char *buf, size_t len)
{
	static const char *const map[] = { "?", "EIM", "ADM", "APDM" };
	static const char *const filt[] = { "?", "EIF", "ADF", "APDF" };
	static const char *const alloc[] = { "?", "preserving", "sequential", "random" };

	if (trav_nat_public(n)) {
		snprintf(buf, len, "no NAT");
		return;
	}
	snprintf(buf, len, "%s/%s %s", map[n->tcp_mapping <= 3 ? n->tcp_mapping : 0],
		 filt[n->tcp_filtering <= 3 ? n->tcp_filtering : 0],
		 alloc[n->tcp_alloc <= 3 ? n->tcp_alloc : 0]);
}

size_t trav_strategy(const struct sig_nat_info *req, const struct sig_nat_info *resp,
		     unsigned forced, uint8_t *out, size_t max, bool *forced_ok,
		     char *why, size_t whylen)
{
	uint8_t m[TRAV_MAX_METHODS];
	size_t n = 0, i;
	char a[64], b[64];
	bool stunt2, both_predictable;

	if (trav_can_accept(resp) && trav_predictable(resp))
		m[n++] = SIG_M_DIRECT;
	if (trav_can_map(req) || trav_can_map(resp))
		m[n++] = SIG_M_PORTMAP;
	if (trav_can_accept(req) && trav_predictable(req))
		m[n++] = SIG_M_REVERSAL;
	/* the responder's SYN goes to the requester's public endpoint */
	stunt2 = trav_predictable(resp) && !trav_can_accept(resp) && trav_predictable(req);
	both_predictable = trav_predictable(req) && trav_predictable(resp);
	if (both_predictable)
		m[n++] = SIG_M_SIMOPEN;
	if (both_predictable && !trav_seq_rewrite(req) && !trav_seq_rewrite(resp))
		m[n++] = SIG_M_STUNT1;
	else if (both_predictable)
		m[n++] = SIG_M_SYNTH;	/* its own SYN again: no sequence number leaves */
	if (!both_predictable && stunt2)
		m[n++] = SIG_M_STUNT2;
	if ((trav_sequential(req) && (trav_sequential(resp) || trav_predictable(resp))) ||
	    (trav_sequential(resp) && trav_predictable(req)))
		m[n++] = SIG_M_PREDICT;
	if (forced_ok)
		*forced_ok = false;
	if (forced) {
		for (i = 0; i < n; i++)
			if (m[i] == forced && forced_ok)
				*forced_ok = true;
		if (forced == SIG_M_STUNT2 && stunt2 && forced_ok)
			*forced_ok = true;	/* works, only not raced beside simopen */
		if (forced == SIG_M_SYNTH && both_predictable && forced_ok)
			*forced_ok = true;	/* works, raced only instead of stunt1 */
		if (max < 1)
			return 0;
		out[0] = (uint8_t)forced;
		return 1;
	}
	if (n > max)
		n = max;
	memcpy(out, m, n);
	if (n == 0 && why) {
		trav_nat_describe(req, a, sizeof(a));
		trav_nat_describe(resp, b, sizeof(b));
		snprintf(why, whylen,
			 "no traversal method can work between %s (requester) and %s (peer): "
			 "neither side can accept a connection or map a port, and no port "
			 "can be predicted (random allocation); "
			 "a relay would be needed", a, b);
	}
	return n;
}
