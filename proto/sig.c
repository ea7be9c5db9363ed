// SPDX-License-Identifier: MIT
#include "proto/sig.h"
#include "proto/stun_auth.h"
#include "proto/stunt.h"

#include <errno.h>
#include <string.h>

#define BIT(c) (1u << (c))
#define RELAYED (BIT(STUN_REQUEST) | BIT(STUN_INDICATION))

/* ---- ids ---- */

bool sig_id_valid(const char *s, size_t len)
{
	size_t i;

	if (!s || len < 1 || len > SIG_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int put_id(struct stun_builder *b, uint16_t type, const char *id)
{
	size_t len = id ? strnlen(id, SIG_ID_MAX + 1) : 0;

	if (!sig_id_valid(id, len))
		return stun_build_fail(b, -EINVAL);
	return stun_build_attr(b, type, id, len);
}

static int get_id(const struct stun_msg *m, uint16_t type, char out[SIG_ID_MAX + 1],
		  bool required)
{
	const struct stun_attr *a = stun_msg_find(m, type);

	out[0] = 0;
	if (!a)
		return required ? -EBADMSG : 0;
	if (!sig_id_valid((const char *)a->val, a->len))
		return -EBADMSG;
	memcpy(out, a->val, a->len);
	out[a->len] = 0;
	return 0;
}

/* ---- credential ---- */

static const char cred_label[] = "stunt-auth-v1";

int sig_credential(const uint8_t *secret, size_t slen, const char *peer_id,
		   const uint8_t *nonce, size_t nlen, uint8_t out[SIG_CREDENTIAL_LEN])
{
	static const uint8_t zero;
	struct iovec iov[5];
	size_t idlen = peer_id ? strnlen(peer_id, SIG_ID_MAX + 1) : 0;

	if (!sig_id_valid(peer_id, idlen) || (nlen && !nonce) || !out)
		return -EINVAL;
	iov[0] = (struct iovec){ (void *)cred_label, sizeof(cred_label) - 1 };
	iov[1] = (struct iovec){ (void *)&zero, 1 };
	iov[2] = (struct iovec){ (void *)peer_id, idlen };
	iov[3] = (struct iovec){ (void *)&zero, 1 };
	iov[4] = (struct iovec){ (void *)nonce, nlen };
	return stun_hmac(STUN_HASH_SHA256, secret, slen, iov, 5, out);
}

int sig_credential_check(const uint8_t *secret, size_t slen, const char *peer_id,
			 const uint8_t *nonce, size_t nlen,
			 const uint8_t cred[SIG_CREDENTIAL_LEN])
{
	uint8_t want[SIG_CREDENTIAL_LEN];
	int err;

	if (!cred)
		return -EINVAL;
	if ((err = sig_credential(secret, slen, peer_id, nonce, nlen, want)) < 0)
		return err;
	return stun_memeq_ct(want, cred, SIG_CREDENTIAL_LEN) ? -EACCES : 0;
}

/* ---- method names ---- */

static const char *const method_names[SIG_M_MAX + 1] = {
	[SIG_M_DIRECT] = "direct",   [SIG_M_PORTMAP] = "portmap", [SIG_M_REVERSAL] = "reversal",
	[SIG_M_SIMOPEN] = "simopen", [SIG_M_STUNT1] = "stunt1",   [SIG_M_STUNT2] = "stunt2",
	[SIG_M_SYNTH] = "synth",     [SIG_M_PREDICT] = "predict", [SIG_M_SHOTGUN] = "shotgun",
	[SIG_M_UDP] = "udp",	     [SIG_M_RELAY] = "relay",	  [SIG_M_HOST] = "host",
	[SIG_M_SIMOPEN6] = "simopen6", [SIG_M_UDP6] = "udp6",
};

const char *sig_method_name(unsigned id)
{
	return id >= 1 && id <= SIG_M_MAX ? method_names[id] : NULL;
}

int sig_method_id(const char *name)
{
	int i;

	if (!name)
		return -EINVAL;
	for (i = 1; i <= SIG_M_MAX; i++)
		if (!strcmp(name, method_names[i]))
			return i;
	return -ENOENT;
}

/* ---- attributes ---- */

/* cookie || 12 zero bytes: see SIG-CANDIDATE in sig.h */
static void cand_key(uint8_t key[16])
{
	memset(key, 0, 16);
	stun_wr32(key, STUN_MAGIC_COOKIE);
}

int sig_build_candidate(struct stun_builder *b, const struct sig_candidate *c)
{
	uint8_t key[16], *p;
	size_t alen;

	if (!b)
		return -EINVAL;
	if (!c || !(alen = stun_addr_wire_len(&c->addr)) || c->kind < SIG_CAND_HOST ||
	    c->kind > SIG_CAND_RELAY)
		return stun_build_fail(b, -EINVAL);
	if (!(p = stun_build_reserve(b, SIG_ATTR_CANDIDATE, 4 + alen)))
		return b->err;
	p[0] = c->kind;
	p[1] = c->proto;
	stun_wr16(p + 2, c->priority);
	cand_key(key);
	p[5] = c->addr.family;
	stun_wr16(p + 6, c->addr.port ^ stun_rd16(key));
	for (size_t i = 0; i < alen - 4; i++)
		p[8 + i] = c->addr.ip[i] ^ key[i];
	return 0;
}

int sig_attr_get_candidate(const struct stun_attr *a, struct sig_candidate *c)
{
	uint8_t key[16];
	int err;

	if (!a || !c)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	if (a->type != SIG_ATTR_CANDIDATE || a->len < 4)
		return -EBADMSG;
	if (a->val[0] < SIG_CAND_HOST || a->val[0] > SIG_CAND_RELAY)
		return -EBADMSG;
	c->kind = a->val[0];
	c->proto = a->val[1];
	c->priority = stun_rd16(a->val + 2);
	cand_key(key);
	if ((err = stun_addr_decode_xor(a->val + 4, a->len - 4u, key, &c->addr)) < 0)
		return err;
	return 0;
}

static int put_prediction(struct stun_builder *b, const struct sig_prediction *pr)
{
	uint8_t *p;

	if (pr->allocation > SIG_ALLOC_RANDOM)
		return stun_build_fail(b, -EINVAL);
	if (!(p = stun_build_reserve(b, SIG_ATTR_PREDICTION, 8)))
		return b->err;
	p[0] = pr->proto;
	p[1] = pr->allocation;
	stun_wr16(p + 2, (uint16_t)pr->delta);
	stun_wr16(p + 4, pr->last_port);
	stun_wr16(p + 6, pr->count);
	return 0;
}

static int get_prediction(const struct stun_attr *a, struct sig_prediction *pr)
{
	if (a->len != 8 || a->val[1] > SIG_ALLOC_RANDOM)
		return -EBADMSG;
	pr->proto = a->val[0];
	pr->allocation = a->val[1];
	pr->delta = (int16_t)stun_rd16(a->val + 2);
	pr->last_port = stun_rd16(a->val + 4);
	pr->count = stun_rd16(a->val + 6);
	return 0;
}

int sig_build_nat_info(struct stun_builder *b, const struct sig_nat_info *n)
{
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!n)
		return stun_build_fail(b, -EINVAL);
	if (!(p = stun_build_reserve(b, SIG_ATTR_NAT_INFO, 16)))
		return b->err;
	p[0] = n->udp_mapping;
	p[1] = n->udp_filtering;
	p[2] = n->udp_alloc;
	p[3] = n->tcp_mapping;
	p[4] = n->tcp_filtering;
	p[5] = n->tcp_alloc;
	p[6] = n->unsolicited;
	p[7] = n->flags;
	stun_wr16(p + 8, (uint16_t)n->udp_delta);
	stun_wr16(p + 10, (uint16_t)n->tcp_delta);
	p[12] = n->nat_hops;
	return 0;
}

int sig_attr_get_nat_info(const struct stun_attr *a, struct sig_nat_info *n)
{
	const uint8_t *p;

	if (!a || !n)
		return -EINVAL;
	memset(n, 0, sizeof(*n));
	/* optional attribute: a longer value from a newer peer is fine */
	if (a->len < 16)
		return -EBADMSG;
	p = a->val;
	n->udp_mapping = p[0];
	n->udp_filtering = p[1];
	n->udp_alloc = p[2];
	n->tcp_mapping = p[3];
	n->tcp_filtering = p[4];
	n->tcp_alloc = p[5];
	n->unsolicited = p[6];
	n->flags = p[7];
	n->udp_delta = (int16_t)stun_rd16(p + 8);
	n->tcp_delta = (int16_t)stun_rd16(p + 10);
	n->nat_hops = p[12];
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

static int get_u64(const struct stun_msg *m, uint16_t type, uint64_t *v)
{
	const struct stun_attr *a = stun_msg_find(m, type);

	*v = 0;
	if (!a)
		return -EBADMSG;
	return stun_attr_get_u64(a, v);
}

static int get_nonce(const struct stun_msg *m, uint8_t *nonce, size_t *len)
{
	const struct stun_attr *a = stun_msg_find(m, STUN_ATTR_NONCE);

	*len = 0;
	if (!a || a->len < 1 || a->len > SIG_NONCE_MAX)
		return -EBADMSG;
	memcpy(nonce, a->val, a->len);
	*len = a->len;
	return 0;
}

int sig_build_sender(struct stun_builder *b, const struct stun_addr *sender)
{
	if (!b)
		return -EINVAL;
	if (!sender)
		return stun_build_fail(b, -EINVAL);
	return stun_build_xor_addr(b, SIG_ATTR_SENDER, sender);
}

bool sig_candidate_vouched(const struct stun_addr *sender, const struct sig_candidate *c)
{
	size_t len;

	if (!sender || !c)
		return false;
	if (c->kind == SIG_CAND_RELAY)
		return true;
	len = sender->family == STUN_FAMILY_IPV4 ? 4 : sender->family == STUN_FAMILY_IPV6 ? 16 : 0;
	return len && c->addr.family == sender->family && !memcmp(c->addr.ip, sender->ip, len);
}

/* SIG-SENDER of an indication (see sig.h): the server's word, or nothing */
static void get_sender(const struct stun_msg *m, bool *has, struct stun_addr *sender)
{
	const struct stun_attr *a;

	*has = false;
	if (m->cls != STUN_INDICATION || !(a = stun_msg_find(m, SIG_ATTR_SENDER)))
		return;
	*has = stun_attr_get_xor_addr(a, m, sender) == 0;
	if (!*has)
		memset(sender, 0, sizeof(*sender));
}

/* ---- REGISTER / AUTHENTICATE ---- */

int sig_put_register(struct stun_builder *b, const struct sig_register *r)
{
	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	return put_id(b, SIG_ATTR_PEER_ID, r->peer_id);
}

int sig_get_register(const struct stun_msg *m, struct sig_register *r)
{
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_REGISTER, BIT(STUN_REQUEST))) < 0)
		return err;
	return get_id(m, SIG_ATTR_PEER_ID, r->peer_id, true);
}

int sig_put_register_resp(struct stun_builder *b, const struct sig_register_resp *r)
{
	if (!b)
		return -EINVAL;
	if (!r || r->nonce_len < 1 || r->nonce_len > SIG_NONCE_MAX)
		return stun_build_fail(b, -EINVAL);
	return stun_build_attr(b, STUN_ATTR_NONCE, r->nonce, r->nonce_len);
}

int sig_get_register_resp(const struct stun_msg *m, struct sig_register_resp *r)
{
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_REGISTER, BIT(STUN_SUCCESS))) < 0)
		return err;
	return get_nonce(m, r->nonce, &r->nonce_len);
}

int sig_put_auth(struct stun_builder *b, const struct sig_auth *r)
{
	if (!b)
		return -EINVAL;
	if (!r || r->nonce_len < 1 || r->nonce_len > SIG_NONCE_MAX)
		return stun_build_fail(b, -EINVAL);
	put_id(b, SIG_ATTR_PEER_ID, r->peer_id);
	stun_build_attr(b, STUN_ATTR_NONCE, r->nonce, r->nonce_len);
	stun_build_attr(b, SIG_ATTR_CREDENTIAL, r->credential, SIG_CREDENTIAL_LEN);
	return b->err;
}

int sig_get_auth(const struct stun_msg *m, struct sig_auth *r)
{
	const struct stun_attr *a;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_AUTHENTICATE, BIT(STUN_REQUEST))) < 0)
		return err;
	if ((err = get_id(m, SIG_ATTR_PEER_ID, r->peer_id, true)) < 0 ||
	    (err = get_nonce(m, r->nonce, &r->nonce_len)) < 0)
		return err;
	if (!(a = stun_msg_find(m, SIG_ATTR_CREDENTIAL)) || a->len != SIG_CREDENTIAL_LEN)
		return -EBADMSG;
	memcpy(r->credential, a->val, SIG_CREDENTIAL_LEN);
	return 0;
}

int sig_put_auth_resp(struct stun_builder *b, const struct sig_auth_resp *r)
{
	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	stun_build_xor_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, &r->mapped);
	stun_build_u64(b, SIG_ATTR_SERVER_TIME, r->server_time_ms);
	return b->err;
}

int sig_get_auth_resp(const struct stun_msg *m, struct sig_auth_resp *r)
{
	const struct stun_attr *a;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_AUTHENTICATE, BIT(STUN_SUCCESS))) < 0)
		return err;
	if (!(a = stun_msg_find(m, STUN_ATTR_XOR_MAPPED_ADDRESS)))
		return -EBADMSG;
	if ((err = stun_attr_get_xor_addr(a, m, &r->mapped)) < 0)
		return err;
	return get_u64(m, SIG_ATTR_SERVER_TIME, &r->server_time_ms);
}

/* ---- LOOKUP ---- */

int sig_put_lookup(struct stun_builder *b, const struct sig_lookup *r)
{
	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	return put_id(b, SIG_ATTR_PEER_ID, r->peer_id);
}

int sig_get_lookup(const struct stun_msg *m, struct sig_lookup *r)
{
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_LOOKUP, BIT(STUN_REQUEST))) < 0)
		return err;
	return get_id(m, SIG_ATTR_PEER_ID, r->peer_id, true);
}

int sig_put_lookup_resp(struct stun_builder *b, const struct sig_lookup_resp *r)
{
	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	put_id(b, SIG_ATTR_PEER_ID, r->peer_id);
	stun_build_xor_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, &r->endpoint);
	if (r->has_nat)
		sig_build_nat_info(b, &r->nat);
	return b->err;
}

int sig_get_lookup_resp(const struct stun_msg *m, struct sig_lookup_resp *r)
{
	const struct stun_attr *a;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_LOOKUP, BIT(STUN_SUCCESS))) < 0)
		return err;
	if ((err = get_id(m, SIG_ATTR_PEER_ID, r->peer_id, true)) < 0)
		return err;
	if (!(a = stun_msg_find(m, STUN_ATTR_XOR_MAPPED_ADDRESS)))
		return -EBADMSG;
	if ((err = stun_attr_get_xor_addr(a, m, &r->endpoint)) < 0)
		return err;
	/* comprehension-optional: a malformed one is ignored */
	if ((a = stun_msg_find(m, SIG_ATTR_NAT_INFO)))
		r->has_nat = sig_attr_get_nat_info(a, &r->nat) == 0;
	return 0;
}

int sig_build_round(struct stun_builder *b, const struct sig_round *r)
{
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!r)
		return stun_build_fail(b, -EINVAL);
	if (!(p = stun_build_reserve(b, SIG_ATTR_ROUND, 4)))
		return b->err;
	p[0] = r->round;
	p[1] = r->reason;
	stun_wr16(p + 2, r->race_ms);
	return 0;
}

int sig_attr_get_round(const struct stun_attr *a, struct sig_round *r)
{
	if (!a || !r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if (a->type != SIG_ATTR_ROUND || a->len < 4)
		return -EBADMSG;
	r->round = a->val[0];
	r->reason = a->val[1];
	r->race_ms = stun_rd16(a->val + 2);
	return 0;
}

const char *sig_reason_text(uint8_t reason)
{
	switch (reason) {
	case SIG_REASON_STRATEGY: return "relay from the start, allocated by the requester";
	case SIG_REASON_FAILED: return "every direct attempt failed";
	case SIG_REASON_TIMEOUT: return "the direct race's share of the deadline ran out";
	default: return "?";
	}
}

/* ---- EXCHANGE ---- */

int sig_put_exchange(struct stun_builder *b, const struct sig_exchange *r)
{
	size_t i;

	if (!b)
		return -EINVAL;
	if (!r || r->ncand > SIG_MAX_CANDIDATES || r->nmethods > SIG_MAX_METHODS)
		return stun_build_fail(b, -EINVAL);
	put_id(b, SIG_ATTR_PEER_ID, r->peer_id);
	stun_build_u32(b, SIG_ATTR_SESSION_ID, r->session_id);
	if (r->service[0])
		put_id(b, SIG_ATTR_SERVICE, r->service);
	for (i = 0; i < r->nmethods; i++)
		if (!sig_method_name(r->methods[i]))
			return stun_build_fail(b, -EINVAL);
	if (r->nmethods)
		stun_build_attr(b, SIG_ATTR_METHODS, r->methods, r->nmethods);
	for (i = 0; i < r->ncand; i++)
		sig_build_candidate(b, &r->cand[i]);
	if (r->has_prediction)
		put_prediction(b, &r->pred);
	if (r->has_isn)
		stun_build_u32(b, SIG_ATTR_ISN, r->isn);
	if (r->has_nat)
		sig_build_nat_info(b, &r->nat);
	if (r->has_key)
		stun_build_attr(b, SIG_ATTR_SESSION_KEY, r->key, sizeof(r->key));
	if (r->has_round)
		sig_build_round(b, &r->round);
	if (r->has_sender)
		sig_build_sender(b, &r->sender);
	return b->err;
}

int sig_get_exchange(const struct stun_msg *m, struct sig_exchange *r)
{
	const struct stun_attr *a;
	unsigned i;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_EXCHANGE, RELAYED)) < 0)
		return err;
	if ((err = get_id(m, SIG_ATTR_PEER_ID, r->peer_id, true)) < 0 ||
	    (err = get_u32(m, SIG_ATTR_SESSION_ID, &r->session_id, true)) < 0 ||
	    (err = get_id(m, SIG_ATTR_SERVICE, r->service, false)) < 0)
		return err;
	if ((a = stun_msg_find(m, SIG_ATTR_METHODS))) {
		/* unknown method ids are skipped: a newer peer may know more */
		for (i = 0; i < a->len; i++)
			if (sig_method_name(a->val[i]) && r->nmethods < SIG_MAX_METHODS)
				r->methods[r->nmethods++] = a->val[i];
	}
	for (i = 0; i < m->nattrs && i < STUN_MAX_ATTRS; i++) {
		if (m->attrs[i].type != SIG_ATTR_CANDIDATE)
			continue;
		if (r->ncand == SIG_MAX_CANDIDATES)
			return -E2BIG;
		if ((err = sig_attr_get_candidate(&m->attrs[i], &r->cand[r->ncand])) < 0)
			return err;
		r->ncand++;
	}
	if ((a = stun_msg_find(m, SIG_ATTR_PREDICTION))) {
		if ((err = get_prediction(a, &r->pred)) < 0)
			return err;
		r->has_prediction = true;
	}
	if ((a = stun_msg_find(m, SIG_ATTR_ISN))) {
		if ((err = stun_attr_get_u32(a, &r->isn)) < 0)
			return err;
		r->has_isn = true;
	}
	if ((a = stun_msg_find(m, SIG_ATTR_NAT_INFO)))
		r->has_nat = sig_attr_get_nat_info(a, &r->nat) == 0;
	/* comprehension-optional: a wrong length is ignored */
	if ((a = stun_msg_find(m, SIG_ATTR_SESSION_KEY)) && a->len == SIG_SESSION_KEY_LEN) {
		memcpy(r->key, a->val, SIG_SESSION_KEY_LEN);
		r->has_key = true;
	}
	/* comprehension-optional: too short is ignored */
	if ((a = stun_msg_find(m, SIG_ATTR_ROUND)))
		r->has_round = sig_attr_get_round(a, &r->round) == 0;
	get_sender(m, &r->has_sender, &r->sender);
	return 0;
}

/* ---- SCHEDULE ---- */

int sig_put_schedule(struct stun_builder *b, const struct sig_schedule *r)
{
	if (!b)
		return -EINVAL;
	if (!r || b->len < STUN_HDR_LEN)
		return stun_build_fail(b, -EINVAL);
	put_id(b, SIG_ATTR_PEER_ID, r->peer_id);
	stun_build_u32(b, SIG_ATTR_SESSION_ID, r->session_id);
	if (stun_type_class(stun_rd16(b->buf)) == STUN_REQUEST) {
		stun_build_u32(b, SIG_ATTR_DELAY, r->delay_ms);
	} else {
		stun_build_u64(b, SIG_ATTR_START_TIME, r->start_time_ms);
		stun_build_u64(b, SIG_ATTR_SERVER_TIME, r->server_time_ms);
	}
	if (r->has_sender)
		sig_build_sender(b, &r->sender);
	return b->err;
}

int sig_get_schedule(const struct stun_msg *m, struct sig_schedule *r)
{
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_SCHEDULE, RELAYED | BIT(STUN_SUCCESS))) < 0)
		return err;
	if ((err = get_id(m, SIG_ATTR_PEER_ID, r->peer_id, true)) < 0 ||
	    (err = get_u32(m, SIG_ATTR_SESSION_ID, &r->session_id, true)) < 0)
		return err;
	if (m->cls == STUN_REQUEST)
		return get_u32(m, SIG_ATTR_DELAY, &r->delay_ms, true);
	if ((err = get_u64(m, SIG_ATTR_START_TIME, &r->start_time_ms)) < 0 ||
	    (err = get_u64(m, SIG_ATTR_SERVER_TIME, &r->server_time_ms)) < 0)
		return err;
	get_sender(m, &r->has_sender, &r->sender);
	return 0;
}

/* ---- RELAY ---- */

int sig_put_relay(struct stun_builder *b, const struct sig_relay *r)
{
	if (!b)
		return -EINVAL;
	if (!r || r->len > SIG_DATA_MAX || (r->len && !r->data))
		return stun_build_fail(b, -EINVAL);
	put_id(b, SIG_ATTR_PEER_ID, r->peer_id);
	stun_build_attr(b, SIG_ATTR_DATA, r->data, r->len);
	if (r->has_sender)
		sig_build_sender(b, &r->sender);
	return b->err;
}

int sig_get_relay(const struct stun_msg *m, struct sig_relay *r)
{
	const struct stun_attr *a;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_RELAY, RELAYED)) < 0)
		return err;
	if ((err = get_id(m, SIG_ATTR_PEER_ID, r->peer_id, true)) < 0)
		return err;
	/* small control messages only: the server relays, it does not
	 * carry bulk data */
	if (!(a = stun_msg_find(m, SIG_ATTR_DATA)) || a->len > SIG_DATA_MAX)
		return -EBADMSG;
	r->data = a->val;
	r->len = a->len;
	get_sender(m, &r->has_sender, &r->sender);
	return 0;
}

/* ---- SYNACK (STUNT #1) ---- */

int sig_put_synack(struct stun_builder *b, const struct sig_synack *r)
{
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!r || (r->syn.present & ~SIG_SYN_ALL) || r->syn.port == 0)
		return stun_build_fail(b, -EINVAL);
	put_id(b, SIG_ATTR_PEER_ID, r->peer_id);
	stun_build_u32(b, SIG_ATTR_SESSION_ID, r->session_id);
	if (!(p = stun_build_reserve(b, SIG_ATTR_SYN, 16)))
		return b->err;
	stun_wr16(p, r->syn.port);
	stun_wr16(p + 2, r->syn.window);
	stun_wr32(p + 4, r->syn.seq);
	stun_wr16(p + 8, r->syn.mss);
	p[10] = r->syn.wscale;
	p[11] = r->syn.present;
	stun_wr32(p + 12, r->syn.ts_val);
	return b->err;
}

int sig_get_synack(const struct stun_msg *m, struct sig_synack *r)
{
	const struct stun_attr *a;
	const uint8_t *p;
	int err;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if ((err = stunt_expect(m, SIG_METHOD_SYNACK, BIT(STUN_REQUEST))) < 0)
		return err;
	if ((err = get_id(m, SIG_ATTR_PEER_ID, r->peer_id, true)) < 0 ||
	    (err = get_u32(m, SIG_ATTR_SESSION_ID, &r->session_id, true)) < 0)
		return err;
	if (!(a = stun_msg_find(m, SIG_ATTR_SYN)) || a->len != 16)
		return -EBADMSG;
	p = a->val;
	r->syn.port = stun_rd16(p);
	r->syn.window = stun_rd16(p + 2);
	r->syn.seq = stun_rd32(p + 4);
	r->syn.mss = stun_rd16(p + 8);
	r->syn.wscale = p[10];
	r->syn.present = p[11];
	r->syn.ts_val = stun_rd32(p + 12);
	/* RFC 7323 2.3: a shift above 14 is used as 14; above that it is junk */
	if (r->syn.port == 0 || (r->syn.present & ~SIG_SYN_ALL) || r->syn.wscale > 14)
		return -EBADMSG;
	return 0;
}
