// SPDX-License-Identifier: MIT
/*
 * A bounded JSON reader for the daemon's one-line answers (docs/control.md).
 * cj_parse() validates the whole line once (RFC 8259 grammar, nesting
 * bounded); every other function walks an already validated span in place,
 * so nothing is allocated and nothing is read past the span's end.
 */
#include "ctl/ctl.h"

#include "common/esc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[*i] == '"': move *i past the closing quote. */
static int scan_string(const char *s, size_t n, size_t *i)
{
	size_t k = *i + 1;

	while (k < n) {
		unsigned char c = (unsigned char)s[k];

		if (c == '"') {
			*i = k + 1;
			return 0;
		}
		if (c < 0x20)
			return -EINVAL;	/* RFC 8259: control characters MUST be escaped */
		if (c == '\\') {
			if (k + 1 >= n)
				return -EINVAL;
			switch (s[k + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				k += 2;
				break;
			case 'u':
				if (k + 5 >= n || hexval(s[k + 2]) < 0 || hexval(s[k + 3]) < 0 ||
				    hexval(s[k + 4]) < 0 || hexval(s[k + 5]) < 0)
					return -EINVAL;
				k += 6;
				break;
			default:
				return -EINVAL;
			}
			continue;
		}
		k++;
	}
	return -EINVAL;
}

static int scan_number(const char *s, size_t n, size_t *i)
{
	size_t k = *i;

	if (k < n && s[k] == '-')
		k++;
	if (k >= n)
		return -EINVAL;
	if (s[k] == '0') {
		k++;
	} else if (s[k] >= '1' && s[k] <= '9') {
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++;
	} else {
		return -EINVAL;
	}
	if (k < n && s[k] == '.') {
		k++;
		if (k >= n || s[k] < '0' || s[k] > '9')
			return -EINVAL;
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++;
	}
	if (k < n && (s[k] == 'e' || s[k] == 'E')) {
		k++;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k >= n || s[k] < '0' || s[k] > '9')
			return -EINVAL;
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++;
	}
	*i = k;
	return 0;
}

static int scan_literal(const char *s, size_t n, size_t *i, const char *lit)
{
	size_t l = strlen(lit);

	if (n - *i < l || memcmp(s + *i, lit, l) != 0)
		return -EINVAL;
	*i += l;
	return 0;
}

/* Scan one value starting at s[*i] (no leading white space); fill v. */
static int scan_value(const char *s, size_t n, size_t *i, int depth, struct cj_val *v)
{
	size_t start = *i, k;
	int r;

	if (start >= n)
		return -EINVAL;
	switch (s[start]) {
	case '"':
		v->type = CJ_STR;
		r = scan_string(s, n, i);
		break;
	case 't':
		v->type = CJ_BOOL;
		r = scan_literal(s, n, i, "true");
		break;
	case 'f':
		v->type = CJ_BOOL;
		r = scan_literal(s, n, i, "false");
		break;
	case 'n':
		v->type = CJ_NULL;
		r = scan_literal(s, n, i, "null");
		break;
	case '[':
	case '{': {
		bool obj = s[start] == '{';
		char close = obj ? '}' : ']';
		struct cj_val sub;

		if (depth >= CJ_MAX_DEPTH)
			return -EINVAL;
		v->type = obj ? CJ_OBJ : CJ_ARR;
		k = skip_ws(s, n, start + 1);
		if (k < n && s[k] == close) {
			*i = k + 1;
			r = 0;
			break;
		}
		for (;;) {
			if (obj) {
				if (k >= n || s[k] != '"' || scan_string(s, n, &k) < 0)
					return -EINVAL;
				k = skip_ws(s, n, k);
				if (k >= n || s[k] != ':')
					return -EINVAL;
				k = skip_ws(s, n, k + 1);
			}
			if (scan_value(s, n, &k, depth + 1, &sub) < 0)
				return -EINVAL;
			k = skip_ws(s, n, k);
			if (k >= n)
				return -EINVAL;
			if (s[k] == close)
				break;
			if (s[k] != ',')
				return -EINVAL;
			k = skip_ws(s, n, k + 1);
		}
		*i = k + 1;
		r = 0;
		break;
	}
	default:
		v->type = CJ_NUM;
		r = scan_number(s, n, i);
		break;
	}
	if (r < 0)
		return r;
	v->p = s + start;
	v->n = *i - start;
	return 0;
}

int cj_parse(const char *s, size_t n, struct cj_val *root)
{
	size_t i;

	if (!s)
		return -EINVAL;
	i = skip_ws(s, n, 0);
	if (scan_value(s, n, &i, 0, root) < 0)
		return -EINVAL;
	if (skip_ws(s, n, i) != n)
		return -EINVAL;
	return 0;
}

/* Walk an already validated container: *iter is an offset inside v (0 = start). */
static int next_item(const struct cj_val *v, size_t *iter, struct cj_val *key, struct cj_val *val)
{
	const char *s = v->p;
	size_t n = v->n, k = *iter;

	if (k == 0)
		k = skip_ws(s, n, 1);
	if (k >= n || s[k] == '}' || s[k] == ']')
		return 0;
	if (v->type == CJ_OBJ) {
		if (scan_value(s, n, &k, CJ_MAX_DEPTH - 1, key) < 0 || key->type != CJ_STR)
			return -EINVAL;
		k = skip_ws(s, n, k);
		if (k >= n || s[k] != ':')
			return -EINVAL;
		k = skip_ws(s, n, k + 1);
	}
	/* depth was checked by cj_parse(); a fresh count here is fine */
	if (scan_value(s, n, &k, 0, val) < 0)
		return -EINVAL;
	k = skip_ws(s, n, k);
	if (k < n && s[k] == ',')
		k = skip_ws(s, n, k + 1);
	*iter = k;
	return 1;
}

int cj_member(const struct cj_val *obj, size_t *iter, struct cj_val *key, struct cj_val *val)
{
	if (!obj || obj->type != CJ_OBJ)
		return -EINVAL;
	return next_item(obj, iter, key, val);
}

int cj_get(const struct cj_val *obj, const char *key, struct cj_val *out)
{
	struct cj_val k, v;
	size_t iter = 0;
	char buf[256];
	int r;

	if (!obj || obj->type != CJ_OBJ)
		return -EINVAL;
	while ((r = next_item(obj, &iter, &k, &v)) == 1) {
		if (cj_str(&k, buf, sizeof(buf)) >= 0 && strcmp(buf, key) == 0) {
			*out = v;
			return 0;
		}
	}
	return r < 0 ? r : -ENOENT;
}

int cj_path(const struct cj_val *root, const char *path, struct cj_val *out)
{
	struct cj_val cur = *root;
	char part[256];
	const char *p = path;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		int r;

		if (l == 0 || l >= sizeof(part))
			return -EINVAL;
		memcpy(part, p, l);
		part[l] = '\0';
		r = cj_get(&cur, part, &cur);
		if (r < 0)
			return r;
		p += l;
		if (*p == '.')
			p++;
	}
	*out = cur;
	return 0;
}

int cj_index(const struct cj_val *arr, size_t i, struct cj_val *out)
{
	struct cj_val k, v;
	size_t iter = 0, idx = 0;
	int r;

	if (!arr || arr->type != CJ_ARR)
		return -EINVAL;
	while ((r = next_item(arr, &iter, &k, &v)) == 1) {
		if (idx++ == i) {
			*out = v;
			return 0;
		}
	}
	return r < 0 ? r : -ENOENT;
}

static int put_utf8(char *buf, size_t size, size_t *o, unsigned long cp)
{
	unsigned char tmp[4];
	size_t l;

	if (cp < 0x80) {
		tmp[0] = (unsigned char)cp;
		l = 1;
	} else if (cp < 0x800) {
		tmp[0] = (unsigned char)(0xC0 | (cp >> 6));
		tmp[1] = (unsigned char)(0x80 | (cp & 0x3F));
		l = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (unsigned char)(0xE0 | (cp >> 12));
		tmp[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		tmp[2] = (unsigned char)(0x80 | (cp & 0x3F));
		l = 3;
	} else {
		tmp[0] = (unsigned char)(0xF0 | (cp >> 18));
		tmp[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		tmp[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		tmp[3] = (unsigned char)(0x80 | (cp & 0x3F));
		l = 4;
	}
	if (*o + l >= size)
		return -ENOSPC;
	memcpy(buf + *o, tmp, l);
	*o += l;
	return 0;
}

static unsigned long hex4(const char *p)
{
	return (unsigned long)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

int cj_str(const struct cj_val *v, char *buf, size_t size)
{
	size_t i, o = 0, end;
	const char *s;

	if (!v || v->type != CJ_STR || v->n < 2 || size == 0)
		return -EINVAL;
	s = v->p;
	end = v->n - 1;	/* the closing quote; the span was validated */
	for (i = 1; i < end;) {
		char c = s[i];

		if (c != '\\') {
			if (o + 1 >= size)
				return -ENOSPC;
			buf[o++] = c;
			i++;
			continue;
		}
		c = s[i + 1];
		i += 2;
		switch (c) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': {
			unsigned long cp = hex4(s + i);

			i += 4;
			if (cp == 0)
				return -EINVAL;	/* would truncate the C string */
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= end && s[i] == '\\' &&
			    s[i + 1] == 'u') {
				unsigned long lo = hex4(s + i + 2);

				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += 6;
				}
			}
			if (cp >= 0xD800 && cp <= 0xDFFF)
				cp = 0xFFFD;	/* a lone surrogate */
			if (put_utf8(buf, size, &o, cp) < 0)
				return -ENOSPC;
			continue;
		}
		default: break;	/* '"', '\\', '/' stand for themselves */
		}
		if (o + 1 >= size)
			return -ENOSPC;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return (int)o;
}

int cj_int(const struct cj_val *v, long long *out)
{
	size_t i = 0;
	bool neg = false;
	unsigned long long acc = 0, lim;

	if (!v || v->type != CJ_NUM || v->n == 0)
		return -EINVAL;
	if (v->p[0] == '-') {
		neg = true;
		i = 1;
	}
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; i < v->n; i++) {
		char c = v->p[i];

		if (c < '0' || c > '9')
			return -EINVAL;	/* a fraction or an exponent */
		if (acc > (lim - (unsigned long long)(c - '0')) / 10)
			return -ERANGE;
		acc = acc * 10 + (unsigned long long)(c - '0');
	}
	if (neg)
		*out = acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)acc;
	else
		*out = (long long)acc;
	return 0;
}

int cj_bool(const struct cj_val *v, bool *out)
{
	if (!v || v->type != CJ_BOOL)
		return -EINVAL;
	*out = v->p[0] == 't';
	return 0;
}

int cj_quote(const char *s, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

#define PUT(ch) do { if (o + 1 >= size) return -ENOSPC; buf[o++] = (ch); } while (0)
	PUT('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c < 0x20) {
			PUT('\\');
			PUT('u');
			PUT('0');
			PUT('0');
			PUT(hex[c >> 4]);
			PUT(hex[c & 15]);
		} else {
			PUT((char)c);
		}
	}
	PUT('"');
#undef PUT
	buf[o] = '\0';
	return (int)o;
}

int ctl_parse_connect_answer(const char *line, size_t len, struct ctl_connect_answer *a)
{
	struct cj_val root, v;

	memset(a, 0, sizeof(*a));
	a->elapsed_ms = -1;
	if (cj_parse(line, len, &root) < 0 || root.type != CJ_OBJ)
		return -EINVAL;
	if (cj_get(&root, "ok", &v) < 0 || cj_bool(&v, &a->ok) < 0)
		return -EINVAL;
	if (cj_get(&root, "relayed", &v) == 0)
		cj_bool(&v, &a->relayed);
	if (cj_get(&root, "elapsed_ms", &v) == 0 && cj_int(&v, &a->elapsed_ms) < 0)
		a->elapsed_ms = -1;
	if (cj_get(&root, "method", &v) == 0 && v.type == CJ_STR &&
	    cj_str(&v, a->method, sizeof(a->method)) < 0)
		a->method[0] = '\0';
	if (cj_get(&root, "error", &v) == 0 && v.type == CJ_STR &&
	    cj_str(&v, a->error, sizeof(a->error)) == -ENOSPC) {
		/* keep what fits: an error text is for people */
		size_t l = sizeof(a->error) - 4;

		memcpy(a->error + l, "...", 4);
	}
	if (a->error[0]) {
		/* a peer's words may be in it: escaped before anyone prints it */
		char e[sizeof(a->error)];

		esc_term(e, sizeof(e), a->error);
		memcpy(a->error, e, sizeof(e));
	}
	return 0;
}

int ctl_build_simple(const char *cmd, char *buf, size_t size)
{
	char q[80];
	int r, l;

	r = cj_quote(cmd, q, sizeof(q));
	if (r < 0)
		return r;
	l = snprintf(buf, size, "{\"cmd\":%s}", q);
	if (l < 0 || (size_t)l >= size)
		return -ENOSPC;
	return l;
}

int ctl_build_connect(const struct ctl_target *t, const char *method, char *buf, size_t size)
{
	char peer[2 * SIG_ID_MAX + 8], svc[2 * SIG_ID_MAX + 8], meth[64];
	int l;

	if (method && !ctl_method_valid(method))
		return -EINVAL;
	if (cj_quote(t->peer, peer, sizeof(peer)) < 0 || cj_quote(t->service, svc, sizeof(svc)) < 0)
		return -EINVAL;
	if (method) {
		if (cj_quote(method, meth, sizeof(meth)) < 0)
			return -EINVAL;
	} else {
		strcpy(meth, "null");
	}
	l = snprintf(buf, size, "{\"cmd\":\"connect\",\"peer\":%s,\"service\":%s,\"method\":%s}",
		     peer, svc, meth);
	if (l < 0 || (size_t)l >= size)
		return -ENOSPC;
	return l;
}
