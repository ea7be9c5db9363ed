/* SPDX-License-Identifier: MIT */
/*
 * Pure IPv4 packet parser: IPv4 with options, TCP with options, UDP, and ICMP
 * errors with the quoted header. No I/O, no globals: every byte is read with
 * an explicit bounds check, so tests and fuzzers call pkt_parse() directly.
 *
 * Addresses are kept in network byte order (as in struct in_addr.s_addr),
 * everything else (ports, sequence numbers, lengths) in host byte order.
 */
#ifndef STUNT_PKT_H
#define STUNT_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_IP4_MIN_HDR   20
#define PKT_IP4_MAX_HDR   60
#define PKT_TCP_MIN_HDR   20
#define PKT_TCP_MAX_HDR   60
#define PKT_UDP_HDR       8
#define PKT_ICMP_HDR      8
#define PKT_IP4_MAX_LEN   65535

#define PKT_IP_DF         0x4000
#define PKT_IP_MF         0x2000
#define PKT_IP_OFFMASK    0x1fff

#define PKT_PROTO_ICMP    1
#define PKT_PROTO_TCP     6
#define PKT_PROTO_UDP     17

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
 * internet header plus the first 64 bits of the original data).
 */
struct pkt_quote {
	int valid;              /* the quoted IPv4 header is well formed */
	struct pkt_ip4 ip;      /* ip.tot_len is the original's, not the quote's */
	size_t off;             /* offset of the quoted IPv4 header in the packet */
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
	PKT_L4_ICMP,
	PKT_L4_OTHER,           /* some other protocol: l4_off set, no header parsed */
};

struct pkt {
	size_t len;             /* datagram length (ip.tot_len); the buffer may be longer */
	struct pkt_ip4 ip;
	int fragment;           /* MF set or fragment offset non-zero */
	enum pkt_l4 l4;
	size_t l4_off;          /* 0 when l4 == PKT_L4_NONE */
	size_t l4_len;          /* bytes from l4_off to the end of the datagram */
	size_t payload_off;     /* data after the L4 header */
	size_t payload_len;
	struct pkt_tcp tcp;     /* valid when l4 == PKT_L4_TCP */
	struct pkt_udp udp;     /* valid when l4 == PKT_L4_UDP */
	struct pkt_icmp icmp;   /* valid when l4 == PKT_L4_ICMP */
};

/*
 * Parse one IPv4 datagram. Returns 0, or
 *   -EPROTONOSUPPORT  not IPv4,
 *   -EMSGSIZE         the buffer is shorter than a header or than tot_len,
 *   -EINVAL           malformed (IHL < 5, tot_len < IHL, doff < 5, bad TCP
 *                     option, bad UDP length).
 * On error *out is left zeroed.
 */
int pkt_parse(const uint8_t *p, size_t len, struct pkt *out);

/* Parse TCP options (the bytes between the fixed header and doff * 4). */
int pkt_parse_tcpopts(const uint8_t *p, size_t len, struct pkt_tcpopts *out);

/* ICMP types that quote the offending datagram. */
int pkt_icmp_is_error(uint8_t type);

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
