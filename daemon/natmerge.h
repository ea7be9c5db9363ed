/* SPDX-License-Identifier: MIT */
/*
 * Discovery under loss (issue 14): one discovery run is bounded (3 s) and
 * at 30 % loss each way its TCP tests lose enough SYNs, SYN-ACKs and
 * Bindings that the mapping, the filter or the allocation can stay
 * unknown. daemon/discovery.c then runs it again, at most D_DISCOVERY_TRIES
 * times in all, and keeps what each run measured: a field one run left
 * unknown is taken from another (what two runs both measured is the
 * first's). A server that cannot measure a field (one address) is not
 * asked again for it. Pure: no I/O, no clock.
 */
#ifndef STUNT_DAEMON_NATMERGE_H
#define STUNT_DAEMON_NATMERGE_H

#include "probes/probe.h"
#include "proto/sig.h"

#include <stdbool.h>

/* Two: the registration waits for discovery at start, and 3 runs (9 s)
 * missed the 10 s a lab test gives both daemons to register, on a loaded
 * machine whose probes timed out without loss. */
#define D_DISCOVERY_TRIES	2

/* r left the TCP mapping, filter or allocation unknown although its server
 * could measure it (two addresses; STUNT for the filter) and was reached
 * (a server the network says is unreachable is not worth another run). */
bool d_nat_incomplete(const struct probe_result *r);

/* Fill what acc does not know from n (flags: either's). */
void d_nat_merge(struct sig_nat_info *acc, const struct sig_nat_info *n);

#endif
