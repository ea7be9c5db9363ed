// SPDX-License-Identifier: MIT
/* stuntd's config parser, secret file and access checks (daemon/d_config.c). */
#include "daemon/d_config.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>

static void full_file(void)
{
	static const char f[] =
		"# stuntd.conf\n"
		"id laptop\n"
		"server 192.0.2.1:3479   \n"
		"\n"
		"  secret-file /etc/stunt/secret  # trailing comment\n"
		"expose vnc tcp:127.0.0.1:5900\n"
		"expose inetd exec:x11vnc -inetd -display :0 # kept: part of the command\n"
		"allow vnc office-pc,laptop\n"
		"control /run/stunt/s.sock\n"
		"control-group stunt\n"
		"state-dir /tmp/st\n"
		"connect-timeout 5000\n";
	struct d_config c;
	char err[128] = "";
	const struct d_expose *e;

	d_config_init(&c);
	CHECK_EQ(d_config_parse(f, sizeof(f) - 1, &c, err, sizeof(err)), 0);
	CHECK(!strcmp(c.id, "laptop"));
	CHECK(c.have_server);
	CHECK_EQ(ntohs(c.server.sin_port), 3479);
	CHECK_EQ(c.server.sin_addr.s_addr, inet_addr("192.0.2.1"));
	CHECK(!strcmp(c.secret_file, "/etc/stunt/secret"));
	CHECK(!strcmp(c.control, "/run/stunt/s.sock"));
	CHECK(!strcmp(c.control_group, "stunt"));
	CHECK(!strcmp(c.state_dir, "/tmp/st"));
	CHECK_EQ(c.connect_timeout_ms, 5000);
	CHECK_EQ(c.nexpose, 2);
	e = d_config_find_expose(&c, "vnc");
	CHECK(e && e->kind == D_TARGET_TCP && ntohs(e->addr.sin_port) == 5900);
	e = d_config_find_expose(&c, "inetd");
	CHECK(e && e->kind == D_TARGET_EXEC &&
	      !strcmp(e->cmd, "x11vnc -inetd -display :0 # kept: part of the command"));
	CHECK(d_config_allowed(&c, "vnc", "office-pc"));
	CHECK(d_config_allowed(&c, "vnc", "laptop"));
	CHECK(!d_config_allowed(&c, "vnc", "stranger"));
	CHECK(!d_config_allowed(&c, "inetd", "laptop"));	/* no allow line: nobody */
	CHECK_EQ(d_config_check(&c, err, sizeof(err)), 0);
}

static void defaults_and_port(void)
{
	struct d_config c;
	char err[128];

	d_config_init(&c);
	CHECK(!strcmp(c.control, D_CONTROL_DEFAULT));
	CHECK_EQ(c.connect_timeout_ms, D_CONNECT_TIMEOUT_MS_DEFAULT);
	CHECK_EQ(d_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "id") != NULL);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.server.sin_port), D_SERVER_PORT_DEFAULT);
}

static void errors_name_the_line(void)
{
	struct d_config c;
	char err[128] = "";

	d_config_init(&c);
	CHECK_EQ(d_config_parse("id a\nfrobnicate 1\n", 20, &c, err, sizeof(err)), -EINVAL);
	CHECK(!strcmp(err, "line 2: unknown directive 'frobnicate'"));
	CHECK_EQ(d_config_parse("\n\nserver 300.1.1.1\n", 19, &c, err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "line 3: bad server", 18));
	CHECK_EQ(d_config_parse("id\n", 3, &c, err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "line 1: 'id' needs a value", 26));
	CHECK_EQ(d_config_parse("expose vnc udp:1.2.3.4:5\n", 25, &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "line 1: bad target") != NULL);
	CHECK_EQ(d_config_parse("allow vnc a,,b\n", 15, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("id bad/id\n", 10, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("server 1.2.3.4:0\n", 17, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("server 1.2.3.4:70000\n", 21, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("connect-timeout 5\n", 18, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("id a\0b\n", 7, &c, err, sizeof(err)), -EINVAL);
}

static void flags_override(void)
{
	struct d_config c;
	char err[128];

	d_config_init(&c);
	CHECK_EQ(d_config_parse("expose vnc tcp:127.0.0.1:5900\nallow vnc a\n", 42, &c, err,
				sizeof(err)), 0);
	/* flags use NAME=VALUE and replace a service of the same name */
	CHECK_EQ(d_config_set(&c, "expose", "vnc=tcp:127.0.0.1:5901", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "allow", "vnc=b,c", err, sizeof(err)), 0);
	CHECK_EQ(c.nexpose, 1);
	CHECK_EQ(ntohs(c.expose[0].addr.sin_port), 5901);
	CHECK(!d_config_allowed(&c, "vnc", "a"));
	CHECK(d_config_allowed(&c, "vnc", "c"));
	CHECK_EQ(d_config_set(&c, "expose", "x=exec:", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "expose", "novalue", err, sizeof(err)), -EINVAL);
}

static void secret(void)
{
	char s[64];

	CHECK_EQ(d_secret_parse("s3cret  \t\r\nignored\n", 19, s, sizeof(s)), 6);
	CHECK(!strcmp(s, "s3cret"));
	CHECK_EQ(d_secret_parse("with space inside\n", 18, s, sizeof(s)), 17);
	CHECK_EQ(d_secret_parse("nonl", 4, s, sizeof(s)), 4);
	CHECK_EQ(d_secret_parse("\nsecond line\n", 13, s, sizeof(s)), -EINVAL);
	CHECK_EQ(d_secret_parse("   \n", 4, s, sizeof(s)), -EINVAL);
	CHECK_EQ(d_secret_parse("", 0, s, sizeof(s)), -EINVAL);
	CHECK_EQ(d_secret_parse("0123456789", 10, s, 8), -EINVAL);
}

int main(void)
{
	RUN(full_file);
	RUN(defaults_and_port);
	RUN(errors_name_the_line);
	RUN(flags_override);
	RUN(secret);
	return TAP_DONE();
}
