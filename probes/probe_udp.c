// SPDX-License-Identifier: MIT
/*
 * UDP behaviour discovery (RFC 5780 section 4) against a server with two
 * addresses, every test at once:
 *
 *   alloc[0..5]  fresh sockets, one Binding each to A1:P1, sent first and
 *                back to back so that no other flow of ours takes a port
 *                in between: allocation (preserving / sequential / random)
 *   s1           Binding to A1:P1; its OTHER-ADDRESS names A2:P2; then
 *                A1:P2, A2:P1, A2:P2 from the same socket: mapping; and a
 *                Binding to its own public address: hairpinning
 *   s2           CHANGE-REQUEST(IP+port) and CHANGE-REQUEST(port) to A1:P1
 *                from a socket that never sent anywhere else: filtering
 *                (a separate socket, because s1's packets to A2 would open
 *                an address-dependent filter for A2)
 *
 * A server that names no OTHER-ADDRESS has one address: s1 asks A1:P1+1
 * only (where a one-address stunt-server keeps its second port), and the
 * IP+port change test gets 420: probe_run() says what stays unmeasured.
 */
#include "probes/probe_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { TAG_ALLOC = 0, TAG_MAP = 16, TAG_HAIRPIN = 32, TAG_FILT_IPPORT, TAG_FILT_PORT };

struct probe_udp_state {
	struct probe_sock	*s1, *s2, *alloc[PROBE_ALLOC_SAMPLES];
	bool			 alloc_ok[PROBE_ALLOC_SAMPLES];
	uint16_t		 alloc_mapped[PROBE_ALLOC_SAMPLES];
	int			 got_ipport, got_port;
	unsigned		 tries_ipport, tries_port, tries_hairpin;	/* sends, unanswered */
	bool			 no_other;
};

static void on_alloc(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	unsigned i = (unsigned)(t->tag - TAG_ALLOC);

	(void)L;
	if (t->status == PROBE_TX_OK && t->has_mapped && i < PROBE_ALLOC_SAMPLES) {
		c->udp->alloc_ok[i] = true;
		c->udp->alloc_mapped[i] = t->mapped.port;
		c->r->server_reached = true;
	}
}

static void on_map(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	unsigned ep = (unsigned)(t->tag - TAG_MAP);

	(void)L;
	if (t->status == PROBE_TX_OK && t->has_mapped && ep < PROBE_EP_MAX)
		probe_ep_from(&c->r->udp.mapped[ep], &t->mapped);
}

static void on_hairpin(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;

	(void)L;
	c->r->udp.hairpin = t->status == PROBE_TX_OK;
	c->udp->tries_hairpin = t->sends;
}

/* The first answer: learn A2:P2 and start the rest of the mapping test. */
static void on_first(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe_udp_state *u = c->udp;
	struct sockaddr_in dst;
	uint32_t a1 = c->srv.sin_addr.s_addr, a2;
	uint16_t p1 = ntohs(c->srv.sin_port), p2;
	struct probe_ep *m = &c->r->udp.mapped[PROBE_EP_A1P1];

	if (t->status != PROBE_TX_OK || !t->has_mapped)
		return;
	c->r->server_reached = true;
	probe_ep_from(m, &t->mapped);
	if (!t->has_other || t->other.family != STUN_FAMILY_IPV4) {
		/* one address: its second port, where a one-address
		 * stunt-server keeps it (--port + 1), tells port-dependent
		 * mapping apart from the rest */
		u->no_other = true;
		c->r->one_addr = true;
		if (p1 < 65535) {
			probe_sin(&dst, a1, (uint16_t)(p1 + 1));
			probe_tx_binding(L, u->s1, &dst, 0, false, on_map, c, TAG_MAP + PROBE_EP_A1P2);
		}
	} else {
		memcpy(&a2, t->other.ip, 4);
		p2 = t->other.port;
		probe_pcap_server_alt(c, a2);
		probe_sin(&dst, a1, p2);
		probe_tx_binding(L, u->s1, &dst, 0, false, on_map, c, TAG_MAP + PROBE_EP_A1P2);
		probe_sin(&dst, a2, p1);
		probe_tx_binding(L, u->s1, &dst, 0, false, on_map, c, TAG_MAP + PROBE_EP_A2P1);
		probe_sin(&dst, a2, p2);
		probe_tx_binding(L, u->s1, &dst, 0, false, on_map, c, TAG_MAP + PROBE_EP_A2P2);
	}
	if (m->known) {
		/* hairpinning: our own request must come back to us (RFC 5780 4.5) */
		probe_sin(&dst, m->ip, m->port);
		probe_tx_binding(L, u->s1, &dst, 0, true, on_hairpin, c, TAG_HAIRPIN);
	}
}

static void on_filt(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe_udp_state *u = c->udp;
	int *got = t->tag == TAG_FILT_IPPORT ? &u->got_ipport : &u->got_port;
	uint32_t a1 = c->srv.sin_addr.s_addr;
	uint16_t p1 = ntohs(c->srv.sin_port);

	(void)L;
	if (t->status == PROBE_TX_OK) {
		bool ip_changed = t->from.in.sin_addr.s_addr != a1;
		bool port_changed = ntohs(t->from.in.sin_port) != p1;

		c->r->server_reached = true;
		/* RFC 5780 4.4: the answer must really come from where we asked;
		 * a server that ignores CHANGE-REQUEST tells nothing */
		if (port_changed && (t->tag == TAG_FILT_PORT ? !ip_changed : ip_changed))
			*got = 1;
		else
			*got = -1;
	} else if (t->status == PROBE_TX_NOANSWER) {
		*got = 0;
		if (t->tag == TAG_FILT_IPPORT)
			u->tries_ipport = t->sends;
		else
			u->tries_port = t->sends;
	} else {
		*got = -1;	/* error response: the server cannot do it */
	}
}

int probe_udp_start(struct probe_ctx *c)
{
	struct probe_udp_state *u;
	unsigned i;

	if (!(u = calloc(1, sizeof(*u))))
		return -ENOMEM;
	c->udp = u;
	u->got_ipport = u->got_port = -1;
	for (i = 0; i < PROBE_ALLOC_SAMPLES; i++) {
		u->alloc[i] = probe_sock_udp(&c->L, 0);
		if (u->alloc[i])
			probe_tx_binding(&c->L, u->alloc[i], &c->srv, 0, false, on_alloc, c, TAG_ALLOC + (int)i);
	}
	u->s1 = probe_sock_udp(&c->L, 0);
	u->s2 = probe_sock_udp(&c->L, 0);
	if (!u->s1 || !u->s2)
		return -errno;
	c->r->udp.local.known = true;
	c->r->udp.local.port = u->s1->lport;
	probe_tx_binding(&c->L, u->s1, &c->srv, 0, false, on_first, c, TAG_MAP + PROBE_EP_A1P1);
	probe_tx_binding(&c->L, u->s2, &c->srv, STUN_CHANGE_IP | STUN_CHANGE_PORT, true, on_filt, c,
			 TAG_FILT_IPPORT);
	probe_tx_binding(&c->L, u->s2, &c->srv, STUN_CHANGE_PORT, true, on_filt, c, TAG_FILT_PORT);
	return 0;
}

/* Which UDP verdicts rest on answers that loss could have taken. */
static void udp_confidence(struct probe_ctx *c, const struct probe_udp_state *u)
{
	const struct probe_proto *p = &c->r->udp;
	unsigned *un = &c->r->uncertain, i, known = 0;

	if (!c->r->server_reached)
		return;		/* nothing measured at all: nothing to doubt */
	for (i = 0; i < PROBE_EP_MAX; i++)
		known += p->mapped[i].known;
	/* a missing endpoint: the verdict (or its absence) lacks a comparison
	 * (one address: only its two ports are asked) */
	if (p->mapping != PROBE_MAP_NONE && known < (u->no_other ? 2u : (unsigned)PROBE_EP_MAX))
		*un |= PROBE_UNSURE(PROBE_V_UDP_MAPPING);
	/* ADF: the IP+port answer was missing; APDF: both were */
	if ((p->filtering == PROBE_FILT_ADF || p->filtering == PROBE_FILT_APDF) &&
	    probe_loop_doubtful(&c->L, u->tries_ipport))
		*un |= PROBE_UNSURE(PROBE_V_UDP_FILTERING);
	if (p->filtering == PROBE_FILT_APDF && probe_loop_doubtful(&c->L, u->tries_port))
		*un |= PROBE_UNSURE(PROBE_V_UDP_FILTERING);
	if (!p->measured)
		*un |= PROBE_UNSURE(PROBE_V_UDP_FILTERING);
	if (p->mapping != PROBE_MAP_NONE && p->nsamples < PROBE_ALLOC_SAMPLES)
		*un |= PROBE_UNSURE(PROBE_V_UDP_ALLOCATION);
	if (p->hairpin == 0 && probe_loop_doubtful(&c->L, u->tries_hairpin))
		*un |= PROBE_UNSURE(PROBE_V_UDP_HAIRPIN);
}

void probe_udp_finish(struct probe_ctx *c)
{
	struct probe_udp_state *u = c->udp;
	struct probe_proto *p = &c->r->udp;
	unsigned i;

	if (!u)
		return;
	p->measured = p->mapped[PROBE_EP_A1P1].known;
	/* the local address a packet to the server leaves from, for "no NAT" */
	if (p->measured) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&c->srv, sizeof(c->srv)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
			p->local.ip = sin.sin_addr.s_addr;
		if (fd >= 0)
			close(fd);
	}
	p->mapping = probe_classify_mapping(p->mapped, &p->local);
	p->same_map_ports = p->mapping == PROBE_MAP_UNKNOWN &&
			    p->mapped[PROBE_EP_A1P1].known && p->mapped[PROBE_EP_A1P2].known ? 1 : -1;
	/* no answer to either change test while the server answered others:
	 * the filter held them back (not a loss: each was retransmitted) */
	if (p->measured)
		p->filtering = probe_classify_filtering(u->got_ipport, u->got_port);
	p->other_port_passed = p->measured && !p->filtering && u->got_port == 1 ? 1 : -1;
	if (p->measured && !p->filtering && !u->no_other)
		probe_note(c->r, "UDP: the server did not honour CHANGE-REQUEST: filtering not measured");
	p->nsamples = 0;
	for (i = 0; i < PROBE_ALLOC_SAMPLES; i++) {
		if (!u->alloc[i] || !u->alloc_ok[i])
			continue;
		p->sample_local[p->nsamples] = u->alloc[i]->lport;
		p->sample_mapped[p->nsamples] = u->alloc_mapped[i];
		p->nsamples++;
	}
	if (p->mapping == PROBE_MAP_NONE) {
		p->allocation = PROBE_ALLOC_PRESERVING;
	} else {
		probe_classify_alloc(p);
	}
	if (!p->measured)
		p->hairpin = -1;
	udp_confidence(c, u);
	free(u);
	c->udp = NULL;
}
