// SPDX-License-Identifier: MIT
/*
 * A libpcap capture of the probe's own traffic with the server, on the
 * default-route interface (root only). Two uses: --pcap FILE writes it
 * out, and the sequence-number test reads the SYNs that left us from it
 * (what the NAT receives, to compare with what the server captured).
 * Without root, a caller may hand in a capture socket instead
 * (probe_cfg.capture_fd: IPv4 datagrams, e.g. AF_PACKET SOCK_DGRAM).
 */
#include "probes/probe_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PCAP_SNAPLEN	256	/* headers are all we need */

static void set_filter(struct probe_ctx *c, uint32_t alt)
{
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN], text[128];
	struct bpf_program prog;

	inet_ntop(AF_INET, &c->srv.sin_addr, a1, sizeof(a1));
	if (alt) {
		inet_ntop(AF_INET, &alt, a2, sizeof(a2));
		snprintf(text, sizeof(text), "host %s or host %s", a1, a2);
	} else {
		snprintf(text, sizeof(text), "host %s", a1);
	}
	if (pcap_compile(c->pcap, &prog, text, 1, PCAP_NETMASK_UNKNOWN) == 0) {
		pcap_setfilter(c->pcap, &prog);
		pcap_freecode(&prog);
	}
}

/* Offset of the IPv4 header in a frame, or -1. */
static int l3_offset(int dlt, const uint8_t *p, size_t len)
{
	size_t off;
	uint16_t et;

	switch (dlt) {
	case DLT_EN10MB:
		if (len < 14)
			return -1;
		et = (uint16_t)(p[12] << 8 | p[13]);
		off = 14;
		if (et == 0x8100 && len >= 18) {
			et = (uint16_t)(p[16] << 8 | p[17]);
			off = 18;
		}
		return et == 0x0800 ? (int)off : -1;
	case DLT_LINUX_SLL:
		return len >= 16 && p[14] == 0x08 && p[15] == 0x00 ? 16 : -1;
	case DLT_RAW:
		return 0;
	default:
		return -1;
	}
}

/* An IPv4 datagram seen by the capture: a SYN of ours to the server is logged. */
static void on_ip(struct probe_ctx *c, const uint8_t *ip, size_t len)
{
	const uint8_t *tcp;
	size_t ihl;

	if (len < 20)
		return;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || len < ihl + 20 || ip[9] != IPPROTO_TCP)
		return;
	tcp = ip + ihl;
	/* a SYN without ACK going to the server: ours */
	if ((tcp[13] & 0x12) != 0x02)
		return;
	if (!memcmp(ip + 12, &c->srv.sin_addr.s_addr, 4))
		return;		/* from the server */
	if (c->nsyn >= PROBE_SYN_LOG_MAX)
		return;
	c->syn[c->nsyn].sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
	c->syn[c->nsyn].dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
	memcpy(&c->syn[c->nsyn].daddr, ip + 16, 4);
	c->syn[c->nsyn].seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	c->nsyn++;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct probe_ctx *c = (struct probe_ctx *)user;
	size_t len = h->caplen;
	int off;

	if (c->dumper)
		pcap_dump(c->dumper, h, bytes);
	off = l3_offset(pcap_datalink(c->pcap), bytes, len);
	if (off < 0 || len < (size_t)off + 20)
		return;
	on_ip(c, bytes + off, len - (size_t)off);
}

/* The capture socket handed in by the caller (cfg->capture_fd): IPv4 datagrams. */
static void on_capture_fd(struct probe_loop *L, struct probe_sock *s, short rev)
{
	struct probe_ctx *c = s->arg;
	uint8_t buf[256];
	ssize_t n;

	(void)L;
	(void)rev;
	while ((n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC)) > 0)
		on_ip(c, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
}

static void on_ready(struct probe_loop *L, struct probe_sock *s, short rev)
{
	struct probe_ctx *c = s->arg;

	(void)L;
	(void)rev;
	pcap_dispatch(c->pcap, 64, on_packet, (u_char *)c);
}

int probe_pcap_start(struct probe_ctx *c)
{
	char ifname[16], err[PCAP_ERRBUF_SIZE];
	struct probe_sock *s;
	pcap_t *p;
	int fd;

	if (c->cfg->capture_fd >= 0 && !c->cfg->pcap_file) {
		fd = fcntl(c->cfg->capture_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0 || !(c->capsock = probe_sock_other(&c->L, fd, POLLIN, on_capture_fd, c))) {
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
		return 0;
	}
	if (!c->root) {
		if (c->cfg->pcap_file)
			probe_note(c->r, "--pcap needs root (packet capture): no capture written");
		return -EPERM;
	}
	if (probe_default_route(ifname, NULL) < 0) {
		probe_note(c->r, "no default route: no capture");
		return -ENOENT;
	}
	if (!(p = pcap_create(ifname, err)))
		goto fail;
	pcap_set_snaplen(p, c->cfg->pcap_file ? 65535 : PCAP_SNAPLEN);
	pcap_set_immediate_mode(p, 1);
	pcap_set_promisc(p, 0);
	if (pcap_activate(p) < 0) {
		snprintf(err, sizeof(err), "%s", pcap_geterr(p));
		pcap_close(p);
		goto fail;
	}
	pcap_setnonblock(p, 1, err);
	c->pcap = p;
	set_filter(c, 0);
	if (c->cfg->pcap_file && !(c->dumper = pcap_dump_open(p, c->cfg->pcap_file)))
		probe_note(c->r, "--pcap %s: %s", c->cfg->pcap_file, pcap_geterr(p));
	fd = pcap_get_selectable_fd(p);
	if (fd < 0 || !(s = probe_sock_other(&c->L, fd, POLLIN, on_ready, c))) {
		probe_pcap_finish(c);
		return -EIO;
	}
	s->borrowed = true;	/* pcap_close closes it */
	return 0;
fail:
	probe_note(c->r, "capture on %s failed: %s", ifname, err);
	return -EIO;
}

void probe_pcap_server_alt(struct probe_ctx *c, uint32_t alt_ip)
{
	if (c->pcap)
		set_filter(c, alt_ip);
}

void probe_pcap_finish(struct probe_ctx *c)
{
	if (c->capsock) {
		on_capture_fd(&c->L, c->capsock, POLLIN);	/* drain; probe_loop_free closes it */
		c->capsock = NULL;
	}
	if (!c->pcap)
		return;
	pcap_dispatch(c->pcap, -1, on_packet, (u_char *)c);
	if (c->dumper)
		pcap_dump_close(c->dumper);
	pcap_close(c->pcap);
	c->dumper = NULL;
	c->pcap = NULL;
}

int probe_pcap_syn_seq(const struct probe_ctx *c, uint16_t sport, uint32_t *seq)
{
	unsigned i;

	for (i = 0; i < c->nsyn; i++)
		if (c->syn[i].sport == sport) {
			*seq = c->syn[i].seq;
			return 0;
		}
	return -ENOENT;
}

bool probe_pcap_seq_seen(const struct probe_ctx *c, uint32_t seq)
{
	unsigned i;

	for (i = 0; i < c->nsyn; i++)
		if (c->syn[i].seq == seq)
			return true;
	return false;
}
