// SPDX-License-Identifier: MIT
/* Discovery runs put together under loss (daemon/natmerge.c). */
#include "daemon/natmerge.h"
#include "tests/unit/tap.h"

#include <string.h>

/* a run against a two-address STUNT server that measured everything */
static void full_run(struct probe_result *r)
{
	memset(r, 0, sizeof(*r));
	r->stunt = 1;
	r->nat_hops = 1;
	r->tcp.mapping = PROBE_MAP_EIM;
	r->tcp.filtering = PROBE_FILT_APDF;
	r->tcp.allocation = PROBE_ALLOC_PRESERVING;
}

static void incomplete_only_when_a_measurable_verdict_is_missing(void)
{
	struct probe_result r;

	full_run(&r);
	CHECK(!d_nat_incomplete(&r));
	/* the mapping Bindings lost: run again */
	r.tcp.mapping = PROBE_MAP_UNKNOWN;
	CHECK(d_nat_incomplete(&r));
	/* ... unless a one-address server cannot tell it */
	strcpy(r.unmeasurable[PROBE_V_TCP_MAPPING], "one address");
	CHECK(!d_nat_incomplete(&r));
	/* filter lost */
	full_run(&r);
	r.tcp.filtering = PROBE_FILT_UNKNOWN;
	CHECK(d_nat_incomplete(&r));
	/* ... a server without STUNT cannot measure it: not worth a run */
	r.stunt = 0;
	CHECK(!d_nat_incomplete(&r));
	/* allocation lost */
	full_run(&r);
	r.tcp.allocation = PROBE_ALLOC_UNKNOWN;
	CHECK(d_nat_incomplete(&r));
	/* nothing at all, the server unreachable: no */
	memset(&r, 0, sizeof(r));
	CHECK(d_nat_incomplete(&r));
	strcpy(r.unreachable, "port unreachable");
	CHECK(!d_nat_incomplete(&r));
	/* UDP only, or no NAT: complete */
	memset(&r, 0, sizeof(r));
	r.udp_only = true;
	CHECK(!d_nat_incomplete(&r));
	memset(&r, 0, sizeof(r));
	r.tcp.mapping = PROBE_MAP_NONE;
	CHECK(!d_nat_incomplete(&r));
}

static void merge_keeps_what_each_run_measured(void)
{
	struct sig_nat_info acc, a, b;

	memset(&acc, 0, sizeof(acc));
	/* run 1: the allocation and the unsolicited SYN's fate, nothing else */
	memset(&a, 0, sizeof(a));
	a.tcp_alloc = SIG_ALLOC_SEQUENTIAL;
	a.tcp_delta = 2;
	a.unsolicited = 2;
	a.nat_hops = 1;
	a.flags = SIG_NAT_UPNP;
	/* run 2: the mapping and filter, another allocation and delta, drop */
	memset(&b, 0, sizeof(b));
	b.tcp_mapping = 3;
	b.tcp_filtering = 3;
	b.tcp_alloc = SIG_ALLOC_RANDOM;
	b.tcp_delta = 7;
	b.unsolicited = 1;
	b.udp_mapping = 1;
	b.flags = SIG_NAT_SEQ_REWRITE;
	d_nat_merge(&acc, &a);
	d_nat_merge(&acc, &b);
	CHECK_EQ(acc.tcp_mapping, 3);
	CHECK_EQ(acc.tcp_filtering, 3);
	/* the first measured value stays, its delta with it */
	CHECK_EQ(acc.tcp_alloc, SIG_ALLOC_SEQUENTIAL);
	CHECK_EQ(acc.tcp_delta, 2);
	CHECK_EQ(acc.unsolicited, 2);
	CHECK_EQ(acc.udp_mapping, 1);
	CHECK_EQ(acc.nat_hops, 1);
	CHECK_EQ(acc.flags, SIG_NAT_UPNP | SIG_NAT_SEQ_REWRITE);
	/* merging nothing changes nothing */
	memset(&b, 0, sizeof(b));
	a = acc;
	d_nat_merge(&acc, &b);
	CHECK(!memcmp(&a, &acc, sizeof(a)));
}

int main(void)
{
	RUN(incomplete_only_when_a_measurable_verdict_is_missing);
	RUN(merge_keeps_what_each_run_measured);
	return TAP_DONE();
}
