// SPDX-License-Identifier: MIT
/* Rewriting IPv4 and IPv6 packets, building TCP ones of either family; every write is to a length we checked. */
#include "nfq/pkt_build.h"

#include "nfq/pkt_csum.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int pkt_set_ttl(uint8_t *p, size_t len, uint8_t ttl)
{
	uint16_t old_word, new_word, hl;
	int r = -EMSGSIZE;

	if (p == NULL || len < PKT_IP4_MIN_HDR)
		goto out;
	if ((p[0] >> 4) == 6) {
		if (len < PKT_IP6_HDR)
			goto out;
		p[7] = ttl;     /* the hop limit: no header checksum in IPv6 */
		r = 0;
		goto out;
	}
	r = -EPROTONOSUPPORT;
	if ((p[0] >> 4) != 4)
		goto out;
	r = -EINVAL;
	hl = (uint16_t)((p[0] & 0x0f) * 4);
	if (hl < PKT_IP4_MIN_HDR)
		goto out;
	r = -EMSGSIZE;
	if (len < hl)
		goto out;
	/* TTL shares its 16-bit word with the protocol byte */
	old_word = pkt_get16(p + 8);
	p[8] = ttl;
	new_word = pkt_get16(p + 8);
	pkt_put16(p + 10, pkt_csum_update16(pkt_get16(p + 10), old_word, new_word));
	r = 0;
out:
	return r;
}

/* The L4 checksum of an IPv6 packet k parsed from p. */
static void fix_l4_6(uint8_t *p, const struct pkt *k)
{
	const uint8_t *s = k->ip6.saddr, *d = k->ip6.daddr;
	uint8_t *l4 = p + k->l4_off;

	if (k->fragment || k->l4_off == 0 || k->ip6.rh_segleft != 0)
		return;
	switch (k->l4) {
	case PKT_L4_TCP:
		pkt_put16(l4 + 16, pkt_csum_l4_6(s, d, PKT_PROTO_TCP, l4, k->l4_len, 16));
		break;
	case PKT_L4_UDP:
		pkt_put16(l4 + 6, pkt_csum_l4_6(s, d, PKT_PROTO_UDP, l4, k->udp.len, 6));
		break;
	case PKT_L4_ICMP6:
		pkt_put16(l4 + 2, pkt_csum_l4_6(s, d, PKT_PROTO_ICMPV6, l4, k->l4_len, 2));
		break;
	default:
		break;
	}
}

int pkt_fix_checksums(uint8_t *p, size_t len)
{
	struct pkt k;
	uint8_t *l4;
	int r;

	r = pkt_parse(p, len, &k);
	if (r < 0)
		goto out;
	if (k.family == AF_INET6) {
		fix_l4_6(p, &k);
		goto out;
	}
	pkt_put16(p + 10, pkt_csum_ip4(p, k.ip.hdr_len));
	if (k.fragment || k.l4_off == 0)
		goto out;
	l4 = p + k.l4_off;
	switch (k.l4) {
	case PKT_L4_TCP:
		pkt_put16(l4 + 16, pkt_csum_l4(k.ip.saddr, k.ip.daddr, PKT_PROTO_TCP,
					       l4, k.l4_len, 16));
		break;
	case PKT_L4_UDP:
		/* RFC 768: zero means the sender computed none; keep it so */
		if (k.udp.csum != 0)
			pkt_put16(l4 + 6, pkt_csum_l4(k.ip.saddr, k.ip.daddr, PKT_PROTO_UDP,
						      l4, k.udp.len, 6));
		break;
	case PKT_L4_ICMP:
		pkt_put16(l4 + 2, pkt_csum_icmp(l4, k.l4_len));
		break;
	default:
		break;
	}
out:
	return r;
}

static int want_ts(const struct pkt_tcpopts *o)
{
	return (o->present & PKT_OPT_TS) != 0;
}

size_t pkt_tcpopts_len(const struct pkt_tcpopts *o)
{
	size_t n = 0;

	if (o->present & PKT_OPT_MSS)
		n += 4;
	if (want_ts(o))
		n += 12;                /* SACK_OK + TS, or NOP NOP + TS */
	else if (o->present & PKT_OPT_SACK_OK)
		n += 4;                 /* NOP NOP SACK_OK */
	if (o->present & PKT_OPT_WSCALE)
		n += 4;                 /* NOP WSCALE */
	return n;
}

static size_t write_tcpopts(const struct pkt_tcpopts *o, uint8_t *p)
{
	size_t n = 0;

	if (o->present & PKT_OPT_MSS) {
		p[n++] = PKT_TCPOPT_MSS;
		p[n++] = 4;
		pkt_put16(p + n, o->mss);
		n += 2;
	}
	if (want_ts(o)) {
		if (o->present & PKT_OPT_SACK_OK) {
			p[n++] = PKT_TCPOPT_SACK_OK;
			p[n++] = 2;
		} else {
			p[n++] = PKT_TCPOPT_NOP;
			p[n++] = PKT_TCPOPT_NOP;
		}
		p[n++] = PKT_TCPOPT_TS;
		p[n++] = 10;
		pkt_put32(p + n, o->ts_val);
		pkt_put32(p + n + 4, o->ts_ecr);
		n += 8;
	} else if (o->present & PKT_OPT_SACK_OK) {
		p[n++] = PKT_TCPOPT_NOP;
		p[n++] = PKT_TCPOPT_NOP;
		p[n++] = PKT_TCPOPT_SACK_OK;
		p[n++] = 2;
	}
	if (o->present & PKT_OPT_WSCALE) {
		p[n++] = PKT_TCPOPT_NOP;
		p[n++] = PKT_TCPOPT_WSCALE;
		p[n++] = 3;
		p[n++] = o->wscale;
	}
	return n;
}

/* The TCP header, options and payload of s at t (thl bytes of header), the
 * checksum left 0: the caller's pseudo header sets it. */
static void write_tcp(const struct pkt_tcp_spec *s, uint8_t *t, size_t thl)
{
	memset(t, 0, thl);
	pkt_put16(t, s->sport);
	pkt_put16(t + 2, s->dport);
	pkt_put32(t + 4, s->seq);
	pkt_put32(t + 8, s->ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = s->flags;
	pkt_put16(t + 14, s->window);
	write_tcpopts(&s->opt, t + PKT_TCP_MIN_HDR);
	if (s->payload_len)
		memcpy(t + thl, s->payload, s->payload_len);
}

int pkt_build_tcp(const struct pkt_tcp_spec *s, uint8_t *buf, size_t cap, size_t *out_len)
{
	size_t optlen, thl, total, iphl;
	bool v6;
	uint8_t *t;
	int r = -EINVAL;

	if (s == NULL || buf == NULL || out_len == NULL)
		goto out;
	if (s->payload_len && s->payload == NULL)
		goto out;
	v6 = s->family == AF_INET6;
	if (!v6 && s->family != 0 && s->family != AF_INET)
		goto out;
	iphl = v6 ? PKT_IP6_HDR : PKT_IP4_MIN_HDR;
	optlen = pkt_tcpopts_len(&s->opt);
	thl = PKT_TCP_MIN_HDR + optlen;
	/* one limit for both families: the IPv4 datagram's */
	if (s->payload_len > PKT_IP4_MAX_LEN - iphl - thl)
		goto out;
	total = iphl + thl + s->payload_len;
	r = -ENOSPC;
	if (cap < total)
		goto out;

	memset(buf, 0, iphl);
	t = buf + iphl;
	write_tcp(s, t, thl);
	if (v6) {
		/* version 6, traffic class s->tos, flow label 0 */
		buf[0] = (uint8_t)(0x60 | (s->tos >> 4));
		buf[1] = (uint8_t)(s->tos << 4);
		pkt_put16(buf + 4, (uint16_t)(thl + s->payload_len));
		buf[6] = PKT_PROTO_TCP;
		buf[7] = s->ttl;			/* the hop limit */
		memcpy(buf + 8, s->saddr6, 16);
		memcpy(buf + 24, s->daddr6, 16);
		pkt_put16(t + 16, pkt_csum_l4_6(s->saddr6, s->daddr6, PKT_PROTO_TCP, t,
						thl + s->payload_len, 16));
	} else {
		buf[0] = 0x45;			/* version 4, IHL 5: no IP options */
		buf[1] = s->tos;
		pkt_put16(buf + 2, (uint16_t)total);
		pkt_put16(buf + 4, s->ip_id);
		pkt_put16(buf + 6, s->dont_fragment ? PKT_IP_DF : 0);
		buf[8] = s->ttl;
		buf[9] = PKT_PROTO_TCP;
		memcpy(buf + 12, &s->saddr, 4);
		memcpy(buf + 16, &s->daddr, 4);
		pkt_put16(buf + 10, pkt_csum_ip4(buf, PKT_IP4_MIN_HDR));
		pkt_put16(t + 16, pkt_csum_l4(s->saddr, s->daddr, PKT_PROTO_TCP, t,
					      thl + s->payload_len, 16));
	}
	*out_len = total;
	r = 0;
out:
	return r;
}
