// SPDX-License-Identifier: MIT
/* The Binding responder: see server/stun.h. */
#include "server/stun.h"
#include "proto/stun_auth.h"

#include <errno.h>
#include <string.h>

static const char *const srv_verdict_names[SRV_V_MAX] = {
	[SRV_V_BINDING]		 = "binding",
	[SRV_V_CLASSIC]		 = "binding_rfc3489",
	[SRV_V_ERR_400]		 = "err_400",
	[SRV_V_ERR_420]		 = "err_420",
	[SRV_V_DROP_MALFORMED]	 = "drop_malformed",
	[SRV_V_DROP_NOT_REQUEST] = "drop_not_request",
	[SRV_V_DROP_FINGERPRINT] = "drop_fingerprint",
	[SRV_V_DROP_PORT]	 = "drop_port_zero",
};

const char *srv_verdict_name(enum srv_verdict v)
{
	return (unsigned)v < SRV_V_MAX ? srv_verdict_names[v] : "?";
}

/* A reply goes back where the request came from, from the socket it came
 * in on, unless CHANGE-REQUEST / RESPONSE-PORT say otherwise. */
static void reply_default(const struct srv_stun_ctx *ctx, struct srv_stun_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->tx_ip = ctx->rx_ip;
	r->tx_port = ctx->rx_port;
	r->dst = ctx->peer;
}

/*
 * The size an unauthenticated UDP response may have: the request's own
 * size, or what the RFCs require when that is more (min: the response
 * with its required attributes only, FINGERPRINT included when asked).
 * Optional attributes (MAPPED-ADDRESS next to XOR-MAPPED-ADDRESS,
 * SOFTWARE, an error's reason phrase) go in only while the response stays
 * within it, so a response is never larger than max(request, required
 * minimum) <= request + required attributes. Over TCP the handshake has
 * proven the source address: no limit.
 */
static size_t budget(const struct srv_stun_ctx *ctx, const struct stun_msg *m, size_t min)
{
	if (ctx->transport != SRV_UDP)
		return SIZE_MAX;
	return m->len > min ? m->len : min;
}

/* Room in budget for an attribute of vlen bytes before the tail (FINGERPRINT)? */
static bool fits(const struct stun_builder *b, size_t vlen, size_t tail, size_t limit)
{
	return b->len + 4 + ((vlen + 3) & ~(size_t)3) + tail <= limit;
}

/* An error response from the receiving socket: ERROR-CODE, UNKNOWN-ATTRIBUTES
 * for 420 (the request's unknown comprehension-required attributes, or
 * refused when it is not 0), FINGERPRINT when the request had one, and the
 * reason phrase only when it fits in the budget above: an unauthenticated
 * error stays small. */
static void reply_error_attr(const struct srv_stun_ctx *ctx, const struct stun_msg *m,
			     uint16_t code, const char *reason, uint16_t refused, uint8_t *out,
			     size_t cap, struct srv_stun_reply *r)
{
	struct stun_builder b;
	uint16_t unknown[STUN_MAX_ATTRS];
	size_t n = 0, tail = !m->classic && m->fingerprint >= 0 ? 8 : 0, min, rlen;
	int len;

	reply_default(ctx, r);
	r->verdict = code == STUN_ERR_UNKNOWN_ATTRIBUTE ? SRV_V_ERR_420 : SRV_V_ERR_400;
	if (code == STUN_ERR_UNKNOWN_ATTRIBUTE && refused) {
		unknown[0] = refused;
		n = 1;
	} else if (code == STUN_ERR_UNKNOWN_ATTRIBUTE) {
		n = stun_msg_unknown_required(m, unknown, STUN_MAX_ATTRS);
		if (n > STUN_MAX_ATTRS)
			n = STUN_MAX_ATTRS;
	}
	/* header, ERROR-CODE without a phrase, UNKNOWN-ATTRIBUTES, tail */
	min = STUN_HDR_LEN + 8 + (n ? 4 + ((2 * n + 3) & ~(size_t)3) : 0) + tail;
	if (!reason)
		reason = stun_error_phrase(code);
	rlen = strlen(reason);
	/* RFC 8489 14.8: the phrase is for humans; an empty one is valid */
	if (min + ((rlen + 3) & ~(size_t)3) > budget(ctx, m, min))
		reason = "";
	stun_build_reply(&b, out, cap, stun_type(m->method, STUN_ERROR), m);
	stun_build_error(&b, code, reason);
	if (n)
		stun_build_unknown(&b, unknown, n);
	if (!m->classic && m->fingerprint >= 0)
		stun_build_fingerprint(&b);
	len = stun_build_finish(&b);
	r->len = len > 0 ? (size_t)len : 0;
}

static void reply_error(const struct srv_stun_ctx *ctx, const struct stun_msg *m, uint16_t code,
			const char *reason, uint8_t *out, size_t cap, struct srv_stun_reply *r)
{
	reply_error_attr(ctx, m, code, reason, 0, out, cap, r);
}

int srv_stun_handle(const struct srv_stun_ctx *ctx, const uint8_t *req, size_t len,
		    uint8_t *out, size_t cap, struct srv_stun_reply *r)
{
	struct stun_msg m;
	struct stun_builder b;
	const struct stun_attr *a;
	uint32_t change = 0;
	unsigned oip, oport;
	size_t tail, limit, slen;
	int blen;

	if (!ctx || !req || !out || !r || cap < SRV_STUN_BUF || ctx->rx_ip > 1 || ctx->rx_port > 1)
		return -EINVAL;
	reply_default(ctx, r);

	if (stun_parse(req, len, &m) < 0) {
		r->verdict = SRV_V_DROP_MALFORMED;
		return 0;
	}
	/* RFC 8489 6.3: only requests get responses; an indication is
	 * processed without one, and a Binding indication (a keepalive)
	 * needs no processing at all. */
	if (m.cls != STUN_REQUEST) {
		r->verdict = SRV_V_DROP_NOT_REQUEST;
		return 0;
	}
	/* RFC 8489 14.7: a FINGERPRINT that does not match means this is not
	 * a STUN message (or it was mangled): discard. */
	if (!m.classic && m.fingerprint >= 0 && stun_check_fingerprint(&m) < 0) {
		r->verdict = SRV_V_DROP_FINGERPRINT;
		return 0;
	}
	if (m.method != STUN_METHOD_BINDING) {
		reply_error(ctx, &m, STUN_ERR_BAD_REQUEST, "Unsupported method", out, cap, r);
		return 0;
	}
	/* RFC 8489 6.3.1: "If the request contains one or more unknown
	 * comprehension-required attributes, the server replies with an error
	 * response with an error code of 420 (Unknown Attribute) and includes
	 * an UNKNOWN-ATTRIBUTES attribute". */
	if (stun_msg_unknown_required(&m, NULL, 0) > 0) {
		reply_error(ctx, &m, STUN_ERR_UNKNOWN_ATTRIBUTE, NULL, out, cap, r);
		return 0;
	}

	if ((a = stun_msg_find(&m, STUN_ATTR_CHANGE_REQUEST))) {
		if (stun_attr_get_change(a, &change) < 0) {
			reply_error(ctx, &m, STUN_ERR_BAD_REQUEST, "Bad CHANGE-REQUEST", out, cap, r);
			return 0;
		}
		/* RFC 5780 6: a server that cannot answer from a second
		 * address "MUST respond with a 420 (Unknown Attribute)" to
		 * a CHANGE-REQUEST; RFC 8489 14.9 wants the attribute named
		 * in UNKNOWN-ATTRIBUTES. Change port alone it can still
		 * honour from its own second port (see stun.h). */
		if ((change & STUN_CHANGE_IP) && ctx->one_addr) {
			reply_error_attr(ctx, &m, STUN_ERR_UNKNOWN_ATTRIBUTE, "No alternate address",
					 STUN_ATTR_CHANGE_REQUEST, out, cap, r);
			return 0;
		}
		/* Over TCP the answer can only come back on the connection. */
		if (change && ctx->transport == SRV_TCP) {
			reply_error(ctx, &m, STUN_ERR_BAD_REQUEST, "CHANGE-REQUEST over TCP", out,
				    cap, r);
			return 0;
		}
	}
	if (change & STUN_CHANGE_IP)
		r->tx_ip ^= 1;
	if (change & STUN_CHANGE_PORT)
		r->tx_port ^= 1;

	/* RFC 5780 7.5 RESPONSE-PORT: send to the source IP at this port.
	 * It is "only used over UDP". */
	if ((a = stun_msg_find(&m, STUN_ATTR_RESPONSE_PORT))) {
		uint16_t port;

		if (ctx->transport == SRV_TCP || stun_attr_get_response_port(a, &port) < 0) {
			reply_error(ctx, &m, STUN_ERR_BAD_REQUEST, "Bad RESPONSE-PORT", out, cap, r);
			return 0;
		}
		if (port == 0) {
			r->verdict = SRV_V_DROP_PORT;
			return 0;
		}
		r->dst.port = port;
	}
	/* RFC 3489 RESPONSE-ADDRESS would turn us into a reflector toward any
	 * third party: honoured only when it names the source IP itself. */
	if ((a = stun_msg_find(&m, STUN_ATTR_RESPONSE_ADDRESS))) {
		struct stun_addr ra;

		if (ctx->transport == SRV_TCP || stun_attr_get_addr(a, &ra) < 0 ||
		    ra.family != ctx->peer.family ||
		    memcmp(ra.ip, ctx->peer.ip, ra.family == STUN_FAMILY_IPV4 ? 4 : 16) != 0) {
			reply_error(ctx, &m, STUN_ERR_BAD_REQUEST, "RESPONSE-ADDRESS refused", out,
				    cap, r);
			return 0;
		}
		if (ra.port == 0) {
			r->verdict = SRV_V_DROP_PORT;
			return 0;
		}
		r->dst.port = ra.port;
	}

	/* The socket in the other row and the other column of the one the
	 * request came in on (RFC 5780 7.4, RFC 3489 11.2.3). */
	oip = ctx->rx_ip ^ 1;
	oport = ctx->rx_port ^ 1;

	/* Required first (RFC 3489 11.2; RFC 8489 7.3.1 and RFC 5780 7.3 for
	 * a server with an alternate address), then the optional ones within
	 * the budget (see budget() above). */
	tail = !m.classic && m.fingerprint >= 0 ? 8 : 0;
	stun_build_reply(&b, out, cap, stun_type(STUN_METHOD_BINDING, STUN_SUCCESS), &m);
	if (m.classic) {
		/* MAPPED-ADDRESS, SOURCE-ADDRESS (where the response is sent
		 * from), CHANGED-ADDRESS */
		r->verdict = SRV_V_CLASSIC;
		stun_build_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &ctx->peer);
		stun_build_addr(&b, STUN_ATTR_SOURCE_ADDRESS, &ctx->sock[r->tx_ip][r->tx_port]);
		if (!ctx->one_addr)
			stun_build_addr(&b, STUN_ATTR_CHANGED_ADDRESS, &ctx->sock[oip][oport]);
		limit = budget(ctx, &m, b.len + tail);
	} else {
		r->verdict = SRV_V_BINDING;
		stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &ctx->peer);
		stun_build_addr(&b, STUN_ATTR_RESPONSE_ORIGIN, &ctx->sock[r->tx_ip][r->tx_port]);
		/* RFC 5780 6: no OTHER-ADDRESS without an alternate address */
		if (!ctx->one_addr)
			stun_build_addr(&b, STUN_ATTR_OTHER_ADDRESS, &ctx->sock[oip][oport]);
		limit = budget(ctx, &m, b.len + tail);
		/* for RFC 3489-era parsers that know only the plain form */
		if (fits(&b, stun_addr_wire_len(&ctx->peer), tail, limit))
			stun_build_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &ctx->peer);
	}
	slen = ctx->software ? strnlen(ctx->software, SRV_SOFTWARE_MAX) : 0;
	if (slen && fits(&b, slen, tail, limit))
		stun_build_text(&b, STUN_ATTR_SOFTWARE, ctx->software, slen);
	/* RFC 5780 7.6: PADDING asks for a larger response (path MTU tests).
	 * It is "only used over UDP"; the response is padded up to the size
	 * of the request, never beyond, so it cannot amplify. */
	if (!m.classic && ctx->transport == SRV_UDP && stun_msg_find(&m, STUN_ATTR_PADDING)) {
		size_t target = m.len < cap ? m.len : cap;

		if (b.err == 0 && b.len + 4 + tail < target)
			stun_build_padding(&b, (target - b.len - 4 - tail) & ~(size_t)3);
	}
	if (!m.classic && m.fingerprint >= 0)
		stun_build_fingerprint(&b);
	blen = stun_build_finish(&b);
	if (blen <= 0) {
		/* cannot happen with cap >= SRV_STUN_BUF; never send half */
		reply_error(ctx, &m, STUN_ERR_SERVER_ERROR, NULL, out, cap, r);
		r->verdict = SRV_V_ERR_400;
		return 0;
	}
	r->len = (size_t)blen;
	return 0;
}
