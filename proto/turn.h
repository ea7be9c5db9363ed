/* SPDX-License-Identifier: MIT */
/*
 * TURN client messages (RFC 8656, formerly RFC 5766) with TCP allocations
 * (RFC 6062), on top of the STUN framing (stun_msg), attribute codecs
 * (stun_attr) and long-term credentials (stun_auth). Pure: builders write
 * into a caller's buffer, the parser reads a parsed stun_msg; no I/O.
 *
 * The exchange stuntd runs (the client is the side that owns the relay):
 *
 *   client                                   TURN server            peer
 *   Allocate [REQUESTED-TRANSPORT=TCP] ------->|
 *   <------------- 401 [REALM, NONCE]          |
 *   Allocate [.., USERNAME, REALM, NONCE, MI] >|
 *   <------------- success [XOR-RELAYED-ADDRESS, LIFETIME, XOR-MAPPED-ADDRESS]
 *   CreatePermission [XOR-PEER-ADDRESS] ------>|
 *   <------------- success                     |<---- TCP SYN to the relayed
 *   <------------- ConnectionAttempt indication       address (a plain connect)
 *                  [CONNECTION-ID, XOR-PEER-ADDRESS]
 *   new TCP connection to the server:          |
 *   ConnectionBind [CONNECTION-ID, auth] ----->|
 *   <------------- success: from here on the new connection carries the
 *                  peer's bytes both ways (RFC 6062 5.4)
 *   Refresh [LIFETIME] every LIFETIME/2; Refresh [LIFETIME=0] deletes.
 *
 * A 438 (Stale Nonce) answer carries a new NONCE: the request is sent again
 * with it (RFC 8489 9.2.5).
 */
#ifndef STUNT_PROTO_TURN_H
#define STUNT_PROTO_TURN_H

#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"

/* Methods (RFC 8656 17, RFC 6062 6.1). */
#define TURN_METHOD_ALLOCATE		0x003
#define TURN_METHOD_REFRESH		0x004
#define TURN_METHOD_SEND		0x006
#define TURN_METHOD_DATA		0x007
#define TURN_METHOD_CREATE_PERMISSION	0x008
#define TURN_METHOD_CHANNEL_BIND	0x009
#define TURN_METHOD_CONNECT		0x00A
#define TURN_METHOD_CONNECTION_BIND	0x00B
#define TURN_METHOD_CONNECTION_ATTEMPT	0x00C

/* Attributes (RFC 8656 18, RFC 6062 6.2). */
#define TURN_ATTR_CHANNEL_NUMBER	0x000C
#define TURN_ATTR_LIFETIME		0x000D
#define TURN_ATTR_XOR_PEER_ADDRESS	0x0012
#define TURN_ATTR_DATA			0x0013
#define TURN_ATTR_XOR_RELAYED_ADDRESS	0x0016
#define TURN_ATTR_REQUESTED_FAMILY	0x0017
#define TURN_ATTR_EVEN_PORT		0x0018
#define TURN_ATTR_REQUESTED_TRANSPORT	0x0019
#define TURN_ATTR_DONT_FRAGMENT		0x001A
#define TURN_ATTR_RESERVATION_TOKEN	0x0022
#define TURN_ATTR_CONNECTION_ID		0x002A

/* Error codes (RFC 8656 19, RFC 6062 6.3). */
#define TURN_ERR_ALLOCATION_MISMATCH	437
#define TURN_ERR_ADDR_FAMILY		440	/* RFC 8656: Address Family not Supported */
#define TURN_ERR_WRONG_CREDENTIALS	441
#define TURN_ERR_UNSUPPORTED_TRANSPORT	442
#define TURN_ERR_PEER_FAMILY		443	/* RFC 8656: Peer Address Family Mismatch */
#define TURN_ERR_CONNECTION_EXISTS	446
#define TURN_ERR_CONNECTION_FAILURE	447
#define TURN_ERR_ALLOCATION_QUOTA	486
#define TURN_ERR_INSUFFICIENT_CAPACITY	508

#define TURN_PROTO_TCP			6	/* REQUESTED-TRANSPORT: IANA protocol number */
#define TURN_USER_MAX			128
#define TURN_PASS_MAX			128
#define TURN_REALM_MAX			256
#define TURN_NONCE_MAX			256

/*
 * Long-term credential state (RFC 8489 9.2): user and password from the
 * configuration, realm and nonce from the server's last 401 / 438, and the
 * key MD5(user ":" realm ":" password). ready once a realm is known.
 */
struct turn_cred {
	char	user[TURN_USER_MAX + 1];
	char	pass[TURN_PASS_MAX + 1];
	char	realm[TURN_REALM_MAX + 1];
	uint8_t	nonce[TURN_NONCE_MAX];
	size_t	nonce_len;
	uint8_t	key[STUN_LONG_TERM_KEY_LEN];
	bool	ready;
};

/* User and password (NUL-terminated, printable ASCII): 0 or -EINVAL. */
int turn_cred_init(struct turn_cred *c, const char *user, const char *pass);
/* Realm and nonce from a server's answer: the key is computed. 0 or -EINVAL. */
int turn_cred_challenge(struct turn_cred *c, const char *realm, size_t rlen,
			const uint8_t *nonce, size_t nlen);

/*
 * Requests. cred NULL or not ready: no authentication (the first Allocate,
 * which the server answers with 401 and its realm and nonce). Each returns
 * the message length (> 0) or a negative errno from the builder.
 *   lifetime: seconds requested; Refresh with 0 deletes the allocation.
 *   family: the relayed address's, REQUESTED-ADDRESS-FAMILY (RFC 8656
 *   18.11, RFC 6156): STUN_FAMILY_IPV4 or STUN_FAMILY_IPV6; 0 leaves the
 *   attribute out (the server then allocates IPv4, RFC 8656 7.2).
 */
int turn_build_allocate_tcp(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			    uint32_t lifetime, uint8_t family, const struct turn_cred *cred);
int turn_build_refresh(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
		       uint32_t lifetime, const struct turn_cred *cred);
/* The port of peer is ignored by the server (RFC 8656 9: permissions are
 * per IP address); its family must be the relayed address's (else 443). */
int turn_build_create_permission(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
				 const struct stun_addr *peer, const struct turn_cred *cred);
/* RFC 6062 4.3: ask the server to connect to peer (not used by stuntd, whose
 * peer connects to the relay, but part of the client side). */
int turn_build_connect(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
		       const struct stun_addr *peer, const struct turn_cred *cred);
/* RFC 6062 4.4: sent first on a new data connection. */
int turn_build_connection_bind(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			       uint32_t conn_id, const struct turn_cred *cred);

/*
 * What a TURN answer or indication says. Pointers point into the parsed
 * message. A missing attribute leaves its has_ false.
 */
struct turn_msg {
	uint16_t		method;
	uint8_t			cls;		/* enum stun_class */
	uint8_t			txid[STUN_TXID_LEN];
	uint16_t		error;		/* 0, or the ERROR-CODE (300..699) */
	const char		*reason;	/* its reason phrase, not NUL-terminated */
	size_t			reason_len;
	const char		*realm;
	size_t			realm_len;
	const uint8_t		*nonce;
	size_t			nonce_len;
	bool			has_relayed, has_mapped, has_peer, has_lifetime, has_conn_id;
	struct stun_addr	relayed;	/* XOR-RELAYED-ADDRESS */
	struct stun_addr	mapped;		/* XOR-MAPPED-ADDRESS */
	struct stun_addr	peer;		/* XOR-PEER-ADDRESS */
	uint32_t		lifetime;
	uint32_t		conn_id;
	bool			integrity;	/* MESSAGE-INTEGRITY present and checked */
};

/*
 * Read a parsed message. key (may be NULL) is the long-term key: when the
 * message carries MESSAGE-INTEGRITY it must match (-EACCES if not).
 * -ENOMSG if the method is not a TURN one, -EBADMSG if an attribute TURN
 * needs is malformed.
 */
int turn_read(const struct stun_msg *m, const uint8_t *key, size_t keylen,
	      struct turn_msg *out);

/* Method name for logs ("Allocate", ...), "?" if unknown. */
const char *turn_method_name(uint16_t method);

#endif
