// SPDX-License-Identifier: MIT
/*
 * stunt-server's rendezvous logic (server/rdv.c) without sockets: two
 * peers from the secrets file register with HMAC credentials, a stranger
 * and a wrong HMAC are refused, and messages between the two are relayed
 * with the sender's id in place of the target's.
 */
#include "server/rdv.h"
#include "server/secrets.h"
#include "proto/sig.h"
#include "tests/unit/tap.h"

#include <errno.h>

static const uint8_t txid[12] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };
static uint8_t rnd[16];
static struct srv_secrets secrets;
static struct srv_rdv rdv;
static uint8_t reqbuf[RDV_BUF], reply[RDV_BUF], fwd[RDV_BUF];
static struct stun_msg req, rep, ind;

static void setup(void)
{
	static const char text[] = "# lab peers\nlaptop s3cret-laptop\noffice-pc s3cret-office\neve s3cret-eve\n";
	unsigned bad;

	srv_rdv_free(&rdv);
	srv_secrets_free(&secrets);
	srv_secrets_parse(text, sizeof(text) - 1, &secrets, &bad);
	rdv.secrets = &secrets;
}

static struct rdv_conn conn_at(uint8_t last, uint16_t port)
{
	struct rdv_conn c;

	memset(&c, 0, sizeof(c));
	c.peer.family = STUN_FAMILY_IPV4;
	memcpy(c.peer.ip, (uint8_t[]){ 198, 18, 1, last }, 4);
	c.peer.port = port;
	return c;
}

/* Start a request of this method in reqbuf. */
static void start(struct stun_builder *b, uint16_t method)
{
	stun_build_init(b, reqbuf, sizeof(reqbuf), stun_type(method, STUN_REQUEST), txid);
}

/* Finish it, hand it to the server, parse what comes back. */
static struct rdv_out send_req(struct stun_builder *b, struct rdv_conn *c, uint64_t now)
{
	struct rdv_out o;
	int n = stun_build_finish(b);

	memset(&o, 0, sizeof(o));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(reqbuf, (size_t)n, &req), 0);
	rnd[0]++;
	CHECK_EQ(srv_rdv_handle(&rdv, c, &req, rnd, now, reply, fwd, &o), 0);
	memset(&rep, 0, sizeof(rep));
	memset(&ind, 0, sizeof(ind));
	if (o.reply_len)
		CHECK_EQ(stun_parse(reply, o.reply_len, &rep), 0);
	if (o.fwd_to || o.fwd_remote)
		CHECK_EQ(stun_parse(fwd, o.fwd_len, &ind), 0);
	return o;
}

static uint16_t error_code(void)
{
	struct stun_error e;

	if (rep.cls != STUN_ERROR ||
	    stun_attr_get_error(stun_msg_find(&rep, STUN_ATTR_ERROR_CODE), &e) < 0)
		return 0;
	return e.code;
}

/* REGISTER: its verdict, the nonce into *rr */
static enum rdv_verdict login_register(struct rdv_conn *c, const char *id,
				       struct sig_register_resp *rr)
{
	struct stun_builder b;
	struct sig_register r;
	struct rdv_out o;

	memset(&r, 0, sizeof(r));
	strcpy(r.peer_id, id);
	start(&b, SIG_METHOD_REGISTER);
	sig_put_register(&b, &r);
	o = send_req(&b, c, 1000);
	if (o.verdict == RDV_V_OK)
		CHECK_EQ(sig_get_register_resp(&rep, rr), 0);
	return o.verdict;
}

/* AUTHENTICATE for REGISTER's answer rr with this secret: the verdict */
static enum rdv_verdict login_auth(struct rdv_conn *c, const char *id, const char *secret,
				   const struct sig_register_resp *rr)
{
	struct stun_builder b;
	struct sig_auth a;

	memset(&a, 0, sizeof(a));
	strcpy(a.peer_id, id);
	memcpy(a.nonce, rr->nonce, rr->nonce_len);
	a.nonce_len = rr->nonce_len;
	sig_credential((const uint8_t *)secret, strlen(secret), id, rr->nonce, rr->nonce_len,
		       a.credential);
	start(&b, SIG_METHOD_AUTHENTICATE);
	sig_put_auth(&b, &a);
	return send_req(&b, c, 1000).verdict;
}

/* REGISTER + AUTHENTICATE with this secret. Returns the verdict. */
static enum rdv_verdict login(struct rdv_conn *c, const char *id, const char *secret)
{
	struct sig_register_resp rr;
	enum rdv_verdict v = login_register(c, id, &rr);

	return v != RDV_V_OK ? v : login_auth(c, id, secret, &rr);
}

static void known_peer_registers_with_its_hmac(void)
{
	struct rdv_conn a = conn_at(2, 40000);
	struct sig_auth_resp ar;

	setup();
	CHECK_EQ(login(&a, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK(a.authed);
	CHECK(strcmp(a.id, "laptop") == 0);
	CHECK(srv_rdv_find(&rdv, "laptop") == &a);
	CHECK_EQ(sig_get_auth_resp(&rep, &ar), 0);
	CHECK(stun_addr_equal(&ar.mapped, &a.peer));
	CHECK_EQ(ar.server_time_ms, 1000);
	CHECK_EQ(rdv.n, 1);
}

static void unknown_id_and_wrong_hmac_are_refused(void)
{
	struct rdv_conn a = conn_at(2, 40000);
	struct stun_builder b;
	struct sig_auth au;
	struct rdv_out o;

	setup();
	CHECK_EQ(login(&a, "mallory", "whatever"), RDV_V_UNKNOWN_ID);
	CHECK_EQ(error_code(), 403);
	CHECK_EQ(login(&a, "laptop", "s3cret-office"), RDV_V_AUTH_FAIL);
	CHECK_EQ(error_code(), 401);
	CHECK(!a.authed);
	CHECK_EQ(rdv.n, 0);

	/* the nonce was used up by the wrong try: the right credential for
	 * the same nonce is refused too (no replay, no second guess) */
	memset(&au, 0, sizeof(au));
	strcpy(au.peer_id, "laptop");
	memcpy(au.nonce, a.nonce, RDV_NONCE_LEN);
	au.nonce_len = RDV_NONCE_LEN;
	sig_credential((const uint8_t *)"s3cret-laptop", 13, "laptop", au.nonce, RDV_NONCE_LEN,
		       au.credential);
	start(&b, SIG_METHOD_AUTHENTICATE);
	sig_put_auth(&b, &au);
	o = send_req(&b, &a, 1000);
	CHECK_EQ(o.verdict, RDV_V_AUTH_FAIL);
	CHECK(!a.authed);

	/* AUTHENTICATE for another id than the one REGISTERed */
	CHECK_EQ(login(&a, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK_EQ(rdv.n, 1);
}

static void only_authenticated_peers_reach_registered_ones(void)
{
	struct rdv_conn a = conn_at(2, 40000), b = conn_at(3, 50000), s = conn_at(9, 1);
	struct stun_builder bl;
	struct sig_lookup l = { .peer_id = "office-pc" };
	struct sig_lookup_resp lr;
	struct rdv_out o;

	setup();
	/* not authenticated: 401 */
	start(&bl, SIG_METHOD_LOOKUP);
	sig_put_lookup(&bl, &l);
	o = send_req(&bl, &s, 1000);
	CHECK_EQ(o.verdict, RDV_V_AUTH_FAIL);
	CHECK_EQ(error_code(), 401);
	/* authenticated, peer not registered: 404 */
	CHECK_EQ(login(&a, "laptop", "s3cret-laptop"), RDV_V_OK);
	start(&bl, SIG_METHOD_LOOKUP);
	sig_put_lookup(&bl, &l);
	o = send_req(&bl, &a, 1000);
	CHECK_EQ(o.verdict, RDV_V_NO_PEER);
	CHECK_EQ(error_code(), 404);
	/* both registered: its endpoint */
	CHECK_EQ(login(&b, "office-pc", "s3cret-office"), RDV_V_OK);
	start(&bl, SIG_METHOD_LOOKUP);
	sig_put_lookup(&bl, &l);
	o = send_req(&bl, &a, 1000);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK_EQ(sig_get_lookup_resp(&rep, &lr), 0);
	CHECK(strcmp(lr.peer_id, "office-pc") == 0);
	CHECK(stun_addr_equal(&lr.endpoint, &b.peer));
	/* gone: 404 again */
	srv_rdv_drop(&rdv, &b);
	o = send_req((start(&bl, SIG_METHOD_LOOKUP), sig_put_lookup(&bl, &l), &bl), &a, 1000);
	CHECK_EQ(o.verdict, RDV_V_NO_PEER);
}

/* A fresh server with laptop (a, 198.18.1.2:40000) and office-pc (b,
 * 198.18.1.3:50000) logged in. */
static void two_peers(struct rdv_conn *a, struct rdv_conn *b)
{
	*a = conn_at(2, 40000);
	*b = conn_at(3, 50000);
	setup();
	CHECK_EQ(login(a, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK_EQ(login(b, "office-pc", "s3cret-office"), RDV_V_OK);
}

static void relay_exchange_and_schedule_are_forwarded(void)
{
	struct rdv_conn a, b;
	struct stun_builder bl;
	struct sig_relay rl, got;
	struct sig_exchange ex, gex;
	struct sig_schedule sc, gsc;
	struct rdv_out o;

	two_peers(&a, &b);

	memset(&rl, 0, sizeof(rl));
	strcpy(rl.peer_id, "office-pc");
	rl.data = (const uint8_t *)"won: simopen";
	rl.len = 12;
	start(&bl, SIG_METHOD_RELAY);
	sig_put_relay(&bl, &rl);
	o = send_req(&bl, &a, 1000);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK_EQ(rep.cls, STUN_SUCCESS);
	CHECK(o.fwd_to == &b);
	CHECK_EQ(ind.cls, STUN_INDICATION);
	CHECK_EQ(sig_get_relay(&ind, &got), 0);
	CHECK(strcmp(got.peer_id, "laptop") == 0);
	CHECK(got.len == 12 && memcmp(got.data, "won: simopen", 12) == 0);

	memset(&ex, 0, sizeof(ex));
	strcpy(ex.peer_id, "laptop");
	strcpy(ex.service, "vnc");
	ex.session_id = 77;
	ex.methods[0] = SIG_M_SIMOPEN;
	ex.nmethods = 1;
	ex.ncand = 2;
	ex.cand[0] = (struct sig_candidate){ SIG_CAND_HOST, 6, 100, b.peer };
	ex.cand[1] = (struct sig_candidate){ SIG_CAND_SRFLX, 6, 90, a.peer };
	ex.has_isn = true;
	ex.isn = 0xdeadbeef;
	start(&bl, SIG_METHOD_EXCHANGE);
	sig_put_exchange(&bl, &ex);
	o = send_req(&bl, &b, 1000);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK(o.fwd_to == &a);
	CHECK_EQ(sig_get_exchange(&ind, &gex), 0);
	CHECK(strcmp(gex.peer_id, "office-pc") == 0);
	CHECK(strcmp(gex.service, "vnc") == 0);
	CHECK_EQ(gex.session_id, 77);
	CHECK_EQ(gex.ncand, 2);
	CHECK(stun_addr_equal(&gex.cand[1].addr, &a.peer));
	CHECK_EQ(gex.isn, 0xdeadbeef);

	memset(&sc, 0, sizeof(sc));
	strcpy(sc.peer_id, "office-pc");
	sc.session_id = 77;
	sc.delay_ms = 1500;
	start(&bl, SIG_METHOD_SCHEDULE);
	sig_put_schedule(&bl, &sc);
	o = send_req(&bl, &a, 5000);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK_EQ(sig_get_schedule(&rep, &gsc), 0);
	CHECK_EQ(gsc.start_time_ms, 6500);
	CHECK_EQ(gsc.server_time_ms, 5000);
	CHECK(o.fwd_to == &b);
	CHECK_EQ(sig_get_schedule(&ind, &gsc), 0);
	CHECK(strcmp(gsc.peer_id, "laptop") == 0);
	CHECK_EQ(gsc.session_id, 77);
	CHECK_EQ(gsc.start_time_ms, 6500);

	/* too far ahead, and to oneself: 400 */
	sc.delay_ms = RDV_MAX_DELAY_MS + 1;
	start(&bl, SIG_METHOD_SCHEDULE);
	sig_put_schedule(&bl, &sc);
	o = send_req(&bl, &a, 5000);
	CHECK_EQ(o.verdict, RDV_V_BAD);
	CHECK(o.fwd_to == NULL);
	strcpy(rl.peer_id, "laptop");
	start(&bl, SIG_METHOD_RELAY);
	sig_put_relay(&bl, &rl);
	o = send_req(&bl, &a, 1000);
	CHECK_EQ(o.verdict, RDV_V_BAD);
	CHECK(o.fwd_to == NULL);
}

/* How many attributes of this type m carries. */
static unsigned count_attr(const struct stun_msg *m, uint16_t type)
{
	unsigned i, n = 0;

	for (i = 0; i < m->nattrs && i < STUN_MAX_ATTRS; i++)
		n += m->attrs[i].type == type;
	return n;
}

/* Every relayed indication carries SIG-SENDER: the sender's control
 * address as the server sees it. A SIG-SENDER the sender put in its own
 * request is dropped, so nobody vouches for itself. */
static void indications_carry_the_observed_sender(void)
{
	static const struct stun_addr forged = { .family = STUN_FAMILY_IPV4, .port = 5900,
						 .ip = { 203, 0, 113, 9 } };
	struct rdv_conn a, b;
	struct stun_builder bl;
	union {
		struct sig_relay rl;
		struct sig_exchange ex;
		struct sig_schedule sc;
	} q, got;
	struct rdv_out o;
	int forge;

	two_peers(&a, &b);
	/* EXCHANGE, with a forged SIG-SENDER naming a third party */
	memset(&q, 0, sizeof(q));
	strcpy(q.ex.peer_id, "laptop");
	strcpy(q.ex.service, "vnc");
	q.ex.session_id = 78;
	q.ex.ncand = 1;
	q.ex.cand[0] = (struct sig_candidate){ SIG_CAND_SRFLX, 6, SIG_M_REVERSAL, forged };
	q.ex.has_sender = true;
	q.ex.sender = forged;
	start(&bl, SIG_METHOD_EXCHANGE);
	sig_put_exchange(&bl, &q.ex);
	o = send_req(&bl, &b, 1000);
	CHECK_EQ(count_attr(&req, SIG_ATTR_SENDER), 1);
	CHECK(o.verdict == RDV_V_OK && o.fwd_to == &a);
	CHECK_EQ(count_attr(&ind, SIG_ATTR_SENDER), 1);
	CHECK_EQ(count_attr(&rep, SIG_ATTR_SENDER), 0);
	CHECK_EQ(sig_get_exchange(&ind, &got.ex), 0);
	CHECK(got.ex.has_sender && stun_addr_equal(&got.ex.sender, &b.peer));
	/* the candidates themselves are relayed as they are: the target judges */
	CHECK(stun_addr_equal(&got.ex.cand[0].addr, &forged));

	/* RELAY, without and with a forged one in the request */
	for (forge = 0; forge < 2; forge++) {
		q.rl = (struct sig_relay){ .peer_id = "office-pc", .data = (const uint8_t *)"78 cancel x",
					   .len = 11, .has_sender = forge, .sender = forged };
		start(&bl, SIG_METHOD_RELAY);
		sig_put_relay(&bl, &q.rl);
		o = send_req(&bl, &a, 1000);
		CHECK(o.fwd_to == &b);
		CHECK_EQ(count_attr(&ind, SIG_ATTR_SENDER), 1);
		CHECK_EQ(sig_get_relay(&ind, &got.rl), 0);
		CHECK(got.rl.has_sender && stun_addr_equal(&got.rl.sender, &a.peer));
	}

	/* SCHEDULE: the indication is built, not copied; the same holds */
	q.sc = (struct sig_schedule){ .peer_id = "office-pc", .session_id = 78, .delay_ms = 100,
				      .has_sender = true, .sender = forged };
	start(&bl, SIG_METHOD_SCHEDULE);
	sig_put_schedule(&bl, &q.sc);
	o = send_req(&bl, &a, 1000);
	CHECK(o.verdict == RDV_V_OK && o.fwd_to == &b);
	CHECK_EQ(count_attr(&rep, SIG_ATTR_SENDER), 0);
	CHECK_EQ(count_attr(&ind, SIG_ATTR_SENDER), 1);
	CHECK_EQ(sig_get_schedule(&ind, &got.sc), 0);
	CHECK(got.sc.has_sender && stun_addr_equal(&got.sc.sender, &a.peer));
}

/* AUTHENTICATE's success turns on the connection's sealing with the keys
 * stuntd derives from the same secret and nonce; a wrong login does not. A
 * relayed request's own SIG-SEQ is not copied into the indication (the
 * target's is added when it is sealed for the target). */
static void authenticate_starts_the_session_keys(void)
{
	struct rdv_conn a = conn_at(2, 40000), b = conn_at(3, 50000), w = conn_at(4, 1);
	struct sig_register r = { .peer_id = "laptop" };
	struct sig_register_resp rr;
	struct sig_keys k;
	struct sig_sec mine;
	struct stun_builder bl;
	struct sig_relay rl;
	struct rdv_out o;
	int n;

	setup();
	CHECK_EQ(login(&w, "laptop", "wrong"), RDV_V_AUTH_FAIL);
	CHECK(!w.sec.on);
	/* by hand, to keep the nonce */
	start(&bl, SIG_METHOD_REGISTER);
	sig_put_register(&bl, &r);
	send_req(&bl, &a, 1000);
	CHECK_EQ(sig_get_register_resp(&rep, &rr), 0);
	CHECK_EQ(login(&b, "office-pc", "s3cret-office"), RDV_V_OK);
	{
		struct sig_auth au = { .peer_id = "laptop" };

		memcpy(au.nonce, rr.nonce, rr.nonce_len);
		au.nonce_len = rr.nonce_len;
		sig_credential((const uint8_t *)"s3cret-laptop", 13, "laptop", rr.nonce,
			       rr.nonce_len, au.credential);
		start(&bl, SIG_METHOD_AUTHENTICATE);
		sig_put_auth(&bl, &au);
		CHECK_EQ(send_req(&bl, &a, 1000).verdict, RDV_V_OK);
	}
	CHECK(a.sec.on);
	CHECK_EQ(sig_session_keys((const uint8_t *)"s3cret-laptop", 13, "laptop", rr.nonce,
				  rr.nonce_len, &k), 0);
	CHECK_MEM(a.sec.rx_key, k.c2s, SIG_KEY_LEN);
	CHECK_MEM(a.sec.tx_key, k.s2c, SIG_KEY_LEN);
	/* a sealed RELAY from laptop: the indication carries no SIG-SEQ */
	sig_sec_start(&mine, &k, false);
	memset(&rl, 0, sizeof(rl));
	strcpy(rl.peer_id, "office-pc");
	rl.data = (const uint8_t *)"x";
	rl.len = 1;
	start(&bl, SIG_METHOD_RELAY);
	sig_put_relay(&bl, &rl);
	n = stun_build_finish(&bl);
	n = sig_sec_seal(&mine, reqbuf, (size_t)n, sizeof(reqbuf));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(reqbuf, (size_t)n, &req), 0);
	CHECK_EQ(sig_sec_open(&a.sec, &req), SIG_SEC_OK);
	rnd[0]++;
	CHECK_EQ(srv_rdv_handle(&rdv, &a, &req, rnd, 1000, reply, fwd, &o), 0);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK(o.fwd_to == &b);
	CHECK_EQ(stun_parse(fwd, o.fwd_len, &ind), 0);
	CHECK(stun_msg_find(&ind, SIG_ATTR_SEQ) == NULL);
	CHECK(ind.integrity_sha256 < 0);
}

static void newest_connection_of_an_id_wins(void)
{
	struct rdv_conn a1 = conn_at(2, 40000), a2 = conn_at(2, 40001);

	setup();
	CHECK_EQ(login(&a1, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK_EQ(login(&a2, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK(srv_rdv_find(&rdv, "laptop") == &a2);
	CHECK(!a1.authed && !a1.listed);
	CHECK_EQ(rdv.n, 1);
	srv_rdv_drop(&rdv, &a1);	/* closing the old one changes nothing */
	CHECK(srv_rdv_find(&rdv, "laptop") == &a2);
}

/* Under loss stuntd gives up on a connection whose AUTHENTICATE is not
 * answered in time and registers on a new one; the old one's AUTHENTICATE
 * may still arrive (TCP retransmits it after the daemon closed). It must
 * not take the id over: the new connection would be refused from then on
 * ("Authenticate first", 401, seen as 27 LOOKUPs in a row refused). */
static void late_authenticate_does_not_displace_a_newer_registration(void)
{
	struct rdv_conn a1 = conn_at(2, 40000), a2 = conn_at(2, 40001), b = conn_at(3, 40000);
	struct sig_register_resp rr1;
	struct sig_lookup l;
	struct stun_builder sb;

	setup();
	CHECK_EQ(login(&b, "office-pc", "s3cret-office"), RDV_V_OK);
	CHECK_EQ(login_register(&a1, "laptop", &rr1), RDV_V_OK);
	CHECK_EQ(login(&a2, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK_EQ(login_auth(&a1, "laptop", "s3cret-laptop", &rr1), RDV_V_AUTH_FAIL);
	CHECK_EQ(error_code(), STUN_ERR_STALE_NONCE);
	CHECK(!a1.authed && !a1.listed && !a1.sec.on);
	CHECK(srv_rdv_find(&rdv, "laptop") == &a2);
	CHECK(a2.authed && a2.listed);
	/* and the new connection is still served */
	memset(&l, 0, sizeof(l));
	strcpy(l.peer_id, "office-pc");
	start(&sb, SIG_METHOD_LOOKUP);
	sig_put_lookup(&sb, &l);
	CHECK_EQ(send_req(&sb, &a2, 1000).verdict, RDV_V_OK);
	CHECK_EQ(rep.cls, STUN_SUCCESS);
}

static void malformed_and_unknown_are_refused(void)
{
	struct rdv_conn a = conn_at(2, 40000);
	struct stun_builder bl;
	struct rdv_out o;

	setup();
	/* REGISTER without SIG-PEER-ID */
	start(&bl, SIG_METHOD_REGISTER);
	o = send_req(&bl, &a, 1000);
	CHECK_EQ(o.verdict, RDV_V_BAD);
	CHECK_EQ(error_code(), 400);
	/* an unknown comprehension-required attribute */
	start(&bl, SIG_METHOD_REGISTER);
	stun_build_text(&bl, SIG_ATTR_PEER_ID, "laptop", 6);
	stun_build_u32(&bl, 0x5AFF, 0);
	o = send_req(&bl, &a, 1000);
	CHECK_EQ(error_code(), 420);
	/* an indication is not answered */
	stun_build_init(&bl, reqbuf, sizeof(reqbuf), stun_type(SIG_METHOD_RELAY, STUN_INDICATION), txid);
	stun_build_text(&bl, SIG_ATTR_PEER_ID, "laptop", 6);
	{
		int n = stun_build_finish(&bl);

		CHECK_EQ(stun_parse(reqbuf, (size_t)n, &req), 0);
		CHECK_EQ(srv_rdv_handle(&rdv, &a, &req, rnd, 0, reply, fwd, &o), 0);
		CHECK_EQ(o.verdict, RDV_V_DROP);
		CHECK_EQ(o.reply_len, 0);
	}
	CHECK_EQ(srv_rdv_handle(NULL, &a, &req, rnd, 0, reply, fwd, &o), -EINVAL);
	CHECK(srv_rdv_is_ours(SIG_METHOD_RELAY) && !srv_rdv_is_ours(STUN_METHOD_BINDING));
	srv_rdv_free(&rdv);
	srv_secrets_free(&secrets);
}

static enum rdv_verdict exchange(struct rdv_conn *from, const char *to, uint32_t sid)
{
	struct stun_builder bl;
	struct sig_exchange ex;

	memset(&ex, 0, sizeof(ex));
	strcpy(ex.peer_id, to);
	ex.session_id = sid;
	start(&bl, SIG_METHOD_EXCHANGE);
	sig_put_exchange(&bl, &ex);
	return send_req(&bl, from, 2000).verdict;
}

static struct rdv_out synack(struct rdv_conn *from, const char *to, uint32_t sid, uint16_t port,
			     uint32_t seq, uint32_t tsval)
{
	struct stun_builder bl;
	struct sig_synack r = { .session_id = sid,
				.syn = { .port = port, .window = 64240, .seq = seq, .mss = 1460,
					 .wscale = 7, .present = SIG_SYN_ALL, .ts_val = tsval } };

	strcpy(r.peer_id, to);
	start(&bl, SIG_METHOD_SYNACK);
	sig_put_synack(&bl, &r);
	return send_req(&bl, from, 3000);
}

static void synack_only_for_an_agreed_session(void)
{
	struct rdv_conn a = conn_at(2, 40000), b = conn_at(3, 50000), e = conn_at(4, 1234);
	struct rdv_out o;
	uint32_t ip;

	setup();
	rdv.raw_ok = true;
	CHECK_EQ(login(&a, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK_EQ(login(&b, "office-pc", "s3cret-office"), RDV_V_OK);
	CHECK_EQ(login(&e, "eve", "s3cret-eve"), RDV_V_OK);
	/* no session at all */
	o = synack(&a, "office-pc", 7, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	CHECK_EQ(error_code(), 403);
	/* one EXCHANGE is a proposal, not an agreement */
	CHECK_EQ(exchange(&a, "office-pc", 7), RDV_V_OK);
	o = synack(&a, "office-pc", 7, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	CHECK_EQ(exchange(&b, "laptop", 7), RDV_V_OK);
	/* a third party naming either side, another session id */
	o = synack(&e, "office-pc", 7, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	o = synack(&e, "laptop", 7, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	o = synack(&a, "office-pc", 8, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	/* the first side: kept, nothing sent */
	o = synack(&a, "office-pc", 7, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK_EQ(rep.cls, STUN_SUCCESS);
	CHECK_EQ(o.nsynack, 0);
	CHECK(o.fwd_to == NULL);
	/* the second: both SYN-ACKs, each to its side's own address */
	o = synack(&b, "laptop", 7, 40002, 0xfffffffeu, 22);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK_EQ(o.nsynack, 2);
	memcpy(&ip, a.peer.ip, 4);
	CHECK_EQ(o.synack[0].daddr, ip);
	CHECK_EQ(o.synack[0].dport, 40001);
	CHECK_EQ(o.synack[0].sport, 40002);
	CHECK_EQ(o.synack[0].seq, 0xfffffffeu);
	CHECK_EQ(o.synack[0].ack, 101u);
	CHECK_EQ(o.synack[0].opt.ts_val, 22u);
	CHECK_EQ(o.synack[0].opt.ts_ecr, 11u);
	CHECK_EQ(o.synack[1].saddr, ip);
	memcpy(&ip, b.peer.ip, 4);
	CHECK_EQ(o.synack[0].saddr, ip);
	CHECK_EQ(o.synack[1].daddr, ip);
	CHECK_EQ(o.synack[1].dport, 40002);
	CHECK_EQ(o.synack[1].seq, 100u);
	CHECK_EQ(o.synack[1].ack, 0xffffffffu);
	/* once per session: another SYN is refused */
	o = synack(&b, "laptop", 7, 40002, 5, 22);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	o = synack(&b, "laptop", 7, 40009, 0xfffffffeu, 22);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	/* the same SYN again (its SYN-ACK was lost): that side's SYN-ACK only,
	 * to its own address, SIG_SYNACK_REPEATS times */
	for (int k = 0; k < SIG_SYNACK_REPEATS; k++) {
		o = synack(&a, "office-pc", 7, 40001, 100, 11);
		CHECK_EQ(o.verdict, RDV_V_OK);
		CHECK_EQ(o.nsynack, 1);
		memcpy(&ip, a.peer.ip, 4);
		CHECK_EQ(o.synack[0].daddr, ip);
		CHECK_EQ(o.synack[0].dport, 40001);
		CHECK_EQ(o.synack[0].seq, 0xfffffffeu);
		CHECK_EQ(o.synack[0].ack, 101u);
	}
	o = synack(&a, "office-pc", 7, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	/* the other side's repeats are its own */
	o = synack(&b, "laptop", 7, 40002, 0xfffffffeu, 22);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK_EQ(o.nsynack, 1);
	memcpy(&ip, b.peer.ip, 4);
	CHECK_EQ(o.synack[0].daddr, ip);
	CHECK_EQ(o.synack[0].dport, 40002);
	/* a third party repeating one of them gets nothing */
	o = synack(&e, "laptop", 7, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	/* the session expires */
	CHECK_EQ(exchange(&a, "office-pc", 9), RDV_V_OK);
	CHECK_EQ(exchange(&b, "laptop", 9), RDV_V_OK);
	{
		struct stun_builder bl;
		struct sig_synack r = { .peer_id = "office-pc", .session_id = 9,
					.syn = { .port = 1, .seq = 1 } };

		start(&bl, SIG_METHOD_SYNACK);
		sig_put_synack(&bl, &r);
		CHECK_EQ(send_req(&bl, &a, 2000 + RDV_SESSION_MS).verdict, RDV_V_FORBIDDEN);
	}
	/* no raw socket: 500 */
	rdv.raw_ok = false;
	CHECK_EQ(exchange(&a, "office-pc", 10), RDV_V_OK);
	CHECK_EQ(exchange(&b, "laptop", 10), RDV_V_OK);
	o = synack(&a, "office-pc", 10, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_UNAVAILABLE);
	CHECK_EQ(error_code(), 500);
	/* --no-spoof: 403, and no SYN-ACK leaves */
	rdv.raw_ok = true;
	rdv.no_spoof = true;
	CHECK_EQ(exchange(&a, "office-pc", 11), RDV_V_OK);
	CHECK_EQ(exchange(&b, "laptop", 11), RDV_V_OK);
	o = synack(&a, "office-pc", 11, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_UNAVAILABLE);
	CHECK_EQ(error_code(), 403);
	CHECK_EQ(o.nsynack, 0);
	o = synack(&b, "laptop", 11, 40002, 200, 12);
	CHECK_EQ(o.nsynack, 0);
	rdv.no_spoof = false;
}

static enum rdv_verdict exchange_at(struct rdv_conn *from, const char *to, uint32_t sid,
				    uint64_t now)
{
	struct stun_builder bl;
	struct sig_exchange ex;

	memset(&ex, 0, sizeof(ex));
	strcpy(ex.peer_id, to);
	ex.session_id = sid;
	start(&bl, SIG_METHOD_EXCHANGE);
	sig_put_exchange(&bl, &ex);
	return send_req(&bl, from, now).verdict;
}

static enum rdv_verdict relay_at(struct rdv_conn *from, const char *to, uint64_t now)
{
	struct stun_builder bl;
	struct sig_relay rl;

	memset(&rl, 0, sizeof(rl));
	strcpy(rl.peer_id, to);
	rl.data = (const uint8_t *)"x";
	rl.len = 1;
	start(&bl, SIG_METHOD_RELAY);
	sig_put_relay(&bl, &rl);
	return send_req(&bl, from, now).verdict;
}

static void relayed_signalling_has_a_budget_per_id(void)
{
	struct rdv_conn a, b, a2 = conn_at(2, 40009), a3 = conn_at(2, 40010), e = conn_at(4, 1);
	struct stun_builder bl;
	struct sig_lookup lk;
	struct rdv_out o;
	unsigned i, ok = 0, limited = 0;

	two_peers(&a, &b);
	rdv.sig_rate = 2;
	rdv.sig_burst = 5;
	/* the registrations above came before the budget: log in again */
	a = conn_at(2, 40000);
	CHECK_EQ(login(&a, "laptop", "s3cret-laptop"), RDV_V_OK);
	for (i = 0; i < 8; i++) {
		enum rdv_verdict v = i % 2 ? relay_at(&a, "office-pc", 5000) :
				     exchange_at(&a, "office-pc", 100 + i, 5000);

		ok += v == RDV_V_OK;
		if (v == RDV_V_LIMITED) {
			limited++;
			CHECK_EQ(error_code(), 429);
		}
	}
	CHECK_EQ(ok, 5);
	CHECK_EQ(limited, 3);
	/* nothing was relayed for the refused ones */
	CHECK(relay_at(&a, "office-pc", 5000) == RDV_V_LIMITED);
	/* to an unregistered peer costs a token too (no free probing) */
	CHECK_EQ(relay_at(&a, "nobody-here", 5000), RDV_V_LIMITED);
	/* LOOKUP is not relayed signalling */
	memset(&lk, 0, sizeof(lk));
	strcpy(lk.peer_id, "office-pc");
	start(&bl, SIG_METHOD_LOOKUP);
	sig_put_lookup(&bl, &lk);
	o = send_req(&bl, &a, 5000);
	CHECK_EQ(o.verdict, RDV_V_OK);
	/* the other peer's budget is its own */
	CHECK_EQ(relay_at(&b, "laptop", 5000), RDV_V_OK);
	/* a reconnection of the same id keeps the empty bucket */
	CHECK_EQ(login(&a2, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK_EQ(relay_at(&a2, "office-pc", 5000), RDV_V_LIMITED);
	/* 2 per second: one second later, two more */
	CHECK_EQ(relay_at(&a2, "office-pc", 6000), RDV_V_OK);
	CHECK_EQ(relay_at(&a2, "office-pc", 6000), RDV_V_OK);
	CHECK_EQ(relay_at(&a2, "office-pc", 6000), RDV_V_LIMITED);
	/* closing and coming back does not refill it either */
	srv_rdv_drop(&rdv, &a2);
	CHECK_EQ(login(&a3, "laptop", "s3cret-laptop"), RDV_V_OK);
	CHECK_EQ(relay_at(&a3, "office-pc", 6000), RDV_V_LIMITED);
	CHECK_EQ(relay_at(&a3, "office-pc", 6500), RDV_V_OK);
	/* another id that was never here starts with a full bucket */
	CHECK_EQ(login(&e, "eve", "s3cret-eve"), RDV_V_OK);
	for (i = 0, ok = 0; i < 6; i++)
		ok += relay_at(&e, "office-pc", 6500) == RDV_V_OK;
	CHECK_EQ(ok, 5);
	CHECK_EQ(rdv_verdict_name(RDV_V_LIMITED)[0], 's');
	srv_rdv_free(&rdv);
	rdv.sig_rate = rdv.sig_burst = 0;
}

static void one_id_cannot_push_out_the_others_sessions(void)
{
	struct rdv_conn a, b, e = conn_at(4, 1234);
	struct rdv_out o;
	unsigned i, n;
	bool newest, oldest;

	two_peers(&a, &b);
	rdv.raw_ok = true;
	CHECK_EQ(login(&e, "eve", "s3cret-eve"), RDV_V_OK);
	/* laptop and office-pc agree on session 7 */
	CHECK_EQ(exchange_at(&a, "office-pc", 7, 2000), RDV_V_OK);
	CHECK_EQ(exchange_at(&b, "laptop", 7, 2000), RDV_V_OK);
	/* eve starts more sessions than the whole table holds */
	for (i = 0; i < RDV_SESSIONS_MAX + 10; i++)
		CHECK_EQ(exchange_at(&e, "laptop", 1000 + i, 2001 + i), RDV_V_OK);
	CHECK_EQ(rdv.share_reused, RDV_SESSIONS_MAX + 10 - RDV_SESSION_SHARE);
	/* session 7 is still there: its SYN-ACKs go out */
	o = synack(&a, "office-pc", 7, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_OK);
	o = synack(&b, "laptop", 7, 40002, 200, 22);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK_EQ(o.nsynack, 2);
	/* eve holds exactly her share: her newest sessions, not her oldest */
	for (i = 0, n = 0, newest = false, oldest = false; i < RDV_SESSIONS_MAX; i++) {
		const struct rdv_session *x = &rdv.sess[i];

		if (!x->expires_ms || strcmp(x->id[0], "eve"))
			continue;
		n++;
		newest |= x->sid == 1000 + RDV_SESSIONS_MAX + 9;
		oldest |= x->sid == 1000;
	}
	CHECK_EQ(n, RDV_SESSION_SHARE);
	CHECK(newest && !oldest);
	/* at its share, an id replaces first a session whose SYN-ACKs are
	 * out, even a newer one, then its oldest */
	srv_rdv_forget(&rdv, "laptop");
	for (i = 0; i < RDV_SESSION_SHARE; i++)
		CHECK_EQ(exchange_at(&a, "office-pc", 2000 + i, 3001 + i), RDV_V_OK);
	CHECK_EQ(exchange_at(&b, "laptop", 2000 + RDV_SESSION_SHARE - 1, 3100), RDV_V_OK);
	CHECK_EQ(synack(&a, "office-pc", 2000 + RDV_SESSION_SHARE - 1, 40001, 1, 1).verdict,
		 RDV_V_OK);
	CHECK_EQ(synack(&b, "laptop", 2000 + RDV_SESSION_SHARE - 1, 40002, 2, 2).nsynack, 2);
	CHECK_EQ(exchange_at(&a, "office-pc", 3000, 3200), RDV_V_OK);
	CHECK_EQ(exchange_at(&b, "laptop", 2000, 3200), RDV_V_OK);
	CHECK_EQ(synack(&a, "office-pc", 2000, 40001, 100, 11).verdict, RDV_V_OK);
	/* forgetting an id (revoked) drops its sessions */
	CHECK_EQ(exchange_at(&a, "office-pc", 8, 3000), RDV_V_OK);
	CHECK_EQ(exchange_at(&b, "laptop", 8, 3000), RDV_V_OK);
	srv_rdv_forget(&rdv, "office-pc");
	o = synack(&a, "office-pc", 8, 40001, 100, 11);
	CHECK_EQ(o.verdict, RDV_V_FORBIDDEN);
	srv_rdv_free(&rdv);
}

/* The cluster's memory of other servers' peers (server/cluster.c): one
 * peer, "office-pc", on server "s2", while remote_now is before 5000. */
static unsigned remote_asked;
static bool remote_find(const void *ctx, const char *id, uint64_t now, struct rdv_remote *out)
{
	(void)ctx;
	remote_asked++;
	if (strcmp(id, "office-pc") || now >= 5000)
		return false;
	strcpy(out->server, "s2");
	out->endpoint = (struct stun_addr){ .family = STUN_FAMILY_IPV4, .port = 4242,
					    .ip = { 198, 51, 100, 7 } };
	return true;
}

static void peers_of_another_server(void)
{
	struct rdv_conn a = conn_at(2, 40000), b = conn_at(3, 40001);
	struct stun_builder bl;
	struct sig_lookup lk = { .peer_id = "office-pc" };
	struct sig_lookup_resp lr;
	struct sig_relay rl, got;
	struct rdv_out o;

	setup();
	rdv.remote_find = remote_find;
	CHECK_EQ(login(&a, "laptop", "s3cret-laptop"), RDV_V_OK);
	/* LOOKUP: the endpoint its server saw */
	start(&bl, SIG_METHOD_LOOKUP);
	sig_put_lookup(&bl, &lk);
	o = send_req(&bl, &a, 1000);
	CHECK_EQ(o.verdict, RDV_V_OK);
	CHECK_EQ(sig_get_lookup_resp(&rep, &lr), 0);
	CHECK(!strcmp(lr.peer_id, "office-pc") && lr.endpoint.port == 4242);
	CHECK(!o.fwd_remote && !o.fwd_to);
	/* RELAY: the indication as for a local peer, for the caller to send */
	memset(&rl, 0, sizeof(rl));
	strcpy(rl.peer_id, "office-pc");
	rl.data = (const uint8_t *)"hi";
	rl.len = 2;
	start(&bl, SIG_METHOD_RELAY);
	sig_put_relay(&bl, &rl);
	o = send_req(&bl, &a, 1000);
	CHECK(o.verdict == RDV_V_OK && rep.cls == STUN_SUCCESS);
	CHECK(o.fwd_remote && !o.fwd_to && !strcmp(o.fwd_id, "office-pc"));
	CHECK(!strcmp(o.remote.server, "s2"));
	CHECK_EQ(ind.cls, STUN_INDICATION);
	CHECK_EQ(sig_get_relay(&ind, &got), 0);
	CHECK(!strcmp(got.peer_id, "laptop") && got.len == 2 && !memcmp(got.data, "hi", 2));
	CHECK(got.has_sender && stun_addr_equal(&got.sender, &a.peer));
	/* SYNACK: both SYN-ACKs must leave one server */
	o = synack(&a, "office-pc", 1, 5000, 1, 1);
	CHECK_EQ(o.verdict, RDV_V_UNAVAILABLE);
	CHECK_EQ(error_code(), 403);
	CHECK(!o.nsynack && !o.fwd_remote);
	/* a local registration comes first */
	CHECK_EQ(login(&b, "office-pc", "s3cret-office"), RDV_V_OK);
	remote_asked = 0;
	start(&bl, SIG_METHOD_RELAY);
	sig_put_relay(&bl, &rl);
	o = send_req(&bl, &a, 1000);
	CHECK(o.fwd_to == &b && !o.fwd_remote);
	CHECK_EQ(remote_asked, 0);
	srv_rdv_drop(&rdv, &b);
	/* lapsed from the cluster's memory: 404 */
	start(&bl, SIG_METHOD_LOOKUP);
	sig_put_lookup(&bl, &lk);
	o = send_req(&bl, &a, 6000);
	CHECK_EQ(o.verdict, RDV_V_NO_PEER);
	CHECK_EQ(error_code(), 404);
	rdv.remote_find = NULL;
}

int main(void)
{
	RUN(authenticate_starts_the_session_keys);
	RUN(known_peer_registers_with_its_hmac);
	RUN(unknown_id_and_wrong_hmac_are_refused);
	RUN(only_authenticated_peers_reach_registered_ones);
	RUN(relay_exchange_and_schedule_are_forwarded);
	RUN(indications_carry_the_observed_sender);
	RUN(newest_connection_of_an_id_wins);
	RUN(late_authenticate_does_not_displace_a_newer_registration);
	RUN(malformed_and_unknown_are_refused);
	RUN(synack_only_for_an_agreed_session);
	RUN(relayed_signalling_has_a_budget_per_id);
	RUN(one_id_cannot_push_out_the_others_sessions);
	RUN(peers_of_another_server);
	return TAP_DONE();
}
