// SPDX-License-Identifier: MIT
/* The privilege-separation messages: encode, decode, check. See daemon/priv_msg.h. */
#include "daemon/priv_msg.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int put(uint8_t *buf, size_t cap, uint32_t type, uint32_t seq, const void *a,
	       size_t alen, const void *b, size_t blen)
{
	struct d_priv_hdr h = { .type = type, .seq = seq };
	size_t n = sizeof(h) + alen + blen;

	if (buf == NULL || n > cap || alen + blen > UINT32_MAX)
		return -EMSGSIZE;
	h.len = (uint32_t)(alen + blen);
	memcpy(buf, &h, sizeof(h));
	if (alen)
		memcpy(buf + sizeof(h), a, alen);
	if (blen)
		memcpy(buf + sizeof(h) + alen, b, blen);
	return (int)n;
}

int d_priv_enc_policy_add(uint8_t *buf, size_t cap, uint32_t seq,
			  const struct nfq_policy_spec *s)
{
	struct nfq_policy_spec c;

	if (s == NULL || s->len > NFQ_POLICY_MAX_REPLACE || (s->len && s->bytes == NULL))
		return -EINVAL;
	c = *s;
	c.bytes = NULL;		/* never a pointer across processes */
	return put(buf, cap, D_PRIV_POLICY_ADD, seq, &c, sizeof(c), s->bytes, s->len);
}

int d_priv_enc_policy_remove(uint8_t *buf, size_t cap, uint32_t seq, uint32_t id)
{
	return put(buf, cap, D_PRIV_POLICY_REMOVE, seq, &id, sizeof(id), NULL, 0);
}

int d_priv_enc_policy_remove_flow(uint8_t *buf, size_t cap, uint32_t seq,
				  const struct nfq_flow *f)
{
	if (f == NULL)
		return -EINVAL;
	return put(buf, cap, D_PRIV_POLICY_REMOVE_FLOW, seq, f, sizeof(*f), NULL, 0);
}

int d_priv_enc_mark(uint8_t *buf, size_t cap, uint32_t seq)
{
	return put(buf, cap, D_PRIV_MARK, seq, NULL, 0, NULL, 0);
}

int d_priv_enc_inject(uint8_t *buf, size_t cap, uint32_t seq, const uint8_t *p, size_t len)
{
	if (p == NULL || len == 0 || len > D_PRIV_INJECT_MAX)
		return -EINVAL;
	return put(buf, cap, D_PRIV_INJECT, seq, p, len, NULL, 0);
}

int d_priv_enc_probe_fds(uint8_t *buf, size_t cap, uint32_t seq)
{
	return put(buf, cap, D_PRIV_PROBE_FDS, seq, NULL, 0, NULL, 0);
}

int d_priv_enc_reply(uint8_t *buf, size_t cap, uint32_t seq, int32_t result, uint32_t value)
{
	struct d_priv_reply r = { .result = result, .value = value };

	return put(buf, cap, D_PRIV_REPLY, seq, &r, sizeof(r), NULL, 0);
}

int d_priv_enc_stats(uint8_t *buf, size_t cap, uint32_t seq)
{
	return put(buf, cap, D_PRIV_STATS, seq, NULL, 0, NULL, 0);
}

int d_priv_enc_stats_reply(uint8_t *buf, size_t cap, uint32_t seq, const struct d_priv_stats *s)
{
	if (s == NULL)
		return -EINVAL;
	return put(buf, cap, D_PRIV_STATS_REPLY, seq, s, sizeof(*s), NULL, 0);
}

int d_priv_enc_event(uint8_t *buf, size_t cap, const struct nfq_event *ev)
{
	struct d_priv_event e;

	if (ev == NULL)
		return -EINVAL;
	memset(&e, 0, sizeof(e));
	e.ev = *ev;
	e.ev.pkt = NULL;
	if (ev->pkt) {
		e.has_pkt = 1;
		e.pkt = *ev->pkt;
	}
	return put(buf, cap, D_PRIV_EVENT, 0, &e, sizeof(e), NULL, 0);
}

int d_priv_decode(const uint8_t *buf, size_t n, struct d_priv_msg *m)
{
	const uint8_t *p;
	size_t len;

	memset(m, 0, sizeof(*m));
	if (buf == NULL || n < sizeof(m->hdr))
		return -EBADMSG;
	memcpy(&m->hdr, buf, sizeof(m->hdr));
	p = buf + sizeof(m->hdr);
	len = n - sizeof(m->hdr);
	if (m->hdr.len != len || m->hdr.pad != 0)
		return -EBADMSG;
	switch (m->hdr.type) {
	case D_PRIV_POLICY_ADD:
		if (len < sizeof(m->u.spec))
			return -EBADMSG;
		memcpy(&m->u.spec, p, sizeof(m->u.spec));
		if (m->u.spec.len > NFQ_POLICY_MAX_REPLACE ||
		    len != sizeof(m->u.spec) + m->u.spec.len)
			return -EBADMSG;
		m->u.spec.bytes = m->u.spec.len ? p + sizeof(m->u.spec) : NULL;
		return 0;
	case D_PRIV_POLICY_REMOVE:
		if (len != sizeof(m->u.id))
			return -EBADMSG;
		memcpy(&m->u.id, p, len);
		return 0;
	case D_PRIV_POLICY_REMOVE_FLOW:
		if (len != sizeof(m->u.flow))
			return -EBADMSG;
		memcpy(&m->u.flow, p, len);
		return 0;
	case D_PRIV_MARK:
		return len == 0 ? 0 : -EBADMSG;
	case D_PRIV_INJECT:
		if (len == 0 || len > D_PRIV_INJECT_MAX)
			return -EBADMSG;
		m->data = p;
		m->data_len = len;
		return 0;
	case D_PRIV_PROBE_FDS:
	case D_PRIV_STATS:
		return len == 0 ? 0 : -EBADMSG;
	case D_PRIV_STATS_REPLY:
		if (len != sizeof(m->u.stats))
			return -EBADMSG;
		memcpy(&m->u.stats, p, len);
		return 0;
	case D_PRIV_REPLY:
		if (len != sizeof(m->u.reply))
			return -EBADMSG;
		memcpy(&m->u.reply, p, len);
		return 0;
	case D_PRIV_EVENT:
		if (len != sizeof(m->u.event))
			return -EBADMSG;
		memcpy(&m->u.event, p, len);
		if (m->u.event.has_pkt > 1)
			return -EBADMSG;
		m->u.event.ev.pkt = m->u.event.has_pkt ? &m->u.event.pkt : NULL;
		return 0;
	default:
		return -ENOTSUP;
	}
}

int d_priv_spec_check(const struct nfq_policy_spec *s)
{
	if (s->match == 0 || (s->match & ~(uint32_t)NFQ_MATCH_ALL))
		return -EINVAL;
	if (s->timeout_ms == 0 || s->timeout_ms > NFQ_POLICY_MAX_TIMEOUT_MS)
		return -EINVAL;
	if (s->action == NFQ_ACT_REPLACE)
		return -EPERM;
	if (s->action != NFQ_ACT_TTL && s->action != NFQ_ACT_DROP && s->action != NFQ_ACT_REPORT)
		return -EINVAL;
	if (s->len != 0 || s->bytes != NULL)
		return -EINVAL;		/* bytes are a replacement's only */
	if (s->action == NFQ_ACT_TTL && s->ttl == 0)
		return -EINVAL;
	return 0;
}

/* Is k's source one of the host's addresses? (0.0.0.0 and :: never get
 * here: inject_addr_ok refuses them first.) */
static bool inject_from_local(const struct pkt *k, const uint32_t *local, size_t nlocal,
			      const uint8_t (*local6)[16], size_t nlocal6)
{
	size_t i;

	if (k->family == AF_INET6) {
		for (i = 0; i < nlocal6; i++)
			if (memcmp(local6[i], k->ip6.saddr, 16) == 0)
				return true;
		return false;
	}
	for (i = 0; i < nlocal; i++)
		if (local[i] == k->ip.saddr)
			return true;
	return false;
}

/* Addresses no traversal peer has and no copy of our SYN goes to or from:
 * IPv6 unspecified, loopback, multicast, link-local, IPv4-mapped; IPv4
 * 0/8, loopback, multicast, reserved and broadcast (224/3 and up). */
static bool inject_addr_ok(const struct pkt *k)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *a[2];
	uint8_t b;
	int i;

	if (k->family == AF_INET6) {
		a[0] = k->ip6.saddr;
		a[1] = k->ip6.daddr;
		for (i = 0; i < 2; i++) {
			static const uint8_t zero[15];

			if (a[i][0] == 0xff || (a[i][0] == 0xfe && (a[i][1] & 0xc0) == 0x80) ||
			    memcmp(a[i], mapped, 12) == 0 ||
			    (memcmp(a[i], zero, 15) == 0 && a[i][15] <= 1))
				return false;
		}
		return true;
	}
	for (i = 0; i < 2; i++) {
		b = ((const uint8_t *)(i ? &k->ip.daddr : &k->ip.saddr))[0];
		if (b == 0 || b == 127 || b >= 224)
			return false;
	}
	return true;
}

int d_priv_inject_check(const uint8_t *p, size_t len, const struct nfq_policy_table *t,
			uint64_t now_ms, const uint32_t *local, size_t nlocal,
			const uint8_t (*local6)[16], size_t nlocal6, enum d_priv_inject_why *why)
{
	enum d_priv_inject_why w = D_INJ_PARSE;
	struct pkt k;

	if (p == NULL || len == 0 || pkt_parse(p, len, &k) < 0)
		goto refuse;
	w = D_INJ_NOT_SYN;
	if (k.l4 != PKT_L4_TCP || k.fragment ||
	    (k.tcp.flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST | PKT_TCP_FIN)) != PKT_TCP_SYN ||
	    k.payload_len != 0 || k.tcp.sport == 0 || k.tcp.dport == 0)
		goto refuse;
	/* the fixed header and TCP alone: no IPv4 option, no IPv6 extension
	 * header (a source route or routing header would send the SYN on
	 * elsewhere) */
	w = D_INJ_IP_OPTIONS;
	if (k.l4_off != (k.family == AF_INET6 ? PKT_IP6_HDR : PKT_IP4_MIN_HDR))
		goto refuse;
	w = D_INJ_BAD_ADDR;
	if (!inject_addr_ok(&k))
		goto refuse;
	w = D_INJ_NOT_LOCAL;
	if (!inject_from_local(&k, local, nlocal, local6, nlocal6))
		goto refuse;
	w = D_INJ_NO_POLICY;
	if (t == NULL || !nfq_policy_flow_live(t, &k, now_ms))
		goto refuse;
	if (why)
		*why = D_INJ_OK;
	return 0;
refuse:
	if (why)
		*why = w;
	return w == D_INJ_PARSE ? -EINVAL : -EPERM;
}

const char *d_priv_inject_why_str(enum d_priv_inject_why why)
{
	switch (why) {
	case D_INJ_OK: return "allowed";
	case D_INJ_PARSE: return "not a datagram the parser accepts";
	case D_INJ_NOT_SYN: return "not a bare TCP SYN";
	case D_INJ_IP_OPTIONS: return "it has IPv4 options or an IPv6 extension header";
	case D_INJ_BAD_ADDR: return "its source or destination is loopback, multicast, "
				    "link-local or another address no peer has";
	case D_INJ_NOT_LOCAL: return "its source is not an address of this host";
	case D_INJ_NO_POLICY: return "no live policy names its flow";
	default: return "?";
	}
}
