// SPDX-License-Identifier: MIT
/* Counters, their status line and their JSON: see server/stats.h. */
#include "server/stats.h"

#include <inttypes.h>
#include <stdio.h>

uint64_t srv_stats_refused(const struct srv_stats *s)
{
	uint64_t n = s->tcp_refused + s->tcp_bad_frame;
	unsigned v;

	for (v = SRV_V_ERR_400; v < SRV_V_MAX; v++)
		n += s->udp_verdict[v] + s->tcp_verdict[v];
	for (v = RDV_V_BAD; v < RDV_V_MAX; v++)
		n += s->rdv[v];
	for (v = STUNT_V_BAD; v < STUNT_V_MAX; v++)
		n += s->stunt[v];
	for (v = SIG_SEC_MISSING; v < SIG_SEC_MAX; v++)
		n += s->sec[v];
	return n + s->rdv_fwd_full + s->udp_rate_limited + s->tls_fail;
}

/* Append with snprintf semantics: *off keeps counting past cap. */
#define APPEND(buf, cap, off, ...)                                                      \
	do {                                                                            \
		int n_ = snprintf((buf) + (*(off) < (cap) ? *(off) : (cap)),           \
				  *(off) < (cap) ? (cap) - *(off) : 0, __VA_ARGS__);    \
		if (n_ > 0)                                                             \
			*(off) += (size_t)n_;                                           \
	} while (0)

static const char *redis_link_name(const struct srv_stats *s)
{
	return s->redis_link == SRV_REDIS_UP ? "up" : "down";
}

int srv_stats_line(const struct srv_stats *s, char *buf, size_t cap)
{
	size_t off = 0;
	uint64_t ok_udp = s->udp_verdict[SRV_V_BINDING] + s->udp_verdict[SRV_V_CLASSIC];
	uint64_t ok_tcp = s->tcp_verdict[SRV_V_BINDING] + s->tcp_verdict[SRV_V_CLASSIC];

	APPEND(buf, cap, &off,
	       "status: refused %" PRIu64 "; udp rx %" PRIu64 " answered %" PRIu64
	       " malformed %" PRIu64 " 400 %" PRIu64 " 420 %" PRIu64 "; tcp clients %" PRIu64
	       " accepted %" PRIu64 " answered %" PRIu64 " malformed %" PRIu64 " refused %" PRIu64
	       " idle %" PRIu64 " bad-frame %" PRIu64 "; rdv registered %" PRIu64
	       " unknown-id %" PRIu64 " auth-fail %" PRIu64 " no-peer %" PRIu64
	       " revoked %" PRIu64 " signal-limited %" PRIu64
	       "; udp rate-limited %" PRIu64 "; stunt sent %" PRIu64 " reports %" PRIu64
	       " third-party %" PRIu64 " rate-limited %" PRIu64 " share-limited %" PRIu64
	       "; tls fail %" PRIu64
	       "; sig no-integrity %" PRIu64 " bad-integrity %" PRIu64 " replayed %" PRIu64,
	       srv_stats_refused(s), s->udp_rx, ok_udp, s->udp_verdict[SRV_V_DROP_MALFORMED],
	       s->udp_verdict[SRV_V_ERR_400], s->udp_verdict[SRV_V_ERR_420], s->tcp_clients,
	       s->tcp_accepted, ok_tcp, s->tcp_verdict[SRV_V_DROP_MALFORMED], s->tcp_refused,
	       s->tcp_idle, s->tcp_bad_frame, s->rdv_registered, s->rdv[RDV_V_UNKNOWN_ID],
	       s->rdv[RDV_V_AUTH_FAIL], s->rdv[RDV_V_NO_PEER], s->rdv_revoked,
	       s->rdv[RDV_V_LIMITED], s->udp_rate_limited, s->stunt_sent, s->stunt_reports,
	       s->stunt[STUNT_V_THIRD_PARTY], s->stunt[STUNT_V_RATE], s->stunt[STUNT_V_SHARE],
	       s->tls_fail,
	       s->sec[SIG_SEC_MISSING], s->sec[SIG_SEC_BAD_MAC], s->sec[SIG_SEC_REPLAY]);
	if (s->redis_link != SRV_REDIS_OFF)
		APPEND(buf, cap, &off, "; redis %s remote %" PRIu64, redis_link_name(s),
		       s->cluster_remote);
	return (int)off;
}

static void json_verdicts(const uint64_t *v, char *buf, size_t cap, size_t *off)
{
	unsigned i;

	for (i = 0; i < SRV_V_MAX; i++)
		APPEND(buf, cap, off, ",\"%s\":%" PRIu64, srv_verdict_name(i), v[i]);
}

int srv_stats_json(const struct srv_stats *s, char *buf, size_t cap)
{
	size_t off = 0;

	APPEND(buf, cap, &off,
	       "{\"udp\":{\"rx\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"tx_err\":%" PRIu64
	       ",\"changed\":%" PRIu64 ",\"rate_limited\":%" PRIu64,
	       s->udp_rx, s->udp_tx, s->udp_tx_err, s->udp_changed, s->udp_rate_limited);
	json_verdicts(s->udp_verdict, buf, cap, &off);
	APPEND(buf, cap, &off,
	       "},\"tcp\":{\"clients\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64
	       ",\"closed\":%" PRIu64 ",\"idle\":%" PRIu64 ",\"bad_frame\":%" PRIu64
	       ",\"backpressure\":%" PRIu64 ",\"rx_msgs\":%" PRIu64,
	       s->tcp_clients, s->tcp_accepted, s->tcp_refused, s->tcp_closed, s->tcp_idle,
	       s->tcp_bad_frame, s->tcp_backpressure, s->tcp_rx_msgs);
	json_verdicts(s->tcp_verdict, buf, cap, &off);
	APPEND(buf, cap, &off,
	       "},\"rdv\":{\"registered\":%" PRIu64 ",\"fwd\":%" PRIu64 ",\"fwd_full\":%" PRIu64
	       ",\"synack_sent\":%" PRIu64 ",\"revoked\":%" PRIu64 ",\"session_share\":%" PRIu64,
	       s->rdv_registered, s->rdv_fwd, s->rdv_fwd_full, s->rdv_synack, s->rdv_revoked,
	       s->rdv_share_reused);
	for (unsigned i = 0; i < RDV_V_MAX; i++)
		APPEND(buf, cap, &off, ",\"%s\":%" PRIu64, rdv_verdict_name(i), s->rdv[i]);
	APPEND(buf, cap, &off, "},\"stunt\":{");
	for (unsigned i = 0; i < STUNT_V_MAX; i++)
		APPEND(buf, cap, &off, "%s\"%s\":%" PRIu64, i ? "," : "", stunt_verdict_name(i),
		       s->stunt[i]);
	APPEND(buf, cap, &off,
	       ",\"sent\":%" PRIu64 ",\"send_err\":%" PRIu64 ",\"reports\":%" PRIu64
	       ",\"timeouts\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"probe_drop\":%" PRIu64
	       ",\"probe_rst\":%" PRIu64 ",\"probe_icmp\":%" PRIu64 ",\"probe_synack\":%" PRIu64
	       "},\"tls\":{\"accepted\":%" PRIu64 ",\"fail\":%" PRIu64 "}",
	       s->stunt_sent, s->stunt_send_err, s->stunt_reports, s->stunt_timeouts, s->stunt_lost,
	       s->stunt_probe[0], s->stunt_probe[1], s->stunt_probe[2], s->stunt_probe[3],
	       s->tls_accepted, s->tls_fail);
	APPEND(buf, cap, &off,
	       ",\"sec\":{\"verified\":%" PRIu64 ",\"missing\":%" PRIu64 ",\"bad_mac\":%" PRIu64
	       ",\"replay\":%" PRIu64 ",\"seal_fail\":%" PRIu64 "}",
	       s->sec[SIG_SEC_OK], s->sec[SIG_SEC_MISSING], s->sec[SIG_SEC_BAD_MAC],
	       s->sec[SIG_SEC_REPLAY], s->sec_seal_fail);
	if (s->redis_link != SRV_REDIS_OFF)
		APPEND(buf, cap, &off,
		       ",\"cluster\":{\"redis\":\"%s\",\"remote\":%" PRIu64 ",\"fwd_out\":%" PRIu64
		       ",\"fwd_in\":%" PRIu64 ",\"fwd_lost\":%" PRIu64 ",\"unreached\":%" PRIu64
		       ",\"bad\":%" PRIu64 "}",
		       redis_link_name(s), s->cluster_remote, s->cluster_fwd_out, s->cluster_fwd_in,
		       s->cluster_fwd_lost, s->cluster_unreached, s->cluster_bad);
	APPEND(buf, cap, &off, ",\"refused\":%" PRIu64 "}", srv_stats_refused(s));
	return (int)off;
}
