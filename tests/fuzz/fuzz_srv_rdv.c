// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for stunt-server's rendezvous logic (server/rdv.c):
 * the input is a sequence of [connection byte][STUN message] records fed
 * to three connections sharing one registry, so the fuzzer can walk
 * REGISTER -> AUTHENTICATE -> RELAY paths; two of them start logged in
 * through the real exchange (fixed secrets, all-zero nonce). Checked: the
 * registry only holds authenticated connections of known ids, replies and
 * indications parse, an indication goes only to a registered connection
 * other than the sender.
 */
#include "server/rdv.h"
#include "server/secrets.h"

#include <stdlib.h>
#include <string.h>

/* Log c in as id through the real REGISTER / AUTHENTICATE exchange. */
static void login(struct srv_rdv *rdv, struct rdv_conn *c, const char *id, const char *secret)
{
	static const uint8_t txid[12], rnd[16];
	uint8_t buf[RDV_BUF], reply[RDV_BUF], fwd[RDV_BUF];
	struct stun_builder b;
	struct sig_register reg = { 0 };
	struct sig_auth au = { 0 };
	struct stun_msg m;
	struct rdv_out o;

	strcpy(reg.peer_id, id);
	stun_build_init(&b, buf, sizeof(buf), stun_type(SIG_METHOD_REGISTER, STUN_REQUEST), txid);
	sig_put_register(&b, &reg);
	if (stun_parse(buf, (size_t)stun_build_finish(&b), &m) != 0 ||
	    srv_rdv_handle(rdv, c, &m, rnd, 0, reply, fwd, &o) != 0)
		abort();
	strcpy(au.peer_id, id);
	au.nonce_len = RDV_NONCE_LEN;
	sig_credential((const uint8_t *)secret, strlen(secret), id, au.nonce, au.nonce_len,
		       au.credential);
	stun_build_init(&b, buf, sizeof(buf), stun_type(SIG_METHOD_AUTHENTICATE, STUN_REQUEST), txid);
	sig_put_auth(&b, &au);
	if (stun_parse(buf, (size_t)stun_build_finish(&b), &m) != 0 ||
	    srv_rdv_handle(rdv, c, &m, rnd, 0, reply, fwd, &o) != 0 || !c->authed)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "a s\nbb t\n";
	static uint8_t reply[RDV_BUF], fwd[RDV_BUF];
	static const uint8_t rnd[16];
	struct srv_secrets secrets;
	struct srv_rdv rdv = { 0 };
	struct rdv_conn conns[3];
	unsigned bad, i;
	size_t off = 0;

	memset(conns, 0, sizeof(conns));
	if (srv_secrets_parse(text, sizeof(text) - 1, &secrets, &bad) != 0)
		abort();
	rdv.secrets = &secrets;
	rdv.raw_ok = true;	/* SYNACK reachable */
	/* two of the three start authenticated, so relaying is reachable */
	login(&rdv, &conns[0], "a", "s");
	login(&rdv, &conns[1], "bb", "t");
	while (off + 1 < size) {
		struct rdv_conn *c = &conns[data[off] % 3];
		struct stun_msg m, r;
		struct rdv_out o;
		int flen;

		off++;
		flen = stun_frame_len(data + off, size - off);
		if (flen <= 0 || (size_t)flen > size - off)
			break;
		if (stun_parse(data + off, (size_t)flen, &m) == 0) {
			if (srv_rdv_handle(&rdv, c, &m, rnd, 1000, reply, fwd, &o) != 0)
				abort();
			if (o.reply_len && (o.reply_len > RDV_BUF || stun_parse(reply, o.reply_len, &r) != 0))
				abort();
			if (o.fwd_to && (o.fwd_to == c || !o.fwd_to->authed || !o.fwd_to->listed ||
					 stun_parse(fwd, o.fwd_len, &r) != 0 || r.cls != STUN_INDICATION))
				abort();
			/* SYN-ACKs only in pairs, only on success, only to and
			 * from the two sides' own addresses */
			if (o.nsynack && (o.nsynack != 2 || o.verdict != RDV_V_OK ||
					  o.synack[0].daddr != o.synack[1].saddr ||
					  o.synack[1].daddr != o.synack[0].saddr))
				abort();
		}
		off += (size_t)flen;
		for (i = 0; i < rdv.n; i++)
			if (!rdv.reg[i]->authed ||
			    !srv_secrets_find(&secrets, rdv.reg[i]->id, strlen(rdv.reg[i]->id)))
				abort();
	}
	srv_rdv_free(&rdv);
	srv_secrets_free(&secrets);
	return 0;
}
