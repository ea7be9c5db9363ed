// SPDX-License-Identifier: MIT
/* The Prometheus text format into a buffer: see common/prom.h. */
#include "common/prom.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void prom_init(struct prom_buf *b, char *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->bad = false;
	if (cap)
		buf[0] = '\0';
}

bool prom_ok(const struct prom_buf *b)
{
	return !b->bad && b->len < b->cap;
}

static bool name_ok(const char *s, bool colon)
{
	const char *p;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || (colon && *p == ':')))
			return false;
	return true;
}

bool prom_name_ok(const char *s)
{
	return name_ok(s, true);
}

bool prom_label_name_ok(const char *s)
{
	return name_ok(s, false) && strncmp(s, "__", 2) != 0;	/* "__" is reserved */
}

/* Append with snprintf semantics: len keeps counting past cap. */
static void put(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->buf + (b->len < b->cap ? b->len : b->cap),
		      b->len < b->cap ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

/* s escaped: backslash and newline always, the double quote in label values */
static void put_escaped(struct prom_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(b, "\\\\");
		else if (*s == '\n')
			put(b, "\\n");
		else if (quote && *s == '"')
			put(b, "\\\"");
		else
			put(b, "%c", *s);
	}
}

void prom_family(struct prom_buf *b, const char *name, enum prom_type t, const char *help)
{
	size_t n = name ? strlen(name) : 0;

	if (!prom_name_ok(name) ||
	    (t == PROM_COUNTER && (n < 6 || strcmp(name + n - 6, "_total")))) {
		b->bad = true;
		return;
	}
	put(b, "# HELP %s ", name);
	put_escaped(b, help, false);
	put(b, "\n# TYPE %s %s\n", name, t == PROM_COUNTER ? "counter" : "gauge");
}

void prom_sample(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
		 uint64_t v)
{
	size_t i;

	if (!prom_name_ok(name)) {
		b->bad = true;
		return;
	}
	put(b, "%s", name);
	for (i = 0; i < nl; i++) {
		if (!prom_label_name_ok(l[i].name) || !l[i].value) {
			b->bad = true;
			return;
		}
		put(b, "%s%s=\"", i ? "," : "{", l[i].name);
		put_escaped(b, l[i].value, true);
		put(b, "\"");
	}
	put(b, "%s %" PRIu64 "\n", nl ? "}" : "", v);
}

void prom_one(struct prom_buf *b, const char *name, enum prom_type t, const char *help,
	      uint64_t v)
{
	prom_family(b, name, t, help);
	prom_sample(b, name, NULL, 0, v);
}
