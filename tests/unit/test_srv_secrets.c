// SPDX-License-Identifier: MIT
/* The --secrets file parser (server/secrets.c) and the counters'
 * status line and JSON (server/stats.c). */
#include "server/secrets.h"
#include "server/stats.h"
#include "server/rdv.h"
#include "server/stun.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdlib.h>

static int parse(const char *text, struct srv_secrets *s, unsigned *bad)
{
	return srv_secrets_parse(text, strlen(text), s, bad);
}

static void ids_secrets_comments_and_blank_lines(void)
{
	struct srv_secrets s = { 0 };
	const struct srv_secret *e;
	unsigned bad = 99;

	CHECK_EQ(parse("# peers of the lab\n"
		       "\n"
		       "office-pc  s3cr3t-one\n"
		       "\thome.laptop\tTwo_2   # trailing comment\r\n"
		       "   \n"
		       "x y", &s, &bad), 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(s.n, 3);
	e = srv_secrets_find(&s, "office-pc", 9);
	CHECK(e && e->secret_len == 10 && memcmp(e->secret, "s3cr3t-one", 10) == 0);
	e = srv_secrets_find(&s, "home.laptop", 11);
	CHECK(e && e->secret_len == 5 && memcmp(e->secret, "Two_2", 5) == 0);
	e = srv_secrets_find(&s, "x", 1);
	CHECK(e && e->secret_len == 1 && e->secret[0] == 'y');
	CHECK(!srv_secrets_find(&s, "office", 6));
	CHECK(!srv_secrets_find(&s, "nobody", 6));
	srv_secrets_free(&s);
	CHECK_EQ(s.n, 0);

	CHECK_EQ(parse("", &s, &bad), 0);
	CHECK_EQ(s.n, 0);
	CHECK_EQ(parse("# only a comment", &s, &bad), 0);
	CHECK_EQ(s.n, 0);
}

static void bad_lines_are_refused_with_their_number(void)
{
	static const struct {
		const char *text;
		unsigned line;
	} cases[] = {
		{ "alone\n", 1 },				/* no secret */
		{ "a b\nc d e\n", 2 },				/* a third field */
		{ "a b\n# x\na c\n", 3 },			/* the same id twice */
		{ "bad/id s\n", 1 },				/* id outside [A-Za-z0-9._-] */
		{ "a b\n\nid\xc3\xa9 s\n", 3 },			/* non-ASCII id */
	};
	struct srv_secrets s = { 0 };
	unsigned bad;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(parse(cases[i].text, &s, &bad), -EBADMSG);
		CHECK_EQ(bad, cases[i].line);
		CHECK(s.v == NULL && s.n == 0);
	}
	/* an id of 65 bytes, a secret of 257 */
	{
		char line[400];

		memset(line, 'a', 65);
		memcpy(line + 65, " s\n", 4);
		CHECK_EQ(parse(line, &s, &bad), -EBADMSG);
		memset(line, 'b', sizeof(line));
		line[0] = 'i';
		line[1] = ' ';
		line[2 + 257] = '\0';
		CHECK_EQ(parse(line, &s, &bad), -EBADMSG);
		line[2 + 256] = '\0';
		CHECK_EQ(parse(line, &s, &bad), 0);
		CHECK_EQ(s.n, 1);
		srv_secrets_free(&s);
	}
	/* a NUL byte inside a line */
	CHECK_EQ(srv_secrets_parse("a b\0c\n", 6, &s, &bad), -EBADMSG);
	CHECK_EQ(srv_secrets_parse(NULL, 0, &s, &bad), -EINVAL);
}

static void many_ids(void)
{
	char *text = malloc(1000 * 32), *p = text;
	struct srv_secrets s = { 0 };
	unsigned bad;

	for (int i = 0; i < 1000; i++)
		p += sprintf(p, "peer%d secret%d\n", i, i);
	CHECK_EQ(srv_secrets_parse(text, (size_t)(p - text), &s, &bad), 0);
	CHECK_EQ(s.n, 1000);
	CHECK(srv_secrets_find(&s, "peer999", 7) != NULL);
	srv_secrets_free(&s);
	free(text);
}

static void stats_json_and_status_line(void)
{
	struct srv_stats st;
	char buf[2048], small[16];
	int n;

	memset(&st, 0, sizeof(st));
	st.udp_rx = 10;
	st.udp_verdict[SRV_V_BINDING] = 6;
	st.udp_verdict[SRV_V_DROP_MALFORMED] = 3;
	st.udp_verdict[SRV_V_ERR_420] = 1;
	st.tcp_refused = 2;
	st.tcp_verdict[SRV_V_ERR_400] = 4;
	CHECK_EQ(srv_stats_refused(&st), 3 + 1 + 2 + 4);
	n = srv_stats_json(&st, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n < sizeof(buf));
	CHECK(strstr(buf, "{\"udp\":{\"rx\":10,") == buf);
	CHECK(strstr(buf, "\"binding\":6,") != NULL);
	CHECK(strstr(buf, "\"drop_malformed\":3") != NULL);
	CHECK(strstr(buf, "\"tcp\":{\"clients\":0,\"accepted\":0,\"refused\":2,") != NULL);
	CHECK(strstr(buf, "\"refused\":10}") != NULL);
	CHECK_EQ(buf[n - 1], '}');
	/* truncation: snprintf's contract, never past the buffer */
	CHECK_EQ(srv_stats_json(&st, small, sizeof(small)), n);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	n = srv_stats_line(&st, buf, sizeof(buf));
	CHECK(strncmp(buf, "status: refused 10; udp rx 10 answered 6 malformed 3", 52) == 0);
}

int main(void)
{
	RUN(ids_secrets_comments_and_blank_lines);
	RUN(bad_lines_are_refused_with_their_number);
	RUN(many_ids);
	RUN(stats_json_and_status_line);
	return TAP_DONE();
}
