// SPDX-License-Identifier: MIT
/* One blocking STUN Binding over a fresh TCP connection (probe.h). */
#include "probes/probe_int.h"
#include "proto/stun_attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* the request, txid filled: its length or -errno */
int probe_binding_request(uint8_t *buf, size_t len, uint8_t txid[STUN_TXID_LEN])
{
	struct stun_builder b;

	probe_txid(txid);
	stun_build_init(&b, buf, len, stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	return stun_build_finish(&b);
}

int probe_binding_answer(const uint8_t *buf, size_t got, const uint8_t txid[STUN_TXID_LEN],
			 uint16_t *port)
{
	struct stun_addr mapped;
	int r = probe_binding_answer_addr(buf, got, txid, &mapped);

	if (r == 1 && mapped.family != STUN_FAMILY_IPV4)
		return -ENOMSG;
	if (r == 1)
		*port = mapped.port;
	return r;
}

int probe_binding_answer_addr(const uint8_t *buf, size_t got, const uint8_t txid[STUN_TXID_LEN],
			      struct stun_addr *mapped)
{
	const struct stun_attr *at;
	struct stun_msg m;
	int flen = stun_frame_len(buf, got);

	if (flen == 0)
		return 0;
	if (flen < 0 || (size_t)flen > PROBE_BINDING_BUF)
		return -EBADMSG;
	if (got < (size_t)flen)
		return 0;
	if (stun_parse(buf, (size_t)flen, &m) < 0 || m.cls != STUN_SUCCESS ||
	    memcmp(m.txid, txid, STUN_TXID_LEN) ||
	    (at = stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS)) == NULL ||
	    stun_attr_get_xor_addr(at, &m, mapped) < 0)
		return -ENOMSG;
	return 1;
}

int probe_bind_beside(int fd, uint16_t lport)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(lport) };
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

int probe_tcp_binding(const struct sockaddr_in *srv, unsigned timeout_ms, uint16_t *port,
		      char *why, size_t whylen)
{
	struct stun_addr mapped;
	int r = probe_tcp_binding_sa((const struct sockaddr *)srv, sizeof(*srv), timeout_ms,
				     &mapped, NULL, why, whylen);

	if (r == 0 && mapped.family != STUN_FAMILY_IPV4) {
		snprintf(why, whylen, "binding: %s", probe_binding_error(-ENOMSG));
		return -ENOMSG;
	}
	if (r == 0)
		*port = mapped.port;
	return r;
}

int probe_tcp_binding_sa(const struct sockaddr *srv, socklen_t srvlen, unsigned timeout_ms,
			 struct stun_addr *mapped, struct sockaddr_storage *local,
			 char *why, size_t whylen)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	uint8_t buf[PROBE_BINDING_BUF], txid[STUN_TXID_LEN];
	size_t got = 0;
	ssize_t n;
	int fd, len, r, err = 0;

	len = probe_binding_request(buf, sizeof(buf), txid);
	if (len < 0)
		return len;
	fd = socket(srv->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, srv, srvlen) < 0 ||
	    send(fd, buf, (size_t)len, MSG_NOSIGNAL) != len) {
		err = -errno;
		snprintf(why, whylen, "binding: %s", strerror(errno));
		goto out;
	}
	if (local) {
		socklen_t sl = sizeof(*local);

		if (getsockname(fd, (struct sockaddr *)local, &sl) < 0)
			local->ss_family = AF_UNSPEC;
	}
	while ((r = probe_binding_answer_addr(buf, got, txid, mapped)) == 0) {
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n <= 0) {
			err = n < 0 ? -errno : -ECONNRESET;
			snprintf(why, whylen, "binding: %s", n < 0 ? strerror(errno) : "closed");
			goto out;
		}
		got += (size_t)n;
	}
	if (r < 0) {
		err = r;
		snprintf(why, whylen, "binding: %s", probe_binding_error(r));
	}
out:
	close(fd);	/* all read: FIN, not RST */
	return err;
}

const char *probe_binding_error(int r)
{
	return r == -EBADMSG ? "not a STUN answer" : "no mapped address in the answer";
}
