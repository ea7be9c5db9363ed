// SPDX-License-Identifier: MIT
/* NFQUEUE socket glue: bind, receive, parse, ask the policy table, send one verdict. */
#include "nfq/nfq_engine.h"

#include "common/addr.h"
#include "common/clock.h"
#include "common/log.h"
#include "nfq/pkt_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* An attribute's length field is 16 bits and counts its own 4-byte header. */
#define NFQ_MAX_PKT      (0xffffu - MNL_ATTR_HDRLEN)
#define NFQ_COPY_RANGE   0xffffu
/*
 * The receive buffer holds one whole packet message, and a verdict may carry
 * one; 8 KiB covers the netlink headers and the other attributes (a constant,
 * because MNL_SOCKET_BUFFER_SIZE is computed at run time).
 */
#define NFQ_NL_SLACK     8192u
#define NFQ_RXBUF_SIZE   (NFQ_COPY_RANGE + NFQ_NL_SLACK)
#define NFQ_TXBUF_SIZE   (NFQ_COPY_RANGE + NFQ_NL_SLACK)

struct nfq_engine {
	struct mnl_socket *nl;
	unsigned int portid;
	uint16_t queue;
	nfq_packet_cb packet_cb;
	nfq_event_cb event_cb;
	void *arg;
	int raw_fd;
	int raw6_fd;             /* -1: the host has no IPv6 */
	int in_packet;          /* inside the handling of cur_id */
	int cur_done;           /* cur_id has its verdict */
	uint32_t cur_id;
	struct nfq_policy_table policies;
	struct nfq_engine_stats st;
	/* netlink headers are read and built in place: keep the buffers aligned */
	char rx[NFQ_RXBUF_SIZE] __attribute__((aligned(8)));
	char tx[NFQ_TXBUF_SIZE] __attribute__((aligned(8)));
	uint8_t pktbuf[NFQ_COPY_RANGE];         /* rewrite scratch */
};

static int send_config_and_wait_ack(struct nfq_engine *e, const struct nfq_engine_cfg *cfg);

int nfq_engine_open(const struct nfq_engine_cfg *cfg, struct nfq_engine **out)
{
	struct nfq_engine *e;
	int one = 1, r, sz, fd;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->raw_fd = -1;
	e->raw6_fd = -1;
	e->queue = cfg->queue_num;
	e->packet_cb = cfg->packet_cb;
	e->event_cb = cfg->event_cb;
	e->arg = cfg->arg;
	nfq_policy_table_init(&e->policies);

	e->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (e->nl == NULL) {
		r = -errno;
		goto out;
	}
	if (mnl_socket_bind(e->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	e->portid = mnl_socket_get_portid(e->nl);
	fd = mnl_socket_get_fd(e->nl);

	/*
	 * A burst that overflows the socket must not turn into ENOBUFS on every
	 * read: the lost packets are accepted by fail-open or re-queued by the
	 * kernel, and the loop goes on.
	 */
	if (mnl_socket_setsockopt(e->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0) {
		r = -errno;
		goto out;
	}
	sz = (int)(cfg->rcvbuf ? cfg->rcvbuf : NFQ_ENGINE_DEFAULT_RCVBUF);
	/* FORCE passes rmem_max as root; without it the kernel caps the plain call */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));

	r = send_config_and_wait_ack(e, cfg);
	if (r < 0)
		goto out;

	if (cfg->inject) {
		/* IPPROTO_RAW implies IP_HDRINCL and never receives: send only */
		e->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
		if (e->raw_fd < 0) {
			r = -errno;
			goto out;
		}
		if (cfg->inject_mark &&
		    setsockopt(e->raw_fd, SOL_SOCKET, SO_MARK, &cfg->inject_mark,
			       sizeof(cfg->inject_mark)) < 0) {
			r = -errno;
			goto out;
		}
		/* IPv6's IPPROTO_RAW is header-included too (Linux >= 4.5); a
		 * kernel without IPv6 injects IPv4 alone, any other error is one */
		e->raw6_fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
		if (e->raw6_fd < 0 && errno != EAFNOSUPPORT) {
			r = -errno;
			goto out;
		}
		if (e->raw6_fd >= 0 && cfg->inject_mark &&
		    setsockopt(e->raw6_fd, SOL_SOCKET, SO_MARK, &cfg->inject_mark,
			       sizeof(cfg->inject_mark)) < 0) {
			r = -errno;
			goto out;
		}
	}
	*out = e;
	e = NULL;
	r = 0;
out:
	if (e)
		nfq_engine_close(e);
	return r;
}

/* Handle the packets and the ack that arrive while we wait for the ack. */
static int queue_cb(const struct nlmsghdr *nlh, void *data);

static int send_config_and_wait_ack(struct nfq_engine *e, const struct nfq_engine_cfg *cfg)
{
	struct nlmsghdr *nlh;
	struct pollfd pfd;
	uint64_t deadline;
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t n;
	int r;

	/*
	 * One message binds the queue and sets everything about it, so no packet
	 * is ever queued to us under the default (copy-none) parameters.
	 */
	nlh = nfq_nlmsg_put(e->tx, NFQNL_MSG_CONFIG, e->queue);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQ_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, cfg->queue_maxlen ? cfg->queue_maxlen :
				  NFQ_ENGINE_DEFAULT_MAXLEN);
	/* fail-open: a full queue accepts packets rather than dropping them */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	if (mnl_socket_sendto(e->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;

	pfd.fd = mnl_socket_get_fd(e->nl);
	pfd.events = POLLIN;
	deadline = clock_ms() + NFQ_ENGINE_ACK_TIMEOUT_MS;
	for (;;) {
		uint64_t now = clock_ms();

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = mnl_socket_recvfrom(e->nl, e->rx, sizeof(e->rx));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		/* MNL_CB_STOP (0) is the ack; an error message sets errno */
		r = mnl_cb_run(e->rx, (size_t)n, seq, e->portid, queue_cb, e);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

void nfq_engine_close(struct nfq_engine *e)
{
	struct nlmsghdr *nlh;

	if (e == NULL)
		return;
	if (e->nl) {
		/* closing the socket unbinds too; this makes it explicit and immediate */
		nlh = nfq_nlmsg_put(e->tx, NFQNL_MSG_CONFIG, e->queue);
		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
		(void)mnl_socket_sendto(e->nl, nlh, nlh->nlmsg_len);
		mnl_socket_close(e->nl);
	}
	if (e->raw_fd >= 0)
		close(e->raw_fd);
	if (e->raw6_fd >= 0)
		close(e->raw6_fd);
	nfq_policy_table_free(&e->policies);
	free(e);
}

int nfq_engine_fd(const struct nfq_engine *e)
{
	return mnl_socket_get_fd(e->nl);
}

struct nfq_policy_table *nfq_engine_policies(struct nfq_engine *e)
{
	return &e->policies;
}

void nfq_engine_get_stats(const struct nfq_engine *e, struct nfq_engine_stats *out)
{
	*out = e->st;
}

int nfq_engine_verdict(struct nfq_engine *e, uint32_t id, const struct nfq_verdict *v)
{
	struct nlmsghdr *nlh;
	int r = -EALREADY;

	if (e->in_packet && id == e->cur_id && e->cur_done)
		goto out;
	r = -EINVAL;
	if (v->bytes && (v->len == 0 || v->len > NFQ_MAX_PKT))
		goto out;
	nlh = nfq_nlmsg_put(e->tx, NFQNL_MSG_VERDICT, e->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, v->drop ? NF_DROP : NF_ACCEPT);
	if (v->set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, v->mark);
	if (v->bytes && !v->drop)
		nfq_nlmsg_verdict_put_pkt(nlh, v->bytes, (uint32_t)v->len);
	if (mnl_socket_sendto(e->nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		e->st.verdict_errors++;
		goto out;
	}
	if (e->in_packet && id == e->cur_id)
		e->cur_done = 1;
	if (v->drop)
		e->st.dropped++;
	else
		e->st.accepted++;
	r = 0;
out:
	return r;
}

int nfq_engine_accept(struct nfq_engine *e, uint32_t id)
{
	struct nfq_verdict v = { 0 };

	return nfq_engine_verdict(e, id, &v);
}

int nfq_engine_drop(struct nfq_engine *e, uint32_t id)
{
	struct nfq_verdict v = { .drop = 1 };

	return nfq_engine_verdict(e, id, &v);
}

/* Which way a packet queued at this hook can be going. */
static uint32_t hook_dirs(uint8_t hook)
{
	switch (hook) {
	case NF_INET_LOCAL_OUT:
	case NF_INET_POST_ROUTING:
		return NFQ_MATCH_OUT_ALL;
	case NF_INET_PRE_ROUTING:
	case NF_INET_LOCAL_IN:
		return NFQ_MATCH_IN_ALL;
	default:
		return NFQ_MATCH_ALL;
	}
}

/* The policy table's verdict for a parsed packet, then its reports. */
static void apply_policies(struct nfq_engine *e, const struct nfq_packet *np)
{
	struct nfq_decision d;
	struct nfq_verdict v = { 0 };
	size_t i;

	nfq_policy_decide(&e->policies, np->pkt, hook_dirs(np->hook), clock_ms(), &d);
	if (d.replace && !np->truncated) {
		v.bytes = d.replace;
		v.len = d.replace_len;
		e->st.replaced++;
	} else if (d.drop) {
		v.drop = 1;
	} else if (d.set_ttl && !np->truncated && np->len <= sizeof(e->pktbuf)) {
		memcpy(e->pktbuf, np->data, np->len);
		if (pkt_set_ttl(e->pktbuf, np->len, d.ttl) == 0) {
			v.bytes = e->pktbuf;
			v.len = np->len;
			e->st.ttl_rewritten++;
		}
	}
	if (nfq_engine_verdict(e, np->id, &v) < 0)
		log_debug("nfq: verdict for packet %u failed", np->id);
	e->st.events_lost += d.events_lost;
	for (i = 0; i < d.n_events; i++) {
		e->st.events++;
		if (e->event_cb)
			e->event_cb(e, &d.ev[i], e->arg);
	}
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfq_engine *e = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr ph;
	struct nfq_packet np;
	struct pkt k;

	if (nfq_nlmsg_parse(nlh, attr) < 0) {
		e->st.netlink_errors++;
		return MNL_CB_OK;
	}
	/* without the header there is no packet id, so nothing to give a verdict to */
	if (attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(ph)) {
		e->st.netlink_errors++;
		return MNL_CB_OK;
	}
	memcpy(&ph, mnl_attr_get_payload(attr[NFQA_PACKET_HDR]), sizeof(ph));

	memset(&np, 0, sizeof(np));
	np.id = ntohl(ph.packet_id);
	np.hook = ph.hook;
	if (attr[NFQA_MARK] && mnl_attr_get_payload_len(attr[NFQA_MARK]) >= 4)
		np.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_PAYLOAD]) {
		np.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		np.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	if (attr[NFQA_CAP_LEN] && mnl_attr_get_payload_len(attr[NFQA_CAP_LEN]) >= 4 &&
	    ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) > np.len)
		np.truncated = 1;
	e->st.packets++;
	if (np.data && pkt_parse(np.data, np.len, &k) == 0) {
		np.pkt = &k;
	} else {
		/* bad input from the network is counted and let through, never fatal */
		e->st.parse_errors++;
		log_debug("nfq: packet %u (%zu bytes) did not parse; accepted", np.id, np.len);
	}

	e->in_packet = 1;
	e->cur_id = np.id;
	e->cur_done = 0;
	if (e->packet_cb)
		e->packet_cb(e, &np, e->arg);
	if (!e->cur_done) {
		if (np.pkt)
			apply_policies(e, &np);
		else
			(void)nfq_engine_accept(e, np.id);
	}
	e->in_packet = 0;
	return MNL_CB_OK;
}

int nfq_engine_dispatch(struct nfq_engine *e)
{
	uint64_t before = e->st.packets;
	ssize_t n;
	int i, r;

	for (i = 0; i < NFQ_ENGINE_DISPATCH_BUDGET; i++) {
		n = mnl_socket_recvfrom(e->nl, e->rx, sizeof(e->rx));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return -errno;
		}
		r = mnl_cb_run(e->rx, (size_t)n, 0, e->portid, queue_cb, e);
		if (r < 0) {
			/* an error answer to a verdict (e.g. an id the kernel no longer has) */
			e->st.netlink_errors++;
			log_debug("nfq: netlink error: %s", strerror(errno));
		}
	}
	return (int)(e->st.packets - before);
}

int nfq_engine_inject(struct nfq_engine *e, const uint8_t *p, size_t len)
{
	union addr_sa dst;
	struct pkt k;
	uint8_t *copy = NULL;
	int r = -ENOTCONN, fd;

	if (e->raw_fd < 0)
		goto out;
	r = -EINVAL;
	if (p == NULL || len == 0 || len > PKT_IP4_MAX_LEN || pkt_parse(p, len, &k) < 0)
		goto out;
	memset(&dst, 0, sizeof(dst));
	if (k.family == AF_INET6) {
		r = -EAFNOSUPPORT;
		if ((fd = e->raw6_fd) < 0)
			goto out;
		dst.in6.sin6_family = AF_INET6;
		memcpy(&dst.in6.sin6_addr, k.ip6.daddr, 16);
	} else {
		fd = e->raw_fd;
		dst.in.sin_family = AF_INET;
		dst.in.sin_addr.s_addr = k.ip.daddr;
	}
	r = -ENOMEM;
	copy = malloc(k.len);
	if (copy == NULL)
		goto out;
	memcpy(copy, p, k.len);
	r = pkt_fix_checksums(copy, k.len);
	if (r < 0)
		goto out;
	if (sendto(fd, copy, k.len, 0, &dst.sa, addr_sa_len(&dst)) < 0) {
		r = -errno;
		goto out;
	}
	e->st.injected++;
	r = 0;
out:
	free(copy);
	return r;
}
