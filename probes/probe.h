// SPDX-License-Identifier: MIT
/*
 * NAT behaviour discovery: the library behind stunt-probe(1) and the
 * discovery step of stuntd. probe_run() measures, against a stunt-server (or
 * any RFC 5780 STUN server for the UDP part) with two addresses, how the
 * local NAT maps, filters and allocates for UDP and TCP, how it answers an
 * unsolicited SYN, whether it rewrites TCP sequence numbers, how many hops
 * away the outermost NAT is, and whether UPnP-IGD / NAT-PMP / PCP can map a
 * port. Every test runs at once in one event loop (probe_loop.c).
 *
 * Against a server with one address (no OTHER-ADDRESS: a one-address
 * stunt-server) the tests that need a second address are not run: the
 * mapping is compared between the server's two ports of that address
 * (--port and --port + 1), the filtering from its second port only; what
 * stays unknown is named in r->unmeasurable with the reason.
 *
 * Vocabulary (RFC 4787 / RFC 5382): mapping EIM / ADM / APDM, filtering
 * EIF / ADF / APDF; allocation preserving / sequential (delta) / random.
 * A value that could not be measured stays at its *_UNKNOWN (0) value or
 * -1; probe_report.c prints it as null. A verdict that rests on answers
 * that never came, where packet loss could have taken them, has its bit
 * set in r->uncertain (see enum probe_verdict).
 *
 * IPv4, and with cfg->server6 a first IPv6 part (probe6.c): translation,
 * UDP mapping and filtering, the TCP mapped address, in r->ipv6.
 */
#ifndef STUNT_PROBES_PROBE_H
#define STUNT_PROBES_PROBE_H

#include "proto/stun_attr.h"
#include "proto/stun_msg.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

enum probe_mapping {
	PROBE_MAP_UNKNOWN = 0,
	PROBE_MAP_NONE,		/* no translation: mapped address = local address */
	PROBE_MAP_EIM,
	PROBE_MAP_ADM,
	PROBE_MAP_APDM,
};

enum probe_filtering {
	PROBE_FILT_UNKNOWN = 0,
	PROBE_FILT_EIF,
	PROBE_FILT_ADF,
	PROBE_FILT_APDF,
};

enum probe_alloc {
	PROBE_ALLOC_UNKNOWN = 0,
	PROBE_ALLOC_PRESERVING,
	PROBE_ALLOC_SEQUENTIAL,
	PROBE_ALLOC_RANDOM,
};

/* The NAT's answer to an unsolicited inbound SYN (STUNT PROBE-UNSOLICITED). */
enum probe_syn {
	PROBE_SYN_UNKNOWN = 0,
	PROBE_SYN_DROP,
	PROBE_SYN_RST,
	PROBE_SYN_ICMP,
};

/* Traversal methods (docs/design.md, "The strategy"), in the order they are tried. */
enum probe_method {
	PROBE_M_DIRECT,
	PROBE_M_PORTMAP,
	PROBE_M_REVERSAL,
	PROBE_M_SIMOPEN,
	PROBE_M_STUNT1,
	PROBE_M_STUNT2,
	PROBE_M_SYNTH,
	PROBE_M_PREDICT,
	PROBE_M_SHOTGUN,
	PROBE_M_UDP,
	PROBE_M_RELAY,
	PROBE_M_MAX,
};

/*
 * The verdicts that can rest on missing answers: bits of
 * probe_result.uncertain. A bit is set when a verdict concluded from
 * silence could be packet loss instead (a filtering test that got no answer
 * after its retransmissions on a path that lost packets, an unsolicited SYN
 * nobody answered, allocation from fewer samples than asked, mapping with
 * an endpoint missing, a silent hop beside the outermost NAT), or when the
 * value is null because its answers never came in time.
 */
enum probe_verdict {
	PROBE_V_UDP_MAPPING,
	PROBE_V_UDP_FILTERING,
	PROBE_V_UDP_ALLOCATION,
	PROBE_V_UDP_HAIRPIN,
	PROBE_V_TCP_MAPPING,
	PROBE_V_TCP_FILTERING,
	PROBE_V_TCP_ALLOCATION,
	PROBE_V_TCP_UNSOLICITED_SYN,
	PROBE_V_TCP_NAT_HOPS,
	PROBE_V_TCP_SEQ_REWRITE,
	PROBE_V_MAX,
};

#define PROBE_UNSURE(v)		(1u << (v))

/*
 * A negative verdict from silence is certain only if loss alone would take
 * every one of its tries with a chance below this (1 in 1000), judged from
 * the loss seen on the path during the same run.
 */
#define PROBE_DOUBT_MAX		0.001

/* Fresh sockets sampled for the allocation behaviour. */
#define PROBE_ALLOC_SAMPLES	6
/* TTL-limited SYNs sent: TTL 1 .. PROBE_TTL_MAX. */
#define PROBE_TTL_MAX		8
/* IPv6 firewall distance (probe6_fw.c): hop limits 1 .. PROBE6_FW_MAX. */
#define PROBE6_FW_MAX		4
#define PROBE_NOTES_MAX		16
#define PROBE_NOTE_LEN		160

/* Mapping test endpoints, in this order: primary IP and port, primary IP
 * and alternate port, alternate IP and primary port, alternate IP and
 * alternate port. */
enum { PROBE_EP_A1P1, PROBE_EP_A1P2, PROBE_EP_A2P1, PROBE_EP_A2P2, PROBE_EP_MAX };

struct probe_ep {
	bool		known;
	uint32_t	ip;		/* network order */
	uint16_t	port;		/* host order */
	/* an IPv6 endpoint (probe6.c): ip6 holds it and ip stays 0; all
	 * zero for IPv4, so comparing both compares either family */
	bool		v6;
	uint8_t		ip6[16];
};

/* What one transport's tests found. */
struct probe_proto {
	bool			measured;	/* at least one mapped address learnt */
	struct probe_ep		local;		/* local endpoint of the mapping test */
	struct probe_ep		mapped[PROBE_EP_MAX];	/* per server endpoint */
	enum probe_mapping	mapping;
	enum probe_filtering	filtering;
	enum probe_alloc	allocation;
	bool			delta_known;
	int			delta;		/* sequential: next = previous + delta */
	unsigned		delta_hits;	/* consecutive samples that moved by delta */
	/* sequential: ports others took per second, tenths (two Bindings
	 * back to back after the run, pace_ms apart; TCP only) */
	bool			pace_known;
	uint32_t		pace_tenths;
	uint32_t		pace_ms;
	uint32_t		pace_ports;	/* the others' ports between the two */
	unsigned		nsamples;	/* allocation samples that answered */
	uint16_t		sample_local[PROBE_ALLOC_SAMPLES];
	uint16_t		sample_mapped[PROBE_ALLOC_SAMPLES];
	int			hairpin;	/* UDP only: -1 unknown, 0 no, 1 yes */
	/* against a one-address server, what its two ports tell when the
	 * verdict above stays unknown: 1 both ports got one mapping (EIM or
	 * ADM) / an answer from the other port passed the filter (EIF or
	 * ADF), -1 not seen */
	int			same_map_ports;
	int			other_port_passed;
};

struct probe_portmap_one {
	int		present;	/* -1 unknown, 0 no, 1 answered */
	int		mapped;		/* -1 not tried, 0 refused, 1 made */
	int		removed;	/* -1 not tried, 0 failed, 1 removed */
	uint16_t	ext_port;
	char		external_ip[INET_ADDRSTRLEN];
};

/* What IPv6 can do from here (probe6_direct_verdict). */
enum probe6_direct {
	PROBE6_D_UNKNOWN = 0,	/* nothing measured */
	PROBE6_D_YES,		/* no translation or a stable one, and EIF */
	PROBE6_D_SIMOPEN,	/* inbound filtered (or unknown): both must send first */
	PROBE6_D_RELAY,		/* translated per destination: addresses unpredictable */
};

/* The IPv6 part (--server6), measured after the IPv4 tests (probe6.c). */
struct probe6_result {
	bool			asked;		/* cfg->server6 was given */
	bool			reached;	/* at least one answer over IPv6 */
	struct probe_ep		server;		/* primary address and port */
	struct probe_ep		other;		/* OTHER-ADDRESS, when it named one */
	struct probe_ep		local;		/* UDP: the address and port we sent from */
	struct probe_ep		mapped[PROBE_EP_MAX];	/* UDP, per server endpoint */
	int			translated;	/* -1 unknown, 0 mapped = local, 1 not */
	int			port_changed;	/* -1 unknown, 0 kept, 1 changed */
	enum probe_mapping	udp_mapping;
	enum probe_filtering	udp_filtering;
	struct probe_ep		tcp_local, tcp_mapped;
	int			tcp_translated;	/* -1 unknown, 0 no, 1 yes */
	/* STUNT over IPv6 (PROBE-UNSOLICITED, as the IPv4 TCP tests) */
	enum probe_filtering	tcp_filtering;
	enum probe_syn		unsolicited_syn;
	uint8_t			unsolicited_icmp[2];	/* ICMPv6 type, code (icmp) */
	/* hop-limited SYNs to the server (root; probe6_ttl.c): the router
	 * that answered at hop limit h, and the one that reached it (-1) */
	bool			hop_known[PROBE_TTL_MAX + 1];
	uint8_t			hop_addr[PROBE_TTL_MAX + 1][16];
	int			dest_hop;
	/* the firewall's distance as simopen6 needs it (probe6_fw.c): the
	 * PROBE-UNSOLICITED result after a SYN with hop limit h (-1 none),
	 * the smallest h that let the server's SYN in (-1 unknown), and why
	 * it is unknown */
	int			fw_res[PROBE6_FW_MAX + 1];
	int			syn_hop_limit;
	char			syn_hop_limit_why[PROBE_NOTE_LEN];
	enum probe6_direct	direct;
	/* what cannot be measured over IPv6 yet, and why ("" where it could) */
	char			unmeasurable[PROBE_V_MAX][PROBE_NOTE_LEN];
};

struct probe_result {
	struct probe_proto	udp;
	struct probe_proto	tcp;
	/* TCP extras */
	enum probe_syn		unsolicited_syn;
	int			nat_hops;	/* -1 unknown, 0 no NAT */
	int			syn_ttl;	/* -1 unknown: TTL that crosses own NAT(s) only */
	int			seq_rewrite;	/* -1 unknown, 0 no, 1 yes */
	int			stunt;		/* -1 not asked, 0 server lacks STUNT, 1 yes */
	uint32_t		hop_addr[PROBE_TTL_MAX + 1];	/* [ttl], 0 silent */
	int			dest_hop;	/* TTL that reached the server, -1 none */
	/* port mapping protocols */
	struct probe_portmap_one upnp, natpmp, pcp;
	/* conclusions */
	unsigned		uncertain;	/* PROBE_UNSURE(enum probe_verdict) bits */
	enum probe_method	methods[PROBE_M_MAX];
	unsigned		nmethods;
	bool			server_reached;
	/* cfg->ipv6_only: nothing of IPv4 was measured (server_reached and
	 * the IPv4 fields say nothing); ipv6 holds the report */
	bool			ipv6_only;
	/* the network said the server cannot be reached: why (else "") */
	char			unreachable[PROBE_NOTE_LEN];
	bool			udp_only;	/* TCP not tested: no TCP methods */
	/* the server named no OTHER-ADDRESS: one address (or not RFC 5780);
	 * what it cannot measure has its reason in unmeasurable[verdict]
	 * ("" where it could) */
	bool			one_addr;
	char			unmeasurable[PROBE_V_MAX][PROBE_NOTE_LEN];
	uint32_t		server_ip;	/* network order */
	uint16_t		server_port;
	uint64_t		elapsed_ms;
	struct probe6_result	ipv6;
	unsigned		nnotes;
	char			notes[PROBE_NOTES_MAX][PROBE_NOTE_LEN];
};

#define PROBE_F_UDP	0x01
#define PROBE_F_TCP	0x02
#define PROBE_F_TTL	0x04	/* hop count (root: raw ICMP socket) */
#define PROBE_F_PORTMAP	0x08	/* UPnP-IGD, NAT-PMP, PCP */
#define PROBE_F_ALL	0x0F

#define PROBE_TIMEOUT_MS_DEFAULT	3000

struct probe_cfg {
	uint32_t	server_ip;	/* network order */
	uint16_t	server_port;	/* host order, 3478 by default */
	unsigned	what;		/* PROBE_F_* */
	unsigned	timeout_ms;	/* bound on the whole run */
	const char	*pcap_file;	/* NULL: no capture file */
	int		verbose;
	/* stderr is a terminal someone watches: while a run lasts over a
	 * second, one line there says how long and how many answers are
	 * still awaited (rewritten in place, erased at the end) */
	bool		progress;
	/* without root: sockets a privileged helper opened (-1: none; not
	 * closed by probe_run): IPv4 datagrams leaving on the default route
	 * (the SYN capture) and a raw ICMP socket (the hop count) */
	int		capture_fd;
	int		icmp_fd;
	/* the server's primary IPv6 address and port (--server6): the IPv6
	 * part runs only when server6_set */
	bool		server6_set;
	struct sockaddr_in6 server6;
	/* the IPv6 part's first UDP and TCP Bindings only: our mapped IPv6
	 * address, no mapping, filtering, STUNT or hop tests (stuntd's
	 * discovery, which wants the address and no longer run) */
	bool		server6_addr_only;
	/* with server6_addr_only: the firewall's distance too (probe6_fw.c:
	 * the hop limit simopen6's first SYN needs); a full IPv6 part always
	 * measures it */
	bool		server6_fw_hops;
	/* the IPv6 part alone (with server6_set): no IPv4 test runs, server_ip
	 * is not used (stuntd on an IPv6-only host); probe_run() returns 0
	 * when the server answered over IPv6 */
	bool		ipv6_only;
};

void probe_cfg_init(struct probe_cfg *cfg);
void probe_result_init(struct probe_result *r);

/*
 * Run every test cfg->what asks for, in parallel, for at most
 * cfg->timeout_ms, and fill r (which it initialises). Returns 0 when the
 * server answered at least once, -EHOSTUNREACH when it never did, or
 * another -errno when the probe could not run at all.
 */
int probe_run(const struct probe_cfg *cfg, struct probe_result *r);

/* Add a line to r->notes ("what was skipped and why"); silently drops
 * notes beyond PROBE_NOTES_MAX. */
void probe_note(struct probe_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Verdict v cannot be measured against this server: why (kept once). */
void probe_unmeasurable(struct probe_result *r, enum probe_verdict v, const char *why);

/* ---- one blocking Binding (probe_binding.c) ---- */

/* Our public port of a new TCP connection to srv, now: connect, one STUN
 * Binding, its XOR-MAPPED-ADDRESS. Blocks at most timeout_ms in each of
 * connect, send and receive. 0, or -errno with why filled. (stunt-probe's
 * pace measurement and predict's last port, daemon/trav/predict.c.) */
int probe_tcp_binding(const struct sockaddr_in *srv, unsigned timeout_ms, uint16_t *port,
		      char *why, size_t whylen);
/* The same to a server of either family: the whole mapped address, and
 * (local not NULL) the connection's local address. */
int probe_tcp_binding_sa(const struct sockaddr *srv, socklen_t srvlen, unsigned timeout_ms,
			 struct stun_addr *mapped, struct sockaddr_storage *local,
			 char *why, size_t whylen);

/* Its parts, for a caller with its own event loop (daemon/trav/learn.c):
 * the request (txid filled; its length or -errno); the answer read so far
 * (pure: 0 more to read, 1 done with *port, -EBADMSG not STUN or longer
 * than PROBE_BINDING_BUF, -ENOMSG not our success with a mapped address;
 * probe_binding_error names them); fd bound to lport beside the socket that
 * holds it (SO_REUSEADDR, SO_REUSEPORT; 0 or -errno). */
#define PROBE_BINDING_BUF	512
int probe_binding_request(uint8_t *buf, size_t len, uint8_t txid[STUN_TXID_LEN]);
int probe_binding_answer(const uint8_t *buf, size_t got, const uint8_t txid[STUN_TXID_LEN],
			 uint16_t *port);
/* The same for any family: the whole XOR-MAPPED-ADDRESS. */
int probe_binding_answer_addr(const uint8_t *buf, size_t got, const uint8_t txid[STUN_TXID_LEN],
			      struct stun_addr *mapped);
const char *probe_binding_error(int r);
int probe_bind_beside(int fd, uint16_t lport);

/* ---- pure classification (probe_classify.c) ---- */

enum probe_mapping probe_classify_mapping(const struct probe_ep mapped[PROBE_EP_MAX],
					  const struct probe_ep *local);
/* got_*: -1 not asked / server could not, 0 no answer, 1 answered */
enum probe_filtering probe_classify_filtering(int got_change_ip_port, int got_change_port);
/* Ports of fresh mappings in the order they were made. Fills p->allocation,
 * delta_known, delta, delta_hits from p->sample_local/sample_mapped[0..nsamples). */
void probe_classify_alloc(struct probe_proto *p);
/* Outermost NAT from TTL-limited probes: hop_addr[1..max_ttl] (0: no
 * answer), dest_hop the TTL that reached the server (-1 none). Returns the
 * hop count of the outermost NAT (-1 unknown) and sets *syn_ttl. */
int probe_classify_hops(const uint32_t *hop_addr, int max_ttl, int dest_hop, int *syn_ttl);
/* The IPv6 firewall's distance (probes/probe6_fw.c): the smallest hop
 * limit h in 1..PROBE6_FW_MAX whose PROBE-UNSOLICITED result res[h] (a
 * STUNT_PROBE_* value, -1 none) is SYNACK, among those below dest_hop when
 * it is known (> 0); 0 when there is none. */
int probe_classify_fw6_hops(const int res[PROBE6_FW_MAX + 1], int dest_hop);
/* The hop count rests on answers: the outermost NAT's own hop answered
 * from a private address and the next hop from a public one. */
bool probe_hops_sure(const uint32_t *hop_addr, int max_ttl, int nat_hops);
/*
 * Could `tries` unanswered attempts be loss alone? lost of sent round trips
 * were lost on the path in this run (a retransmission counts as one). No
 * loss seen: no doubt (each try was retransmitted, as on any clean path).
 * Else doubt when an upper estimate of the loss rate p, raised to the power
 * tries, exceeds PROBE_DOUBT_MAX.
 */
bool probe_absence_doubtful(unsigned lost, unsigned sent, unsigned tries);
/* Foreign ports per second, tenths, on a sequential NAT: port1 then port2
 * are ours, one mapping apart (delta per mapping), made interval_ms apart;
 * the ports between them went to others. Ports that went backwards or
 * jumped past half the port space (a wrap, a NAT not sequential after all)
 * and no interval give 0. */
uint32_t probe_classify_pace(uint16_t port1, uint16_t port2, int delta, uint32_t interval_ms);
/* The ports between those two mappings that went to others (the same rules;
 * 0 for the same cases) */
uint32_t probe_classify_foreign(uint16_t port1, uint16_t port2, int delta);
/* Private (RFC 1918), shared (RFC 6598 CGN), loopback or link-local. */
bool probe_ip_is_private(uint32_t ip_be);
/* RFC 3489 name of a UDP behaviour: "full cone", "symmetric", ... or NULL. */
const char *probe_classic_name(enum probe_mapping m, enum probe_filtering f);
/* IPv6: r->ipv6.direct from its translation, mapping and filtering. */
enum probe6_direct probe6_direct_verdict(const struct probe6_result *v6);
/* r->methods from everything else in r. */
void probe_choose_methods(struct probe_result *r);

/* ---- names and output (probe_report.c) ---- */

const char *probe_mapping_name(enum probe_mapping m);	/* "EIM", NULL if unknown */
const char *probe_filtering_name(enum probe_filtering f);
const char *probe_alloc_name(enum probe_alloc a);
const char *probe_syn_name(enum probe_syn s);
const char *probe_method_name(enum probe_method m);
const char *probe_verdict_name(enum probe_verdict v);	/* "udp.filtering" */
const char *probe6_direct_name(enum probe6_direct d);	/* "yes", "simopen", "relay", NULL */
void probe_report_json(FILE *f, const struct probe_result *r);
/* The progress line (no newline) after elapsed_ms of a run bounded by
 * bound_ms with waiting answers awaited; returns its length (snprintf's). */
int probe_progress_line(char *buf, size_t cap, uint64_t elapsed_ms, uint64_t bound_ms,
			unsigned waiting);
void probe_report_human(FILE *f, const struct probe_result *r);
/* The human report's last IPv6 sentence: can direct IPv6 connections work. */
const char *probe6_direct_sentence(enum probe6_direct d);
/* Pure: the human report's first line, "direct connections: likely /
 * need help / relay only" (or unknown: the server was not reached). */
const char *probe_verdict_line(const struct probe_result *r);

#endif
