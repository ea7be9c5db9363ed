// SPDX-License-Identifier: MIT
/* stuntctl genkey's output (ctl/genkey.c): both secrets files take it, and
 * they then hold the same secret. */
#include "ctl/ctl.h"
#include "daemon/config.h"
#include "server/secrets.h"
#include "tests/unit/tap.h"

#include <errno.h>

static const uint8_t key[CTL_KEY_BYTES] = {
	0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60,
	0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69,
};
#define HEX "000123456789abcdefff102030405060708090a0b0c0d0e0f00f1e2d3c4b5a69"

static void hex_digits(void)
{
	char h[CTL_KEY_HEX + 1];

	ctl_key_hex(key, h);
	CHECK(!strcmp(h, HEX));
	CHECK_EQ(strlen(h), 64);
}

/* the lines of out that are not comments */
static int data_lines(const char *out, char lines[4][160])
{
	int n = 0;
	const char *p = out, *nl;

	while (*p && n < 4) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		if (*p != '#') {
			snprintf(lines[n], 160, "%.*s", (int)(nl - p), p);
			n++;
		}
		p = nl + 1;
	}
	return n;
}

static void both_files_take_it(void)
{
	char out[1024], lines[4][160], sec[D_SECRET_MAX];
	struct srv_secrets s = { 0 };
	unsigned bad = 0;
	int w, n;

	w = ctl_genkey_format(key, "laptop", false, out, sizeof(out));
	CHECK(w > 0 && (size_t)w == strlen(out));
	n = data_lines(out, lines);
	CHECK_EQ(n, 2);
	CHECK(!strcmp(lines[0], "laptop " HEX));
	CHECK(!strcmp(lines[1], HEX));
	/* the whole output as the server's secrets file: the comments are
	 * comments, the bare secret line is a bad one (it goes to the host) */
	CHECK_EQ(srv_secrets_parse(lines[0], strlen(lines[0]), &s, &bad), 0);
	CHECK_EQ(s.n, 1);
	CHECK(!strcmp(s.v[0].id, "laptop"));
	/* stuntd's secret file: the same bytes */
	CHECK_EQ(d_secret_parse(lines[1], strlen(lines[1]), sec, sizeof(sec)), 64);
	CHECK_EQ(s.v[0].secret_len, 64);
	CHECK_MEM(s.v[0].secret, sec, 64);
	srv_secrets_free(&s);
	/* where each goes is said */
	CHECK(strstr(out, "--secrets file") != NULL);
	CHECK(strstr(out, "--secret-file") != NULL);
}

static void raw_and_errors(void)
{
	char out[128], small[40];

	CHECK_EQ(ctl_genkey_format(key, "x", true, out, sizeof(out)), 65);
	CHECK(!strcmp(out, HEX "\n"));
	CHECK_EQ(ctl_genkey_format(key, "bad id", false, out, sizeof(out)), -EINVAL);
	CHECK_EQ(ctl_genkey_format(key, "", false, out, sizeof(out)), -EINVAL);
	CHECK_EQ(ctl_genkey_format(key, NULL, false, out, sizeof(out)), -EINVAL);
	CHECK_EQ(ctl_genkey_format(key, "laptop", false, small, sizeof(small)), -ENOSPC);
	CHECK_EQ(ctl_genkey_format(key, "x", true, small, sizeof(small)), -ENOSPC);
}

int main(void)
{
	RUN(hex_digits);
	RUN(both_files_take_it);
	RUN(raw_and_errors);
	return TAP_DONE();
}
