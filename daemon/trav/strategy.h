/* SPDX-License-Identifier: MIT */
/*
 * Which traversal methods can work for a pair of NATs, in the order they
 * should be raced. Pure: the responder runs it on both sides' SIG-NAT-INFO
 * when the requester's EXCHANGE arrives (daemon/negotiate.c) and sends the
 * list back as METHODS; the requester keeps what it prepared of it.
 *
 * A side "can accept" an unsolicited inbound connection when it has no NAT
 * or its NAT maps endpoint-independently and filters endpoint-independently
 * (full cone; the daemon first sends a TTL-limited SYN to create the
 * mapping). It "can accept from the peer" also when the filter is
 * address-dependent (restricted cone): that primer goes to the peer's
 * address, which opens the filter to every port of it, so the peer's SYN
 * from any (even random) public port gets in. Its public port is
 * "predictable" when it has no NAT or the NAT maps endpoint-independently:
 * a port-preserving NAT gives the socket's own port, one that picks its
 * own ports (trav_eim_learned) gives every destination the port a STUN
 * Binding from the socket's port saw, which the attempt learns before its
 * EXCHANGE (daemon/trav/attempt.c). Such a NAT is a cone like the others:
 * neither prediction nor shotgun.
 *
 *   direct    the responder can accept from the peer and is predictable:
 *             the requester connects to it;
 *   portmap   a side's gateway can map a port (discovery found UPnP-IGD,
 *             NAT-PMP or PCP working: SIG_NAT_UPNP / _NATPMP / _PCP): that
 *             side maps its port and accepts, the other connects out to the
 *             mapped endpoint (any NAT can connect out). When both can, the
 *             requester accepts: it maps before it sends its EXCHANGE, and
 *             the kind of its candidate (SIG_CAND_PORTMAP or not) tells the
 *             responder which role is its own (daemon/trav/portmap.c);
 *   reversal  the requester can accept from the peer and is predictable:
 *             the responder is asked (through the server) to connect to it;
 *   simopen   both are predictable: TCP simultaneous open, TTL-limited first
 *             SYNs, inbound RST / ICMP errors and outbound RSTs suppressed;
 *   stunt1    both are predictable and neither NAT rewrites TCP sequence
 *             numbers (SIG_NAT_SEQ_REWRITE): both send TTL-limited SYNs,
 *             tell stunt-server their sequence numbers and options, and
 *             the server sends each the SYN-ACK the other would have
 *             (spoofed; daemon/trav/stunt1.c). Raced beside simopen, which needs
 *             no raw socket at the server but waits for the kernel's SYN
 *             retransmission (~1 s);
 *   synth     both predictable, and stunt1 left out (a NAT rewrites
 *             sequence numbers): TTL-limited SYNs as simopen, RELAY "syn",
 *             and each side sends its own SYN again at full TTL once both
 *             have left, so the simultaneous open needs no retransmission
 *             timeout (daemon/trav/synth.c; also why the literal SYN-ACK
 *             synthesis cannot work through Linux NATs). Forced, it is
 *             agreed wherever simopen is;
 *   stunt2    the responder cannot accept but both are predictable: the
 *             responder sends one TTL-limited SYN to the requester's public
 *             endpoint and keeps that socket; the requester connects to it
 *             250 ms later with a plain SYN (daemon/trav/stunt2.c). Simopen works
 *             wherever this does and comes first, so stunt2 is listed only
 *             when simopen is not (never, today): it runs when forced;
 *   predict   at least one side is sequential (trav_sequential) and the
 *             other is sequential or predictable: each sequential side
 *             predicts a window of its next public ports, and a window of
 *             simultaneous opens is run over it (daemon/trav/predict.c);
 *   shotgun   one side is predictable, the other is not and is not
 *             sequential either (random, or an unmeasured allocation) and
 *             nothing above works: the unpredictable side holds 256
 *             mappings open towards the predictable side's port, which
 *             probes 1000+ random ports of its address (daemon/trav/shotgun.c,
 *             98 % in the lab). Listed only as the last resort (it costs
 *             hundreds of sockets and SYNs); forced, it is agreed wherever
 *             one side is predictable and the other not.
 *
 * udp is for UDP sessions only (stuntctl connect --udp / --method udp): a
 * UDP request gets udp and nothing else, a TCP request never gets udp
 * (trav_strategy_udp below says when it can work).
 *   relay     none of the above can work and a side has a TURN server
 *             (SIG_NAT_TURN in its SIG-NAT-INFO): the responder allocates a
 *             TCP relay (RFC 6062) if it has one, else the requester
 *             (trav_relay_requester_allocates), and the other side connects
 *             to the relayed address, which works through any NAT
 *             (daemon/trav/relay.c). Never raced beside a direct method: it runs
 *             only when nothing else can, forced, or as the fallback after
 *             the race of direct methods failed (daemon/negotiate.c's relay round).
 *
 * Anything else (two sides whose ports cannot be predicted, one of them
 * random, neither able to accept or map, and no TURN server on either
 * side) has no method: the list is empty and *why says so. Unknown
 * (unmeasured) values count as "cannot", with one exception: a mapping
 * that a one-address server cannot measure (EIM and ADM look alike from
 * one address) on a NAT whose allocation was measured. Preserving, its
 * port is taken as "maybe predictable" (such a NAT keeps the local port
 * toward every destination while it is free): the methods that need a
 * predictable port (simopen, stunt1 / synth, stunt2, direct and reversal
 * unless its filter is known address-and-port-dependent) are raced for
 * it after the ones that surely work; sequential or random, predict and
 * shotgun apply as for a measured mapping. stunt1 is always raced beside
 * simopen, so a server that sends no spoofed packets (--no-spoof) costs
 * no connection.
 */
#ifndef STUNT_DAEMON_TRAV_STRATEGY_H
#define STUNT_DAEMON_TRAV_STRATEGY_H

#include "proto/sig.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRAV_MAX_METHODS	14	/* SIG_M_MAX: every method of one race */

/* SIG-NAT-INFO codes (sig.h) */
#define TRAV_MAP_EIM		1
#define TRAV_FILT_EIF		1
#define TRAV_FILT_ADF		2

/* No NAT: stuntd publishes mapping EIM, filtering EIF, preserving, hops 0. */
bool trav_nat_public(const struct sig_nat_info *n);
bool trav_can_accept(const struct sig_nat_info *n);
/* can_accept, or EIM with address-dependent filtering (primed to the peer's IP) */
bool trav_can_accept_from_peer(const struct sig_nat_info *n);
bool trav_predictable(const struct sig_nat_info *n);
/* Predictable, but the port is the NAT's own, not the socket's: learnt by a
 * Binding from the socket's port before the EXCHANGE (EIM, allocation not
 * port-preserving or not measured). */
bool trav_eim_learned(const struct sig_nat_info *n);
/* Mapping not measured (one-address server, or probes lost) and the NAT
 * preserves ports, or its allocation was not measured either: the methods
 * for a port-preserving cone are raced after the sure ones. */
bool trav_maybe_predictable(const struct sig_nat_info *n);
/* Not predictable, but each new mapping takes the previous port + delta
 * (thesis 3.3): a window of its next ports can be predicted. */
bool trav_sequential(const struct sig_nat_info *n);
/* shotgun: one side predictable, the other neither predictable nor
 * sequential (so no window can be predicted) but measured. */
bool trav_shotgun_pair(const struct sig_nat_info *a, const struct sig_nat_info *b);
/* shotgun: P(hit) of m distinct guesses among range ports, n of them mapped. */
double trav_shotgun_odds(unsigned n, unsigned range, unsigned m);
/* Its gateway answered a mapping request during discovery. */
bool trav_can_map(const struct sig_nat_info *n);
/* It has a TURN server configured (SIG_NAT_TURN). */
bool trav_can_relay(const struct sig_nat_info *n);
/* relay: does the requester allocate (only it has a TURN server) rather
 * than the responder (whenever the responder has one)? */
bool trav_relay_requester_allocates(const struct sig_nat_info *req,
				    const struct sig_nat_info *resp);
/* relay: the family of the relayed address the allocating side asks for
 * (STUN_FAMILY_IPV4 / _IPV6), from what it knows of the peer that will
 * connect to it: IPv4 when the peer has an IPv4 address (unless
 * prefer6, the test knob test-relay-ipv6), else IPv6 when it gave its IPv6
 * one; 0 when neither is known. */
uint8_t trav_relay_family(bool peer_has4, bool peer_has6, bool prefer6);
/* Its NAT rewrites TCP sequence numbers (stunt-probe saw it): no method
 * that hands a sequence number to someone else (stunt1). */
bool trav_seq_rewrite(const struct sig_nat_info *n);
/* portmap: does the requester accept (map) rather than the responder? */
bool trav_portmap_requester_accepts(const struct sig_nat_info *req,
				    const struct sig_nat_info *resp);

/*
 * Methods (SIG_M_*) that can work for requester req and responder resp,
 * best first, into out[max]. forced != 0: only that method (tried even if
 * the strategy would not choose it, so that a user can test it; *forced_ok
 * tells whether the strategy agrees). Returns the count; when 0, why holds
 * a sentence for the user.
 */
size_t trav_strategy(const struct sig_nat_info *req, const struct sig_nat_info *resp,
		     unsigned forced, uint8_t *out, size_t max, bool *forced_ok,
		     char *why, size_t whylen);

/*
 * A peer that forces a method (requester's EXCHANGE) gets it only if the
 * strategy says it can work for the pair (trav_strategy's *forced_ok, or
 * trav_strategy_udp's for udp); otherwise the responder refuses (unless its
 * allow-forced-methods is on, for labs and benchmarks). trav_forced_ok
 * answers; trav_forced_refusal writes the refusal's sentence: "method
 * shotgun refused: the strategy says it cannot work between EIM/APDF
 * preserving (requester) and no NAT (us): it needs one side predictable and
 * the other random". Pure.
 */
bool trav_forced_ok(const struct sig_nat_info *req, const struct sig_nat_info *resp,
		    unsigned forced);
void trav_forced_refusal(const struct sig_nat_info *req, const struct sig_nat_info *resp,
			 unsigned forced, char *why, size_t whylen);

/*
 * UDP hole punching (daemon/trav/udp.c) for a UDP session: each side learns the
 * public endpoint of its punching socket itself (a STUN Binding over UDP
 * from that socket), so allocation does not matter, only mapping and
 * filtering (the SIG-NAT-INFO UDP fields):
 *   - both sides map endpoint-independently (EIM, any filtering): the
 *     advertised endpoints are the ones the peer's packets reach; the
 *     TTL-limited first packets open both NATs first;
 *   - one side is EIM with endpoint-independent or address-dependent
 *     filtering (full or restricted cone), the other maps per destination
 *     (ADM / APDM, symmetric): the symmetric side's packets arrive from a
 *     port nobody advertised, but from the advertised IP; the cone side's
 *     filter lets them in and it answers the source it saw (the punch
 *     packets are authenticated, so any source may be adopted);
 *   - anything else (symmetric facing port-restricted, or both symmetric)
 *     cannot: *why says so.
 * Returns 1 (out[0] = SIG_M_UDP) or 0; with forced == SIG_M_UDP udp is
 * returned anyway and *forced_ok says whether the strategy agrees.
 */
bool trav_udp_can_work(const struct sig_nat_info *req, const struct sig_nat_info *resp);
size_t trav_strategy_udp(const struct sig_nat_info *req, const struct sig_nat_info *resp,
			 unsigned forced, uint8_t *out, size_t max, bool *forced_ok,
			 char *why, size_t whylen);

/* "EIM/APDF preserving" style summary of one side, for logs and errors. */
void trav_nat_describe(const struct sig_nat_info *n, char *buf, size_t len);

#endif
