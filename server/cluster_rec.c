// SPDX-License-Identifier: MIT
/* The cluster's records and messages: see server/cluster_rec.h. */
#include "server/cluster_rec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool srv_cluster_name_valid(const char *s, size_t len)
{
	size_t i;

	if (!s || len < 1 || len > SRV_CLUSTER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

static int endpoint_format(const struct stun_addr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (a->family == STUN_FAMILY_IPV4 && inet_ntop(AF_INET, a->ip, ip, sizeof(ip)))
		n = snprintf(buf, cap, "%s:%u", ip, a->port);
	else if (a->family == STUN_FAMILY_IPV6 && inet_ntop(AF_INET6, a->ip, ip, sizeof(ip)))
		n = snprintf(buf, cap, "[%s]:%u", ip, a->port);
	else
		return -EINVAL;
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int srv_cluster_rec_format(const struct srv_cluster_rec *r, char *buf, size_t cap)
{
	char ep[INET6_ADDRSTRLEN + 8];
	int n;

	if (!srv_cluster_name_valid(r->server, strlen(r->server)) ||
	    endpoint_format(&r->endpoint, ep, sizeof(ep)) < 0)
		return -EINVAL;
	n = snprintf(buf, cap, "%s %s %" PRIu64, r->server, ep, r->expires_ms);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int srv_cluster_note_format(const struct srv_cluster_note *nt, char *buf, size_t cap)
{
	int n, m;

	if (!sig_id_valid(nt->id, strlen(nt->id)) || cap < 2)
		return -EINVAL;
	n = snprintf(buf, cap, "%c%s ", nt->add ? '+' : '-', nt->id);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	if (nt->add) {
		if ((m = srv_cluster_rec_format(&nt->rec, buf + n, cap - (size_t)n)) < 0)
			return m;
	} else {
		if (!srv_cluster_name_valid(nt->rec.server, strlen(nt->rec.server)))
			return -EINVAL;
		m = snprintf(buf + n, cap - (size_t)n, "%s", nt->rec.server);
		if (m < 0 || (size_t)m >= cap - (size_t)n)
			return -ENOSPC;
	}
	return n + m;
}

int srv_cluster_key_format(const char *id, char *buf, size_t cap)
{
	int n;

	if (!sig_id_valid(id, strlen(id)))
		return -EINVAL;
	n = snprintf(buf, cap, SRV_CLUSTER_KEY_PREFIX "%s", id);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* The next space-separated word of buf[*off..len) (at least one byte). */
static int word(const char *buf, size_t len, size_t *off, const char **w, size_t *wlen)
{
	size_t s = *off;

	while (*off < len && buf[*off] != ' ')
		(*off)++;
	if (*off == s)
		return -EBADMSG;
	*w = buf + s;
	*wlen = *off - s;
	if (*off < len)
		(*off)++;	/* the space */
	return 0;
}

static int endpoint_parse(const char *s, size_t len, struct stun_addr *a)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *colon = NULL;
	size_t iplen, i;
	unsigned long port = 0;
	bool v6 = len > 0 && s[0] == '[';

	memset(a, 0, sizeof(*a));
	for (i = len; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (!colon || colon == s)
		return -EBADMSG;
	if (v6) {
		if (colon[-1] != ']' || colon - s < 3)
			return -EBADMSG;
		iplen = (size_t)(colon - s) - 2;
	} else {
		iplen = (size_t)(colon - s);
	}
	if (iplen >= sizeof(ip) || len - iplen > 8 + (v6 ? 2 : 0))
		return -EBADMSG;
	memcpy(ip, s + (v6 ? 1 : 0), iplen);
	ip[iplen] = '\0';
	for (i = (size_t)(colon - s) + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == (size_t)(colon - s) + 1 || port < 1 || port > 65535)
		return -EBADMSG;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, a->ip) != 1)
		return -EBADMSG;
	a->family = v6 ? STUN_FAMILY_IPV6 : STUN_FAMILY_IPV4;
	a->port = (uint16_t)port;
	return 0;
}

/* w (wlen bytes) into out (NUL-terminated) if valid() takes it: out has
 * room for what valid() allows. */
static int word_copy(const char *w, size_t wlen, bool (*valid)(const char *, size_t), char *out)
{
	if (!valid(w, wlen))
		return -EBADMSG;
	memcpy(out, w, wlen);
	out[wlen] = '\0';
	return 0;
}

int srv_cluster_rec_parse(const char *buf, size_t len, struct srv_cluster_rec *r)
{
	const char *w;
	size_t off = 0, wlen, i;
	uint64_t v = 0;

	memset(r, 0, sizeof(*r));
	if (!buf || word(buf, len, &off, &w, &wlen) < 0 ||
	    word_copy(w, wlen, srv_cluster_name_valid, r->server) < 0)
		return -EBADMSG;
	if (word(buf, len, &off, &w, &wlen) < 0 || endpoint_parse(w, wlen, &r->endpoint) < 0)
		return -EBADMSG;
	/* the last word: nothing may follow it, not even a space */
	if (word(buf, len, &off, &w, &wlen) < 0 || wlen > 19 || (size_t)(w - buf) + wlen != len)
		return -EBADMSG;
	for (i = 0; i < wlen; i++) {
		if (w[i] < '0' || w[i] > '9')
			return -EBADMSG;
		v = v * 10 + (uint64_t)(w[i] - '0');
	}
	r->expires_ms = v;
	return 0;
}

int srv_cluster_note_parse(const char *buf, size_t len, struct srv_cluster_note *n)
{
	const char *w;
	size_t off = 1, wlen;

	memset(n, 0, sizeof(*n));
	if (!buf || len < 2 || (buf[0] != '+' && buf[0] != '-'))
		return -EBADMSG;
	n->add = buf[0] == '+';
	if (word(buf, len, &off, &w, &wlen) < 0 || word_copy(w, wlen, sig_id_valid, n->id) < 0 ||
	    off >= len || buf[off - 1] != ' ')
		return -EBADMSG;
	if (n->add)
		return srv_cluster_rec_parse(buf + off, len - off, &n->rec);
	return word_copy(buf + off, len - off, srv_cluster_name_valid, n->rec.server);
}

int srv_cluster_key_parse(const char *buf, size_t len, char id[SIG_ID_MAX + 1])
{
	size_t pl = strlen(SRV_CLUSTER_KEY_PREFIX);

	if (!buf || len <= pl || memcmp(buf, SRV_CLUSTER_KEY_PREFIX, pl))
		return -EBADMSG;
	return word_copy(buf + pl, len - pl, sig_id_valid, id);
}

int srv_cluster_fwd_format(const char *id, const uint8_t *msg, size_t len, uint8_t *buf,
			   size_t cap)
{
	size_t il = id ? strlen(id) : 0;

	if (!sig_id_valid(id, il) || !msg || !len)
		return -EINVAL;
	if (il + 1 + len > cap || il + 1 + len > INT32_MAX)
		return -ENOSPC;
	memcpy(buf, id, il);
	buf[il] = '\n';
	memcpy(buf + il + 1, msg, len);
	return (int)(il + 1 + len);
}

int srv_cluster_fwd_parse(const uint8_t *buf, size_t len, size_t max_msg,
			  char id[SIG_ID_MAX + 1], const uint8_t **msg, size_t *msg_len)
{
	const uint8_t *nl;

	if (!buf || !len)
		return -EBADMSG;
	nl = memchr(buf, '\n', len < SIG_ID_MAX + 1 ? len : SIG_ID_MAX + 1);
	if (!nl || word_copy((const char *)buf, (size_t)(nl - buf), sig_id_valid, id) < 0)
		return -EBADMSG;
	*msg = nl + 1;
	*msg_len = len - (size_t)(nl - buf) - 1;
	if (*msg_len < 1 || *msg_len > max_msg)
		return -EBADMSG;
	return 0;
}
