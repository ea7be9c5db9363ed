/* SPDX-License-Identifier: MIT */
/*
 * The config file syntax shared by stuntd and stunt-server: one directive a
 * line, "KEY VALUE" (blanks between), '#' starts a comment (also after a
 * directive, except on the lines of one key whose value may hold '#', e.g.
 * stuntd's "expose NAME exec:COMMAND"), blank lines ignored, at most
 * CONF_LINE_MAX - 1 bytes a line. Pure: the caller reads the file and says
 * what each key means through a callback. Errors name the line ("line 3:
 * unknown directive 'foo'", "line 2: 'port' needs a value").
 */
#ifndef STUNT_COMMON_CONF_H
#define STUNT_COMMON_CONF_H

#include <stddef.h>

#define CONF_LINE_MAX	1024

/* One directive: 0, or -errno with the reason in why (without the line). */
typedef int (*conf_set_fn)(void *arg, const char *key, const char *val, char *why,
			   size_t whylen);

/*
 * Call set for each directive of len bytes of buf, in order; stop at the
 * first error: -EINVAL with "line N: REASON" in err. keep_hash_key: the key
 * whose value keeps its '#' (NULL: none). 0 when every line was taken.
 */
int conf_parse(const char *buf, size_t len, const char *keep_hash_key, conf_set_fn set,
	       void *arg, char *err, size_t errlen);

#endif
