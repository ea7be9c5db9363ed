/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition format, version 0.0.4, written into a
 * caller's buffer: a family's "# HELP" and "# TYPE" lines, then its samples
 * "name{label="value",...} number". Pure: no allocation, no I/O. Names are
 * checked ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without the colon), label
 * values and help texts escaped as the format wants (backslash, double
 * quote in values, newline): a name that does not pass makes the buffer
 * bad instead of writing a line a scraper would refuse.
 */
#ifndef STUNT_COMMON_PROM_H
#define STUNT_COMMON_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

enum prom_type { PROM_COUNTER, PROM_GAUGE };

struct prom_buf {
	char	*buf;
	size_t	 cap;
	size_t	 len;		/* what was written, or would have been (snprintf-like) */
	bool	 bad;		/* a name refused */
};

struct prom_label {
	const char	*name;
	const char	*value;
};

void prom_init(struct prom_buf *b, char *buf, size_t cap);
/* Did everything fit, every name pass? (b->buf then holds len bytes, NUL-terminated.) */
bool prom_ok(const struct prom_buf *b);

/* A metric name, a label name (no colon, not starting "__"): valid? */
bool prom_name_ok(const char *s);
bool prom_label_name_ok(const char *s);

/* "# HELP name help" and "# TYPE name counter|gauge"; a counter's name
 * must end in "_total". */
void prom_family(struct prom_buf *b, const char *name, enum prom_type t, const char *help);
/* One sample of the family last begun: name, nl labels (0: none), v. */
void prom_sample(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
		 uint64_t v);
/* A family of one sample without labels. */
void prom_one(struct prom_buf *b, const char *name, enum prom_type t, const char *help,
	      uint64_t v);

#endif
