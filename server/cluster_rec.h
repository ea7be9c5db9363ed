// SPDX-License-Identifier: MIT
/*
 * What several stunt-servers write to each other through Redis (see
 * server/cluster.h), as pure bounds-checked text: whatever Redis hands
 * back may have been written by anyone who can reach it, so it is parsed
 * here and refused when it is not exactly one of these.
 *
 *   key   stunt:peer:ID                 the registration of ID
 *   value SERVER ENDPOINT EXPIRES       the server holding it, the peer's
 *                                       endpoint as that server sees it
 *                                       (ip:port, [ip6]:port), and when it
 *                                       lapses (ms since the epoch)
 *   on stunt:reg  "+ID VALUE"           ID registered or refreshed
 *                 "-ID SERVER"          ID gone from SERVER
 *   on stunt:to:SERVER  "ID\n" MESSAGE  an indication for SERVER's peer
 *                                       ID, unsealed (SERVER seals it)
 *
 * SERVER is a --server-name: 1-64 printable ASCII bytes without spaces.
 */
#ifndef STUNT_SERVER_CLUSTER_REC_H
#define STUNT_SERVER_CLUSTER_REC_H

#include "proto/sig.h"
#include "proto/stun_attr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_CLUSTER_NAME_MAX	64
#define SRV_CLUSTER_KEY_PREFIX	"stunt:peer:"
#define SRV_CLUSTER_REG_CHANNEL	"stunt:reg"
#define SRV_CLUSTER_TO_PREFIX	"stunt:to:"
/* a record or a notice fits in this */
#define SRV_CLUSTER_REC_MAX	(1 + SIG_ID_MAX + 1 + SRV_CLUSTER_NAME_MAX + 1 + 48 + 1 + 20 + 1)

struct srv_cluster_rec {
	char		 server[SRV_CLUSTER_NAME_MAX + 1];
	struct stun_addr endpoint;
	uint64_t	 expires_ms;	/* wall clock */
};

struct srv_cluster_note {
	bool			 add;	/* "+": rec whole; "-": rec.server only */
	char			 id[SIG_ID_MAX + 1];
	struct srv_cluster_rec	 rec;
};

/* 1-64 bytes of printable ASCII but space. */
bool srv_cluster_name_valid(const char *s, size_t len);

/* Into buf (NUL-terminated): the length, or -ENOSPC / -EINVAL. */
int srv_cluster_rec_format(const struct srv_cluster_rec *r, char *buf, size_t cap);
int srv_cluster_note_format(const struct srv_cluster_note *n, char *buf, size_t cap);
/* "stunt:peer:ID" of id. */
int srv_cluster_key_format(const char *id, char *buf, size_t cap);

/* From len bytes (not NUL-terminated): 0, or -EBADMSG. */
int srv_cluster_rec_parse(const char *buf, size_t len, struct srv_cluster_rec *r);
int srv_cluster_note_parse(const char *buf, size_t len, struct srv_cluster_note *n);
int srv_cluster_key_parse(const char *buf, size_t len, char id[SIG_ID_MAX + 1]);

/* A forwarded indication: "ID\n" and the message (at most cap bytes in
 * all). Returns the length, or -ENOSPC / -EINVAL. */
int srv_cluster_fwd_format(const char *id, const uint8_t *msg, size_t len, uint8_t *buf,
			   size_t cap);
/* 0 and the id and where the message is (1..max_msg bytes), or -EBADMSG. */
int srv_cluster_fwd_parse(const uint8_t *buf, size_t len, size_t max_msg,
			  char id[SIG_ID_MAX + 1], const uint8_t **msg, size_t *msg_len);

#endif
