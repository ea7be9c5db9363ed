// SPDX-License-Identifier: MIT
/* Parser of the --secrets file: see server/secrets.h. */
#include "server/secrets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Next blank-separated field of line[*pos..n), or length 0 at the end. */
static size_t next_field(const char *line, size_t n, size_t *pos, const char **start)
{
	size_t i = *pos, s;

	while (i < n && is_blank(line[i]))
		i++;
	s = i;
	while (i < n && !is_blank(line[i]))
		i++;
	*start = line + s;
	*pos = i;
	return i - s;
}

const struct srv_secret *srv_secrets_find(const struct srv_secrets *s, const char *id,
					  size_t idlen)
{
	size_t i;

	if (!s || !id)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (strlen(s->v[i].id) == idlen && memcmp(s->v[i].id, id, idlen) == 0)
			return &s->v[i];
	return NULL;
}

bool srv_secrets_revoked(const struct srv_secrets *prev, const struct srv_secrets *next,
			 const char *id)
{
	const struct srv_secret *a, *b;

	if (!id || !(a = srv_secrets_find(prev, id, strlen(id))))
		return false;
	if (!(b = srv_secrets_find(next, id, strlen(id))))
		return true;
	return a->secret_len != b->secret_len || memcmp(a->secret, b->secret, a->secret_len) != 0;
}

void srv_secrets_free(struct srv_secrets *s)
{
	if (!s)
		return;
	if (s->v)
		explicit_bzero(s->v, s->n * sizeof(*s->v));
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* what is wrong with one line (no secret byte is ever shown), or NULL */
static const char *line_fault(const struct srv_secrets *out, const char *line, size_t n,
			      const char **id, size_t *idlen, const char **sec, size_t *slen,
			      char *buf, size_t cap)
{
	const struct srv_secret *dup;
	const char *extra;
	size_t pos = 0;

	*idlen = *slen = 0;
	if (memchr(line, '\0', n))
		return "a NUL byte";
	*idlen = next_field(line, n, &pos, id);
	if (*idlen == 0)
		return NULL;		/* blank or comment */
	*slen = next_field(line, n, &pos, sec);
	if (!sig_id_valid(*id, *idlen))
		return "bad id (1-64 of A-Z a-z 0-9 . _ -)";
	if (*slen == 0) {
		snprintf(buf, cap, "no secret after the id '%.*s' (\"ID SECRET\")", (int)*idlen, *id);
		return buf;
	}
	if (next_field(line, n, &pos, &extra) != 0)
		return "more than two fields (\"ID SECRET\"; the secret has no blank, "
		       "'#' starts a comment)";
	if (*slen > SRV_SECRET_MAX) {
		snprintf(buf, cap, "secret longer than %d bytes", SRV_SECRET_MAX);
		return buf;
	}
	if ((dup = srv_secrets_find(out, *id, *idlen))) {
		snprintf(buf, cap, "id '%s' given twice", dup->id);
		return buf;
	}
	return NULL;
}

int srv_secrets_parse_all(const char *text, size_t len, struct srv_secrets *out,
			  srv_secrets_bad_cb on_bad, void *arg, unsigned *bad_line)
{
	size_t off = 0, cap = 0;
	unsigned lineno = 0;
	int err = 0;

	if (!text || !out || !bad_line)
		return -EINVAL;
	out->v = NULL;
	out->n = 0;
	*bad_line = 0;
	if (len > SRV_SECRETS_FILE_MAX)
		return -EFBIG;

	while (off < len) {
		const char *line = text + off, *nl, *id = NULL, *sec = NULL, *hash, *why;
		size_t n, idlen, slen;
		struct srv_secret *e;
		char buf[SIG_ID_MAX + 64];

		nl = memchr(line, '\n', len - off);
		n = nl ? (size_t)(nl - line) : len - off;
		off += n + (nl ? 1 : 0);
		lineno++;
		if ((hash = memchr(line, '#', n)))
			n = (size_t)(hash - line);
		why = line_fault(out, line, n, &id, &idlen, &sec, &slen, buf, sizeof(buf));
		if (why) {
			/* every bad line is reported; none is taken */
			if (!*bad_line)
				*bad_line = lineno;
			if (on_bad)
				on_bad(lineno, why, arg);
			continue;
		}
		if (idlen == 0)
			continue;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct srv_secret *nv = realloc(out->v, ncap * sizeof(*nv));

			if (!nv) {
				err = -ENOMEM;
				goto fail;
			}
			/* the old block held secrets: realloc may have moved them */
			out->v = nv;
			cap = ncap;
		}
		e = &out->v[out->n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->id, id, idlen);
		memcpy(e->secret, sec, slen);
		e->secret_len = slen;
	}
	if (*bad_line) {
		err = -EBADMSG;
		goto fail_bad;
	}
	return 0;
fail:
	*bad_line = lineno;
fail_bad:
	srv_secrets_free(out);
	return err;
}

int srv_secrets_parse(const char *text, size_t len, struct srv_secrets *out, unsigned *bad_line)
{
	return srv_secrets_parse_all(text, len, out, NULL, NULL, bad_line);
}

/* ---- the file itself (I/O: start-up and SIGHUP only) ---- */

#include "common/log.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

bool srv_secrets_mode_ok(unsigned mode)
{
	return (mode & 077) == 0;
}

/* the bad lines, "line N: REASON" each, appended to why as far as it holds them */
struct bad_report {
	char		*buf;
	size_t		cap, len;
	unsigned	count;
	bool		left;	/* one did not fit */
};

static void add_bad(unsigned line, const char *reason, void *arg)
{
	struct bad_report *r = arg;
	int w;

	r->count++;
	if (r->left || r->len >= r->cap)
		return;
	/* room kept for the closing " ... N bad lines in all" */
	w = snprintf(r->buf + r->len, r->cap - r->len, "%s line %u: %s", r->count > 1 ? ";" : "",
		     line, reason);
	if (w < 0 || (size_t)w + 32 >= r->cap - r->len) {
		r->buf[r->len] = '\0';
		r->left = true;
		return;
	}
	r->len += (size_t)w;
}

int srv_secrets_read(const char *path, struct srv_secrets *out, char *why, size_t cap)
{
	struct bad_report rep;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	unsigned bad = 0;
	ssize_t n;
	int fd, err;

	out->v = NULL;
	out->n = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, cap, "secrets file %s: %s (read as uid %u)", path, strerror(-err),
			 (unsigned)geteuid());
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		snprintf(why, cap, "secrets file %s: %s", path, strerror(-err));
		goto cleanup;
	}
	if (!srv_secrets_mode_ok(st.st_mode)) {
		/* as stuntd's --secret-file: the secrets gate who may register */
		err = -EPERM;
		snprintf(why, cap, "secrets file %s is readable by group or others (mode %04o): "
			 "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		goto cleanup;
	}
	if (st.st_size > SRV_SECRETS_FILE_MAX) {
		err = -EFBIG;
		snprintf(why, cap, "secrets file %s: %s", path, strerror(-err));
		goto cleanup;
	}
	if (!(text = malloc((size_t)st.st_size + 1))) {
		err = -ENOMEM;
		snprintf(why, cap, "secrets file %s: %s", path, strerror(-err));
		goto cleanup;
	}
	while (len < (size_t)st.st_size && (n = read(fd, text + len, (size_t)st.st_size - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			snprintf(why, cap, "secrets file %s: %s", path, strerror(-err));
			goto cleanup;
		}
		len += (size_t)n;
	}
	snprintf(why, cap, "secrets file %s:", path);
	rep = (struct bad_report){ .buf = why, .cap = cap, .len = strlen(why) };
	err = srv_secrets_parse_all(text, len, out, add_bad, &rep, &bad);
	if (err == -EBADMSG && rep.left)
		snprintf(why + rep.len, cap - rep.len, " ... %u bad lines in all", rep.count);
	else if (err == -EBADMSG)
		snprintf(why + rep.len, cap - rep.len, " (%u bad line%s)", rep.count,
			 rep.count == 1 ? "" : "s");
	else if (err < 0)
		snprintf(why, cap, "secrets file %s: %s", path, strerror(-err));
cleanup:
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	close(fd);
	return err;
}

int srv_secrets_load(const char *path, struct srv_secrets *out)
{
	char why[PATH_MAX + 128];
	int err = srv_secrets_read(path, out, why, sizeof(why));

	if (err < 0)
		log_warnx("%s", why);
	return err;
}
