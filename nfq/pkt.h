/* SPDX-License-Identifier: MIT */
/*
 * Pure packet parser: IPv4 with options, TCP with options, UDP, and ICMP
 * errors with the quoted header (pkt.c); IPv6 with its extension headers and
 * ICMPv6 errors with the quoted packet (pkt6.c). No I/O, no globals: every
 * byte is read with an explicit bounds check, so tests and fuzzers call
 * pkt_parse() directly.
 *
 * struct pkt says which family it holds (family: AF_INET or AF_INET6); the
 * IPv4 header is in ip, the IPv6 one in ip6, and the other stays zero.
 * Addresses are kept in network byte order (as in struct in_addr.s_addr and
 * struct in6_addr), everything else (ports, sequence numbers, lengths) in
 * host byte order.
 */
#ifndef STUNT_PKT_H
#define STUNT_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PKT_IP4_MIN_HDR   20
#define PKT_IP4_MAX_HDR   60
#define PKT_TCP_MIN_HDR   20
#define PKT_TCP_MAX_HDR   60
#define PKT_UDP_HDR       8
#define PKT_ICMP_HDR      8
#define PKT_IP4_MAX_LEN   65535
#define PKT_IP6_HDR       40
#define PKT_IP6_FRAG_HDR  8
/*
 * Extension headers walked before the upper-layer header at most. RFC 8200
 * 4.1 allows each once (destination options twice): hop-by-hop, destination
 * options, routing, fragment, destination options = 5; a longer chain is
 * malformed.
 */
#define PKT_IP6_MAX_EXT   5

#define PKT_IP_DF         0x4000
#define PKT_IP_MF         0x2000
#define PKT_IP_OFFMASK    0x1fff

#define PKT_PROTO_HOPOPTS 0     /* IPv6 hop-by-hop options */
#define PKT_PROTO_ICMP    1
#define PKT_PROTO_TCP     6
#define PKT_PROTO_UDP     17
#define PKT_PROTO_ROUTING 43    /* IPv6 routing header */
#define PKT_PROTO_FRAGMENT 44   /* IPv6 fragment header */
#define PKT_PROTO_ICMPV6  58
#define PKT_PROTO_NONE    59    /* IPv6 no next header */
#define PKT_PROTO_DSTOPTS 60    /* IPv6 destination options */

#define PKT_TCP_FIN       0x01
#define PKT_TCP_SYN       0x02
#define PKT_TCP_RST       0x04
#define PKT_TCP_PSH       0x08
#define PKT_TCP_ACK       0x10
#define PKT_TCP_URG       0x20
#define PKT_TCP_ECE       0x40
#define PKT_TCP_CWR       0x80

#define PKT_ICMP_ECHOREPLY     0
#define PKT_ICMP_UNREACH       3
#define PKT_ICMP_SOURCEQUENCH  4
#define PKT_ICMP_REDIRECT      5
#define PKT_ICMP_ECHO          8
#define PKT_ICMP_TIMXCEED      11
#define PKT_ICMP_PARAMPROB     12

/* ICMPv6 (RFC 4443): types below 128 are errors */
#define PKT_ICMP6_UNREACH      1
#define PKT_ICMP6_PACKET_TOO_BIG 2
#define PKT_ICMP6_TIMXCEED     3
#define PKT_ICMP6_PARAMPROB    4
#define PKT_ICMP6_ECHO         128
#define PKT_ICMP6_ECHOREPLY    129

/* TCP option kinds (RFC 793, 7323, 2018) */
#define PKT_TCPOPT_EOL        0
#define PKT_TCPOPT_NOP        1
#define PKT_TCPOPT_MSS        2
#define PKT_TCPOPT_WSCALE     3
#define PKT_TCPOPT_SACK_OK    4
#define PKT_TCPOPT_SACK       5
#define PKT_TCPOPT_TS         8

/* bits of struct pkt_tcpopts.present */
#define PKT_OPT_MSS       0x01
#define PKT_OPT_WSCALE    0x02
#define PKT_OPT_SACK_OK   0x04
#define PKT_OPT_TS        0x08
#define PKT_OPT_SACK      0x10

struct pkt_tcpopts {
	uint32_t present;       /* PKT_OPT_* */
	uint16_t mss;
	uint8_t wscale;
	uint8_t sack_blocks;    /* SACK blocks seen and skipped */
	uint32_t ts_val;
	uint32_t ts_ecr;
};

struct pkt_ip4 {
	uint8_t hdr_len;        /* bytes: IHL * 4, 20..60 */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag;          /* flags and fragment offset as on the wire */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t saddr;         /* network byte order */
	uint32_t daddr;         /* network byte order */
};

/*
 * The IPv6 header and what the walk of its extension headers found. The
 * fragment fields are those of the fragment header (has_frag); proto is the
 * protocol of what follows the last extension header walked: the upper-layer
 * header, or in a non-first fragment the fragment's data.
 */
struct pkt_ip6 {
	uint8_t tclass;
	uint32_t flow;          /* the 20-bit flow label */
	uint16_t payload_len;   /* as on the wire: bytes after the fixed header */
	uint8_t next;           /* the fixed header's next header */
	uint8_t hop_limit;
	uint8_t saddr[16];      /* network byte order */
	uint8_t daddr[16];
	uint8_t proto;          /* upper-layer protocol after the extension headers */
	uint8_t n_ext;          /* extension headers walked */
	uint16_t ext_len;       /* their bytes */
	uint8_t rh_segleft;     /* a routing header's segments left (0: none or done) */
	int has_frag;           /* a fragment header was walked */
	uint16_t frag_off;      /* its offset, in 8-byte units */
	int frag_more;          /* its M flag */
	uint32_t frag_id;
};

struct pkt_tcp {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t hdr_len;        /* bytes: doff * 4, 20..60 */
	uint8_t flags;          /* PKT_TCP_* */
	uint16_t window;
	uint16_t csum;
	uint16_t urg;
	struct pkt_tcpopts opt;
};

struct pkt_udp {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t csum;
};

/*
 * What an ICMP error quotes of the datagram that caused it (RFC 792: the
 * internet header plus the first 64 bits of the original data; RFC 4443: as
 * much of the IPv6 packet as fits in the minimum MTU).
 */
struct pkt_quote {
	int valid;              /* the quoted IP header is well formed */
	uint8_t family;         /* AF_INET: ip is set; AF_INET6: ip6 is set */
	struct pkt_ip4 ip;      /* ip.tot_len is the original's, not the quote's */
	struct pkt_ip6 ip6;     /* ip6.payload_len likewise; ip6.proto after the
				 * extension headers the quote holds */
	size_t off;             /* offset of the quoted IP header in the packet */
	size_t l4_len;          /* bytes of quoted L4 header present (<= 8 used) */
	int has_ports;          /* TCP/UDP and the first 4 bytes are present */
	uint16_t sport;
	uint16_t dport;
	int has_seq;            /* TCP and the first 8 bytes are present */
	uint32_t seq;
};

struct pkt_icmp {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint32_t rest;          /* the 4 bytes after the checksum */
	struct pkt_quote quote; /* for the error types only */
};

enum pkt_l4 {
	PKT_L4_NONE = 0,        /* non-first fragment or L4 header not in a first fragment */
	PKT_L4_TCP,
	PKT_L4_UDP,
	PKT_L4_ICMP,            /* ICMP in IPv4 */
	PKT_L4_OTHER,           /* some other protocol: l4_off set, no header parsed */
	PKT_L4_ICMP6,           /* ICMPv6 in IPv6 (its own type numbers) */
};

struct pkt {
	uint8_t family;         /* AF_INET or AF_INET6 */
	size_t len;             /* datagram length (ip.tot_len, or 40 + ip6.payload_len);
				 * the buffer may be longer */
	struct pkt_ip4 ip;      /* AF_INET */
	struct pkt_ip6 ip6;     /* AF_INET6 */
	int fragment;           /* MF set or fragment offset non-zero (IPv6: in a
				 * fragment header; an atomic fragment is none) */
	enum pkt_l4 l4;
	size_t l4_off;          /* 0 when l4 == PKT_L4_NONE */
	size_t l4_len;          /* bytes from l4_off to the end of the datagram */
	size_t payload_off;     /* data after the L4 header */
	size_t payload_len;
	struct pkt_tcp tcp;     /* valid when l4 == PKT_L4_TCP */
	struct pkt_udp udp;     /* valid when l4 == PKT_L4_UDP */
	struct pkt_icmp icmp;   /* valid when l4 == PKT_L4_ICMP or PKT_L4_ICMP6 */
};

/*
 * Parse one IPv4 or IPv6 datagram (by the version nibble). Returns 0, or
 *   -EPROTONOSUPPORT  neither IPv4 nor IPv6,
 *   -EMSGSIZE         the buffer is shorter than a header or than tot_len
 *                     (IPv6: 40 + payload length), or a header runs past the
 *                     end of the datagram,
 *   -EINVAL           malformed (IHL < 5, tot_len < IHL, doff < 5, bad TCP
 *                     option, bad UDP length; IPv6: hop-by-hop options not
 *                     first, an extension header repeated more than RFC 8200
 *                     allows, more than PKT_IP6_MAX_EXT of them).
 * On error *out is left zeroed. An IPv6 jumbogram (payload length 0 and a
 * jumbo option) does not parse: NFQUEUE never hands us one.
 */
int pkt_parse(const uint8_t *p, size_t len, struct pkt *out);

/* pkt_parse() for a datagram known to be IPv6 (pkt6.c). */
int pkt_parse6(const uint8_t *p, size_t len, struct pkt *out);

/* Parse TCP options (the bytes between the fixed header and doff * 4). */
int pkt_parse_tcpopts(const uint8_t *p, size_t len, struct pkt_tcpopts *out);

/* ICMP types that quote the offending datagram. */
int pkt_icmp_is_error(uint8_t type);

/* ICMPv6 types that quote the offending packet (RFC 4443 section 3). */
int pkt_icmp6_is_error(uint8_t type);

/* Big-endian reads and writes: the only way this code touches wire fields. */
static inline uint16_t pkt_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t pkt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pkt_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
