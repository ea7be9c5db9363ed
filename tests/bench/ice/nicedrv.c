// SPDX-License-Identifier: MIT
/*
 * nicedrv: one libnice ICE agent for the side-by-side benchmark (issue 20).
 *
 *   nicedrv --controlling|--controlled --rv HOST:PORT --key KEY
 *           [--udp|--tcp] [--stun HOST:PORT] [--turn HOST:PORT:USER:PASS]
 *           [--timeout MS] [--payload BYTES]
 *
 * One agent, one stream, one component, RFC 5245 compatibility, reliable
 * mode off (nice_agent_new's defaults otherwise), UPnP off. --udp (default):
 * ICE-UDP only; --tcp: ICE-TCP only (active, passive and simultaneous-open
 * candidates, ice-udp FALSE). --turn adds the server as a relay, reached over
 * UDP in --udp mode and over TCP in --tcp mode.
 *
 * Signalling, offer/answer without trickle: both agents connect to the
 * rendezvous at --rv (tests/bench/ice/rendezvous.py) and send "KEY\n"; it
 * joins the two connections with the same key. The controlling agent starts
 * gathering at once and, when done, sends its SDP (credentials and every
 * candidate) as one base64 line: the offer. The controlled agent, waiting
 * like a callee, starts gathering when the offer arrives and answers with
 * its own line. The connections exist before the clock starts, as a real
 * client's signalling connection would.
 *
 * When libnice selects a pair (new-selected-pair-full: data can flow, even
 * before nomination ends in READY) the pair is recorded; the
 * controlling agent then sends one --payload byte datagram (again every
 * 200 ms until answered) and the controlled agent echoes every datagram it
 * receives. "connected" means the echo came back (controlling) or a payload
 * arrived and was echoed (controlled). Prints ONE JSON line on stdout:
 *
 *   {"role","mode","turn","connected","relayed","ms","gather_ms","ready_ms","data_ms",
 *    "local_type","remote_type","local_transport","remote_transport",
 *    "n_local","n_remote","state","error"}
 *
 * ms: from the start of gathering to the first selected pair; gather_ms: to
 * the end of gathering; ready_ms: to READY; data_ms: to the echo (all from
 * the agent's own start of gathering: for the controlling agent, the start
 * of the whole attempt). Gives up after --timeout ms (default 10000).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <nice/agent.h>

#define ND_RV_MAX	(64 * 1024)
#define ND_LINGER_MS	2000

struct nd {
	GMainLoop *loop;
	NiceAgent *agent;
	guint stream;
	bool controlling;
	bool tcp;
	const char *turn;
	const char *key;
	int rv_fd;
	char *rv_buf;
	size_t rv_len;
	size_t payload;
	double t0;
	double ms;		/* first selected pair, < 0 until then */
	double ready_ms;	/* component READY (nomination done) */
	double gather_ms;
	double data_ms;
	bool connected;
	bool relayed;
	char local_type[16], remote_type[16];
	char local_tr[16], remote_tr[16];
	int n_local, n_remote;
	const char *state;
	char error[256];
	guint send_timer;
};

static double nd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double nd_since(const struct nd *d)
{
	return nd_now_ms() - d->t0;
}

static void nd_fail(struct nd *d, const char *what)
{
	if (!d->error[0])
		snprintf(d->error, sizeof(d->error), "%s", what);
	g_main_loop_quit(d->loop);
}

static const char *nd_type(NiceCandidateType t)
{
	switch (t) {
	case NICE_CANDIDATE_TYPE_HOST:
		return "host";
	case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
		return "srflx";
	case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
		return "prflx";
	case NICE_CANDIDATE_TYPE_RELAYED:
		return "relay";
	}
	return "?";
}

static const char *nd_transport(NiceCandidateTransport t)
{
	switch (t) {
	case NICE_CANDIDATE_TRANSPORT_UDP:
		return "udp";
	case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
		return "tcp-act";
	case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
		return "tcp-pass";
	case NICE_CANDIDATE_TRANSPORT_TCP_SO:
		return "tcp-so";
	}
	return "?";
}

/* HOST:PORT -> host (in buf) and port; false when malformed */
static bool nd_hostport(const char *s, char *host, size_t hlen, guint *port)
{
	const char *c = strrchr(s, ':');
	char *end;
	unsigned long p;

	if (!c || (size_t)(c - s) >= hlen || c == s)
		return false;
	memcpy(host, s, c - s);
	host[c - s] = '\0';
	errno = 0;
	p = strtoul(c + 1, &end, 10);
	if (errno || *end || p == 0 || p > 65535)
		return false;
	*port = p;
	return true;
}

static int nd_rv_connect(const char *hp)
{
	char host[64];
	guint port;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	if (!nd_hostport(hp, host, sizeof(host), &port) ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool nd_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

static void nd_record_pair(struct nd *d)
{
	NiceCandidate *l = NULL, *r = NULL;

	if (!nice_agent_get_selected_pair(d->agent, d->stream, 1, &l, &r))
		return;
	snprintf(d->local_type, sizeof(d->local_type), "%s", nd_type(l->type));
	snprintf(d->remote_type, sizeof(d->remote_type), "%s", nd_type(r->type));
	snprintf(d->local_tr, sizeof(d->local_tr), "%s", nd_transport(l->transport));
	snprintf(d->remote_tr, sizeof(d->remote_tr), "%s", nd_transport(r->transport));
	d->relayed = l->type == NICE_CANDIDATE_TYPE_RELAYED ||
		     r->type == NICE_CANDIDATE_TYPE_RELAYED;
}

static gboolean nd_send_payload(gpointer data)
{
	struct nd *d = data;
	char *buf = g_malloc(d->payload);

	memset(buf, 'P', d->payload);
	memcpy(buf, "NDP1", d->payload < 4 ? d->payload : 4);
	nice_agent_send(d->agent, d->stream, 1, d->payload, buf);
	g_free(buf);
	return G_SOURCE_CONTINUE;
}

static gboolean nd_quit(gpointer data)
{
	g_main_loop_quit(((struct nd *)data)->loop);
	return G_SOURCE_REMOVE;
}

static gboolean nd_deadline(gpointer data)
{
	struct nd *d = data;

	if (d->connected) {
		g_main_loop_quit(d->loop);
		return G_SOURCE_REMOVE;
	}
	if (d->ms < 0)
		nd_fail(d, "no pair selected within the deadline");
	else
		nd_fail(d, d->controlling ? "pair selected but no echo within the deadline" :
			"pair selected but no payload within the deadline");
	return G_SOURCE_REMOVE;
}

static void nd_recv(NiceAgent *agent, guint stream, guint comp, guint len,
		    gchar *buf, gpointer data)
{
	struct nd *d = data;

	(void)stream;
	(void)comp;
	if (len != d->payload || len < 4 || memcmp(buf, "NDP1", 4))
		return;
	if (d->controlling) {
		if (d->connected)
			return;
		d->connected = true;
		d->data_ms = nd_since(d);
		if (d->ms < 0)	/* data before the signal: count the pair now */
			d->ms = d->data_ms;
		nd_record_pair(d);
		g_main_loop_quit(d->loop);
		return;
	}
	nice_agent_send(agent, d->stream, 1, len, buf);
	if (!d->connected) {
		d->connected = true;
		d->data_ms = nd_since(d);
		if (d->ms < 0)
			d->ms = d->data_ms;
		nd_record_pair(d);
		/* stay a while: a lost echo is asked for again */
		g_timeout_add(ND_LINGER_MS, nd_quit, d);
	}
}

/* the first selected pair: data can flow from now on */
static void nd_selected(NiceAgent *agent, guint stream, guint comp,
			NiceCandidate *l, NiceCandidate *r, gpointer data)
{
	struct nd *d = data;

	(void)agent;
	(void)stream;
	(void)comp;
	(void)l;
	(void)r;
	if (d->ms >= 0)
		return;
	d->ms = nd_since(d);
	nd_record_pair(d);
	if (d->controlling && !d->send_timer) {
		nd_send_payload(d);
		d->send_timer = g_timeout_add(200, nd_send_payload, d);
	}
}

static void nd_state(NiceAgent *agent, guint stream, guint comp, guint state,
		     gpointer data)
{
	struct nd *d = data;

	(void)agent;
	(void)stream;
	(void)comp;
	d->state = nice_component_state_to_string(state);
	if (state == NICE_COMPONENT_STATE_READY && d->ready_ms < 0)
		d->ready_ms = nd_since(d);
	else if (state == NICE_COMPONENT_STATE_FAILED)
		nd_fail(d, "ICE failed (every pair's checks failed)");
}

/* the peer's SDP, one base64 line: its credentials and candidates */
static void nd_got_peer(struct nd *d, const char *line)
{
	gsize n = 0;
	guchar *sdp = g_base64_decode(line, &n);
	char *s = g_strndup((const char *)sdp, n);
	GSList *rc;
	int r;

	g_free(sdp);
	r = nice_agent_parse_remote_sdp(d->agent, s);
	g_free(s);
	if (r < 0) {
		nd_fail(d, "the peer's SDP did not parse");
		return;
	}
	rc = nice_agent_get_remote_candidates(d->agent, d->stream, 1);
	d->n_remote = g_slist_length(rc);
	g_slist_free_full(rc, (GDestroyNotify)nice_candidate_free);
	if (!d->n_remote)
		nd_fail(d, "the peer sent no candidate");
}

static void nd_start(struct nd *d)
{
	d->t0 = nd_now_ms();
	if (!nice_agent_gather_candidates(d->agent, d->stream))
		nd_fail(d, "gathering did not start");
}

/*
 * A line from the peer through the rendezvous: the controlling agent gets
 * the answer (and starts its checks), the controlled agent the offer (and
 * only now starts gathering, as a callee learns of a call by its offer).
 */
static gboolean nd_rv_readable(GIOChannel *ch, GIOCondition cond, gpointer data)
{
	struct nd *d = data;
	char *nl;
	ssize_t r;

	(void)ch;
	(void)cond;
	if (d->rv_len >= ND_RV_MAX) {
		nd_fail(d, "rendezvous: the peer's line is too long");
		return G_SOURCE_REMOVE;
	}
	r = read(d->rv_fd, d->rv_buf + d->rv_len, ND_RV_MAX - d->rv_len);
	if (r < 0 && errno == EINTR)
		return G_SOURCE_CONTINUE;
	if (r <= 0) {
		nd_fail(d, "rendezvous closed before the peer's candidates came");
		return G_SOURCE_REMOVE;
	}
	d->rv_len += r;
	nl = memchr(d->rv_buf, '\n', d->rv_len);
	if (!nl)
		return G_SOURCE_CONTINUE;
	*nl = '\0';
	if (d->controlling)
		nd_got_peer(d, d->rv_buf);
	else
		nd_start(d);	/* the offer waits in rv_buf until gathering is done */
	return G_SOURCE_REMOVE;
}

static void nd_gathered(NiceAgent *agent, guint stream, gpointer data)
{
	struct nd *d = data;
	gchar *sdp, *b64, *line;
	GSList *lc;
	bool ok;

	(void)stream;
	d->gather_ms = nd_since(d);
	lc = nice_agent_get_local_candidates(agent, d->stream, 1);
	d->n_local = g_slist_length(lc);
	g_slist_free_full(lc, (GDestroyNotify)nice_candidate_free);
	if (!d->controlling)
		nd_got_peer(d, d->rv_buf);
	sdp = nice_agent_generate_local_sdp(agent);
	b64 = g_base64_encode((const guchar *)sdp, strlen(sdp));
	line = g_strdup_printf("%s\n", b64);
	ok = nd_write_all(d->rv_fd, line, strlen(line));
	g_free(line);
	g_free(b64);
	g_free(sdp);
	if (!ok)
		nd_fail(d, "rendezvous: write failed");
}

static void nd_json_str(const char *k, const char *v, bool comma)
{
	const unsigned char *p;

	if (!v || !*v) {
		printf("\"%s\":null%s", k, comma ? "," : "");
		return;
	}
	printf("\"%s\":\"", k);
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	printf("\"%s", comma ? "," : "");
}

static void nd_json_ms(const char *k, double v)
{
	if (v < 0)
		printf("\"%s\":null,", k);
	else
		printf("\"%s\":%.1f,", k, v);
}

static void nd_print(const struct nd *d)
{
	printf("{");
	nd_json_str("role", d->controlling ? "controlling" : "controlled", true);
	nd_json_str("mode", d->tcp ? "tcp" : "udp", true);
	printf("\"turn\":%s,\"connected\":%s,\"relayed\":%s,", d->turn ? "true" : "false",
	       d->connected ? "true" : "false", d->connected && d->relayed ? "true" : "false");
	nd_json_ms("ms", d->ms);
	nd_json_ms("gather_ms", d->gather_ms);
	nd_json_ms("ready_ms", d->ready_ms);
	nd_json_ms("data_ms", d->data_ms);
	nd_json_str("local_type", d->local_type, true);
	nd_json_str("remote_type", d->remote_type, true);
	nd_json_str("local_transport", d->local_tr, true);
	nd_json_str("remote_transport", d->remote_tr, true);
	printf("\"n_local\":%d,\"n_remote\":%d,", d->n_local, d->n_remote);
	nd_json_str("state", d->state, true);
	nd_json_str("error", d->connected ? NULL : d->error, false);
	printf("}\n");
	fflush(stdout);
}

static void nd_usage(void)
{
	fprintf(stderr, "usage: nicedrv --controlling|--controlled --rv HOST:PORT --key KEY\n"
		"       [--udp|--tcp] [--stun HOST:PORT] [--turn HOST:PORT:USER:PASS]\n"
		"       [--timeout MS] [--payload BYTES]\n");
	exit(2);
}

/* HOST:PORT:USER:PASS -> relay info on the stream's component */
static bool nd_set_turn(struct nd *d, const char *spec)
{
	char **f = g_strsplit(spec, ":", 4);
	unsigned long port;
	char *end;
	bool ok = false;

	if (g_strv_length(f) == 4) {
		errno = 0;
		port = strtoul(f[1], &end, 10);
		if (!errno && !*end && port && port <= 65535)
			ok = nice_agent_set_relay_info(d->agent, d->stream, 1, f[0], port, f[2], f[3],
						       d->tcp ? NICE_RELAY_TYPE_TURN_TCP :
						       NICE_RELAY_TYPE_TURN_UDP);
	}
	g_strfreev(f);
	return ok;
}

int main(int argc, char **argv)
{
	struct nd d = { .rv_fd = -1, .payload = 1000, .ms = -1, .gather_ms = -1,
			.data_ms = -1, .ready_ms = -1, .state = "disconnected" };
	const char *rv = NULL, *stun = NULL, *role = NULL;
	unsigned long tmo = 10000;
	char host[64];
	guint port;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--controlling") || !strcmp(a, "--controlled")) {
			role = a;
		} else if (!strcmp(a, "--udp")) {
			d.tcp = false;
		} else if (!strcmp(a, "--tcp")) {
			d.tcp = true;
		} else if (v && !strcmp(a, "--rv")) {
			rv = v;
			i++;
		} else if (v && !strcmp(a, "--key")) {
			d.key = v;
			i++;
		} else if (v && !strcmp(a, "--stun")) {
			stun = v;
			i++;
		} else if (v && !strcmp(a, "--turn")) {
			d.turn = v;
			i++;
		} else if (v && !strcmp(a, "--timeout")) {
			tmo = strtoul(v, NULL, 10);
			i++;
		} else if (v && !strcmp(a, "--payload")) {
			d.payload = strtoul(v, NULL, 10);
			i++;
		} else {
			nd_usage();
		}
	}
	if (!role || !rv || !d.key || strchr(d.key, ' ') || !tmo || tmo > 600000 ||
	    d.payload < 4 || d.payload > 1200)
		nd_usage();
	d.controlling = !strcmp(role, "--controlling");

	/* GLib's debug output (NICE_DEBUG, G_MESSAGES_DEBUG) must not mix with the JSON */
	g_log_writer_default_set_use_stderr(TRUE);
	d.loop = g_main_loop_new(NULL, FALSE);
	d.rv_buf = g_malloc(ND_RV_MAX + 1);
	d.agent = nice_agent_new(g_main_loop_get_context(d.loop), NICE_COMPATIBILITY_RFC5245);
	g_object_set(d.agent, "controlling-mode", d.controlling, "upnp", FALSE,
		     "ice-udp", !d.tcp, "ice-tcp", d.tcp, NULL);
	if (stun) {
		if (!nd_hostport(stun, host, sizeof(host), &port)) {
			fprintf(stderr, "nicedrv: bad --stun %s\n", stun);
			return 2;
		}
		g_object_set(d.agent, "stun-server", host, "stun-server-port", port, NULL);
	}
	d.stream = nice_agent_add_stream(d.agent, 1);
	nice_agent_set_stream_name(d.agent, d.stream, "application");
	if (d.turn && !nd_set_turn(&d, d.turn)) {
		fprintf(stderr, "nicedrv: bad --turn %s\n", d.turn);
		return 2;
	}
	g_signal_connect(d.agent, "candidate-gathering-done", G_CALLBACK(nd_gathered), &d);
	g_signal_connect(d.agent, "new-selected-pair-full", G_CALLBACK(nd_selected), &d);
	g_signal_connect(d.agent, "component-state-changed", G_CALLBACK(nd_state), &d);
	nice_agent_attach_recv(d.agent, d.stream, 1, g_main_loop_get_context(d.loop), nd_recv, &d);

	/* the signalling connection exists before the attempt starts */
	d.rv_fd = nd_rv_connect(rv);
	if (d.rv_fd < 0) {
		snprintf(d.error, sizeof(d.error), "rendezvous %s: %s", rv, strerror(errno));
	} else {
		char *hello = g_strdup_printf("%s\n", d.key);
		GIOChannel *ch = g_io_channel_unix_new(d.rv_fd);

		if (!nd_write_all(d.rv_fd, hello, strlen(hello)))
			snprintf(d.error, sizeof(d.error), "rendezvous: write failed");
		g_free(hello);
		g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, nd_rv_readable, &d);
		g_io_channel_unref(ch);
	}
	if (!d.error[0]) {
		if (d.controlling)
			nd_start(&d);
		else
			d.t0 = nd_now_ms();	/* until the offer comes */
		g_timeout_add(tmo, nd_deadline, &d);
		g_main_loop_run(d.loop);
	}
	nd_print(&d);
	if (d.rv_fd >= 0)
		close(d.rv_fd);
	g_object_unref(d.agent);
	g_main_loop_unref(d.loop);
	g_free(d.rv_buf);
	return d.connected ? 0 : 1;
}
