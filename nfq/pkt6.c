// SPDX-License-Identifier: MIT
/*
 * IPv6 parsing: the fixed header, the walk of the extension headers, and the
 * quoted packet of an ICMPv6 error. The L4 headers on top are pkt.c's. The
 * remaining length is checked before every read; no length field is trusted
 * beyond the bytes we hold.
 */
#include "nfq/pkt.h"

#include "nfq/pkt_l4.h"

#include <errno.h>
#include <string.h>

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                Source Address (128 bits)                      |
 * |             Destination Address (128 bits)                    |
 */
static int parse_ip6_hdr(const uint8_t *p, size_t len, struct pkt_ip6 *ip)
{
	if (len < PKT_IP6_HDR)
		return -EMSGSIZE;
	if ((p[0] >> 4) != 6)
		return -EPROTONOSUPPORT;
	ip->tclass = (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);
	ip->flow = (uint32_t)(p[1] & 0x0f) << 16 | pkt_get16(p + 2);
	ip->payload_len = pkt_get16(p + 4);
	ip->next = p[6];
	ip->hop_limit = p[7];
	memcpy(ip->saddr, p + 8, 16);
	memcpy(ip->daddr, p + 24, 16);
	return 0;
}

/* bits of the headers seen, for RFC 8200 4.1's "each at most once" */
#define SEEN_ROUTING   0x1u
#define SEEN_FRAGMENT  0x2u
#define SEEN_DST2      0x4u     /* destination options are allowed twice */
#define SEEN_DST1      0x8u

/*
 * Walk the extension headers of the IPv6 packet p[0..len) (the fixed header
 * already parsed into ip). Sets ip->proto, n_ext, ext_len, the routing
 * header's segments left and the fragment fields, and *l4off to the offset of
 * what follows the last header walked. The walk stops at the first protocol
 * that is not hop-by-hop, routing, fragment or destination options (an
 * upper-layer header, or AH / ESP / no next header, which callers see as
 * another protocol), and after the fragment header of a non-first fragment,
 * whose following bytes are data, not headers.
 *
 * Every header moves the offset forward by at least 8 bytes, so the walk
 * ends; the occurrence rules below bound it at PKT_IP6_MAX_EXT headers.
 * Returns 0, -EMSGSIZE (a header runs past len) or -EINVAL (hop-by-hop not
 * first, a header repeated, a chain longer than PKT_IP6_MAX_EXT).
 */
static int walk_ext(const uint8_t *p, size_t len, struct pkt_ip6 *ip, size_t *l4off)
{
	size_t off = PKT_IP6_HDR, hl;
	unsigned seen = 0, n = 0;
	uint16_t fo;
	uint8_t nh = ip->next;

	for (;;) {
		switch (nh) {
		case PKT_PROTO_HOPOPTS:
			/* RFC 8200 4.3: only right after the IPv6 header */
			if (n != 0)
				return -EINVAL;
			break;
		case PKT_PROTO_ROUTING:
			if (seen & SEEN_ROUTING)
				return -EINVAL;
			seen |= SEEN_ROUTING;
			break;
		case PKT_PROTO_DSTOPTS:
			if (seen & SEEN_DST2)
				return -EINVAL;
			seen |= seen & SEEN_DST1 ? SEEN_DST2 : SEEN_DST1;
			break;
		case PKT_PROTO_FRAGMENT:
			if (seen & SEEN_FRAGMENT)
				return -EINVAL;
			seen |= SEEN_FRAGMENT;
			break;
		default:
			ip->proto = nh;
			ip->n_ext = (uint8_t)n;
			ip->ext_len = (uint16_t)(off - PKT_IP6_HDR);
			*l4off = off;
			return 0;
		}
		if (++n > PKT_IP6_MAX_EXT)
			return -EINVAL;
		/* every extension header starts with next header and (but the fragment's) length */
		if (len - off < 2)
			return -EMSGSIZE;
		if (nh == PKT_PROTO_FRAGMENT)
			hl = PKT_IP6_FRAG_HDR;
		else
			hl = ((size_t)p[off + 1] + 1) * 8;  /* RFC 8200: 8-octet units, not counting the first 8 */
		if (len - off < hl)
			return -EMSGSIZE;
		if (nh == PKT_PROTO_ROUTING) {
			/* next header, length, routing type, segments left */
			ip->rh_segleft = p[off + 3];
		} else if (nh == PKT_PROTO_FRAGMENT) {
			/* next header, reserved, offset (13 bits) | res (2) | M, identification */
			fo = pkt_get16(p + off + 2);
			ip->has_frag = 1;
			ip->frag_off = (uint16_t)(fo >> 3);
			ip->frag_more = fo & 1;
			ip->frag_id = pkt_get32(p + off + 4);
		}
		nh = p[off];
		off += hl;
		/* a non-first fragment's bytes after its fragment header are data */
		if (ip->has_frag && ip->frag_off != 0) {
			ip->proto = nh;
			ip->n_ext = (uint8_t)n;
			ip->ext_len = (uint16_t)(off - PKT_IP6_HDR);
			*l4off = off;
			return 0;
		}
	}
}

int pkt_parse6(const uint8_t *p, size_t len, struct pkt *out)
{
	struct pkt k;
	size_t off = 0;
	int r;

	memset(&k, 0, sizeof(k));
	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return -EINVAL;
	r = parse_ip6_hdr(p, len, &k.ip6);
	if (r < 0)
		goto out;
	if ((size_t)PKT_IP6_HDR + k.ip6.payload_len > len) {
		r = -EMSGSIZE;
		goto out;
	}
	k.family = AF_INET6;
	k.len = (size_t)PKT_IP6_HDR + k.ip6.payload_len;
	r = walk_ext(p, k.len, &k.ip6, &off);
	/* RFC 6946: offset 0 without M is an atomic fragment, a whole packet */
	k.fragment = k.ip6.has_frag && (k.ip6.frag_off != 0 || k.ip6.frag_more);
	/*
	 * A first fragment whose headers go on in the next fragment (RFC 7112
	 * forbids it, but it is IP): no L4 header, as for an IPv4 tiny fragment.
	 */
	if (r == -EMSGSIZE && k.fragment)
		goto done;
	if (r < 0)
		goto out;
	/* A non-first fragment carries no L4 header: its bytes are someone's payload. */
	if (k.ip6.frag_off == 0) {
		r = pkt_parse_l4(p, off, k.ip6.proto, &k);
		if (r < 0)
			goto out;
	}
done:
	*out = k;
	r = 0;
out:
	return r;
}

/*
 * The quote of an ICMPv6 error (RFC 4443 2.4 (c): as much of the invoking
 * packet as fits). Its payload length is the original's and is not checked
 * against what we have; the extension headers are walked within the quote.
 */
void pkt_parse_quote6(const uint8_t *pkt, size_t off, size_t end, struct pkt_quote *q)
{
	const uint8_t *p = pkt + off;
	size_t len = end - off, l4off = 0;

	if (parse_ip6_hdr(p, len, &q->ip6) != 0)
		return;
	q->family = AF_INET6;
	q->off = off;
	q->valid = 1;
	/* cut short or malformed: the packet is known, its ports are not */
	if (walk_ext(p, len, &q->ip6, &l4off) != 0)
		return;
	q->l4_len = len - l4off;
	/* only a first fragment quotes an L4 header */
	if (q->ip6.frag_off != 0)
		return;
	pkt_quote_l4(q, q->ip6.proto, p + l4off, q->l4_len);
}
