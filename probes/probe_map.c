// SPDX-License-Identifier: MIT
/* Map / unmap one TCP port on the default gateway: see probe_map.h. */
#include "probes/probe_map.h"

#include "common/clock.h"
#include "common/esc.h"
#include "probes/probe_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define PCP_PORT	5351

const char *probe_pmap_name(enum probe_pmap_proto p)
{
	switch (p) {
	case PROBE_PMAP_UPNP: return "UPnP-IGD";
	case PROBE_PMAP_NATPMP: return "NAT-PMP";
	case PROBE_PMAP_PCP: return "PCP";
	default: return "none";
	}
}

static void why(struct probe_pmap *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(struct probe_pmap *m, const char *fmt, ...)
{
	size_t n = strlen(m->why);
	va_list ap;

	if (n + 3 >= sizeof(m->why))
		return;
	if (n)
		m->why[n++] = ';', m->why[n++] = ' ', m->why[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(m->why + n, sizeof(m->why) - n, fmt, ap);
	va_end(ap);
}

/* ---- UPnP-IGD ---- */

static int upnp_map(struct probe_pmap *m, uint16_t port, uint32_t lifetime, uint64_t deadline)
{
	struct UPNPUrls urls;
	struct IGDdatas data;
	char lan[64] = "", ext[40] = "", ps[8], lease[12], loc[512], e[ESC_BUF(80)];
	int rc;

	if (probe_pm_ssdp_igd(deadline, m->gw, loc, sizeof(loc)) < 0) {
		why(m, "UPnP-IGD: the gateway did not answer the SSDP search");
		return -ETIMEDOUT;
	}
	memset(&urls, 0, sizeof(urls));
	memset(&data, 0, sizeof(data));
	if (UPNP_GetIGDFromUrl(loc, &urls, &data, lan, sizeof(lan)) != 1) {
		FreeUPNPUrls(&urls);
		why(m, "UPnP-IGD: %s is not a connected IGD", esc_cstr(e, sizeof(e), loc));
		return -ENODEV;
	}
	if (!probe_pm_url_on_gw("control URL", urls.controlURL, m->gw)) {
		FreeUPNPUrls(&urls);
		why(m, "UPnP-IGD: the gateway's description names a control URL elsewhere");
		return -ENODEV;
	}
	snprintf(ps, sizeof(ps), "%u", port);
	snprintf(lease, sizeof(lease), "%u", lifetime);
	/* a lease, never 0: 0 would be permanent, and a crash would leave it */
	rc = UPNP_AddPortMapping(urls.controlURL, data.first.servicetype, ps, ps, lan, "stuntd",
				 "TCP", NULL, lease);
	if (rc != 0) {
		why(m, "UPnP-IGD: AddPortMapping %s: %s", ps, strupnperror(rc));
		FreeUPNPUrls(&urls);
		return -EACCES;
	}
	m->proto = PROBE_PMAP_UPNP;
	m->ext_port = port;
	m->lifetime_s = lifetime;
	if (UPNP_GetExternalIPAddress(urls.controlURL, data.first.servicetype, ext) == 0)
		(void)inet_pton(AF_INET, ext, &m->ext_ip);
	snprintf(m->upnp_url, sizeof(m->upnp_url), "%s", urls.controlURL);
	snprintf(m->upnp_svc, sizeof(m->upnp_svc), "%s", data.first.servicetype);
	FreeUPNPUrls(&urls);
	return 0;
}

static int upnp_unmap(struct probe_pmap *m)
{
	char ps[8];

	snprintf(ps, sizeof(ps), "%u", m->ext_port);
	return UPNP_DeletePortMapping(m->upnp_url, m->upnp_svc, ps, "TCP", NULL) == 0 ? 0 : -EIO;
}

/* ---- NAT-PMP (RFC 6886) ---- */

static int natpmp_map(struct probe_pmap *m, uint16_t port, uint32_t lifetime, uint64_t deadline)
{
	natpmp_t n;
	natpmpresp_t r;
	int err = -ETIMEDOUT;

	if (initnatpmp(&n, 1, m->gw) < 0) {
		why(m, "NAT-PMP: cannot open a socket");
		return -EIO;
	}
	if (sendpublicaddressrequest(&n) < 0 || probe_pm_natpmp_wait(deadline, &n, &r) != 0) {
		why(m, "NAT-PMP: no answer from the gateway");
		goto out;
	}
	m->ext_ip = r.pnu.publicaddress.addr.s_addr;
	if (sendnewportmappingrequest(&n, NATPMP_PROTOCOL_TCP, port, port, lifetime) < 0 ||
	    probe_pm_natpmp_wait(deadline, &n, &r) != 0) {
		why(m, "NAT-PMP: the gateway refused to map port %u", port);
		err = -EACCES;
		goto out;
	}
	m->proto = PROBE_PMAP_NATPMP;
	m->ext_port = r.pnu.newportmapping.mappedpublicport;
	m->lifetime_s = r.pnu.newportmapping.lifetime;
	err = 0;
out:
	closenatpmp(&n);
	return err;
}

static int natpmp_unmap(struct probe_pmap *m, uint64_t deadline)
{
	natpmp_t n;
	natpmpresp_t r;
	int err = -ETIMEDOUT;

	if (initnatpmp(&n, 1, m->gw) < 0)
		return -EIO;
	/* RFC 6886 3.4: lifetime 0 and external port 0 delete the mapping */
	if (sendnewportmappingrequest(&n, NATPMP_PROTOCOL_TCP, m->int_port, 0, 0) >= 0 &&
	    probe_pm_natpmp_wait(deadline, &n, &r) == 0)
		err = 0;
	closenatpmp(&n);
	return err;
}

/* ---- PCP (RFC 6887) ---- */

static int pcp_socket(uint32_t gw, uint32_t *client)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PCP_PORT),
				  .sin_addr.s_addr = gw }, me;
	socklen_t sl = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &sl) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*client = me.sin_addr.s_addr;
	return fd;
}

static int pcp_map_port(struct probe_pmap *m, uint16_t port, uint32_t lifetime, uint64_t deadline)
{
	uint8_t resp[PROBE_PCP_MAP_LEN];
	int fd, rc;

	fd = pcp_socket(m->gw, &m->pcp_client);
	if (fd < 0 || getrandom(m->pcp_nonce, sizeof(m->pcp_nonce), 0) != sizeof(m->pcp_nonce)) {
		if (fd >= 0)
			close(fd);
		why(m, "PCP: cannot open a socket");
		return -EIO;
	}
	rc = probe_pm_pcp_map(deadline, fd, port, m->pcp_client, m->pcp_nonce, lifetime, resp);
	close(fd);
	if (rc != 0) {
		if (rc < 0)
			why(m, "PCP: no answer from the gateway");
		else
			why(m, "PCP: MAP refused, result code %d", rc);
		return rc < 0 ? rc : -EACCES;
	}
	m->proto = PROBE_PMAP_PCP;
	m->ext_port = (uint16_t)(resp[42] << 8 | resp[43]);
	m->lifetime_s = (uint32_t)resp[4] << 24 | (uint32_t)resp[5] << 16 | (uint32_t)resp[6] << 8 |
			resp[7];
	memcpy(&m->ext_ip, resp + 56, 4);	/* the IPv4-mapped address's last 4 bytes */
	return 0;
}

static int pcp_unmap(struct probe_pmap *m, uint64_t deadline)
{
	uint8_t resp[PROBE_PCP_MAP_LEN];
	uint32_t client;
	int fd, rc;

	fd = pcp_socket(m->gw, &client);
	if (fd < 0)
		return fd;
	/* RFC 6887 15: the same nonce, protocol and internal port, lifetime 0 */
	rc = probe_pm_pcp_map(deadline, fd, m->int_port, m->pcp_client, m->pcp_nonce, 0, resp);
	close(fd);
	return rc == 0 ? 0 : rc < 0 ? rc : -EACCES;
}

int probe_pmap_map(uint16_t port, uint32_t lifetime_s, unsigned protos, unsigned timeout_ms,
		   struct probe_pmap *m)
{
	uint64_t deadline = clock_ms() + timeout_ms;
	int err = -ENOENT;

	memset(m, 0, sizeof(*m));
	m->int_port = port;
	if (probe_default_route(NULL, &m->gw) < 0 || !m->gw) {
		why(m, "no default gateway");
		return -ENETUNREACH;
	}
	if ((protos & PROBE_PMAP_F_UPNP) && (err = upnp_map(m, port, lifetime_s, deadline)) == 0)
		return 0;
	if ((protos & PROBE_PMAP_F_NATPMP) && clock_ms() < deadline &&
	    (err = natpmp_map(m, port, lifetime_s, deadline)) == 0)
		return 0;
	if ((protos & PROBE_PMAP_F_PCP) && clock_ms() < deadline &&
	    (err = pcp_map_port(m, port, lifetime_s, deadline)) == 0)
		return 0;
	if (clock_ms() >= deadline)
		why(m, "no mapping within %u ms", timeout_ms);
	return err;
}

int probe_pmap_unmap(struct probe_pmap *m, unsigned timeout_ms)
{
	uint64_t deadline = clock_ms() + timeout_ms;
	int err;

	switch (m->proto) {
	case PROBE_PMAP_UPNP: err = upnp_unmap(m); break;
	case PROBE_PMAP_NATPMP: err = natpmp_unmap(m, deadline); break;
	case PROBE_PMAP_PCP: err = pcp_unmap(m, deadline); break;
	default: return 0;
	}
	if (err == 0)
		m->proto = PROBE_PMAP_NONE;
	return err;
}
