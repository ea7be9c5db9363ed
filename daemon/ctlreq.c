// SPDX-License-Identifier: MIT
/* The control request parser: see daemon/ctlreq.h. */
#include "daemon/ctlreq.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

struct cur {
	const char	*p, *end;
};

static void ws(struct cur *c)
{
	while (c->p < c->end && isspace((unsigned char)*c->p))
		c->p++;
}

/* A JSON string into out (cap bytes, NUL-terminated); only ASCII escapes. */
static int str(struct cur *c, char *out, size_t cap)
{
	size_t n = 0;
	char ch;

	if (c->p >= c->end || *c->p != '"')
		return -EINVAL;
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		ch = *c->p++;
		if ((unsigned char)ch < 0x20)
			return -EINVAL;
		if (ch == '\\') {
			if (c->p >= c->end)
				return -EINVAL;
			ch = *c->p++;
			switch (ch) {
			case '"': case '\\': case '/': break;
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			default: return -EINVAL;	/* \u: not in our keys or values */
			}
		}
		if (n + 1 >= cap)
			return -E2BIG;
		out[n++] = ch;
	}
	if (c->p >= c->end)
		return -EINVAL;
	c->p++;
	out[n] = '\0';
	return 0;
}

static int word(struct cur *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return -EINVAL;
	c->p += n;
	return 0;
}

int d_ctl_req_parse(const char *buf, size_t len, struct d_ctl_req *r, char *err, size_t errlen)
{
	struct cur c = { buf, buf + len };
	char key[32], val[128];
	char *dst;
	size_t cap;
	bool udp_m;
	int e;

	memset(r, 0, sizeof(*r));
	ws(&c);
	if (c.p >= c.end || *c.p++ != '{')
		goto bad;
	ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
		goto end;
	}
	for (;;) {
		ws(&c);
		e = str(&c, key, sizeof(key));
		if (e == -E2BIG)
			key[0] = '\0';	/* a long unknown key: skip its value */
		else if (e < 0)
			goto bad;
		ws(&c);
		if (c.p >= c.end || *c.p++ != ':')
			goto bad;
		ws(&c);
		dst = NULL;
		cap = 0;
		if (!strcmp(key, "cmd"))
			dst = r->cmd, cap = sizeof(r->cmd);
		else if (!strcmp(key, "peer"))
			dst = r->peer, cap = sizeof(r->peer);
		else if (!strcmp(key, "service"))
			dst = r->service, cap = sizeof(r->service);
		else if (!strcmp(key, "method"))
			dst = r->method, cap = sizeof(r->method);
		else if (!strcmp(key, "proto"))
			dst = r->proto, cap = sizeof(r->proto);
		if (c.p < c.end && *c.p == '"') {
			e = str(&c, val, sizeof(val));
			if (e < 0) {
				snprintf(err, errlen, "value of \"%s\" too long or malformed", key);
				return -EINVAL;
			}
			if (dst) {
				if (strlen(val) >= cap) {
					snprintf(err, errlen, "value of \"%s\" too long", key);
					return -EINVAL;
				}
				memcpy(dst, val, strlen(val) + 1);
			}
		} else if (word(&c, "null") == 0) {
			if (dst)
				dst[0] = '\0';
		} else if (word(&c, "true") == 0 || word(&c, "false") == 0) {
			if (dst)
				goto bad;
		} else if (c.p < c.end && (*c.p == '-' || isdigit((unsigned char)*c.p))) {
			if (dst)
				goto bad;
			c.p++;
			while (c.p < c.end && (isdigit((unsigned char)*c.p) || strchr(".eE+-", *c.p)))
				c.p++;
		} else {
			goto bad;
		}
		ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}') {
			c.p++;
			break;
		}
		goto bad;
	}
end:
	ws(&c);
	if (c.p != c.end)
		goto bad;
	if (r->cmd[0] == '\0') {
		snprintf(err, errlen, "no \"cmd\"");
		return -EINVAL;
	}
	/* a UDP session is method udp: "proto":"udp" says so without a method */
	if (r->proto[0] && strcmp(r->proto, "tcp") && strcmp(r->proto, "udp")) {
		snprintf(err, errlen, "\"proto\" is \"tcp\" or \"udp\"");
		return -EINVAL;
	}
	udp_m = !strcmp(r->method, "udp") || !strcmp(r->method, "udp6");
	if (!strcmp(r->proto, "udp") && r->method[0] && !udp_m) {
		snprintf(err, errlen, "method '%s' is a TCP method: a UDP session uses udp (or udp6)",
			 r->method);
		return -EINVAL;
	}
	if (!strcmp(r->proto, "tcp") && udp_m) {
		snprintf(err, errlen, "method %s makes a UDP session, not a TCP one", r->method);
		return -EINVAL;
	}
	/* udp: both families raced; udp6: over IPv6 alone */
	if (!strcmp(r->proto, "udp") && !udp_m)
		snprintf(r->method, sizeof(r->method), "udp");
	return 0;
bad:
	snprintf(err, errlen, "malformed JSON request");
	return -EINVAL;
}

bool d_ctl_admit(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, bool have_gid,
		 gid_t control_gid)
{
	size_t i;

	if (uid == 0)
		return true;
	if (!have_gid)
		return false;
	if (gid == control_gid)
		return true;
	for (i = 0; i < ngroups; i++)
		if (groups[i] == control_gid)
			return true;
	return false;
}
