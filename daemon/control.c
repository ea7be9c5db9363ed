// SPDX-License-Identifier: MIT
/*
 * The control socket (docs/control.md): a UNIX stream socket, 0660, owned
 * by root and the configured group; the client must be root or in that
 * group, as its primary group (SO_PEERCRED) or a supplementary one
 * (SO_PEERGROUPS; the groups of its user in the group database on kernels
 * without it). One JSON request line per connection, one JSON answer line,
 * and for a successful connect the traversed socket as SCM_RIGHTS on the
 * same sendmsg. Bytes after the request line are read and thrown away (up
 * to D_CTL_LINE_MAX; more ends the client with an error), so that a client
 * cannot keep the socket readable and the loop busy.
 */
#include "daemon/stuntd.h"

#include "common/clock.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "daemon/ctlreq.h"
#include "daemon/hostaddr6.h"
#include "daemon/trav/trav.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct d_ctl_client {
	struct d_ev		ev;
	char			buf[D_CTL_LINE_MAX + 1];
	size_t			len;
	size_t			extra;	/* bytes after the request, thrown away */
	bool			busy;	/* a request is being worked on */
	struct d_ctl_client	*next;
};

static void client_free(struct d_ctl_client *c)
{
	struct d_ctl_client **pp;

	for (pp = &g_d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	d_loop_del(&c->ev);
	close(c->ev.fd);
	free(c);
}

void d_control_answer(struct d_ctl_client *c, const char *json, int fd)
{
	char line[65536];
	int n;

	n = snprintf(line, sizeof(line), "%s\n", json);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = snprintf(line, sizeof(line), "{\"ok\":false,\"error\":\"answer too long\"}\n");
	if (fdpass_send(c->ev.fd, line, (size_t)n, &fd, fd >= 0 ? 1 : 0) < 0)
		log_debug("control: answer not sent: %s", strerror(errno));
	client_free(c);
}

static void answer_error(struct d_ctl_client *c, const char *why)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		client_free(c);
		return;
	}
	fputs("{\"ok\":false,\"error\":", f);
	d_json_str(f, why);
	fputs("}", f);
	fclose(f);
	d_control_answer(c, buf, -1);
	free(buf);
}

/* ,"ipv6": the global IPv6 address simopen6 offers now, or null;
 * ,"ipv6_local": the host's own address it binds (the same unless
 * translated); ,"ipv6_learnt": what server6's Binding told of it (NPTv6,
 * daemon/hostaddr6.h), null when nothing (no server6, no answer);
 * ,"ipv6_hop_limit": simopen6's and udp6's first hop limit and where it
 * comes from (configured, measured by discovery, default) */
static void ipv6_json(FILE *f)
{
	uint8_t own[D_MAX_HOST6_ADDRS][16], local[16], offer[16];
	char a[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];
	const struct d_v6pub *pub = &g_d->v6pub;
	const char *from;
	unsigned h;
	int n = d_hostaddr6_gather(&g_d->cfg, own, D_MAX_HOST6_ADDRS);

	if (n > 0 && d_hostaddr6_pick(pub, (const uint8_t (*)[16])own, (size_t)n, local, offer) >= 0 &&
	    inet_ntop(AF_INET6, offer, a, sizeof(a)) && inet_ntop(AF_INET6, local, l, sizeof(l)))
		fprintf(f, ",\"ipv6\":\"%s\",\"ipv6_local\":\"%s\"", a, l);
	else
		fputs(",\"ipv6\":null,\"ipv6_local\":null", f);
	if (pub->known && inet_ntop(AF_INET6, pub->local, l, sizeof(l)) &&
	    inet_ntop(AF_INET6, pub->mapped, a, sizeof(a)))
		fprintf(f, ",\"ipv6_learnt\":{\"local\":\"%s\",\"mapped\":\"%s\",\"translated\":%s,"
			"\"port_kept\":%s,\"binding\":\"%s\"}", l, a, pub->translated ? "true" : "false",
			pub->port_kept ? "true" : "false", pub->tcp ? "tcp" : "udp");
	else
		fputs(",\"ipv6_learnt\":null", f);
	h = d_hostaddr6_hops(&g_d->cfg, &g_d->v6hops, &from);
	fprintf(f, ",\"ipv6_hop_limit\":{\"value\":%u,\"from\":\"%s\"}", h, from);
}

static void status(struct d_ctl_client *c)
{
	struct stuntd *d = g_d;
	char *buf = NULL, *nat = NULL, a[INET6_ADDRSTRLEN + 8], *p;
	size_t len = 0, nlen = 0;
	uint64_t now = clock_ms();
	FILE *f, *nf;
	unsigned m;
	bool first = true;

	f = open_memstream(&buf, &len);
	if (f == NULL)
		return answer_error(c, "out of memory");
	fputs("{\"id\":", f);
	d_json_str(f, d->cfg.id);
	fprintf(f, ",\"registered\":%s,\"server\":\"%s\"", d_sig_up() ? "true" : "false",
		d_ep_str(&d_sig_server()->addr.sa, a, sizeof(a)));
	d_sig_status_json(f, now);
	/* as the server in use sees us: IPv4, or IPv6 when we signal over it */
	fputs(",\"public\":", f);
	if (d->public_ip)
		fprintf(f, "{\"tcp\":\"%s:%u\",\"udp\":null}", d_ip_str(d->public_ip, a),
			d->mapped.port);
	else if (d->have_mapped && d->mapped.family == STUN_FAMILY_IPV6)
		fprintf(f, "{\"tcp\":\"%s\",\"udp\":null}", stun_addr_str(&d->mapped, a, sizeof(a)));
	else
		fputs("null", f);
	fputs(",\"nat\":", f);
	if (d->have_probe && (nf = open_memstream(&nat, &nlen)) != NULL) {
		probe_report_json(nf, &d->probe);
		fclose(nf);
		for (p = nat; *p; p++)
			if (*p == '\n')
				*p = ' ';
		fputs(nat, f);
		free(nat);
	} else {
		fputs("null", f);
	}
	ipv6_json(f);
	/* predict on a busy sequential NAT: the others' pace as measured */
	if (d->busy.pace_at_ms)
		fprintf(f, ",\"busy_nat\":{\"pace_per_s\":%u.%u,\"measured_ms_ago\":%llu,"
			"\"lead_ms\":%u,\"last_window\":%u}", d->busy.pace_tenths / 10,
			d->busy.pace_tenths % 10, (unsigned long long)(now - d->busy.pace_at_ms),
			d->busy.lead_valid ? d->busy.lead_ms : 0, d->busy.last_count);
	else
		fputs(",\"busy_nat\":null", f);
	fputs(",\"sessions\":", f);
	d_session_status_json(f, now);
	fputs(",\"counters\":{", f);
	for (m = 1; m <= SIG_M_MAX; m++) {
		const struct d_counter *k = &d->counters[m];

		if (!k->tried)
			continue;
		fprintf(f, "%s\"%s\":{\"tried\":%lu,\"won\":%lu,\"failed\":%lu,"
			"\"syns_again\":%lu}", first ? "" : ",",
			sig_method_name(m), k->tried, k->won, k->failed, k->syns_again);
		first = false;
	}
	fprintf(f,
		"},\"security\":{\"tls_refused\":%lu,\"sig_missing\":%lu,\"sig_bad_mac\":%lu,"
		"\"sig_replay\":%lu,\"peers_refused\":%lu,\"candidates_refused\":%lu,"
		"\"methods_refused\":%lu,\"conns_unproven\":%lu,\"sessions_busy\":%lu,"
		"\"starts_busy\":%lu,\"packets_capped\":%lu,\"revoked\":%lu}",
		d->tls_refused, d->sec_refused[SIG_SEC_MISSING], d->sec_refused[SIG_SEC_BAD_MAC],
		d->sec_refused[SIG_SEC_REPLAY], d->peers_refused, d->candidates_refused,
		d->methods_refused, d->conns_unproven, d->sessions_busy, d->starts_busy,
		d->packets_capped, d->revoked);
	fprintf(f, ",\"control\":{\"refused\":%lu}", d->control_refused);
	fprintf(f, ",\"handoffs\":%zu,\"relays\":%zu,\"uptime_ms\":%llu}", d_handoff_count(),
		trav_relay_count(), (unsigned long long)(now - d->start_ms));
	fclose(f);
	d_control_answer(c, buf, -1);
	free(buf);
}

static void dispatch(struct d_ctl_client *c)
{
	struct d_ctl_req r;
	char err[128];

	if (d_ctl_req_parse(c->buf, c->len, &r, err, sizeof(err)) < 0)
		return answer_error(c, err);
	c->busy = true;
	if (!strcmp(r.cmd, "status"))
		status(c);
	else if (!strcmp(r.cmd, "peers"))
		d_session_peers_answer(c);
	else if (!strcmp(r.cmd, "connect"))
		d_session_request(c, r.peer, r.service, r.method[0] ? r.method : NULL);
	else {
		snprintf(err, sizeof(err), "unknown command '%s'", r.cmd);
		answer_error(c, err);
	}
}

static void on_client(struct d_ev *ev, uint32_t events)
{
	struct d_ctl_client *c = ev->arg;
	char *nl;
	ssize_t n;

	(void)events;
	if (c->busy) {
		/*
		 * The client hung up while its connect runs, or it sent more
		 * than its one request: read that and throw it away (left
		 * unread, it would keep the socket readable and this loop
		 * busy); beyond a request line's worth, give up on the client.
		 */
		char b[512];

		n = recv(c->ev.fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			d_session_ctl_gone(c);
			client_free(c);
		} else if (n > 0 && (c->extra += (size_t)n) > D_CTL_LINE_MAX) {
			log_info("control: a client sent %zu bytes after its request: closed",
				 c->extra);
			d_session_ctl_gone(c);
			answer_error(c, "bytes after the request: one request per connection");
		}
		return;
	}
	n = recv(c->ev.fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_free(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	nl = memchr(c->buf, '\n', c->len);
	if (nl) {
		c->len = (size_t)(nl - c->buf);
		dispatch(c);
	} else if (c->len >= D_CTL_LINE_MAX) {
		answer_error(c, "request line longer than 4096 bytes");
	}
}

/*
 * Root, or in the control group by its primary gid or a supplementary one.
 * The groups come from the kernel (SO_PEERGROUPS, Linux 4.13: the client's
 * groups at connect(), whatever its pid namespace); without it, from the
 * group database for the uid's user (getgrouplist: /etc/group is readable
 * after the privilege drop).
 */
static bool client_admitted(int fd, const struct ucred *cr)
{
	gid_t small[64], *g = small;
	socklen_t gl = sizeof(small);
	size_t n = 0;
	bool ok;
	int r;

	if (d_ctl_admit(cr->uid, cr->gid, NULL, 0, g_d->have_gid, g_d->control_gid))
		return true;
	if (!g_d->have_gid)
		return false;
	r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &gl);
	if (r < 0 && errno == ERANGE) {
		if ((g = malloc(gl)) == NULL)
			return false;
		r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &gl);
	}
	if (r == 0) {
		n = gl / sizeof(gid_t);
	} else if (errno == ENOPROTOOPT && g == small) {
		struct passwd *pw = getpwuid(cr->uid);
		int ng = (int)(sizeof(small) / sizeof(small[0]));

		if (pw && getgrouplist(pw->pw_name, pw->pw_gid, small, &ng) >= 0)
			n = (size_t)ng;
	}
	ok = d_ctl_admit(cr->uid, cr->gid, g, n, true, g_d->control_gid);
	if (g != small)
		free(g);
	return ok;
}

static void on_listen(struct d_ev *ev, uint32_t events)
{
	struct d_ctl_client *c;
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int fd;

	(void)events;
	fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || !client_admitted(fd, &cr)) {
		g_d->control_refused++;
		log_info("control: refused a client (uid %u, gid %u): neither root nor in the "
			 "control group", (unsigned)cr.uid, (unsigned)cr.gid);
		(void)send(fd, "{\"ok\":false,\"error\":\"permission denied\"}\n", 41, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->ev = (struct d_ev){ .fd = fd, .cb = on_client, .arg = c };
	c->next = g_d->clients;
	g_d->clients = c;
	if (d_loop_add(&c->ev, EPOLLIN | EPOLLRDHUP) < 0)
		client_free(c);
}

int d_control_open(void)
{
	struct stuntd *d = g_d;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	struct group *gr;
	int fd, err;

	if (d->cfg.control_group[0]) {
		gr = getgrnam(d->cfg.control_group);
		if (gr == NULL) {
			log_warnx("control-group '%s' does not exist", d->cfg.control_group);
			return -ENOENT;
		}
		d->control_gid = gr->gr_gid;
		d->have_gid = true;
	}
	if (strlen(d->cfg.control) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, d->cfg.control, strlen(d->cfg.control) + 1);
	/* a socket left by a dead daemon goes; anything else is not ours */
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s exists and is not a socket", sa.sun_path);
			return -EEXIST;
		}
		unlink(sa.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0660) < 0 ||
	    (d->have_gid && chown(sa.sun_path, 0, d->control_gid) < 0) ||
	    listen(fd, 16) < 0) {
		err = -errno;
		log_warn("control socket %s", sa.sun_path);
		close(fd);
		return err;
	}
	d->cev = (struct d_ev){ .fd = fd, .cb = on_listen };
	return d_loop_add(&d->cev, EPOLLIN);
}

void d_control_close(void)
{
	struct stuntd *d = g_d;

	while (d->clients)
		client_free(d->clients);
	if (d->cev.fd >= 0) {
		d_loop_del(&d->cev);
		close(d->cev.fd);
		d->cev.fd = -1;
		unlink(d->cfg.control);
	}
}
