// SPDX-License-Identifier: MIT
/* SYN capture and probe answers through libpcap: see server/capture.h. */
#include "server/capture.h"
#include "nfq/pkt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#define ETH_HDR		14
#define VLAN_HDR	4
#define SLL_HDR		16
#define SLL2_HDR	20
#define ETHERTYPE_IP4	0x0800
#define ETHERTYPE_IP6	0x86dd
#define ETHERTYPE_VLAN	0x8100
#define PCAP_BATCH	64
#define PCAP_BUFFER	(1 << 20)

int srv_capture_l3(int dlt, const uint8_t *f, size_t len, size_t *off)
{
	size_t o;
	uint16_t et;

	switch (dlt) {
	case SRV_DLT_EN10MB:
		if (len < ETH_HDR)
			return -EMSGSIZE;
		et = pkt_get16(f + 12);
		o = ETH_HDR;
		if (et == ETHERTYPE_VLAN) {
			if (len < ETH_HDR + VLAN_HDR)
				return -EMSGSIZE;
			et = pkt_get16(f + 16);
			o += VLAN_HDR;
		}
		break;
	case SRV_DLT_LINUX_SLL:
		if (len < SLL_HDR)
			return -EMSGSIZE;
		et = pkt_get16(f + 14);
		o = SLL_HDR;
		break;
	case SRV_DLT_LINUX_SLL2:
		if (len < SLL2_HDR)
			return -EMSGSIZE;
		et = pkt_get16(f);
		o = SLL2_HDR;
		break;
	case SRV_DLT_RAW:	/* either family: the version nibble tells */
		if (len < 1)
			return -EMSGSIZE;
		et = f[0] >> 4 == 6 ? ETHERTYPE_IP6 : ETHERTYPE_IP4;
		o = 0;
		break;
	case SRV_DLT_IPV4:
		et = ETHERTYPE_IP4;
		o = 0;
		break;
	case SRV_DLT_IPV6:
		et = ETHERTYPE_IP6;
		o = 0;
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	if (et != ETHERTYPE_IP4 && et != ETHERTYPE_IP6)
		return -EPROTONOSUPPORT;
	if (len - o < (et == ETHERTYPE_IP4 ? PKT_IP4_MIN_HDR : PKT_IP6_HDR))
		return -EMSGSIZE;
	if (f[o] >> 4 != (et == ETHERTYPE_IP4 ? 4 : 6))
		return -EPROTONOSUPPORT;
	*off = o;
	return 0;
}

/* The datagram length its header claims (IPv4 total length, 40 + IPv6
 * payload length); 0 when len does not hold that header. */
static size_t claimed_len(const uint8_t *ip, size_t len)
{
	if (len >= PKT_IP4_MIN_HDR && ip[0] >> 4 == 4)
		return pkt_get16(ip + 2);
	if (len >= PKT_IP6_HDR && ip[0] >> 4 == 6)
		return PKT_IP6_HDR + (size_t)pkt_get16(ip + 4);
	return 0;
}

/* Parse what we have of a packet cut by the snap length: the headers are
 * what counts, so a copy with the total length clamped is parsed. */
static int parse_cut(const uint8_t *ip, size_t len, uint8_t *copy, struct pkt *p)
{
	size_t tot = claimed_len(ip, len);

	if (!tot)
		return -EBADMSG;
	if (len >= tot)
		return pkt_parse(ip, len, p) < 0 ? -EBADMSG : 0;
	if (len > SRV_CAP_SNAPLEN)
		len = SRV_CAP_SNAPLEN;
	memcpy(copy, ip, len);
	if (ip[0] >> 4 == 4)
		pkt_put16(copy + 2, (uint16_t)len);
	else
		pkt_put16(copy + 4, (uint16_t)(len - PKT_IP6_HDR));
	return pkt_parse(copy, len, p) < 0 ? -EBADMSG : 0;
}

int srv_capture_syn_report(const uint8_t *ip, size_t len, const struct srv_cap_want *w,
			   uint32_t elapsed_ms, struct stunt_syn_report *rep)
{
	uint8_t copy[SRV_CAP_SNAPLEN];
	const uint8_t *base;
	struct pkt p;
	size_t olen;

	if (!ip || !w || !rep)
		return -EINVAL;
	if (parse_cut(ip, len, copy, &p) < 0)
		return -EBADMSG;
	base = claimed_len(ip, len) > len ? copy : ip;
	if (p.family != AF_INET || p.l4 != PKT_L4_TCP || (p.tcp.flags & (PKT_TCP_SYN | PKT_TCP_ACK)) != PKT_TCP_SYN ||
	    p.ip.saddr != w->client || p.ip.daddr != w->srv || p.tcp.dport != w->srv_port)
		return -ENOENT;
	memset(rep, 0, sizeof(*rep));
	rep->source.family = STUN_FAMILY_IPV4;
	memcpy(rep->source.ip, &p.ip.saddr, 4);
	rep->source.port = p.tcp.sport;
	rep->syn.seq = p.tcp.seq;
	rep->syn.ttl = p.ip.ttl;
	rep->syn.ip_flags = (uint8_t)(p.ip.frag >> 13);
	rep->syn.ip_id = p.ip.id;
	rep->syn.window = p.tcp.window;
	rep->syn.tcp_flags = p.tcp.flags;
	rep->syn.elapsed_ms = elapsed_ms;
	/* pkt_parse checked doff against the bytes present */
	olen = p.tcp.hdr_len - PKT_TCP_MIN_HDR;
	if (olen > STUNT_TCP_OPTS_MAX)
		return -EBADMSG;
	memcpy(rep->opts_raw, base + p.l4_off + PKT_TCP_MIN_HDR, olen);
	rep->opts_len = olen;
	if (stunt_tcp_opts_parse(rep->opts_raw, olen, &rep->opts) < 0)
		memset(&rep->opts, 0, sizeof(rep->opts));
	return 0;
}

static bool ip6_is(const uint8_t a[16], const uint8_t b[16])
{
	return memcmp(a, b, 16) == 0;
}

/* srv_capture_probe_match() for an IPv6 packet and an IPv6 probe. */
static int probe_match6(const struct pkt *p, const struct srv_cap_want *w,
			struct stunt_probe_resp *out)
{
	const struct pkt_quote *q = &p->icmp.quote;

	if (p->l4 == PKT_L4_TCP) {
		if (!ip6_is(p->ip6.saddr, w->client6) || p->tcp.sport != w->client_port ||
		    !ip6_is(p->ip6.daddr, w->srv6) || p->tcp.dport != w->srv_port)
			return -ENOENT;
		if (p->tcp.flags & PKT_TCP_RST)
			out->result = STUNT_PROBE_RST;
		else if ((p->tcp.flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == (PKT_TCP_SYN | PKT_TCP_ACK))
			out->result = STUNT_PROBE_SYNACK;
		else
			return -ENOENT;
		out->icmp_type = out->icmp_code = 0;
		out->ttl = p->ip6.hop_limit;
		return 0;
	}
	if (p->l4 != PKT_L4_ICMP6 || !pkt_icmp6_is_error(p->icmp.type) ||
	    !ip6_is(p->ip6.daddr, w->srv6))
		return -ENOENT;
	if (!q->valid || q->family != AF_INET6 || q->ip6.proto != PKT_PROTO_TCP || !q->has_ports ||
	    !ip6_is(q->ip6.saddr, w->srv6) || !ip6_is(q->ip6.daddr, w->client6) ||
	    q->sport != w->srv_port || q->dport != w->client_port)
		return -ENOENT;
	out->result = STUNT_PROBE_ICMP;
	out->icmp_type = p->icmp.type;
	out->icmp_code = p->icmp.code;
	out->ttl = p->ip6.hop_limit;
	return 0;
}

int srv_capture_probe_match(const uint8_t *ip, size_t len, const struct srv_cap_want *w,
			    struct stunt_probe_resp *out)
{
	uint8_t copy[SRV_CAP_SNAPLEN];
	struct pkt p;

	if (!ip || !w || !out)
		return -EINVAL;
	if (parse_cut(ip, len, copy, &p) < 0)
		return -ENOENT;
	if (w->v6 || p.family != AF_INET)
		return w->v6 && p.family == AF_INET6 ? probe_match6(&p, w, out) : -ENOENT;
	if (p.l4 == PKT_L4_TCP) {
		if (p.ip.saddr != w->client || p.tcp.sport != w->client_port ||
		    p.ip.daddr != w->srv || p.tcp.dport != w->srv_port)
			return -ENOENT;
		if (p.tcp.flags & PKT_TCP_RST)
			out->result = STUNT_PROBE_RST;
		else if ((p.tcp.flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == (PKT_TCP_SYN | PKT_TCP_ACK))
			out->result = STUNT_PROBE_SYNACK;
		else
			return -ENOENT;
		out->icmp_type = out->icmp_code = 0;
		out->ttl = p.ip.ttl;
		return 0;
	}
	if (p.l4 == PKT_L4_ICMP && pkt_icmp_is_error(p.icmp.type) && p.ip.daddr == w->srv) {
		const struct pkt_quote *q = &p.icmp.quote;

		if (!q->valid || q->ip.proto != PKT_PROTO_TCP || !q->has_ports ||
		    q->ip.saddr != w->srv || q->ip.daddr != w->client ||
		    q->sport != w->srv_port || q->dport != w->client_port)
			return -ENOENT;
		out->result = STUNT_PROBE_ICMP;
		out->icmp_type = p.icmp.type;
		out->icmp_code = p.icmp.code;
		out->ttl = p.ip.ttl;
		return 0;
	}
	return -ENOENT;
}

/* ---- libpcap ---- */

static int iface_of(uint32_t addr4, char *name, size_t cap)
{
	struct ifaddrs *ifs, *i;
	int err = -ENOENT;

	if (getifaddrs(&ifs) < 0)
		return -errno;
	for (i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == addr4) {
			snprintf(name, cap, "%s", i->ifa_name);
			err = 0;
			break;
		}
	freeifaddrs(ifs);
	return err;
}

bool srv_pcap_sees6(const struct srv_pcap *c, const uint8_t addr6[16])
{
	struct ifaddrs *ifs, *i;
	bool found = false;

	if (strcmp(c->ifname, "any") == 0)
		return true;
	if (getifaddrs(&ifs) < 0)
		return false;
	for (i = ifs; i && !found; i = i->ifa_next)
		found = i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 &&
			strcmp(i->ifa_name, c->ifname) == 0 &&
			memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr6, 16) == 0;
	freeifaddrs(ifs);
	return found;
}

int srv_pcap_open(struct srv_pcap *c, const char *ifname, uint32_t addr4, char *err,
		  size_t errcap)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (ifname)
		snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	else if (iface_of(addr4, c->ifname, sizeof(c->ifname)) < 0)
		snprintf(c->ifname, sizeof(c->ifname), "any");
	if (!(p = pcap_create(c->ifname, ebuf))) {
		snprintf(err, errcap, "pcap_create %s: %s", c->ifname, ebuf);
		return -ENODEV;
	}
	pcap_set_snaplen(p, SRV_CAP_SNAPLEN);
	pcap_set_immediate_mode(p, 1);
	pcap_set_buffer_size(p, PCAP_BUFFER);
	pcap_set_promisc(p, 0);
	if (pcap_activate(p) < 0) {
		snprintf(err, errcap, "pcap_activate %s: %s", c->ifname, pcap_geterr(p));
		pcap_close(p);
		return -EPERM;
	}
	/* our own probe SYNs go out: do not look at them */
	pcap_setdirection(p, PCAP_D_IN);
	if (pcap_setnonblock(p, 1, ebuf) < 0 || (c->fd = pcap_get_selectable_fd(p)) < 0) {
		snprintf(err, errcap, "pcap %s: not selectable: %s", c->ifname, ebuf);
		pcap_close(p);
		c->fd = -1;
		return -EIO;
	}
	c->p = p;
	c->dlt = pcap_datalink(p);
	return srv_pcap_set_filter(c, SRV_CAP_FILTER_IDLE);
}

int srv_pcap_set_filter(struct srv_pcap *c, const char *filter)
{
	struct bpf_program prog;
	int err = 0;

	if (!c->p)
		return -EBADF;
	if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return -EINVAL;
	if (pcap_setfilter(c->p, &prog) < 0)
		err = -EIO;
	pcap_freecode(&prog);
	return err;
}

struct read_ctx {
	int dlt;
	void (*cb)(const uint8_t *, size_t, void *);
	void *arg;
};

static void on_frame(u_char *u, const struct pcap_pkthdr *h, const u_char *f)
{
	struct read_ctx *r = (struct read_ctx *)u;
	size_t off;

	if (srv_capture_l3(r->dlt, f, h->caplen, &off) == 0)
		r->cb(f + off, h->caplen - off, r->arg);
}

int srv_pcap_read(struct srv_pcap *c, void (*cb)(const uint8_t *ip, size_t len, void *arg),
		  void *arg)
{
	struct read_ctx r = { c->dlt, cb, arg };
	int n;

	if (!c->p)
		return -EBADF;
	n = pcap_dispatch(c->p, PCAP_BATCH, on_frame, (u_char *)&r);
	return n < 0 ? -EIO : n;
}

void srv_pcap_close(struct srv_pcap *c)
{
	if (c->p)
		pcap_close(c->p);
	c->p = NULL;
	c->fd = -1;
}
