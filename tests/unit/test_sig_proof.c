// SPDX-License-Identifier: MIT
/*
 * The connection proof (proto/sig_proof.c): a known vector computed
 * independently (Python's hmac), and that every input changes it: the key
 * halves (a host on another LAN has neither), their order, the role (no
 * reflection), the session and the method; a bad role is refused.
 * Also the host candidates' pure classifiers (daemon/hostaddr.c).
 */
#include "daemon/hostaddr.h"
#include "proto/sig_proof.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static uint8_t req[SIG_SESSION_KEY_LEN], resp[SIG_SESSION_KEY_LEN];

static void vector(void)
{
	static const uint8_t want[SIG_PROOF_LEN] = {
		0x1e, 0x5a, 0x1e, 0x41, 0xb4, 0xff, 0x62, 0x01,
		0xba, 0xb4, 0xd2, 0x56, 0x57, 0xc6, 0xfe, 0x6c,
	};
	uint8_t p[SIG_PROOF_LEN];

	CHECK_EQ(sig_conn_proof(req, resp, SIG_PROOF_REQUESTER, 0x12345678, SIG_M_HOST, p), 0);
	CHECK(!memcmp(p, want, sizeof(want)));
	CHECK(sig_conn_proof_ok(req, resp, SIG_PROOF_REQUESTER, 0x12345678, SIG_M_HOST, want));
}

static void every_input_counts(void)
{
	uint8_t p[SIG_PROOF_LEN], other[SIG_SESSION_KEY_LEN];

	CHECK_EQ(sig_conn_proof(req, resp, SIG_PROOF_RESPONDER, 7, SIG_M_HOST, p), 0);
	CHECK(sig_conn_proof_ok(req, resp, SIG_PROOF_RESPONDER, 7, SIG_M_HOST, p));
	/* reflected as the other role */
	CHECK(!sig_conn_proof_ok(req, resp, SIG_PROOF_REQUESTER, 7, SIG_M_HOST, p));
	/* another session, another method */
	CHECK(!sig_conn_proof_ok(req, resp, SIG_PROOF_RESPONDER, 8, SIG_M_HOST, p));
	CHECK(!sig_conn_proof_ok(req, resp, SIG_PROOF_RESPONDER, 7, SIG_M_SIMOPEN, p));
	/* halves swapped, or one of them not known */
	CHECK(!sig_conn_proof_ok(resp, req, SIG_PROOF_RESPONDER, 7, SIG_M_HOST, p));
	memcpy(other, resp, sizeof(other));
	other[15] ^= 1;
	CHECK(!sig_conn_proof_ok(req, other, SIG_PROOF_RESPONDER, 7, SIG_M_HOST, p));
	/* one bit of the proof */
	p[0] ^= 0x80;
	CHECK(!sig_conn_proof_ok(req, resp, SIG_PROOF_RESPONDER, 7, SIG_M_HOST, p));
	CHECK_EQ(sig_conn_proof(req, resp, 'X', 7, SIG_M_HOST, p), -EINVAL);
	CHECK(!sig_conn_proof_ok(req, resp, 'X', 7, SIG_M_HOST, p));
}

static void host_addresses(void)
{
	struct d_hostaddr own[2] = {
		{ inet_addr("10.9.0.5"), inet_addr("255.255.0.0") },
		{ inet_addr("192.168.1.20"), inet_addr("255.255.255.0") },
	};
	uint32_t peer[3] = { inet_addr("172.17.0.2"), inet_addr("192.168.1.30"),
			     inet_addr("10.9.3.3") };

	CHECK(d_hostaddr_usable(inet_addr("192.168.1.1")));
	CHECK(d_hostaddr_usable(inet_addr("198.51.100.7")));
	CHECK(!d_hostaddr_usable(inet_addr("127.0.0.1")));
	CHECK(!d_hostaddr_usable(inet_addr("169.254.3.4")));
	CHECK(!d_hostaddr_usable(inet_addr("0.1.2.3")));
	CHECK(!d_hostaddr_usable(inet_addr("224.0.0.1")));
	CHECK(!d_hostaddr_usable(inet_addr("255.255.255.255")));
	CHECK(d_hostaddr_private(inet_addr("10.0.0.1")));
	CHECK(d_hostaddr_private(inet_addr("172.31.255.1")));
	CHECK(!d_hostaddr_private(inet_addr("172.32.0.1")));
	CHECK(d_hostaddr_private(inet_addr("192.168.0.1")));
	CHECK(d_hostaddr_private(inet_addr("100.127.0.1")));
	CHECK(!d_hostaddr_private(inet_addr("100.128.0.1")));
	CHECK(!d_hostaddr_private(inet_addr("198.51.100.10")));
	CHECK(!d_hostaddr_private(inet_addr("127.0.0.1")));
	{
		/* a gateway's WAN in a carrier NAT's inside, and its LAN */
		const struct d_hostaddr cg[2] = {
			{ inet_addr("100.64.0.2"), inet_addr("255.255.255.0") },
			{ inet_addr("10.1.0.1"), inet_addr("255.255.255.0") },
		};

		CHECK(d_hostaddr_carrier(cg, 2, inet_addr("100.64.0.3")));
		CHECK(!d_hostaddr_carrier(cg, 2, inet_addr("100.64.0.2")));	/* ours */
		CHECK(!d_hostaddr_carrier(cg, 2, inet_addr("100.64.1.3")));	/* off link */
		CHECK(!d_hostaddr_carrier(cg, 2, inet_addr("100.100.7.9")));	/* a /32 tailnet's */
		CHECK(!d_hostaddr_carrier(cg, 2, inet_addr("10.1.0.10")));	/* a LAN: listen only */
		CHECK(!d_hostaddr_carrier(cg + 1, 1, inet_addr("100.64.0.3")));	/* no CGN address of ours */
		CHECK(!d_hostaddr_carrier(cg, 0, inet_addr("100.64.0.3")));
	}
	/* the first peer address in one of our subnets, else the first */
	CHECK_EQ(d_hostaddr_pick(own, 2, peer, 3), 1);
	CHECK_EQ(d_hostaddr_pick(own, 1, peer, 3), 2);
	CHECK_EQ(d_hostaddr_pick(own, 2, peer, 1), 0);
	CHECK_EQ(d_hostaddr_pick(own, 0, peer, 3), 0);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(req); i++) {
		req[i] = (uint8_t)i;
		resp[i] = (uint8_t)(16 + i);
	}
	RUN(vector);
	RUN(every_input_counts);
	RUN(host_addresses);
	return TAP_DONE();
}
