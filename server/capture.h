// SPDX-License-Identifier: MIT
/*
 * stunt-server's packet capture (STUNT, thesis 3.2.2): one libpcap handle
 * on the server's interface, opened at start-up (before privileges are
 * dropped) and re-filtered whenever the set of armed captures and probes
 * changes, so the kernel hands us only the packets someone waits for:
 *
 *   CAPTURE  a TCP SYN (no ACK) from the client's IP to the target
 *            address and port;
 *   PROBE    the client NAT's answer to our unsolicited SYN: TCP from
 *            client IP:P to our source address and port (RST, SYN-ACK),
 *            or an ICMP error to our source address quoting the SYN.
 *
 * The conversions from a captured frame to what the client is told are
 * pure functions (no I/O, bounds-checked; tests/unit/test_srv_capture.c
 * and tests/fuzz/fuzz_srv_capture.c call them). Captures are IPv4 only;
 * probes are answered over both families (an IPv6 probe: the answer
 * is TCP from the client's IPv6 address or an ICMPv6 error quoting the
 * SYN).
 */
#ifndef STUNT_SERVER_CAPTURE_H
#define STUNT_SERVER_CAPTURE_H

#include "proto/stunt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_CAP_SNAPLEN		2048
#define SRV_CAP_WANT_MAX	64	/* armed captures + probes at once */

/* Link-layer types handled (values of pcap's DLT_*). */
#define SRV_DLT_EN10MB		1
#define SRV_DLT_RAW		12
#define SRV_DLT_LINUX_SLL	113
#define SRV_DLT_IPV4		228
#define SRV_DLT_IPV6		229
#define SRV_DLT_LINUX_SLL2	276

/* Offset of the IPv4 or IPv6 header in a frame of link type dlt: 0 with
 * *off set, -EPROTONOSUPPORT (other link type, neither family), -EMSGSIZE
 * (short). */
int srv_capture_l3(int dlt, const uint8_t *frame, size_t caplen, size_t *off);

/* What one armed capture or probe waits for. Addresses in network order. */
enum srv_cap_kind { SRV_CAP_SYN, SRV_CAP_PROBE };

struct srv_cap_want {
	enum srv_cap_kind kind;
	bool		v6;		/* PROBE only: client6 and srv6, not client and srv */
	uint8_t		client6[16], srv6[16];
	uint32_t	client;		/* the control connection's IP */
	uint32_t	srv;		/* SYN: target IP; PROBE: our source IP */
	uint16_t	srv_port;	/* SYN: target port; PROBE: our source port */
	uint16_t	client_port;	/* PROBE: port P probed; SYN: unused */
};

/*
 * The capture's two BPF programs: nothing, while nothing is armed, and
 * while anything is armed every incoming TCP segment with SYN or RST and
 * every ICMP error; which armed entry a packet answers is decided by the
 * matchers below. Not a program per set of armed entries: libpcap replaces
 * a program by rejecting everything and discarding what is queued but not
 * yet read, so a packet that arrived just before a change was lost
 * (measured: a PROBE-UNSOLICITED's RST queued while an answer and a new
 * entry changed the program twice was never read; stunt-probe waited out
 * its timeout and took 1.3 s instead of 0.5 s in 2 of 10 back-to-back
 * runs). The program now changes only when no entry is waiting.
 */
#define SRV_CAP_FILTER_IDLE	"less 1"
/* (IPv6: libpcap's tcp[] and icmp6[] do not reach past the fixed header,
 * so the offsets are the fixed header's; a SYN-ACK or RST behind extension
 * headers is not seen, as none is expected from a firewall or a host) */
#define SRV_CAP_FILTER_ARMED	"(tcp[tcpflags] & (tcp-syn|tcp-rst) != 0) or " \
				"(icmp and icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply) or " \
				"(ip6 and tcp and ip6[53] & 0x06 != 0) or (icmp6 and ip6[40] < 128)"

/*
 * A captured IPv4 packet against a SYN capture: if it is a TCP SYN without
 * ACK from w->client to w->srv:w->srv_port, fill rep (source = the SYN's
 * source address and port as seen, seq, TTL, IP flags and id, window,
 * flags, raw options; opts parsed when the kernel would accept them) and
 * return 0; -ENOENT if it does not match; -EBADMSG if malformed.
 * The packet may be cut short by the snap length: only the headers count.
 */
int srv_capture_syn_report(const uint8_t *ip, size_t len, const struct srv_cap_want *w,
			   uint32_t elapsed_ms, struct stunt_syn_report *rep);

/*
 * A captured IPv4 or IPv6 packet against a probe (w->v6 says which family it
 * waits for): an RST (STUNT_PROBE_RST) or a
 * SYN-ACK (STUNT_PROBE_SYNACK) from w->client:w->client_port to
 * w->srv:w->srv_port, or an ICMP error to w->srv quoting a TCP packet from
 * w->srv:w->srv_port to w->client:w->client_port (STUNT_PROBE_ICMP, type
 * and code set; ICMPv6's own numbers). Fills result, icmp_type, icmp_code,
 * ttl (the hop limit); 0 or -ENOENT.
 */
int srv_capture_probe_match(const uint8_t *ip, size_t len, const struct srv_cap_want *w,
			    struct stunt_probe_resp *out);

/* ---- the libpcap handle (I/O) ---- */

struct srv_pcap {
	void	*p;		/* pcap_t */
	int	 fd;		/* selectable, non-blocking; -1 when closed */
	int	 dlt;
	char	 ifname[64];
};

/* Open ifname (NULL: the interface that holds addr4, else "any"),
 * immediate mode, incoming packets only. 0 or -errno, err filled. */
int srv_pcap_open(struct srv_pcap *c, const char *ifname, uint32_t addr4, char *err,
		  size_t errcap);
int srv_pcap_set_filter(struct srv_pcap *c, const char *filter);
/* Does the handle see packets to addr6 (its interface holds it, or it is
 * "any")? An IPv6 probe's answer goes there. */
bool srv_pcap_sees6(const struct srv_pcap *c, const uint8_t addr6[16]);
/* Call cb for every IPv4 or IPv6 packet waiting (at most a batch). Returns how
 * many frames were read, or -EIO. */
int srv_pcap_read(struct srv_pcap *c, void (*cb)(const uint8_t *ip, size_t len, void *arg),
		  void *arg);
void srv_pcap_close(struct srv_pcap *c);

#endif
