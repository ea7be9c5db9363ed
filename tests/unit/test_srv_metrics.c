// SPDX-License-Identifier: MIT
/*
 * stunt-server's metrics (server/metrics.c): every line of the text is a
 * HELP, a TYPE or a sample of the family just declared, with a valid name;
 * the counters it shows are the ones server/stats.h keeps, each once.
 */
#include "server/metrics.h"
#include "tests/unit/tap.h"

#include <stdlib.h>

/* Check the text line by line; the number of samples, or -1. */
static int check_format(char *text)
{
	char family[128] = "", *line, *save = NULL;
	int samples = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[16];
		size_t n;

		if (!strncmp(line, "# HELP ", 7)) {
			if (sscanf(line + 7, "%127s", family) != 1 || !prom_name_ok(family))
				return -1;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			if (sscanf(line + 7, "%127s %15s", name, type) != 2 || strcmp(name, family) ||
			    (strcmp(type, "counter") && strcmp(type, "gauge")))
				return -1;
			n = strlen(name);
			if (!strcmp(type, "counter") && (n < 6 || strcmp(name + n - 6, "_total")))
				return -1;
			continue;
		}
		n = strcspn(line, "{ ");
		if (n >= sizeof(name))
			return -1;
		memcpy(name, line, n);
		name[n] = '\0';
		if (strcmp(name, family) || !strchr(line, ' ') ||
		    strspn(strrchr(line, ' ') + 1, "0123456789") != strlen(strrchr(line, ' ') + 1))
			return -1;
		samples++;
	}
	return samples;
}

static void every_line_parses(void)
{
	static char buf[65536];
	struct srv_stats s;
	struct prom_buf b;

	memset(&s, 0, sizeof(s));
	prom_init(&b, buf, sizeof(buf));
	srv_metrics_fill(&s, &b);
	CHECK(prom_ok(&b));
	CHECK(check_format(buf) > 50);
}

static void counters_shown(void)
{
	static char buf[65536];
	struct srv_stats s;
	struct prom_buf b;

	memset(&s, 0, sizeof(s));
	s.rdv_registered = 7;
	s.rdv_method[SIG_METHOD_LOOKUP - SIG_METHOD_REGISTER] = 11;
	s.rdv[RDV_V_LIMITED] = 5;
	s.rdv_fwd = 13;
	s.stunt_sent = 17;
	s.stunt[STUNT_V_RATE] = 19;
	s.udp_rate_limited = 23;
	s.tcp_verdict[SRV_V_BINDING] = 29;
	s.sec[SIG_SEC_REPLAY] = 31;
	prom_init(&b, buf, sizeof(buf));
	srv_metrics_fill(&s, &b);
	CHECK(prom_ok(&b));
	CHECK(strstr(buf, "\nstunt_server_registered 7\n"));
	CHECK(strstr(buf, "\nstunt_server_signalling_requests_total{method=\"lookup\"} 11\n"));
	CHECK(strstr(buf, "\nstunt_server_signalling_results_total{outcome=\"signal_limited\"} 5\n"));
	CHECK(strstr(buf, "\nstunt_server_signalling_relayed_total 13\n"));
	CHECK(strstr(buf, "\nstunt_server_stunt_packets_sent_total 17\n"));
	CHECK(strstr(buf, "\nstunt_server_stunt_requests_total{outcome=\"rate_limited\"} 19\n"));
	CHECK(strstr(buf, "\nstunt_server_udp_rate_limited_total 23\n"));
	CHECK(strstr(buf,
		     "\nstunt_server_stun_requests_total{transport=\"tcp\",verdict=\"binding\"} 29\n"));
	CHECK(strstr(buf, "\nstunt_server_integrity_total{verdict=\"replay\"} 31\n"));
	/* the refused sum is the status line's */
	CHECK(strstr(buf, "\nstunt_server_refused_total 78\n"));
	/* no --redis: no cluster families */
	CHECK(strstr(buf, "redis_up") == NULL);
	CHECK(strstr(buf, "cluster_") == NULL);
}

static void cluster_shown(void)
{
	static char buf[65536];
	struct srv_stats s;
	struct prom_buf b;

	memset(&s, 0, sizeof(s));
	s.redis_link = SRV_REDIS_DOWN;
	s.cluster_remote = 3;
	s.cluster_fwd_out = 37;
	s.cluster_unreached = 2;
	prom_init(&b, buf, sizeof(buf));
	srv_metrics_fill(&s, &b);
	CHECK(prom_ok(&b));
	CHECK(strstr(buf, "\nstunt_server_redis_up 0\n"));
	CHECK(strstr(buf, "\nstunt_server_cluster_remote_peers 3\n"));
	CHECK(strstr(buf, "\nstunt_server_cluster_sent_total 37\n"));
	CHECK(strstr(buf, "\nstunt_server_cluster_unreached_total 2\n"));
	s.redis_link = SRV_REDIS_UP;
	prom_init(&b, buf, sizeof(buf));
	srv_metrics_fill(&s, &b);
	CHECK(strstr(buf, "\nstunt_server_redis_up 1\n"));
	CHECK(check_format(buf) > 50);	/* (cuts buf into lines) */
}

int main(void)
{
	RUN(every_line_parses);
	RUN(counters_shown);
	RUN(cluster_shown);
	return TAP_DONE();
}
