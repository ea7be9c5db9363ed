// SPDX-License-Identifier: MIT
/* IPv4 / TCP / UDP / ICMP parsing: the remaining length is checked before every read. */
#include "nfq/pkt.h"

#include "nfq/pkt_l4.h"

#include <errno.h>
#include <string.h>

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 */
static int parse_ip4_hdr(const uint8_t *p, size_t len, struct pkt_ip4 *ip)
{
	size_t hl;

	if (len < PKT_IP4_MIN_HDR)
		return -EMSGSIZE;
	if ((p[0] >> 4) != 4)
		return -EPROTONOSUPPORT;
	/* RFC 791: "the minimum value for a correct header is 5" */
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (hl < PKT_IP4_MIN_HDR)
		return -EINVAL;
	if (len < hl)
		return -EMSGSIZE;
	ip->hdr_len = (uint8_t)hl;
	ip->tos = p[1];
	ip->tot_len = pkt_get16(p + 2);
	ip->id = pkt_get16(p + 4);
	ip->frag = pkt_get16(p + 6);
	ip->ttl = p[8];
	ip->proto = p[9];
	ip->csum = pkt_get16(p + 10);
	memcpy(&ip->saddr, p + 12, 4);
	memcpy(&ip->daddr, p + 16, 4);
	return 0;
}

int pkt_parse_tcpopts(const uint8_t *p, size_t len, struct pkt_tcpopts *out)
{
	size_t i = 0, olen;
	uint8_t kind;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		kind = p[i];
		if (kind == PKT_TCPOPT_EOL)
			break;
		if (kind == PKT_TCPOPT_NOP) {
			i++;
			continue;
		}
		/* RFC 9293 3.1: every other option has a length octet that counts kind and length */
		if (len - i < 2)
			return -EINVAL;
		olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;
		switch (kind) {
		case PKT_TCPOPT_MSS:
			if (olen != 4)
				return -EINVAL;
			out->mss = pkt_get16(p + i + 2);
			out->present |= PKT_OPT_MSS;
			break;
		case PKT_TCPOPT_WSCALE:
			if (olen != 3)
				return -EINVAL;
			out->wscale = p[i + 2];
			out->present |= PKT_OPT_WSCALE;
			break;
		case PKT_TCPOPT_SACK_OK:
			if (olen != 2)
				return -EINVAL;
			out->present |= PKT_OPT_SACK_OK;
			break;
		case PKT_TCPOPT_SACK:
			/* RFC 2018: 2 + 8 * n octets, n blocks of left and right edge */
			if ((olen - 2) % 8 != 0 || olen == 2)
				return -EINVAL;
			out->sack_blocks = (uint8_t)((olen - 2) / 8);
			out->present |= PKT_OPT_SACK;
			break;
		case PKT_TCPOPT_TS:
			if (olen != 10)
				return -EINVAL;
			out->ts_val = pkt_get32(p + i + 2);
			out->ts_ecr = pkt_get32(p + i + 6);
			out->present |= PKT_OPT_TS;
			break;
		default:
			/* unknown options are skipped by their length */
			break;
		}
		i += olen;
	}
	return 0;
}

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * |           Checksum            |         Urgent Pointer        |
 * |                    Options                    |    Padding    |
 */
static int parse_tcp(const uint8_t *p, size_t len, struct pkt_tcp *t)
{
	size_t hl;
	int r;

	if (len < PKT_TCP_MIN_HDR)
		return -EMSGSIZE;
	hl = (size_t)(p[12] >> 4) * 4;
	/* RFC 9293: the data offset counts 32-bit words and is at least 5 */
	if (hl < PKT_TCP_MIN_HDR)
		return -EINVAL;
	if (len < hl)
		return -EMSGSIZE;
	t->sport = pkt_get16(p);
	t->dport = pkt_get16(p + 2);
	t->seq = pkt_get32(p + 4);
	t->ack = pkt_get32(p + 8);
	t->hdr_len = (uint8_t)hl;
	t->flags = p[13];
	t->window = pkt_get16(p + 14);
	t->csum = pkt_get16(p + 16);
	t->urg = pkt_get16(p + 18);
	r = pkt_parse_tcpopts(p + PKT_TCP_MIN_HDR, hl - PKT_TCP_MIN_HDR, &t->opt);
	return r;
}

static int parse_udp(const uint8_t *p, size_t len, struct pkt_udp *u)
{
	if (len < PKT_UDP_HDR)
		return -EMSGSIZE;
	u->sport = pkt_get16(p);
	u->dport = pkt_get16(p + 2);
	u->len = pkt_get16(p + 4);
	u->csum = pkt_get16(p + 6);
	/* RFC 768: the length counts the header, so it is at least 8 */
	if (u->len < PKT_UDP_HDR || u->len > len)
		return -EINVAL;
	return 0;
}

int pkt_icmp_is_error(uint8_t type)
{
	switch (type) {
	case PKT_ICMP_UNREACH:
	case PKT_ICMP_SOURCEQUENCH:
	case PKT_ICMP_REDIRECT:
	case PKT_ICMP_TIMXCEED:
	case PKT_ICMP_PARAMPROB:
		return 1;
	default:
		return 0;
	}
}

int pkt_icmp6_is_error(uint8_t type)
{
	switch (type) {
	case PKT_ICMP6_UNREACH:
	case PKT_ICMP6_PACKET_TOO_BIG:
	case PKT_ICMP6_TIMXCEED:
	case PKT_ICMP6_PARAMPROB:
		return 1;
	default:
		return 0;
	}
}

void pkt_quote_l4(struct pkt_quote *q, uint8_t proto, const uint8_t *p, size_t l4)
{
	if ((proto == PKT_PROTO_TCP || proto == PKT_PROTO_UDP) && l4 >= 4) {
		q->sport = pkt_get16(p);
		q->dport = pkt_get16(p + 2);
		q->has_ports = 1;
	}
	if (proto == PKT_PROTO_TCP && l4 >= 8) {
		q->seq = pkt_get32(p + 4);
		q->has_seq = 1;
	}
}

/*
 * The quote of an ICMP error: the original IPv4 header (its tot_len is the
 * original datagram's, so it is not checked against what we have) and as much
 * of the original L4 header as the router kept. A bad quote is not an error
 * of the ICMP packet itself: it only leaves quote->valid at 0.
 */
static void parse_quote(const uint8_t *pkt, size_t off, size_t end, struct pkt_quote *q)
{
	const uint8_t *p = pkt + off;
	size_t len = end - off, l4;

	if (parse_ip4_hdr(p, len, &q->ip) != 0)
		return;
	q->family = AF_INET;
	q->off = off;
	q->valid = 1;
	l4 = len - q->ip.hdr_len;
	q->l4_len = l4;
	/* only a first fragment quotes an L4 header */
	if ((q->ip.frag & PKT_IP_OFFMASK) != 0)
		return;
	pkt_quote_l4(q, q->ip.proto, p + q->ip.hdr_len, l4);
}

/* ICMP in IPv4 or ICMPv6 in IPv6: the same 8-byte header, each its own error types */
static int parse_icmp(const uint8_t *pkt, size_t off, size_t end, uint8_t family,
		      struct pkt_icmp *ic)
{
	const uint8_t *p = pkt + off;

	if (end - off < PKT_ICMP_HDR)
		return -EMSGSIZE;
	ic->type = p[0];
	ic->code = p[1];
	ic->csum = pkt_get16(p + 2);
	ic->rest = pkt_get32(p + 4);
	if (family == AF_INET && pkt_icmp_is_error(ic->type))
		parse_quote(pkt, off + PKT_ICMP_HDR, end, &ic->quote);
	else if (family == AF_INET6 && pkt_icmp6_is_error(ic->type))
		pkt_parse_quote6(pkt, off + PKT_ICMP_HDR, end, &ic->quote);
	return 0;
}

int pkt_parse_l4(const uint8_t *p, size_t off, uint8_t proto, struct pkt *k)
{
	size_t l4len = k->len - off;
	int r;

	switch (proto) {
	case PKT_PROTO_TCP:
		r = parse_tcp(p + off, l4len, &k->tcp);
		if (r == 0) {
			k->l4 = PKT_L4_TCP;
			k->payload_off = off + k->tcp.hdr_len;
		}
		break;
	case PKT_PROTO_UDP:
		r = parse_udp(p + off, l4len, &k->udp);
		/* the UDP length describes the whole datagram, not this fragment */
		if (r == -EINVAL && k->fragment && k->udp.len >= PKT_UDP_HDR)
			r = 0;
		if (r == 0) {
			k->l4 = PKT_L4_UDP;
			k->payload_off = off + PKT_UDP_HDR;
		}
		break;
	case PKT_PROTO_ICMP:
	case PKT_PROTO_ICMPV6:
		/* ICMP in IPv6 and ICMPv6 in IPv4 mean nothing: some other protocol */
		if ((proto == PKT_PROTO_ICMP) != (k->family == AF_INET))
			goto other;
		r = parse_icmp(p, off, k->len, k->family, &k->icmp);
		if (r == 0) {
			k->l4 = k->family == AF_INET ? PKT_L4_ICMP : PKT_L4_ICMP6;
			k->payload_off = off + PKT_ICMP_HDR;
		}
		break;
	default:
other:
		k->l4 = PKT_L4_OTHER;
		k->payload_off = off;
		r = 0;
		break;
	}
	/*
	 * A first fragment too short for its L4 header is legal IP (RFC 1858
	 * tiny fragments); report it as having no L4 header rather than as
	 * malformed.
	 */
	if (r == -EMSGSIZE && k->fragment) {
		memset(&k->tcp, 0, sizeof(k->tcp));
		memset(&k->udp, 0, sizeof(k->udp));
		memset(&k->icmp, 0, sizeof(k->icmp));
		k->l4 = PKT_L4_NONE;
		return 0;
	}
	if (r < 0)
		return r;
	k->l4_off = off;
	k->l4_len = l4len;
	k->payload_len = k->len - k->payload_off;
	if (k->l4 == PKT_L4_UDP && !k->fragment)
		k->payload_len = (size_t)k->udp.len - PKT_UDP_HDR;
	return 0;
}

int pkt_parse(const uint8_t *p, size_t len, struct pkt *out)
{
	struct pkt k;
	int r;

	/* a buffer too short for any IPv4 header stays -EMSGSIZE, whatever its first byte */
	if (p != NULL && len >= PKT_IP4_MIN_HDR && (p[0] >> 4) == 6)
		return pkt_parse6(p, len, out);
	memset(&k, 0, sizeof(k));
	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return -EINVAL;
	r = parse_ip4_hdr(p, len, &k.ip);
	if (r < 0)
		goto out;
	if (k.ip.tot_len < k.ip.hdr_len) {
		r = -EINVAL;
		goto out;
	}
	if (k.ip.tot_len > len) {
		r = -EMSGSIZE;
		goto out;
	}
	k.family = AF_INET;
	k.len = k.ip.tot_len;
	k.fragment = (k.ip.frag & (PKT_IP_MF | PKT_IP_OFFMASK)) != 0;

	/* A non-first fragment carries no L4 header: its bytes are someone's payload. */
	if ((k.ip.frag & PKT_IP_OFFMASK) == 0) {
		r = pkt_parse_l4(p, k.ip.hdr_len, k.ip.proto, &k);
		if (r < 0)
			goto out;
	}
	*out = k;
	r = 0;
out:
	return r;
}
