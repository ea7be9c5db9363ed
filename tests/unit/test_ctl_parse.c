// SPDX-License-Identifier: MIT
/* stuntctl's argument parsers: PEER/NAME, [ADDR:]PORT, method names, request lines. */
#include "ctl/ctl.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

static void target_peer_and_service(void)
{
	struct ctl_target t;

	CHECK_EQ(ctl_parse_target("office-pc/vnc", &t), 0);
	CHECK(strcmp(t.peer, "office-pc") == 0);
	CHECK(strcmp(t.service, "vnc") == 0);
	CHECK_EQ(ctl_parse_target("a.b_c-9/X", &t), 0);
	CHECK(strcmp(t.peer, "a.b_c-9") == 0 && strcmp(t.service, "X") == 0);
}

static void target_refuses_malformed(void)
{
	static const char *const bad[] = {
		"", "office-pc", "/vnc", "office-pc/", "/", "a/b/c", "a b/vnc", "a/v nc",
		"a/vnc\n", "peer:1/vnc", "ü/vnc",
	};
	char longid[80];
	struct ctl_target t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(ctl_parse_target(bad[i], &t), -EINVAL);
	CHECK_EQ(ctl_parse_target(NULL, &t), -EINVAL);
	/* 64 bytes is the longest id (SIG_ID_MAX), 65 is refused */
	memset(longid, 'p', 64);
	strcpy(longid + 64, "/vnc");
	CHECK_EQ(ctl_parse_target(longid, &t), 0);
	CHECK_EQ(strlen(t.peer), 64);
	memset(longid, 'p', 65);
	strcpy(longid + 65, "/vnc");
	CHECK_EQ(ctl_parse_target(longid, &t), -EINVAL);
}

static int v4(const char *arg, const char *want_ip, unsigned want_port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	socklen_t len = 0;
	char ip[INET_ADDRSTRLEN];

	if (ctl_parse_listen(arg, &ss, &len) < 0 || ss.ss_family != AF_INET || len != sizeof(*s4))
		return 0;
	inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
	return strcmp(ip, want_ip) == 0 && ntohs(s4->sin_port) == want_port;
}

static void listen_address_forms(void)
{
	struct sockaddr_storage ss;
	socklen_t len;

	CHECK(v4("5901", "127.0.0.1", 5901));		/* no ADDR: loopback only */
	CHECK(v4("127.0.0.1:5901", "127.0.0.1", 5901));
	CHECK(v4("10.1.0.10:1", "10.1.0.10", 1));
	CHECK(v4("*:65535", "0.0.0.0", 65535));
	CHECK(v4("0.0.0.0:80", "0.0.0.0", 80));
	CHECK(v4("localhost:22", "127.0.0.1", 22));
	CHECK_EQ(ctl_parse_listen("[::1]:5901", &ss, &len), 0);
	CHECK_EQ(ss.ss_family, AF_INET6);
	CHECK_EQ(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 5901);
	CHECK_EQ(len, sizeof(struct sockaddr_in6));
}

static void listen_address_refused(void)
{
	static const char *const bad[] = {
		"", "0", "65536", "99999", "-1", "59x1", "127.0.0.1:", ":5901", "1.2.3:5901",
		"1.2.3.4.5:80", "[::1]5901", "[::1]:", "[]:80", "[1.2.3.4]:80", "host.example:80",
		"127.0.0.1:5901:1", "+80", " 80", "000080x",
	};
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ctl_parse_listen(bad[i], &ss, &len) != -EINVAL)
			fprintf(stderr, "accepted '%s'\n", bad[i]);
		CHECK_EQ(ctl_parse_listen(bad[i], &ss, &len), -EINVAL);
	}
	CHECK_EQ(ctl_parse_listen(NULL, &ss, &len), -EINVAL);
}

/* What forward prints for a client or a listening address. */
static void address_printed(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64];

	CHECK_EQ(ctl_parse_listen("9100", &ss, &len), 0);
	ctl_addr_str(&ss, buf, sizeof(buf));
	CHECK(!strcmp(buf, "127.0.0.1:9100"));
	CHECK_EQ(ctl_parse_listen("[::1]:53", &ss, &len), 0);
	ctl_addr_str(&ss, buf, sizeof(buf));
	CHECK(!strcmp(buf, "[::1]:53"));
	ctl_addr_str(&ss, buf, 6);	/* truncated, still terminated */
	CHECK(!strcmp(buf, "[::1]"));
}

static void method_names(void)
{
	CHECK(ctl_method_valid("simopen"));
	CHECK(ctl_method_valid("relay"));
	CHECK(ctl_method_valid("stunt2"));
	CHECK(ctl_method_valid("host"));
	CHECK(!ctl_method_valid("SIMOPEN"));
	CHECK(!ctl_method_valid("stunt3"));
	CHECK(!ctl_method_valid(""));
	CHECK(!ctl_method_valid(NULL));
}

static void request_lines(void)
{
	struct ctl_target t = { "office-pc", "vnc" };
	char buf[CTL_LINE_MAX];

	CHECK(ctl_build_simple("status", buf, sizeof(buf)) > 0);
	CHECK(strcmp(buf, "{\"cmd\":\"status\"}") == 0);
	CHECK(ctl_build_connect(&t, NULL, buf, sizeof(buf)) > 0);
	CHECK(strcmp(buf, "{\"cmd\":\"connect\",\"peer\":\"office-pc\",\"service\":\"vnc\",\"method\":null}") == 0);
	CHECK(ctl_build_connect(&t, "simopen", buf, sizeof(buf)) > 0);
	CHECK(strcmp(buf, "{\"cmd\":\"connect\",\"peer\":\"office-pc\",\"service\":\"vnc\",\"method\":\"simopen\"}") == 0);
	CHECK_EQ(ctl_build_connect(&t, "bogus", buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(ctl_build_connect(&t, NULL, buf, 20), -ENOSPC);
	CHECK_EQ(ctl_build_simple("status", buf, 5), -ENOSPC);
}

int main(void)
{
	RUN(target_peer_and_service);
	RUN(target_refuses_malformed);
	RUN(listen_address_forms);
	RUN(listen_address_refused);
	RUN(address_printed);
	RUN(method_names);
	RUN(request_lines);
	return TAP_DONE();
}
