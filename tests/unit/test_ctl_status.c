// SPDX-License-Identifier: MIT
/* stuntctl status / peers in words (ctl/status.c): durations, the public
 * endpoints the JSON knows, the NAT's names, "NAT:" once. */
#include "ctl/ctl.h"
#include "tests/unit/tap.h"

#include <stdlib.h>

/* An answer as stuntd gives it: its own UDP endpoint unknown, the probe's known. */
static const char status_json[] =
	"{\"id\":\"office-pc\",\"registered\":true,\"server\":\"203.0.113.1:3478\","
	"\"public\":{\"tcp\":\"198.51.100.7:40001\",\"udp\":null},"
	"\"nat\":{ \"udp\": { \"mapping\": \"EIM\", \"filtering\": \"APDF\", "
	"\"allocation\": \"preserving\", \"delta\": null, \"public\": \"198.51.100.7:40000\", "
	"\"classic\": \"port-restricted cone\" },  \"tcp\": { \"mapping\": \"none\", "
	"\"filtering\": \"EIF\", \"allocation\": null, \"public\": null }, "
	"\"methods\": [ \"direct\", \"simopen\" ] },"
	"\"sessions\":[{\"peer\":\"laptop\",\"service\":\"vnc\",\"method\":\"simopen\","
	"\"role\":\"responder\",\"state\":\"done\",\"since_ms\":192000}],"
	"\"counters\":{},\"uptime_ms\":7057}";

static char *show(const char *json, int peers)
{
	struct cj_val root;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (cj_parse(json, strlen(json), &root) < 0)
		return NULL;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	if (peers)
		ctl_show_peers(f, &root);
	else
		ctl_show_status(f, &root);
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/* several servers: the one in use named on the server line, then each */
static void server_list(void)
{
	static const char j[] =
		"{\"id\":\"laptop\",\"registered\":true,\"server\":\"192.0.2.3:3478\","
		"\"server_index\":2,\"servers\":[{\"index\":1,\"name\":\"rdv1.example.net\","
		"\"address\":\"192.0.2.1:3478\",\"state\":\"down\",\"failures\":3,"
		"\"error\":\"server closed the connection\",\"retry_ms\":4000,\"since_ms\":9000},"
		"{\"index\":2,\"name\":\"192.0.2.3\",\"address\":\"192.0.2.3:3478\","
		"\"state\":\"in use\",\"failures\":0,\"error\":null,\"retry_ms\":null,"
		"\"since_ms\":12000}],\"server_changes\":1,\"uptime_ms\":60000}";
	static const char one[] =
		"{\"id\":\"laptop\",\"registered\":true,\"server\":\"192.0.2.1:3478\","
		"\"server_index\":1,\"servers\":[{\"index\":1,\"name\":\"192.0.2.1\","
		"\"address\":\"192.0.2.1:3478\",\"state\":\"in use\"}],\"uptime_ms\":1}";
	char *s = show(j, 0);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strstr(s, "server: 192.0.2.3:3478 (192.0.2.3, 2 of 2), registered\n") != NULL);
	CHECK(strstr(s, "servers (in order of preference, 1 change(s)):\n") != NULL);
	CHECK(strstr(s, "  1 rdv1.example.net (192.0.2.1:3478): down, 3 failures, next try in 4 s:\n"
			"      server closed the connection\n") != NULL);
	CHECK(strstr(s, "  2 192.0.2.3 (192.0.2.3:3478): in use for 12 s\n") != NULL);
	free(s);
	/* one server: the line as it always was, no list */
	s = show(one, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strstr(s, "server: 192.0.2.1:3478, registered\n") != NULL);
	CHECK(strstr(s, "servers") == NULL);
	free(s);
}

static void durations(void)
{
	char b[48];

	CHECK(!strcmp(ctl_duration(b, sizeof(b), -1), "?"));
	CHECK(!strcmp(ctl_duration(b, sizeof(b), 0), "0 s"));
	CHECK(!strcmp(ctl_duration(b, sizeof(b), 7057), "7 s"));
	CHECK(!strcmp(ctl_duration(b, sizeof(b), 12000), "12 s"));
	CHECK(!strcmp(ctl_duration(b, sizeof(b), 59999), "59 s"));
	CHECK(!strcmp(ctl_duration(b, sizeof(b), 60000), "1 min 0 s"));
	CHECK(!strcmp(ctl_duration(b, sizeof(b), 192000), "3 min 12 s"));
	CHECK(!strcmp(ctl_duration(b, sizeof(b), (2 * 3600 + 5 * 60 + 30) * 1000LL), "2 h 5 min"));
	CHECK(!strcmp(ctl_duration(b, sizeof(b), (4 * 86400 + 3 * 3600) * 1000LL), "4 d 3 h"));
}

static void status_words(void)
{
	char *s = show(status_json, 0);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strstr(s, "stuntd office-pc, up 7 s\n") != NULL);
	CHECK(strstr(s, "public endpoints: tcp 198.51.100.7:40001, udp 198.51.100.7:40000\n") != NULL);
	CHECK_EQ(count(s, "NAT:"), 1);
	CHECK(strstr(s, "classic name: port-restricted cone NAT") != NULL);
	CHECK(strstr(s, "no translation, endpoint-independent filtering (EIF); classic name: open internet") != NULL);
	CHECK(strstr(s, " a open") == NULL);
	CHECK(strstr(s, "not measurable") == NULL);
	CHECK(strstr(s, "laptop/vnc  simopen  done  3 min 12 s\n") != NULL);
	CHECK(strstr(s, " ms") == NULL);
	free(s);
}

/* the methods table, with the SYN copies of the daemon's clock */
static void status_methods(void)
{
	char *s = show("{\"id\":\"a\",\"registered\":true,\"uptime_ms\":1000,\"counters\":"
		       "{\"direct\":{\"tried\":12,\"won\":11,\"failed\":1,\"syns_again\":3},"
		       "\"simopen\":{\"tried\":2,\"won\":0,\"failed\":2}}}", 0);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strstr(s, "methods:               tried    won failed  SYNs again\n") != NULL);
	CHECK(strstr(s, "           direct         12     11      1           3\n") != NULL);
	CHECK(strstr(s, "           simopen         2      0      2           0\n") != NULL);
	free(s);
}

/* a busy sequential NAT's pace, as predict measured it */
static void status_busy_nat(void)
{
	char *s = show("{\"id\":\"a\",\"registered\":true,\"uptime_ms\":1000,\"busy_nat\":"
		       "{\"pace_per_s\":87.5,\"measured_ms_ago\":12000,\"lead_ms\":180,"
		       "\"last_window\":40}}", 0);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strstr(s, "busy NAT: others take 87.5 ports/s of its counter (measured 12 s ago); "
		     "predict's last window 40, lead 180 ms\n") != NULL);
	free(s);
	/* null (never measured) or a number that is not one: nothing made up */
	s = show("{\"id\":\"a\",\"busy_nat\":null}", 0);
	CHECK(s && strstr(s, "busy NAT") == NULL);
	free(s);
	s = show("{\"id\":\"a\",\"busy_nat\":{\"pace_per_s\":\"\\u001b[2J\"}}", 0);
	CHECK(s && strstr(s, "others take ? ports/s") != NULL && strchr(s, 0x1b) == NULL);
	free(s);
}

static void status_unmeasured(void)
{
	char *s = show("{\"id\":\"a\",\"registered\":false,\"public\":null,\"nat\":null,"
		       "\"uptime_ms\":3723000}", 0);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strstr(s, "stuntd a, up 1 h 2 min\n") != NULL);
	CHECK(strstr(s, "public endpoints: tcp unknown, udp unknown\n") != NULL);
	CHECK(strstr(s, "\nNAT: not measured yet\n") != NULL);
	CHECK_EQ(count(s, "NAT:"), 1);
	free(s);
	/* an IPv6-only host: its server is IPv6, there is no NAT to measure */
	s = show("{\"id\":\"a\",\"registered\":true,\"server\":\"[2001:db8::1]:3478\","
		 "\"public\":{\"tcp\":\"[2001:db8:20::10]:40504\",\"udp\":null},\"nat\":null}", 0);
	CHECK(s && strstr(s, "server: [2001:db8::1]:3478, registered\n") != NULL);
	CHECK(s && strstr(s, "public endpoints: tcp [2001:db8:20::10]:40504, udp unknown\n"));
	CHECK(s && strstr(s, "\nNAT: none measured (the server is reached over IPv6: IPv6 "
			  "methods only)\n") != NULL);
	free(s);
	/* the IPv6 address offered, and the first SYN's hop limit */
	s = show("{\"id\":\"a\",\"registered\":true,\"ipv6\":\"2001:db8:10::10\","
		 "\"ipv6_local\":\"2001:db8:10::10\",\"ipv6_learnt\":null,"
		 "\"ipv6_hop_limit\":{\"value\":3,\"from\":\"measured\"}}", 0);
	CHECK(s && strstr(s, "IPv6: 2001:db8:10::10 (the host's own; not checked against a "
			  "server)\nIPv6 first SYN's hop limit: 3 (measured)\n") != NULL);
	free(s);
}

static void peers_words(void)
{
	char *s = show("{\"peers\":[{\"id\":\"office-pc\",\"online\":true,\"nat\":null,"
		       "\"allowed\":true,\"endpoint\":\"198.51.100.7:40001\",\"last_seen_ms\":12000,"
		       "\"sessions\":3,\"connected\":2,\"last_result\":\"connected\","
		       "\"last_method\":\"simopen\",\"bytes_from_peer\":5000000,"
		       "\"bytes_to_peer\":812},"
		       "{\"id\":\"laptop\",\"online\":false,\"nat\":null,\"allowed\":true,"
		       "\"endpoint\":null,\"last_seen_ms\":null,\"sessions\":0,\"connected\":0,"
		       "\"last_result\":null,\"last_method\":null},"
		       "{\"id\":\"nas\",\"online\":false,\"nat\":null,\"allowed\":false,"
		       "\"endpoint\":null,\"last_seen_ms\":200000,\"sessions\":1,\"connected\":0,"
		       "\"last_result\":\"failed\",\"last_method\":null}]}", 1);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strstr(s, "office-pc: online, endpoint 198.51.100.7:40001\n"
		     "  allow list: yes; last session 12 s ago, connected by simopen "
		     "(3 sessions, 2 connected)\n"
		     "  copied for its services: 4.8 MiB from it, 812 B to it\n") != NULL);
	CHECK(strstr(s, "laptop: offline\n  allow list: yes; no session since stuntd started\n") != NULL);
	CHECK(strstr(s, "nas: offline\n  allow list: no; last session 3 min 20 s ago, failed "
		     "(1 session, 0 connected)\n") != NULL);
	free(s);
	s = show("{\"peers\":[]}", 1);
	CHECK(s && !strcmp(s, "no peers\n"));
	free(s);
}

static void byte_words(void)
{
	char b[24];

	CHECK(!strcmp(ctl_bytes(b, sizeof(b), 0), "0 B"));
	CHECK(!strcmp(ctl_bytes(b, sizeof(b), 1023), "1023 B"));
	CHECK(!strcmp(ctl_bytes(b, sizeof(b), 1536), "1.5 KiB"));
	CHECK(!strcmp(ctl_bytes(b, sizeof(b), 5000000), "4.8 MiB"));
	CHECK(!strcmp(ctl_bytes(b, sizeof(b), 3ull << 40), "3.0 TiB"));
	CHECK(!strcmp(ctl_bytes(b, sizeof(b), 5000ull << 40), "5000.0 TiB"));
}

/* A one-address server: what it could not tell, escaped for the terminal. */
static void status_not_measurable(void)
{
	static const char j[] =
		"{\"id\":\"a\",\"nat\":{ \"udp\": { \"mapping\": null, \"filtering\": \"APDF\" }, "
		"\"tcp\": { \"mapping\": null, \"filtering\": \"APDF\" }, "
		"\"not_measurable\": { \"udp.mapping\": \"one address: EIM or ADM\", "
		"\"tcp.mapping\": \"esc\\u001b[2J\" }, \"server_one_address\": true },"
		"\"uptime_ms\":1}";
	char *s = show(j, 0);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strstr(s, "  not measurable with this server: udp.mapping: one address: EIM or ADM\n") != NULL);
	CHECK(strstr(s, "  not measurable with this server: tcp.mapping: esc\\x1b[2J\n") != NULL);
	CHECK(strchr(s, 0x1b) == NULL);
	free(s);
}

int main(void)
{
	RUN(durations);
	RUN(server_list);
	RUN(status_words);
	RUN(status_not_measurable);
	RUN(status_methods);
	RUN(status_unmeasured);
	RUN(status_busy_nat);
	RUN(peers_words);
	RUN(byte_words);
	return TAP_DONE();
}
