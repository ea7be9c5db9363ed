// SPDX-License-Identifier: MIT
/* Parser of the --secrets file: see server/secrets.h. */
#include "server/secrets.h"

#include <errno.h>
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

int srv_secrets_parse(const char *text, size_t len, struct srv_secrets *out, unsigned *bad_line)
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
		const char *line = text + off, *nl, *id, *sec, *extra, *hash;
		size_t n, pos = 0, idlen, slen;
		struct srv_secret *e;

		nl = memchr(line, '\n', len - off);
		n = nl ? (size_t)(nl - line) : len - off;
		off += n + (nl ? 1 : 0);
		lineno++;
		if ((hash = memchr(line, '#', n)))
			n = (size_t)(hash - line);
		if (memchr(line, '\0', n)) {
			err = -EBADMSG;
			goto fail;
		}
		idlen = next_field(line, n, &pos, &id);
		if (idlen == 0)
			continue;
		slen = next_field(line, n, &pos, &sec);
		if (next_field(line, n, &pos, &extra) != 0 || slen == 0 ||
		    slen > SRV_SECRET_MAX || !sig_id_valid(id, idlen) ||
		    srv_secrets_find(out, id, idlen)) {
			err = -EBADMSG;
			goto fail;
		}
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct srv_secret *nv = realloc(out->v, ncap * sizeof(*nv));

			if (!nv) {
				err = -ENOMEM;
				goto fail;
			}
			out->v = nv;
			cap = ncap;
		}
		e = &out->v[out->n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->id, id, idlen);
		memcpy(e->secret, sec, slen);
		e->secret_len = slen;
	}
	return 0;
fail:
	*bad_line = lineno;
	srv_secrets_free(out);
	return err;
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

int srv_secrets_read(const char *path, struct srv_secrets *out, char *why, size_t cap)
{
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
	err = srv_secrets_parse(text, len, out, &bad);
	if (err == -EBADMSG)
		snprintf(why, cap, "secrets file %s:%u: expected \"ID SECRET\"", path, bad);
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
