// SPDX-License-Identifier: MIT
/*
 * Port-mapping protocols on the gateway: UPnP-IGD (libminiupnpc), NAT-PMP
 * (RFC 6886, libnatpmp) and PCP (RFC 6887, by hand over UDP 5351). Each
 * asks for the external address, makes a short test mapping of a TCP port
 * and removes it again. The two libraries block, so each protocol runs in
 * its own thread beside the event loop, bounded by the run's deadline;
 * each thread writes only its own part of the result.
 */
#include "probes/probe_int.h"
#include "common/clock.h"
#include "common/esc.h"
#include "common/log.h"
#include "probes/probe_map.h"

#include <arpa/inet.h>
#include <errno.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <natpmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define UPNP_DISCOVER_MS	400	/* SSDP: how long to wait for a gateway */
#define PM_LIFETIME_S		60	/* test mappings: short, in case removal fails */
#define PCP_PORT		5351
#define PCP_VERSION		2
#define PCP_OP_MAP		1
#define PCP_MAP_LEN		60
#define PCP_RTO_MS		250

struct pm_job {
	struct probe_ctx		*c;
	struct probe_portmap_one	*out;
	uint32_t			 gw;
	uint16_t			 port;	/* internal = suggested external */
	uint64_t			 deadline_ms;
	pthread_t			 th;
	bool				 started;
};

struct probe_pm_state {
	struct pm_job	job[3];
};

static int remaining_ms(const struct pm_job *j)
{
	uint64_t now = clock_ms();

	uint64_t end = __atomic_load_n(&j->deadline_ms, __ATOMIC_RELAXED);

	return now >= end ? 0 : (int)(end - now);
}

/* ---- UPnP-IGD ---- */

bool probe_pm_url_on_gw(const char *what, const char *url, uint32_t gw)
{
	char e[ESC_BUF(64)], g[INET_ADDRSTRLEN];
	uint32_t ip;

	if (probe_url_ipv4(url, &ip) == 0 && ip == gw)
		return true;
	log_debug("UPnP-IGD: %s %s is not on the gateway %s: ignored", what,
		  esc_cstr(e, sizeof(e), url), inet_ntop(AF_INET, &gw, g, sizeof(g)));
	return false;
}

/*
 * SSDP search by hand: miniupnpc's discovery waits at least a whole second
 * (the M-SEARCH MX) even when the gateway answers at once; we stop at the
 * first InternetGatewayDevice that answers, or after UPNP_DISCOVER_MS.
 * Only the default gateway's answers count, and only a LOCATION on its
 * address: any host on the LAN can answer a multicast search, and the
 * description it names decides where the port-mapping requests go.
 */
static int ssdp_find_igd(struct pm_job *j, char *loc, size_t cap)
{
	static const char msearch[] =
		"M-SEARCH * HTTP/1.1\r\n"
		"HOST: 239.255.255.250:1900\r\n"
		"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
		"MAN: \"ssdp:discover\"\r\n"
		"MX: 1\r\n\r\n";
	struct sockaddr_in dst, src;
	socklen_t sl;
	struct pollfd pfd;
	uint64_t end = clock_ms() + UPNP_DISCOVER_MS, next = 0, now;
	char buf[1500], a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	int fd, ttl = 2;
	ssize_t n;

	if (end > j->deadline_ms)
		end = j->deadline_ms;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
	probe_sin(&dst, htonl(0xeffffffa), 1900);	/* 239.255.255.250 */
	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((now = clock_ms()) < end && remaining_ms(j) > 0) {
		if (now >= next) {
			sendto(fd, msearch, sizeof(msearch) - 1, 0, (struct sockaddr *)&dst, sizeof(dst));
			next = now + 2 * PCP_RTO_MS;
		}
		if (poll(&pfd, 1, (int)((next < end ? next : end) - now)) <= 0)
			continue;
		sl = sizeof(src);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &sl);
		if (n <= 0)
			continue;
		if (src.sin_family != AF_INET || src.sin_addr.s_addr != j->gw) {
			log_debug("UPnP-IGD: SSDP answer from %s ignored: not the gateway %s",
				  inet_ntop(AF_INET, &src.sin_addr, a, sizeof(a)),
				  inet_ntop(AF_INET, &j->gw, g, sizeof(g)));
			continue;
		}
		if (probe_ssdp_location(buf, (size_t)n, loc, cap) < 0 ||
		    !probe_pm_url_on_gw("SSDP location", loc, j->gw))
			continue;
		close(fd);
		return 0;
	}
	close(fd);
	return -ETIMEDOUT;
}

static void *upnp_thread(void *arg)
{
	struct pm_job *j = arg;
	struct probe_portmap_one *o = j->out;
	struct UPNPUrls urls;
	struct IGDdatas data;
	char lan[64] = "", ext[40] = "", port[8], loc[512];

	o->present = 0;
	if (ssdp_find_igd(j, loc, sizeof(loc)) < 0)
		return NULL;
	memset(&urls, 0, sizeof(urls));
	memset(&data, 0, sizeof(data));
	if (UPNP_GetIGDFromUrl(loc, &urls, &data, lan, sizeof(lan)) != 1 ||
	    !probe_pm_url_on_gw("control URL", urls.controlURL, j->gw)) {
		FreeUPNPUrls(&urls);
		return NULL;
	}
	o->present = 1;
	if (UPNP_GetExternalIPAddress(urls.controlURL, data.first.servicetype, ext) == 0 && ext[0])
		snprintf(o->external_ip, sizeof(o->external_ip), "%s", ext);
	snprintf(port, sizeof(port), "%u", j->port);
	if (UPNP_AddPortMapping(urls.controlURL, data.first.servicetype, port, port, lan, "stunt-probe test",
				"TCP", NULL, "60") == 0) {
		o->mapped = 1;
		o->ext_port = j->port;
		o->removed = UPNP_DeletePortMapping(urls.controlURL, data.first.servicetype, port, "TCP", NULL) == 0;
	} else {
		o->mapped = 0;
	}
	FreeUPNPUrls(&urls);
	return NULL;
}

/* ---- NAT-PMP ---- */

static int natpmp_wait(struct pm_job *j, natpmp_t *n, natpmpresp_t *resp)
{
	struct timeval tv;
	fd_set fds;
	int r, left, ms;

	for (;;) {
		if ((left = remaining_ms(j)) <= 0)
			return -ETIMEDOUT;
		FD_ZERO(&fds);
		FD_SET(n->s, &fds);
		if (getnatpmprequesttimeout(n, &tv) < 0)
			return -EIO;
		ms = (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
		if (ms > left) {
			tv.tv_sec = left / 1000;
			tv.tv_usec = (left % 1000) * 1000;
		}
		select(n->s + 1, &fds, NULL, NULL, &tv);
		r = readnatpmpresponseorretry(n, resp);
		if (r != NATPMP_TRYAGAIN)
			return r;
	}
}

static void *natpmp_thread(void *arg)
{
	struct pm_job *j = arg;
	struct probe_portmap_one *o = j->out;
	natpmp_t n;
	natpmpresp_t resp;

	if (initnatpmp(&n, 1, j->gw) < 0) {
		o->present = 0;
		return NULL;
	}
	if (sendpublicaddressrequest(&n) < 0 || natpmp_wait(j, &n, &resp) < 0) {
		o->present = 0;
		closenatpmp(&n);
		return NULL;
	}
	o->present = 1;
	inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, o->external_ip, sizeof(o->external_ip));
	if (sendnewportmappingrequest(&n, NATPMP_PROTOCOL_TCP, j->port, j->port, PM_LIFETIME_S) >= 0 &&
	    natpmp_wait(j, &n, &resp) == 0) {
		o->mapped = 1;
		o->ext_port = resp.pnu.newportmapping.mappedpublicport;
		/* RFC 6886 3.4: lifetime 0 and external port 0 delete it */
		o->removed = sendnewportmappingrequest(&n, NATPMP_PROTOCOL_TCP, j->port, 0, 0) >= 0 &&
			     natpmp_wait(j, &n, &resp) == 0;
	} else {
		o->mapped = 0;
	}
	closenatpmp(&n);
	return NULL;
}

/* ---- PCP (RFC 6887) ----
 *
 * MAP request, 60 bytes:
 *  0 version=2 | R=0, opcode=1 | reserved (16)
 *  4 requested lifetime (32)
 *  8 client IP address (128, IPv4-mapped)
 * 24 mapping nonce (96)
 * 36 protocol (8) | reserved (24)
 * 40 internal port (16) | suggested external port (16)
 * 44 suggested external IP address (128)
 *
 * The response has the same opcode part; its header carries the result
 * code in byte 3, the lifetime at 4 and the epoch at 8.
 */
static void v4mapped(uint8_t *p, uint32_t ip_be)
{
	memset(p, 0, 10);
	p[10] = p[11] = 0xff;
	memcpy(p + 12, &ip_be, 4);
}

static int pcp_map(struct pm_job *j, int fd, uint32_t client, const uint8_t nonce[12], uint32_t lifetime,
		   uint8_t resp[PCP_MAP_LEN])
{
	uint8_t req[PCP_MAP_LEN] = { 0 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rto = PCP_RTO_MS, left, w;
	ssize_t n;

	req[0] = PCP_VERSION;
	req[1] = PCP_OP_MAP;
	req[4] = (uint8_t)(lifetime >> 24);
	req[5] = (uint8_t)(lifetime >> 16);
	req[6] = (uint8_t)(lifetime >> 8);
	req[7] = (uint8_t)lifetime;
	v4mapped(req + 8, client);
	memcpy(req + 24, nonce, 12);
	req[36] = IPPROTO_TCP;
	req[40] = (uint8_t)(j->port >> 8);
	req[41] = (uint8_t)j->port;
	req[42] = (uint8_t)(j->port >> 8);
	req[43] = (uint8_t)j->port;
	v4mapped(req + 44, 0);
	for (;;) {
		if ((left = remaining_ms(j)) <= 0)
			return -ETIMEDOUT;
		if (send(fd, req, sizeof(req), 0) < 0 && errno == ECONNREFUSED)
			return -ECONNREFUSED;
		w = rto < left ? rto : left;
		while (poll(&pfd, 1, w) > 0) {
			n = recv(fd, resp, PCP_MAP_LEN, 0);
			if (n < 0)
				return -errno;	/* ICMP port unreachable: no PCP server */
			/* RFC 6887 8.3: a response to our request, MAP, same nonce */
			if (n >= 24 && resp[1] == (0x80 | PCP_OP_MAP) && (resp[3] != 0 ||
			    (n == PCP_MAP_LEN && memcmp(resp + 24, nonce, 12) == 0)))
				return resp[3];
		}
		rto *= 2;
	}
}

static void *pcp_thread(void *arg)
{
	struct pm_job *j = arg;
	struct probe_portmap_one *o = j->out;
	struct sockaddr_in gw, me;
	socklen_t sl = sizeof(me);
	uint8_t nonce[12], resp[PCP_MAP_LEN];
	int fd, rc;

	o->present = 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	probe_sin(&gw, j->gw, PCP_PORT);
	if (connect(fd, (struct sockaddr *)&gw, sizeof(gw)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &sl) < 0 ||
	    getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce)) {
		close(fd);
		return NULL;
	}
	rc = pcp_map(j, fd, me.sin_addr.s_addr, nonce, PM_LIFETIME_S, resp);
	if (rc < 0) {
		close(fd);
		return NULL;
	}
	o->present = 1;
	if (rc == 0) {
		o->mapped = 1;
		o->ext_port = (uint16_t)(resp[42] << 8 | resp[43]);
		inet_ntop(AF_INET, resp + 56, o->external_ip, sizeof(o->external_ip));
		/* RFC 6887 15: lifetime 0 deletes the mapping */
		o->removed = pcp_map(j, fd, me.sin_addr.s_addr, nonce, 0, resp) == 0;
	} else {
		o->mapped = 0;	/* e.g. 1 UNSUPP_VERSION: a NAT-PMP-only gateway */
		if (rc == 1)
			o->present = 0;
	}
	close(fd);
	return NULL;
}

int probe_pm_start(struct probe_ctx *c)
{
	static void *(*const fn[3])(void *) = { upnp_thread, natpmp_thread, pcp_thread };
	struct probe_portmap_one *out[3] = { &c->r->upnp, &c->r->natpmp, &c->r->pcp };
	struct probe_pm_state *s;
	uint32_t gw = 0;
	uint16_t base;
	int i;

	if (probe_default_route(NULL, &gw) < 0 || !gw) {
		probe_note(c->r, "no default gateway: port mapping protocols not tried");
		return -ENOENT;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	c->pm = s;
	if (getrandom(&base, sizeof(base), 0) != sizeof(base))
		base = (uint16_t)clock_ms();
	base = (uint16_t)(40000 + base % 9000);
	for (i = 0; i < 3; i++) {
		struct pm_job *j = &s->job[i];

		j->c = c;
		j->out = out[i];
		j->gw = gw;
		j->port = (uint16_t)(base + 2 * i);
		j->deadline_ms = c->L.deadline_ms;
		j->out->present = 0;
		j->started = pthread_create(&j->th, NULL, fn[i], j) == 0;
	}
	return 0;
}

void probe_pm_abort(struct probe_ctx *c)
{
	int i;

	if (c->pm)
		for (i = 0; i < 3; i++)
			__atomic_store_n(&c->pm->job[i].deadline_ms, 0, __ATOMIC_RELAXED);
}

void probe_pm_finish(struct probe_ctx *c)
{
	struct probe_pm_state *s = c->pm;
	int i;

	if (!s)
		return;
	for (i = 0; i < 3; i++)
		if (s->job[i].started)
			pthread_join(s->job[i].th, NULL);
	for (i = 0; i < 3; i++) {
		struct probe_portmap_one *o = s->job[i].out;

		if (o->mapped == 1 && o->removed != 1)
			probe_note(c->r, "%s: the test mapping of port %u could not be removed (it expires in %d s)",
				   i == 0 ? "UPnP-IGD" : i == 1 ? "NAT-PMP" : "PCP", o->ext_port, PM_LIFETIME_S);
	}
	free(s);
	c->pm = NULL;
}

/* ---- the same exchanges outside a probe run (probe_map.c) ---- */

int probe_pm_ssdp_igd(uint64_t deadline_ms, uint32_t gw, char *loc, size_t cap)
{
	struct pm_job j = { .deadline_ms = deadline_ms, .gw = gw };

	return ssdp_find_igd(&j, loc, cap);
}

int probe_pm_natpmp_wait(uint64_t deadline_ms, natpmp_t *n, natpmpresp_t *resp)
{
	struct pm_job j = { .deadline_ms = deadline_ms };

	return natpmp_wait(&j, n, resp);
}

int probe_pm_pcp_map(uint64_t deadline_ms, int fd, uint16_t port, uint32_t client,
		     const uint8_t nonce[12], uint32_t lifetime, uint8_t resp[PROBE_PCP_MAP_LEN])
{
	struct pm_job j = { .deadline_ms = deadline_ms, .port = port };

	return pcp_map(&j, fd, client, nonce, lifetime, resp);
}
