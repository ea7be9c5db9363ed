// SPDX-License-Identifier: MIT
/* The config file lexer of stuntd and stunt-server. See common/conf.h. */
#include "common/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int conf_parse(const char *buf, size_t len, const char *keep_hash_key, conf_set_fn set,
	       void *arg, char *err, size_t errlen)
{
	char line[CONF_LINE_MAX], why[256];
	size_t off = 0, n, k;
	unsigned lineno = 0;
	char *key, *val, *hash;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);

		n = nl ? (size_t)(nl - (buf + off)) : len - off;
		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "line %u: too long (at most %d bytes)", lineno,
				 CONF_LINE_MAX - 1);
			return -EINVAL;
		}
		memcpy(line, buf + off, n);
		line[n] = '\0';
		off += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n)) {
			snprintf(err, errlen, "line %u: NUL byte", lineno);
			return -EINVAL;
		}
		/* a '#' starts a comment, except in the value of keep_hash_key */
		hash = strchr(line, '#');
		key = line;
		while (*key == ' ' || *key == '\t')
			key++;
		if (hash && (keep_hash_key == NULL ||
			     strncmp(key, keep_hash_key, strlen(keep_hash_key)) != 0))
			*hash = '\0';
		if (hash && hash == key)
			*hash = '\0';
		k = strlen(key);
		while (k && isspace((unsigned char)key[k - 1]))
			key[--k] = '\0';
		if (k == 0)
			continue;
		val = key + strcspn(key, " \t");
		if (*val == '\0') {
			snprintf(err, errlen, "line %u: '%s' needs a value", lineno, key);
			return -EINVAL;
		}
		*val++ = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		if (set(arg, key, val, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "line %u: %s", lineno, why);
			return -EINVAL;
		}
	}
	return 0;
}
