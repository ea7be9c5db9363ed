// SPDX-License-Identifier: MIT
/*
 * The --secrets file: one "ID SECRET" per line, separated by blanks;
 * '#' starts a comment (whole line or after the fields); blank lines are
 * ignored. ID follows sig_id_valid() (1-64 bytes of [A-Za-z0-9._-]);
 * SECRET is 1-SRV_SECRET_MAX bytes with no white space. A repeated ID,
 * a third field or a bad ID is an error: the server refuses to start on a
 * file it cannot read exactly (the secrets gate who may register).
 *
 * Pure: the caller reads the file, srv_secrets_parse() only looks at bytes.
 */
#ifndef STUNT_SERVER_SECRETS_H
#define STUNT_SERVER_SECRETS_H

#include "proto/sig.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_SECRET_MAX		256
#define SRV_SECRETS_FILE_MAX	(1024 * 1024)

struct srv_secret {
	char	 id[SIG_ID_MAX + 1];
	uint8_t	 secret[SRV_SECRET_MAX];
	size_t	 secret_len;
};

struct srv_secrets {
	struct srv_secret	*v;
	size_t			 n;
};

/*
 * Parse len bytes of text into *out (allocated; free with
 * srv_secrets_free()). Returns 0, or -EBADMSG with *bad_line set to the
 * 1-based line at fault, or -ENOMEM.
 */
int srv_secrets_parse(const char *text, size_t len, struct srv_secrets *out, unsigned *bad_line);

/* A bad line: its 1-based number and why (never a secret's bytes). */
typedef void (*srv_secrets_bad_cb)(unsigned line, const char *reason, void *arg);

/*
 * srv_secrets_parse, reading on after a bad line: on_bad (may be NULL) is
 * called for every bad line, in order; *bad_line is the first. Reasons: "a
 * NUL byte", "bad id (...)", "no secret after the id 'ID' (...)", "more than
 * two fields (...)", "secret longer than 256 bytes", "id 'ID' given twice".
 */
int srv_secrets_parse_all(const char *text, size_t len, struct srv_secrets *out,
			  srv_secrets_bad_cb on_bad, void *arg, unsigned *bad_line);
void srv_secrets_free(struct srv_secrets *s);
/* The entry for id, or NULL. */
const struct srv_secret *srv_secrets_find(const struct srv_secrets *s, const char *id,
					  size_t idlen);

/* Does id hold a different secret in next than in prev (removed from
 * next, or its secret changed)? false for an id not in prev. */
bool srv_secrets_revoked(const struct srv_secrets *prev, const struct srv_secrets *next,
			 const char *id);

/* May a secrets file have this st_mode? Only if neither its group nor
 * others can read, write or run it (the rule of stuntd's --secret-file). */
bool srv_secrets_mode_ok(unsigned mode);

/* Read and parse the file at path, as the calling user. 0 or -errno
 * (-EPERM: its mode is refused, -EBADMSG: a bad line); on error why gets
 * one sentence naming the file and the fault: its mode, or every bad line,
 * "secrets file F: line 2: REASON; line 5: REASON (2 bad lines)" (as many
 * as fit, then " ... N bad lines in all"). */
int srv_secrets_read(const char *path, struct srv_secrets *out, char *why, size_t cap);
/* The same, logging the sentence. */
int srv_secrets_load(const char *path, struct srv_secrets *out);

#endif
