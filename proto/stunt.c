// SPDX-License-Identifier: MIT
#include "proto/stunt.h"

#include <errno.h>
#include <string.h>

#define BIT(c) (1u << (c))

int stunt_expect(const struct stun_msg *m, uint16_t method, unsigned class_mask)
{
	if (!m)
		return -EINVAL;
	if (m->method != method || !(class_mask & BIT(m->cls)))
		return -ENOMSG;
	return 0;
}

/* ---- TCP options ---- */

int stunt_tcp_opts_parse(const uint8_t *opt, size_t len, struct stunt_tcp_opts *out)
{
	size_t i = 0;

	if ((len && !opt) || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	/* the data offset field allows at most 40 option bytes */
	if (len > STUNT_TCP_OPTS_MAX)
		return -EBADMSG;
	while (i < len) {
		uint8_t kind = opt[i], olen;

		if (kind == 0)		/* end of option list */
			break;
		if (kind == 1) {	/* no-operation */
			i++;
			continue;
		}
		/* RFC 9293 3.1: every other option has a length octet that
		 * counts kind and length */
		if (len - i < 2)
			return -EBADMSG;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return -EBADMSG;
		switch (kind) {
		case 2:
			if (olen != 4)
				return -EBADMSG;
			out->present |= STUNT_OPT_MSS;
			out->mss = stun_rd16(opt + i + 2);
			break;
		case 3:
			if (olen != 3)
				return -EBADMSG;
			out->present |= STUNT_OPT_WSCALE;
			out->wscale = opt[i + 2];
			break;
		case 4:
			if (olen != 2)
				return -EBADMSG;
			out->present |= STUNT_OPT_SACK_PERM;
			break;
		case 8:
			if (olen != 10)
				return -EBADMSG;
			out->present |= STUNT_OPT_TIMESTAMPS;
			out->ts_val = stun_rd32(opt + i + 2);
			out->ts_ecr = stun_rd32(opt + i + 6);
			break;
		default:
			break;
		}
		i += olen;
	}
	return 0;
}

/* ---- fixed attributes ---- */

static int put_syn_info(struct stun_builder *b, const struct stunt_syn_info *s)
{
	uint8_t *p = stun_build_reserve(b, STUNT_ATTR_SYN_INFO, 16);

	if (!p)
		return b->err;
	stun_wr32(p, s->seq);
	p[4] = s->ttl;
	p[5] = s->ip_flags;
	stun_wr16(p + 6, s->ip_id);
	stun_wr16(p + 8, s->window);
	p[10] = s->tcp_flags;
	stun_wr32(p + 12, s->elapsed_ms);
	return 0;
}

static int get_syn_info(const struct stun_attr *a, struct stunt_syn_info *s)
{
	const uint8_t *p;

	if (!a || a->len != 16)
		return -EBADMSG;
	p = a->val;
	s->seq = stun_rd32(p);
	s->ttl = p[4];
	s->ip_flags = p[5];
	s->ip_id = stun_rd16(p + 6);
	s->window = stun_rd16(p + 8);
	s->tcp_flags = p[10];
	s->elapsed_ms = stun_rd32(p + 12);
	return 0;
}

static int put_packet(struct stun_builder *b, const struct stunt_packet *k)
{
	uint8_t *p;

	if (k->kind != STUNT_PKT_SYN && k->kind != STUNT_PKT_SYNACK)
		return stun_build_fail(b, -EINVAL);
	if (k->flags & ~STUNT_PKT_F_ALL)
		return stun_build_fail(b, -EINVAL);
	if (!(p = stun_build_reserve(b, STUNT_ATTR_PACKET, 16)))
		return b->err;
	p[0] = k->kind;
	p[1] = k->flags;
	stun_wr16(p + 2, k->dst_port);
	stun_wr16(p + 4, k->delay_ms);
	p[6] = k->ttl;
	stun_wr32(p + 8, k->seq);
	stun_wr32(p + 12, k->ack);
	return 0;
}

static int get_packet(const struct stun_attr *a, struct stunt_packet *k)
{
	const uint8_t *p;

	if (!a || a->len != 16)
		return -EBADMSG;
	p = a->val;
	if (p[0] != STUNT_PKT_SYN && p[0] != STUNT_PKT_SYNACK)
		return -EBADMSG;
	k->kind = p[0];
	/* reserved flag bits are ignored, as STUN does with reserved bits */
	k->flags = p[1] & STUNT_PKT_F_ALL;
	k->dst_port = stun_rd16(p + 2);
	k->delay_ms = stun_rd16(p + 4);
	k->ttl = p[6];
	k->seq = stun_rd32(p + 8);
	k->ack = stun_rd32(p + 12);
	return 0;
}

static int get_u32(const struct stun_msg *m, uint16_t type, uint32_t *v, bool required)
{
	const struct stun_attr *a = stun_msg_find(m, type);

	*v = 0;
	if (!a)
		return required ? -EBADMSG : 0;
	return stun_attr_get_u32(a, v);
}

static int get_addr(const struct stun_msg *m, uint16_t type, struct stun_addr *out)
{
	const struct stun_attr *a = stun_msg_find(m, type);

	if (!a)
		return -EBADMSG;
	return stun_attr_get_addr(a, out);
}

/* ---- CAPTURE ---- */

int stunt_put_capture_req(struct stun_builder *b, const struct stunt_capture_req *r)
{
	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	if (r->timeout_ms)
		stun_build_u32(b, STUNT_ATTR_TIMEOUT, r->timeout_ms);
	return b->err;
}

int stunt_get_capture_req(const struct stun_msg *m, struct stunt_capture_req *r)
{
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, STUNT_METHOD_CAPTURE, BIT(STUN_REQUEST))) < 0)
		return err;
	return get_u32(m, STUNT_ATTR_TIMEOUT, &r->timeout_ms, false);
}

int stunt_put_capture_resp(struct stun_builder *b, const struct stunt_capture_resp *r)
{
	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	stun_build_u32(b, STUNT_ATTR_CAPTURE_ID, r->capture_id);
	stun_build_u32(b, STUNT_ATTR_TIMEOUT, r->timeout_ms);
	stun_build_addr(b, STUNT_ATTR_TARGET, &r->target);
	return b->err;
}

int stunt_get_capture_resp(const struct stun_msg *m, struct stunt_capture_resp *r)
{
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, STUNT_METHOD_CAPTURE, BIT(STUN_SUCCESS))) < 0)
		return err;
	if ((err = get_u32(m, STUNT_ATTR_CAPTURE_ID, &r->capture_id, true)) < 0 ||
	    (err = get_u32(m, STUNT_ATTR_TIMEOUT, &r->timeout_ms, true)) < 0)
		return err;
	return get_addr(m, STUNT_ATTR_TARGET, &r->target);
}

/* ---- SYN-REPORT ---- */

int stunt_put_syn_report(struct stun_builder *b, const struct stunt_syn_report *r)
{
	if (!b)
		return -EINVAL;
	if (!r || r->opts_len > STUNT_TCP_OPTS_MAX)
		return stun_build_fail(b, -EINVAL);
	stun_build_u32(b, STUNT_ATTR_CAPTURE_ID, r->capture_id);
	if (r->error)
		return stun_build_error(b, r->error, NULL);
	stun_build_xor_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, &r->source);
	put_syn_info(b, &r->syn);
	stun_build_attr(b, STUNT_ATTR_TCP_OPTIONS, r->opts_raw, r->opts_len);
	return b->err;
}

int stunt_get_syn_report(const struct stun_msg *m, struct stunt_syn_report *r)
{
	const struct stun_attr *a;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, STUNT_METHOD_SYN_REPORT, BIT(STUN_INDICATION))) < 0)
		return err;
	if ((err = get_u32(m, STUNT_ATTR_CAPTURE_ID, &r->capture_id, true)) < 0)
		return err;
	if ((a = stun_msg_find(m, STUN_ATTR_ERROR_CODE))) {
		struct stun_error e;

		if ((err = stun_attr_get_error(a, &e)) < 0)
			return err;
		r->error = e.code;
		return 0;
	}
	if (!(a = stun_msg_find(m, STUN_ATTR_XOR_MAPPED_ADDRESS)))
		return -EBADMSG;
	if ((err = stun_attr_get_xor_addr(a, m, &r->source)) < 0)
		return err;
	if ((err = get_syn_info(stun_msg_find(m, STUNT_ATTR_SYN_INFO), &r->syn)) < 0)
		return err;
	if (!(a = stun_msg_find(m, STUNT_ATTR_TCP_OPTIONS)) || a->len > STUNT_TCP_OPTS_MAX)
		return -EBADMSG;
	memcpy(r->opts_raw, a->val, a->len);
	r->opts_len = a->len;
	/* options the kernel would not have accepted are reported raw only */
	if (stunt_tcp_opts_parse(r->opts_raw, r->opts_len, &r->opts) < 0)
		memset(&r->opts, 0, sizeof(r->opts));
	return 0;
}

/* ---- SEND-PACKET ---- */

int stunt_put_send_req(struct stun_builder *b, const struct stunt_send_req *r)
{
	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	put_packet(b, &r->pkt);
	if (r->pkt.flags & STUNT_PKT_F_SOURCE)
		stun_build_addr(b, STUNT_ATTR_SOURCE, &r->source);
	return b->err;
}

int stunt_get_send_req(const struct stun_msg *m, struct stunt_send_req *r)
{
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, STUNT_METHOD_SEND_PACKET, BIT(STUN_REQUEST))) < 0)
		return err;
	if ((err = get_packet(stun_msg_find(m, STUNT_ATTR_PACKET), &r->pkt)) < 0)
		return err;
	if (r->pkt.flags & STUNT_PKT_F_SOURCE)
		return get_addr(m, STUNT_ATTR_SOURCE, &r->source);
	return 0;
}

int stunt_put_send_resp(struct stun_builder *b, const struct stunt_send_resp *r)
{
	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	put_packet(b, &r->pkt);
	stun_build_addr(b, STUNT_ATTR_SOURCE, &r->source);
	return b->err;
}

int stunt_get_send_resp(const struct stun_msg *m, struct stunt_send_resp *r)
{
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, STUNT_METHOD_SEND_PACKET, BIT(STUN_SUCCESS))) < 0)
		return err;
	if ((err = get_packet(stun_msg_find(m, STUNT_ATTR_PACKET), &r->pkt)) < 0)
		return err;
	return get_addr(m, STUNT_ATTR_SOURCE, &r->source);
}

/* ---- PROBE-UNSOLICITED ---- */

int stunt_put_probe_req(struct stun_builder *b, const struct stunt_probe_req *r)
{
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	if ((p = stun_build_reserve(b, STUNT_ATTR_PROBE_PORT, 4))) {
		stun_wr16(p, r->port);
		p[2] = r->flags & (STUN_CHANGE_IP | STUN_CHANGE_PORT);
	}
	if (r->timeout_ms)
		stun_build_u32(b, STUNT_ATTR_TIMEOUT, r->timeout_ms);
	return b->err;
}

int stunt_get_probe_req(const struct stun_msg *m, struct stunt_probe_req *r)
{
	const struct stun_attr *a;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, STUNT_METHOD_PROBE_UNSOLICITED, BIT(STUN_REQUEST))) < 0)
		return err;
	if (!(a = stun_msg_find(m, STUNT_ATTR_PROBE_PORT)) || a->len != 4)
		return -EBADMSG;
	r->port = stun_rd16(a->val);
	r->flags = a->val[2] & (STUN_CHANGE_IP | STUN_CHANGE_PORT);
	/* port 0 cannot be probed */
	if (!r->port)
		return -EBADMSG;
	return get_u32(m, STUNT_ATTR_TIMEOUT, &r->timeout_ms, false);
}

int stunt_put_probe_resp(struct stun_builder *b, const struct stunt_probe_resp *r)
{
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!r || r->result > STUNT_PROBE_SYNACK)
		return stun_build_fail(b, -EINVAL);
	if ((p = stun_build_reserve(b, STUNT_ATTR_PROBE_RESULT, 8))) {
		p[0] = r->result;
		p[1] = r->icmp_type;
		p[2] = r->icmp_code;
		p[3] = r->ttl;
		stun_wr32(p + 4, r->elapsed_ms);
	}
	stun_build_addr(b, STUNT_ATTR_SOURCE, &r->source);
	return b->err;
}

int stunt_get_probe_resp(const struct stun_msg *m, struct stunt_probe_resp *r)
{
	const struct stun_attr *a;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, STUNT_METHOD_PROBE_UNSOLICITED, BIT(STUN_SUCCESS))) < 0)
		return err;
	if (!(a = stun_msg_find(m, STUNT_ATTR_PROBE_RESULT)) || a->len != 8 ||
	    a->val[0] > STUNT_PROBE_SYNACK)
		return -EBADMSG;
	r->result = a->val[0];
	r->icmp_type = a->val[1];
	r->icmp_code = a->val[2];
	r->ttl = a->val[3];
	r->elapsed_ms = stun_rd32(a->val + 4);
	return get_addr(m, STUNT_ATTR_SOURCE, &r->source);
}
