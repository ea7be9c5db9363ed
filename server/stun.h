// SPDX-License-Identifier: MIT
/*
 * stunt-server's STUN Binding responder as a pure function: request bytes
 * and the context they arrived in (which of the four sockets, from whom,
 * over UDP or TCP) in, response bytes and the socket to send them from
 * out. No I/O, no globals: the event loop (server/loop.c) does the sending,
 * the unit tests and the fuzz target call it directly.
 *
 * The server owns two addresses and two ports, hence four sockets:
 *
 *                    port (3478)     alt-port (3479)
 *   primary IP       sock[0][0]      sock[0][1]
 *   alternate IP     sock[1][0]      sock[1][1]
 *
 * RFC 5780 CHANGE-REQUEST flips the row (change IP) and/or the column
 * (change port) of the socket the request came in on; OTHER-ADDRESS (and
 * RFC 3489's CHANGED-ADDRESS) names the socket in the other row and the
 * other column.
 *
 * A server with one address (one_addr) has the first row only. RFC
 * 5780 section 6 says such a server "MUST NOT include an OTHER-ADDRESS
 * attribute in any Response and MUST respond with a 420 (Unknown
 * Attribute) to any Request with a CHANGE-REQUEST attribute". It sends
 * neither OTHER-ADDRESS nor CHANGED-ADDRESS, and answers 420 (UNKNOWN-
 * ATTRIBUTES: CHANGE-REQUEST) to a request that asks to change the IP. A
 * request that asks to change the port only is still honoured from the
 * other port of the same address: RFC 5780 clients never send one to a
 * server that named no OTHER-ADDRESS, and stunt-probe learns filtering
 * from it (docs/probe.md, "One-address server"). The addresses written
 * into responses (sock) are the public ones (--external-ip).
 *
 * Amplification: a response is sent only to the request's source IP
 * (RESPONSE-PORT may change the port, RFC 3489 RESPONSE-ADDRESS is honoured
 * only when its IP is the source IP), and its size is bounded by
 * SRV_STUN_MAX_REPLY whatever the request holds. Over UDP it is also never
 * larger than max(request, the response with the RFC-required attributes
 * only): MAPPED-ADDRESS beside XOR-MAPPED-ADDRESS, SOFTWARE and an error's
 * reason phrase go in only while they fit (server/stun.c, budget()). PADDING (RFC 5780 7.6) is
 * answered by padding the response up to the size of the request, never
 * beyond it (nor beyond the output buffer), so padding can never make a
 * response larger than its request.
 */
#ifndef STUNT_SERVER_STUN_H
#define STUNT_SERVER_STUN_H

#include "proto/stun_attr.h"
#include "proto/stun_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest response without PADDING: header, four addresses of IPv6 size,
 * SOFTWARE of SRV_SOFTWARE_MAX bytes, FINGERPRINT; an error response with
 * UNKNOWN-ATTRIBUTES for every attribute of a request is smaller. */
#define SRV_SOFTWARE_MAX	64
#define SRV_STUN_MAX_REPLY	(STUN_HDR_LEN + 4 * (4 + 20) + 4 + SRV_SOFTWARE_MAX + 8 + 64)
/* With PADDING the response may grow up to the request's own size, but
 * never past the caller's buffer: SRV_STUN_BUF is the size every caller
 * gives (a coturn client pads its requests to 1532 bytes). */
#define SRV_STUN_BUF		2048

enum srv_transport {
	SRV_UDP,
	SRV_TCP,
};

/* What happened to one request; the loop counts each. */
enum srv_verdict {
	SRV_V_BINDING,		/* RFC 5389/8489 Binding success response */
	SRV_V_CLASSIC,		/* RFC 3489 Binding success response */
	SRV_V_ERR_400,		/* answered 400 Bad Request */
	SRV_V_ERR_420,		/* answered 420 Unknown Attribute */
	SRV_V_DROP_MALFORMED,	/* not a well-formed STUN message: dropped */
	SRV_V_DROP_NOT_REQUEST,	/* indication, response or error: dropped */
	SRV_V_DROP_FINGERPRINT,	/* FINGERPRINT present and wrong: dropped */
	SRV_V_DROP_PORT,	/* RESPONSE-PORT / RESPONSE-ADDRESS port 0: dropped */
	SRV_V_MAX,
};

const char *srv_verdict_name(enum srv_verdict v);

struct srv_stun_ctx {
	struct stun_addr	 sock[2][2];	/* [ip][port], see above */
	unsigned		 rx_ip;		/* the socket the request came in on */
	unsigned		 rx_port;
	struct stun_addr	 peer;		/* the request's source */
	enum srv_transport	 transport;
	const char		*software;	/* SOFTWARE value, NULL for none */
	bool			 one_addr;	/* no alternate address: row 0 only */
};

struct srv_stun_reply {
	size_t			 len;		/* bytes in out; 0: send nothing */
	unsigned		 tx_ip;		/* socket to send from (UDP) */
	unsigned		 tx_port;
	struct stun_addr	 dst;		/* where to send it (UDP) */
	enum srv_verdict	 verdict;
};

/*
 * Answer one request of len bytes (one datagram, or one frame cut from a
 * TCP stream by its length field). out must hold at least SRV_STUN_BUF
 * bytes. Returns 0 (see r->verdict and r->len), or -EINVAL for bad
 * arguments (a programming error, not a network one).
 */
int srv_stun_handle(const struct srv_stun_ctx *ctx, const uint8_t *req, size_t len,
		    uint8_t *out, size_t cap, struct srv_stun_reply *r);

#endif
