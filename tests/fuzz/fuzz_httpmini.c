// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the metrics endpoint's request parser
 * (common/httpmini.c): whatever the bytes, the result is consistent. A
 * parsed head lies within the input and the limit, its method and path are
 * NUL-terminated strings of their bounds, the path starts with '/', and the
 * head alone parses the same; "more" is only said below the limit.
 */
#include "common/httpmini.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpmini_req r, again;
	enum httpmini_res res = httpmini_parse(data, size, &r);
	int st;

	switch (res) {
	case HTTPMINI_OK:
		if (r.head_len == 0 || r.head_len > size || r.head_len > HTTPMINI_HEAD_MAX ||
		    strlen(r.method) == 0 || strlen(r.method) > HTTPMINI_METHOD_MAX ||
		    strlen(r.path) > HTTPMINI_TARGET_MAX || r.path[0] != '/' || r.minor > 1)
			abort();
		st = httpmini_status(&r, "/metrics");
		if (st != 200 && st != 404 && st != 405)
			abort();
		if (httpmini_parse(data, r.head_len, &again) != HTTPMINI_OK ||
		    again.head_len != r.head_len || strcmp(again.method, r.method) ||
		    strcmp(again.path, r.path))
			abort();
		break;
	case HTTPMINI_MORE:
		if (size >= HTTPMINI_HEAD_MAX)
			abort();
		break;
	case HTTPMINI_BAD:
	case HTTPMINI_TOO_BIG:
	case HTTPMINI_VERSION:
		st = httpmini_error_status(res);
		if (st != 400 && st != 431 && st != 505)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
