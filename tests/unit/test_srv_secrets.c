// SPDX-License-Identifier: MIT
/* The --secrets file parser (server/secrets.c) and the counters'
 * status line and JSON (server/stats.c). */
#include "server/secrets.h"
#include "server/stats.h"
#include "server/rdv.h"
#include "server/stun.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void on_bad(unsigned line, const char *reason, void *arg)
{
	char *log = arg;
	char one[160];

	snprintf(one, sizeof(one), "%u:%s|", line, reason);
	strncat(log, one, 1023 - strlen(log));
}

static void every_bad_line_reported(void)
{
	struct srv_secrets s = { 0 };
	char log[1024] = "";
	unsigned bad = 0;
	const char *text = "good s1\n"
			   "lonely\n"
			   "# fine\n"
			   "-bad- s2 # trailing comment\n"
			   "good s3\n"
			   "a b c\n"
			   "\n"
			   "x \t y\n";

	CHECK_EQ(srv_secrets_parse_all(text, strlen(text), &s, on_bad, log, &bad), -EBADMSG);
	CHECK_EQ(bad, 2);
	CHECK_EQ(s.n, 0);
	CHECK(!strcmp(log, "2:no secret after the id 'lonely' (\"ID SECRET\")|"
			   "5:id 'good' given twice|"
			   "6:more than two fields (\"ID SECRET\"; the secret has no blank, '#' starts a comment)|"));
	/* '-bad-' is a valid id (A-Z a-z 0-9 . _ -) */
	log[0] = '\0';
	CHECK_EQ(srv_secrets_parse_all("a\0b s\n", 6, &s, on_bad, log, &bad), -EBADMSG);
	CHECK(!strcmp(log, "1:a NUL byte|"));
	/* no callback: the first bad line still returned */
	CHECK_EQ(srv_secrets_parse_all("a b\nc\nd\n", 8, &s, NULL, NULL, &bad), -EBADMSG);
	CHECK_EQ(bad, 2);
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
	CHECK(strstr(buf, "\"revoked\":0,\"session_share\":0") != NULL);
	CHECK(strstr(buf, "\"signal_limited\":0") != NULL);
	CHECK(strstr(buf, "\"share_limited\":0") != NULL);
	CHECK_EQ(buf[n - 1], '}');
	/* truncation: snprintf's contract, never past the buffer */
	CHECK_EQ(srv_stats_json(&st, small, sizeof(small)), n);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	n = srv_stats_line(&st, buf, sizeof(buf));
	CHECK(strncmp(buf, "status: refused 10; udp rx 10 answered 6 malformed 3", 52) == 0);
	CHECK(strstr(buf, " no-peer 0 revoked 0 signal-limited 0;") != NULL);
	CHECK(strstr(buf, " rate-limited 0 share-limited 0;") != NULL);
}

static void readable_files_are_refused(void)
{
	char dir[] = "/tmp/test_srv_secrets.XXXXXX", path[64], why[256];
	struct srv_secrets s = { 0 };
	int fd;

	CHECK(srv_secrets_mode_ok(0100600));
	CHECK(srv_secrets_mode_ok(0100400));
	CHECK(!srv_secrets_mode_ok(0100640));
	CHECK(!srv_secrets_mode_ok(0100604));
	CHECK(!srv_secrets_mode_ok(0100610));
	CHECK(!srv_secrets_mode_ok(0100601));
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/secrets", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "laptop s3cret\n", 14), 14);
	close(fd);
	CHECK_EQ(srv_secrets_read(path, &s, why, sizeof(why)), 0);
	CHECK_EQ(s.n, 1);
	srv_secrets_free(&s);
	CHECK_EQ(chmod(path, 0644), 0);
	CHECK_EQ(srv_secrets_read(path, &s, why, sizeof(why)), -EPERM);
	CHECK(strstr(why, path) != NULL);
	CHECK(strstr(why, "(mode 0644)") != NULL);
	CHECK(strstr(why, "readable by group or others") != NULL);
	CHECK_EQ(s.n, 0);
	CHECK_EQ(chmod(path, 0600), 0);
	CHECK_EQ(truncate(path, 0), 0);
	fd = open(path, O_WRONLY);
	CHECK_EQ(write(fd, "a b\nc\n", 6), 6);
	close(fd);
	CHECK_EQ(srv_secrets_read(path, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, ": line 2: no secret after the id 'c'") != NULL);
	CHECK(strstr(why, "(1 bad line)") != NULL);
	/* every bad line named, no secret shown */
	CHECK_EQ(truncate(path, 0), 0);
	fd = open(path, O_WRONLY);
	CHECK_EQ(write(fd, "ok s3cret\nb@d x1\nok other-s3cret\nz s ex\n", 40), 40);
	close(fd);
	CHECK_EQ(srv_secrets_read(path, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, path) != NULL);
	CHECK(strstr(why, "line 2: bad id") != NULL);
	CHECK(strstr(why, "line 3: id 'ok' given twice") != NULL);
	CHECK(strstr(why, "line 4: more than two fields") != NULL);
	CHECK(strstr(why, "(3 bad lines)") != NULL);
	CHECK(strstr(why, "s3cret") == NULL && strstr(why, "x1") == NULL);
	CHECK_EQ(s.n, 0);
	/* more than fit: as many as fit, then the count */
	{
		char big[4000], small[160];
		size_t k;

		big[0] = '\0';
		for (k = 0; k < 50; k++)
			strcat(big, "onlyid\n");
		CHECK_EQ(truncate(path, 0), 0);
		fd = open(path, O_WRONLY);
		CHECK_EQ(write(fd, big, strlen(big)), (ssize_t)strlen(big));
		close(fd);
		CHECK_EQ(srv_secrets_read(path, &s, small, sizeof(small)), -EBADMSG);
		CHECK(strstr(small, "line 1: no secret") != NULL);
		CHECK(strstr(small, "... 50 bad lines in all") != NULL);
		CHECK(strlen(small) < sizeof(small));
	}
	unlink(path);
	CHECK_EQ(srv_secrets_read(path, &s, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, path) != NULL);
	rmdir(dir);
}

static void revoked_ids(void)
{
	struct srv_secrets prev = { 0 }, next = { 0 };
	unsigned bad;

	CHECK_EQ(parse("a s3cret-a\nb s3cret-b\nc s3cret-c\nd s3cret-d\n", &prev, &bad), 0);
	/* a unchanged, b removed, c another secret, d a longer one, e new */
	CHECK_EQ(parse("a s3cret-a\nc s3cret-C\nd s3cret-dd\ne s3cret-e\n", &next, &bad), 0);
	CHECK(!srv_secrets_revoked(&prev, &next, "a"));
	CHECK(srv_secrets_revoked(&prev, &next, "b"));
	CHECK(srv_secrets_revoked(&prev, &next, "c"));
	CHECK(srv_secrets_revoked(&prev, &next, "d"));
	CHECK(!srv_secrets_revoked(&prev, &next, "e"));
	CHECK(!srv_secrets_revoked(&prev, &next, NULL));
	srv_secrets_free(&prev);
	srv_secrets_free(&next);
}

int main(void)
{
	RUN(ids_secrets_comments_and_blank_lines);
	RUN(bad_lines_are_refused_with_their_number);
	RUN(every_bad_line_reported);
	RUN(many_ids);
	RUN(stats_json_and_status_line);
	RUN(readable_files_are_refused);
	RUN(revoked_ids);
	return TAP_DONE();
}
