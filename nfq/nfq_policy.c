// SPDX-License-Identifier: MIT
/* The per-flow policy table: which queued packet gets which verdict, and what is reported. */
#include "nfq/nfq_policy.h"

#include "nfq/pkt_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void nfq_policy_table_init(struct nfq_policy_table *t)
{
	memset(t, 0, sizeof(*t));
	t->next_id = 1;
}

void nfq_policy_table_free(struct nfq_policy_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].bytes);
	free(t->v);
	nfq_policy_table_init(t);
}

/* Remove dead entries, keeping the order: the first matching TTL policy wins. */
static int compact(struct nfq_policy_table *t)
{
	size_t i, j = 0;
	int gone = 0;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].dead) {
			free(t->v[i].bytes);
			gone++;
			continue;
		}
		if (i != j)
			t->v[j] = t->v[i];
		j++;
	}
	t->n = j;
	return gone;
}

static void mark_expired(struct nfq_policy_table *t, uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (now_ms >= t->v[i].expires_ms)
			t->v[i].dead = 1;
}

int nfq_policy_expire(struct nfq_policy_table *t, uint64_t now_ms)
{
	mark_expired(t, now_ms);
	return compact(t);
}

int nfq_policy_add(struct nfq_policy_table *t, const struct nfq_policy_spec *s,
		   uint64_t now_ms, uint32_t *id)
{
	struct nfq_policy *p, *nv;
	uint8_t *copy = NULL;
	size_t ncap;
	int r = -EINVAL;

	if (s == NULL || s->match == 0 || s->timeout_ms == 0 ||
	    s->timeout_ms > NFQ_POLICY_MAX_TIMEOUT_MS)
		goto out;
	switch (s->action) {
	case NFQ_ACT_TTL:
		if (s->ttl == 0)
			goto out;
		break;
	case NFQ_ACT_DROP:
	case NFQ_ACT_REPORT:
		break;
	case NFQ_ACT_REPLACE:
		if (s->bytes == NULL || s->len == 0 || s->len > NFQ_POLICY_MAX_REPLACE)
			goto out;
		r = -ENOMEM;
		copy = malloc(s->len);
		if (copy == NULL)
			goto out;
		memcpy(copy, s->bytes, s->len);
		/* the kernel takes replacement bytes as they are: they must be right */
		r = pkt_fix_checksums(copy, s->len);
		if (r < 0) {
			r = -EINVAL;
			goto out;
		}
		break;
	default:
		goto out;
	}
	compact(t);
	r = -ENOSPC;
	if (t->n >= NFQ_POLICY_MAX)
		goto out;
	if (t->n == t->cap) {
		r = -ENOMEM;
		ncap = t->cap ? t->cap * 2 : 16;
		nv = realloc(t->v, ncap * sizeof(*nv));
		if (nv == NULL)
			goto out;
		t->v = nv;
		t->cap = ncap;
	}
	p = &t->v[t->n++];
	memset(p, 0, sizeof(*p));
	p->id = t->next_id++;
	if (t->next_id == 0)
		t->next_id = 1;
	p->spec = *s;
	p->bytes = copy;
	p->spec.bytes = copy;
	copy = NULL;
	p->expires_ms = now_ms + s->timeout_ms;
	p->left = s->count;
	if (id)
		*id = p->id;
	r = 0;
out:
	free(copy);
	return r;
}

int nfq_policy_remove(struct nfq_policy_table *t, uint32_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].id == id && !t->v[i].dead) {
			t->v[i].dead = 1;
			compact(t);
			return 0;
		}
	return -ENOENT;
}

/* IPv4 flows may say 0 or AF_INET */
static int flow_is6(const struct nfq_flow *f)
{
	return f->family == AF_INET6;
}

static int flow_equal(const struct nfq_flow *a, const struct nfq_flow *b)
{
	return flow_is6(a) == flow_is6(b) && a->laddr == b->laddr && a->raddr == b->raddr &&
	       a->lport == b->lport && a->rport == b->rport && a->proto == b->proto &&
	       memcmp(a->laddr6, b->laddr6, 16) == 0 && memcmp(a->raddr6, b->raddr6, 16) == 0;
}

int nfq_policy_remove_flow(struct nfq_policy_table *t, const struct nfq_flow *f)
{
	size_t i;
	int n = 0;

	for (i = 0; i < t->n; i++)
		if (!t->v[i].dead && flow_equal(&t->v[i].spec.flow, f)) {
			t->v[i].dead = 1;
			n++;
		}
	compact(t);
	return n;
}

size_t nfq_policy_count(const struct nfq_policy_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += !t->v[i].dead;
	return n;
}

uint64_t nfq_policy_next_expiry(const struct nfq_policy_table *t)
{
	uint64_t m = UINT64_MAX;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!t->v[i].dead && t->v[i].expires_ms < m)
			m = t->v[i].expires_ms;
	return m;
}

/* a == b, with 0 in the flow as a wildcard */
static int fmatch16(uint16_t want, uint16_t have)
{
	return want == 0 || want == have;
}

/* the flow's address (alen bytes) == have, all zero in the flow as a wildcard */
static int fmatch_addr(const void *want, const void *have, size_t alen)
{
	static const uint8_t any[16];

	return memcmp(want, any, alen) == 0 || memcmp(want, have, alen) == 0;
}

/* A packet's (or a quote's) addresses and protocol, whatever its family. */
struct tuple {
	uint8_t family;
	uint8_t proto;
	const void *src;        /* 4 or 16 bytes, network byte order */
	const void *dst;
};

/* the tuple of a packet's (or a quote's) IPv4 header ip or IPv6 header ip6 */
static void tuple_of(uint8_t family, const struct pkt_ip4 *ip, const struct pkt_ip6 *ip6,
		     struct tuple *t)
{
	t->family = family;
	if (family == AF_INET6) {
		t->proto = ip6->proto;
		t->src = ip6->saddr;
		t->dst = ip6->daddr;
	} else {
		t->proto = ip->proto;
		t->src = &ip->saddr;
		t->dst = &ip->daddr;
	}
}

/* src:sport -> dst:dport of t (swapped when inbound) goes local -> remote on f */
static int tuple_is_outbound(const struct nfq_flow *f, const struct tuple *t, int inbound,
			     uint16_t sport, uint16_t dport)
{
	const void *src = inbound ? t->dst : t->src, *dst = inbound ? t->src : t->dst;
	uint16_t lp = inbound ? dport : sport, rp = inbound ? sport : dport;

	if (flow_is6(f) != (t->family == AF_INET6))
		return 0;
	if (!(f->proto == 0 || f->proto == t->proto) || !fmatch16(f->lport, lp) ||
	    !fmatch16(f->rport, rp))
		return 0;
	if (flow_is6(f))
		return fmatch_addr(f->laddr6, src, 16) && fmatch_addr(f->raddr6, dst, 16);
	return fmatch_addr(&f->laddr, src, 4) && fmatch_addr(&f->raddr, dst, 4);
}

uint32_t nfq_flow_classify(const struct nfq_flow *f, const struct pkt *k)
{
	const struct pkt_quote *q;
	struct tuple t;
	uint16_t sport, dport;
	uint8_t fl;
	int err, te;

	if (k->l4 == PKT_L4_ICMP || k->l4 == PKT_L4_ICMP6) {
		q = &k->icmp.quote;
		if (k->l4 == PKT_L4_ICMP) {
			err = pkt_icmp_is_error(k->icmp.type);
			te = k->icmp.type == PKT_ICMP_TIMXCEED;
		} else {
			err = pkt_icmp6_is_error(k->icmp.type);
			te = k->icmp.type == PKT_ICMP6_TIMXCEED;
		}
		/* an error of one family quotes a packet of the same family */
		if (!err || !q->valid || !q->has_ports || q->family != k->family)
			return 0;
		tuple_of(q->family, &q->ip, &q->ip6, &t);
		if (!tuple_is_outbound(f, &t, 0, q->sport, q->dport))
			return 0;
		return NFQ_MATCH_IN_ICMP_ERR | NFQ_MATCH_IN_ANY | (te ? NFQ_MATCH_IN_ICMP_TE : 0);
	}
	if (k->l4 == PKT_L4_TCP) {
		sport = k->tcp.sport;
		dport = k->tcp.dport;
	} else if (k->l4 == PKT_L4_UDP) {
		sport = k->udp.sport;
		dport = k->udp.dport;
	} else {
		return 0;
	}
	fl = k->l4 == PKT_L4_TCP ? k->tcp.flags : 0;
	tuple_of(k->family, &k->ip, &k->ip6, &t);
	if (tuple_is_outbound(f, &t, 0, sport, dport))
		return NFQ_MATCH_OUT_ANY |
		       ((fl & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN ? NFQ_MATCH_OUT_SYN : 0) |
		       (fl & PKT_TCP_RST ? NFQ_MATCH_OUT_RST : 0);
	if (tuple_is_outbound(f, &t, 1, sport, dport))
		return NFQ_MATCH_IN_ANY |
		       ((fl & (PKT_TCP_SYN | PKT_TCP_ACK)) == (PKT_TCP_SYN | PKT_TCP_ACK) ?
				NFQ_MATCH_IN_SYNACK : 0) |
		       (fl & PKT_TCP_RST ? NFQ_MATCH_IN_RST : 0);
	return 0;
}

/* the flow names k's remote (destination) address itself, not a wildcard */
static int flow_names_raddr(const struct nfq_flow *f, const struct pkt *k)
{
	if (k->family == AF_INET6)
		return flow_is6(f) && memcmp(f->raddr6, k->ip6.daddr, 16) == 0;
	return !flow_is6(f) && f->raddr == k->ip.daddr;
}

int nfq_policy_flow_live(const struct nfq_policy_table *t, const struct pkt *k,
			 uint64_t now_ms)
{
	const struct nfq_policy *p;
	uint16_t sport;
	size_t i;

	if (k->l4 == PKT_L4_TCP)
		sport = k->tcp.sport;
	else if (k->l4 == PKT_L4_UDP)
		sport = k->udp.sport;
	else
		return 0;
	for (i = 0; i < t->n; i++) {
		p = &t->v[i];
		if (p->dead || now_ms >= p->expires_ms)
			continue;
		if (p->spec.flow.lport != sport || !flow_names_raddr(&p->spec.flow, k))
			continue;
		if (nfq_flow_classify(&p->spec.flow, k) & NFQ_MATCH_OUT_ANY)
			return 1;
	}
	return 0;
}

static void report(struct nfq_decision *d, const struct nfq_policy *p, const struct pkt *k,
		   uint32_t cls)
{
	struct nfq_event *e;

	if (d->n_events >= NFQ_DECISION_MAX_EVENTS) {
		d->events_lost++;
		return;
	}
	e = &d->ev[d->n_events++];
	memset(e, 0, sizeof(*e));
	e->policy_id = p->id;
	e->cookie = p->spec.cookie;
	e->match = cls;
	e->pkt = k;
	e->ttl = k->family == AF_INET6 ? k->ip6.hop_limit : k->ip.ttl;
	e->ip_id = k->ip.id;
	if (k->l4 == PKT_L4_ICMP || k->l4 == PKT_L4_ICMP6) {
		e->router = k->ip.saddr;
		if (k->family == AF_INET6)
			memcpy(e->router6, k->ip6.saddr, 16);
		e->icmp_type = k->icmp.type;
		e->icmp_code = k->icmp.code;
		e->has_seq = k->icmp.quote.has_seq;
		e->seq = k->icmp.quote.seq;
	} else if (k->l4 == PKT_L4_TCP) {
		e->has_seq = 1;
		e->seq = k->tcp.seq;
		e->opt = k->tcp.opt;
	}
}

int nfq_policy_decide(struct nfq_policy_table *t, const struct pkt *k, uint32_t dirs,
		      uint64_t now_ms, struct nfq_decision *d)
{
	struct nfq_policy *p;
	uint32_t cls;
	size_t i;
	int drop = 0;

	memset(d, 0, sizeof(*d));
	/* reclaim what the previous decision may still have pointed at */
	compact(t);
	for (i = 0; i < t->n; i++) {
		p = &t->v[i];
		if (now_ms >= p->expires_ms) {
			p->dead = 1;
			continue;
		}
		cls = nfq_flow_classify(&p->spec.flow, k) & dirs;
		if ((cls & p->spec.match) == 0)
			continue;
		d->matched++;
		if (p->spec.count && --p->left == 0)
			p->dead = 1;
		switch (p->spec.action) {
		case NFQ_ACT_TTL:
			if (!d->set_ttl) {
				d->set_ttl = 1;
				d->ttl = p->spec.ttl;
			}
			break;
		case NFQ_ACT_DROP:
			drop = 1;
			break;
		case NFQ_ACT_REPORT:
			report(d, p, k, cls);
			break;
		case NFQ_ACT_REPLACE:
			if (d->replace == NULL) {
				d->replace = p->bytes;
				d->replace_len = p->spec.len;
			}
			break;
		}
	}
	if (d->replace) {
		d->set_ttl = 0;
	} else if (drop) {
		d->drop = 1;
		d->set_ttl = 0;
	}
	return (int)d->matched;
}

static void spec_init(struct nfq_policy_spec *s, const struct nfq_flow *f, uint32_t match,
		      enum nfq_action a, uint32_t timeout_ms)
{
	memset(s, 0, sizeof(*s));
	s->flow = *f;
	s->match = match;
	s->action = a;
	s->timeout_ms = timeout_ms;
}

void nfq_spec_syn_ttl(struct nfq_policy_spec *s, const struct nfq_flow *f, uint32_t n_syns,
		      uint8_t ttl, uint32_t timeout_ms)
{
	spec_init(s, f, NFQ_MATCH_OUT_SYN, NFQ_ACT_TTL, timeout_ms);
	s->ttl = ttl;
	s->count = n_syns ? n_syns : 1;
}

void nfq_spec_drop_inbound_errors(struct nfq_policy_spec *s, const struct nfq_flow *f,
				  uint32_t timeout_ms)
{
	spec_init(s, f, NFQ_MATCH_IN_RST | NFQ_MATCH_IN_ICMP_ERR, NFQ_ACT_DROP, timeout_ms);
}

void nfq_spec_drop_outbound_rst(struct nfq_policy_spec *s, const struct nfq_flow *f,
				uint32_t timeout_ms)
{
	spec_init(s, f, NFQ_MATCH_OUT_RST, NFQ_ACT_DROP, timeout_ms);
}

void nfq_spec_report_icmp_te(struct nfq_policy_spec *s, const struct nfq_flow *f,
			     uint32_t timeout_ms, uint64_t cookie)
{
	spec_init(s, f, NFQ_MATCH_IN_ICMP_TE, NFQ_ACT_REPORT, timeout_ms);
	s->cookie = cookie;
}

void nfq_spec_report_syn(struct nfq_policy_spec *s, const struct nfq_flow *f,
			 uint32_t timeout_ms, uint64_t cookie)
{
	spec_init(s, f, NFQ_MATCH_OUT_SYN, NFQ_ACT_REPORT, timeout_ms);
	s->cookie = cookie;
}

void nfq_spec_replace(struct nfq_policy_spec *s, const struct nfq_flow *f, uint32_t match,
		      const uint8_t *bytes, size_t len, uint32_t timeout_ms)
{
	spec_init(s, f, match, NFQ_ACT_REPLACE, timeout_ms);
	s->bytes = bytes;
	s->len = len;
	s->count = 1;
}
