// SPDX-License-Identifier: MIT
/* stunt-server's config file as options (server/conf.c). */
#include "common/conf.h"
#include "server/conf.h"
#include "tests/unit/tap.h"

#include <errno.h>

static const struct option opts[] = {
	{ "primary", required_argument, NULL, 1 },
	{ "port", required_argument, NULL, 2 },
	{ "keep-root", no_argument, NULL, 3 },
	{ "config", required_argument, NULL, 4 },
	{ NULL, 0, NULL, 0 },
};
static const char *const refused[] = { "config", "help", NULL };
static struct srv_conf_args a;

static void directives_become_options(void)
{
	const char *f = "# stunt-server\n"
			"primary 192.0.2.1   # the first address\n"
			"\n"
			"  port\t3478\n"
			"keep-root on\n"
			"keep-root off\n";
	char err[200] = "";

	CHECK_EQ(srv_conf_args(f, strlen(f), opts, refused, &a, err, sizeof(err)), 0);
	CHECK_EQ(a.argc, 4);
	CHECK(!strcmp(a.argv[0], "config"));
	CHECK(!strcmp(a.argv[1], "--primary=192.0.2.1"));
	CHECK(!strcmp(a.argv[2], "--port=3478"));
	CHECK(!strcmp(a.argv[3], "--keep-root"));
	CHECK(a.argv[4] == NULL);
	CHECK_EQ(a.line[1], 2);
	CHECK_EQ(a.line[2], 4);
	CHECK_EQ(a.line[3], 5);
	/* no trailing newline */
	CHECK_EQ(srv_conf_args("port 1", 6, opts, refused, &a, err, sizeof(err)), 0);
	CHECK_EQ(a.argc, 2);
	CHECK_EQ(a.line[1], 1);
}

static void errors_name_the_line(void)
{
	char err[200] = "";

	CHECK_EQ(srv_conf_args("port 1\nfrob 2\n", 14, opts, refused, &a, err, sizeof(err)), -EINVAL);
	CHECK(!strcmp(err, "line 2: unknown directive 'frob'"));
	CHECK_EQ(srv_conf_args("\n\nport\n", 7, opts, refused, &a, err, sizeof(err)), -EINVAL);
	CHECK(!strcmp(err, "line 3: 'port' needs a value"));
	CHECK_EQ(srv_conf_args("keep-root yes\n", 14, opts, refused, &a, err, sizeof(err)), -EINVAL);
	CHECK(!strcmp(err, "line 1: bad keep-root 'yes' (on or off)"));
	CHECK_EQ(srv_conf_args("config /x\n", 10, opts, refused, &a, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "line 1: 'config' is no directive") != NULL);
	CHECK_EQ(srv_conf_args("port 1\0\n", 8, opts, refused, &a, err, sizeof(err)), -EINVAL);
	CHECK(!strcmp(err, "line 1: NUL byte"));
}

static void limits(void)
{
	static char big[SRV_CONF_MAX_ARGS * 8 + 64];
	char err[200] = "";
	size_t i, n = 0;

	for (i = 0; i < SRV_CONF_MAX_ARGS + 1; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "port 1\n");
	CHECK_EQ(srv_conf_args(big, n, opts, refused, &a, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "too many directives") != NULL);
	CHECK(!strncmp(err, "line 129: ", 10));
	/* one line too long */
	{
		static char line[CONF_LINE_MAX + 16];

		memset(line, 'a', sizeof(line));
		memcpy(line, "port ", 5);
		CHECK_EQ(srv_conf_args(line, sizeof(line), opts, refused, &a, err, sizeof(err)),
			 -EINVAL);
		CHECK(strstr(err, "too long") != NULL);
	}
}

int main(void)
{
	RUN(directives_become_options);
	RUN(errors_name_the_line);
	RUN(limits);
	return TAP_DONE();
}
