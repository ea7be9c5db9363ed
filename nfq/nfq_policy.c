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

static int flow_equal(const struct nfq_flow *a, const struct nfq_flow *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
	       a->rport == b->rport && a->proto == b->proto;
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
static int fmatch32(uint32_t want, uint32_t have)
{
	return want == 0 || want == have;
}

static int fmatch16(uint16_t want, uint16_t have)
{
	return want == 0 || want == have;
}

static int tuple_is_outbound(const struct nfq_flow *f, uint8_t proto, uint32_t src,
			     uint16_t sport, uint32_t dst, uint16_t dport)
{
	return (f->proto == 0 || f->proto == proto) && fmatch32(f->laddr, src) &&
	       fmatch16(f->lport, sport) && fmatch32(f->raddr, dst) && fmatch16(f->rport, dport);
}

uint32_t nfq_flow_classify(const struct nfq_flow *f, const struct pkt *k)
{
	const struct pkt_quote *q;
	uint16_t sport, dport;
	uint8_t fl;

	if (k->l4 == PKT_L4_ICMP) {
		q = &k->icmp.quote;
		if (!pkt_icmp_is_error(k->icmp.type) || !q->valid || !q->has_ports)
			return 0;
		if (!tuple_is_outbound(f, q->ip.proto, q->ip.saddr, q->sport, q->ip.daddr, q->dport))
			return 0;
		return NFQ_MATCH_IN_ICMP_ERR | NFQ_MATCH_IN_ANY |
		       (k->icmp.type == PKT_ICMP_TIMXCEED ? NFQ_MATCH_IN_ICMP_TE : 0);
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
	if (tuple_is_outbound(f, k->ip.proto, k->ip.saddr, sport, k->ip.daddr, dport))
		return NFQ_MATCH_OUT_ANY |
		       ((fl & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN ? NFQ_MATCH_OUT_SYN : 0) |
		       (fl & PKT_TCP_RST ? NFQ_MATCH_OUT_RST : 0);
	if (tuple_is_outbound(f, k->ip.proto, k->ip.daddr, dport, k->ip.saddr, sport))
		return NFQ_MATCH_IN_ANY |
		       ((fl & (PKT_TCP_SYN | PKT_TCP_ACK)) == (PKT_TCP_SYN | PKT_TCP_ACK) ?
				NFQ_MATCH_IN_SYNACK : 0) |
		       (fl & PKT_TCP_RST ? NFQ_MATCH_IN_RST : 0);
	return 0;
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
		if (p->spec.flow.lport != sport || p->spec.flow.raddr != k->ip.daddr)
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
	e->ttl = k->ip.ttl;
	e->ip_id = k->ip.id;
	if (k->l4 == PKT_L4_ICMP) {
		e->router = k->ip.saddr;
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
