// SPDX-License-Identifier: MIT
/* stuntctl's bounded JSON reader on the answers of docs/control.md. */
#include "ctl/ctl.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <limits.h>

static int parse(const char *s, struct cj_val *v)
{
	return cj_parse(s, strlen(s), v);
}

static void connect_answer_success(void)
{
	static const char line[] =
		"{\"ok\":true,\"method\":\"simopen\",\"elapsed_ms\":95,\"relayed\":false,\"error\":null}";
	struct ctl_connect_answer a;

	CHECK_EQ(ctl_parse_connect_answer(line, strlen(line), &a), 0);
	CHECK(a.ok);
	CHECK(!a.relayed);
	CHECK_EQ(a.elapsed_ms, 95);
	CHECK(strcmp(a.method, "simopen") == 0);
	CHECK(a.error[0] == '\0');
}

static void connect_answer_failure(void)
{
	static const char line[] =
		"{ \"ok\" : false, \"method\" : null, \"elapsed_ms\": 3, \"relayed\": false,"
		" \"error\": \"peer office-pc is not registered\" }";
	struct ctl_connect_answer a;

	CHECK_EQ(ctl_parse_connect_answer(line, strlen(line), &a), 0);
	CHECK(!a.ok);
	CHECK(a.method[0] == '\0');
	CHECK(strcmp(a.error, "peer office-pc is not registered") == 0);
}

static void connect_answer_minimal_and_bad(void)
{
	struct ctl_connect_answer a;
	static const char *const bad[] = {
		"", "[]", "{}", "{\"ok\":1}", "{\"ok\":\"true\"}", "{\"ok\":true", "{\"ok\":true}x",
		"{\"ok\":tru}", "{ok:true}", "{\"ok\":true,}", "null",
	};
	size_t i;

	/* the generic error answer: only ok and error */
	CHECK_EQ(ctl_parse_connect_answer("{\"ok\":false,\"error\":\"unknown command\"}", 38, &a), 0);
	CHECK(!a.ok && strcmp(a.error, "unknown command") == 0 && a.elapsed_ms == -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(ctl_parse_connect_answer(bad[i], strlen(bad[i]), &a), -EINVAL);
	/* control bytes in an error (a peer's text) come out escaped */
	{
		static const char l[] =
			"{\"ok\":false,\"error\":\"evil\\nFAKE \\u001b[31mred\\\\\"}";

		CHECK_EQ(ctl_parse_connect_answer(l, sizeof(l) - 1, &a), 0);
		CHECK(strcmp(a.error, "evil\\x0aFAKE \\x1b[31mred\\") == 0);
	}
	/* an error longer than the buffer is cut, not refused */
	{
		char line[700];

		strcpy(line, "{\"ok\":false,\"error\":\"");
		memset(line + strlen(line), 'e', 600);
		strcpy(line + 21 + 600, "\"}");
		CHECK_EQ(ctl_parse_connect_answer(line, strlen(line), &a), 0);
		CHECK_EQ(strlen(a.error), sizeof(a.error) - 1);
		CHECK(strcmp(a.error + sizeof(a.error) - 4, "...") == 0);
	}
}

static void nested_status_paths(void)
{
	static const char st[] =
		"{\"id\":\"laptop\",\"registered\":true,\"server\":\"192.0.2.1:3478\","
		"\"public\":{\"tcp\":\"198.18.1.2:40001\",\"udp\":null},"
		"\"nat\":{\"tcp\":{\"mapping\":\"EIM\",\"filtering\":\"APDF\",\"delta\":-2,"
		"\"hops\":[\"10.0.0.1\",null]},\"methods\":[\"simopen\",\"stunt2\"]},"
		"\"sessions\":[{\"peer\":\"office-pc\",\"since_ms\":1234}],"
		"\"counters\":{\"simopen\":{\"tried\":3,\"won\":2,\"failed\":1},\"direct\":{\"tried\":0}},"
		"\"uptime_ms\":5000}";
	struct cj_val root, v, k, e;
	char buf[64];
	long long x;
	size_t it = 0, n = 0;

	CHECK_EQ(parse(st, &root), 0);
	CHECK_EQ(root.type, CJ_OBJ);
	CHECK_EQ(cj_path(&root, "nat.tcp.mapping", &v), 0);
	CHECK_EQ(cj_str(&v, buf, sizeof(buf)), 3);
	CHECK(strcmp(buf, "EIM") == 0);
	CHECK_EQ(cj_path(&root, "nat.tcp.delta", &v), 0);
	CHECK_EQ(cj_int(&v, &x), 0);
	CHECK_EQ(x, -2);
	CHECK_EQ(cj_path(&root, "public.udp", &v), 0);
	CHECK_EQ(v.type, CJ_NULL);
	CHECK_EQ(cj_path(&root, "nat.udp.mapping", &v), -ENOENT);
	CHECK_EQ(cj_path(&root, "id.x", &v), -EINVAL);	/* a string has no members */
	CHECK_EQ(cj_path(&root, "nat.methods", &v), 0);
	CHECK_EQ(cj_index(&v, 1, &e), 0);
	CHECK(cj_str(&e, buf, sizeof(buf)) == 6 && strcmp(buf, "stunt2") == 0);
	CHECK_EQ(cj_index(&v, 2, &e), -ENOENT);
	CHECK_EQ(cj_path(&root, "sessions", &v), 0);
	CHECK_EQ(cj_index(&v, 0, &e), 0);
	CHECK_EQ(cj_get(&e, "since_ms", &v), 0);
	CHECK(cj_int(&v, &x) == 0 && x == 1234);
	CHECK_EQ(cj_get(&root, "counters", &v), 0);
	while (cj_member(&v, &it, &k, &e) == 1)
		n++;
	CHECK_EQ(n, 2);
	CHECK_EQ(cj_path(&root, "uptime_ms", &v), 0);
	CHECK(cj_int(&v, &x) == 0 && x == 5000);
}

static void strings_unescaped(void)
{
	struct cj_val v;
	char buf[32];

	CHECK_EQ(parse("\"a\\\"b\\\\c\\/d\\n\"", &v), 0);
	CHECK_EQ(cj_str(&v, buf, sizeof(buf)), 8);
	CHECK(strcmp(buf, "a\"b\\c/d\n") == 0);
	CHECK_EQ(parse("\"\\u00e9\\u20ac\\ud83d\\ude00\"", &v), 0);	/* é € 😀 */
	CHECK_EQ(cj_str(&v, buf, sizeof(buf)), 2 + 3 + 4);
	CHECK(strcmp(buf, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0);
	CHECK_EQ(parse("\"\\ud800x\"", &v), 0);			/* lone surrogate: U+FFFD */
	CHECK(cj_str(&v, buf, sizeof(buf)) == 4 && strcmp(buf, "\xef\xbf\xbdx") == 0);
	CHECK_EQ(parse("\"\\u0000\"", &v), 0);
	CHECK_EQ(cj_str(&v, buf, sizeof(buf)), -EINVAL);	/* would cut a C string */
	CHECK_EQ(parse("\"abcdef\"", &v), 0);
	CHECK_EQ(cj_str(&v, buf, 6), -ENOSPC);
	CHECK_EQ(cj_str(&v, buf, 7), 6);
	CHECK_EQ(parse("12", &v), 0);
	CHECK_EQ(cj_str(&v, buf, sizeof(buf)), -EINVAL);
}

static void numbers(void)
{
	struct cj_val v;
	long long x;

	CHECK(parse("9223372036854775807", &v) == 0 && cj_int(&v, &x) == 0 && x == LLONG_MAX);
	CHECK(parse("-9223372036854775808", &v) == 0 && cj_int(&v, &x) == 0 && x == LLONG_MIN);
	CHECK(parse("9223372036854775808", &v) == 0 && cj_int(&v, &x) == -ERANGE);
	CHECK(parse("1.5", &v) == 0 && cj_int(&v, &x) == -EINVAL);
	CHECK(parse("1e3", &v) == 0 && cj_int(&v, &x) == -EINVAL);
	CHECK(parse("-0", &v) == 0 && cj_int(&v, &x) == 0 && x == 0);
}

static void grammar_refused(void)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{1:2}",
		"01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "\"abc", "\"a\\x\"", "\"\\u12g4\"",
		"\"tab\there\"", "[1 2]", "{} {}", "\"\\", "[\"\\u00\"]",
	};
	char deep[2 * CJ_MAX_DEPTH + 8];
	struct cj_val v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &v) != -EINVAL)
			fprintf(stderr, "accepted '%s'\n", bad[i]);
		CHECK_EQ(parse(bad[i], &v), -EINVAL);
	}
	/* nesting: CJ_MAX_DEPTH levels pass, one more is refused */
	memset(deep, '[', CJ_MAX_DEPTH);
	memset(deep + CJ_MAX_DEPTH, ']', CJ_MAX_DEPTH);
	CHECK_EQ(cj_parse(deep, 2 * CJ_MAX_DEPTH, &v), 0);
	memset(deep, '[', CJ_MAX_DEPTH + 1);
	memset(deep + CJ_MAX_DEPTH + 1, ']', CJ_MAX_DEPTH + 1);
	CHECK_EQ(cj_parse(deep, 2 * CJ_MAX_DEPTH + 2, &v), -EINVAL);
	/* the length bounds the read: a valid prefix is not enough */
	CHECK_EQ(cj_parse("{\"ok\":true}", 10, &v), -EINVAL);
	CHECK_EQ(cj_parse("truex", 4, &v), 0);
	CHECK_EQ(v.type, CJ_BOOL);
}

static void quoting_round_trip(void)
{
	struct cj_val v;
	char q[64], back[64];

	CHECK(cj_quote("a\"b\\c\n\x01", q, sizeof(q)) > 0);
	CHECK(strcmp(q, "\"a\\\"b\\\\c\\u000a\\u0001\"") == 0);
	CHECK_EQ(parse(q, &v), 0);
	CHECK(cj_str(&v, back, sizeof(back)) == 7 && strcmp(back, "a\"b\\c\n\x01") == 0);
	CHECK_EQ(cj_quote("abc", q, 5), -ENOSPC);
	CHECK_EQ(cj_quote("abc", q, 6), 5);
}

int main(void)
{
	RUN(connect_answer_success);
	RUN(connect_answer_failure);
	RUN(connect_answer_minimal_and_bad);
	RUN(nested_status_paths);
	RUN(strings_unescaped);
	RUN(numbers);
	RUN(grammar_refused);
	RUN(quoting_round_trip);
	return TAP_DONE();
}
