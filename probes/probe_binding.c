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

int probe_tcp_binding(const struct sockaddr_in *srv, unsigned timeout_ms, uint16_t *port,
		      char *why, size_t whylen)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	uint8_t buf[512], txid[STUN_TXID_LEN];
	struct stun_builder b;
	struct stun_msg m;
	const struct stun_attr *at;
	struct stun_addr mapped;
	size_t got = 0;
	ssize_t n;
	int fd, len, flen = 0, err = 0;

	probe_txid(txid);
	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	len = stun_build_finish(&b);
	if (len < 0)
		return len;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (const struct sockaddr *)srv, sizeof(*srv)) < 0 ||
	    send(fd, buf, (size_t)len, MSG_NOSIGNAL) != len) {
		err = -errno;
		snprintf(why, whylen, "binding: %s", strerror(errno));
		goto out;
	}
	while (flen == 0 || got < (size_t)flen) {
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n <= 0) {
			err = n < 0 ? -errno : -ECONNRESET;
			snprintf(why, whylen, "binding: %s", n < 0 ? strerror(errno) : "closed");
			goto out;
		}
		got += (size_t)n;
		flen = stun_frame_len(buf, got);
		if (flen < 0 || (size_t)flen > sizeof(buf)) {
			err = -EBADMSG;
			snprintf(why, whylen, "binding: not a STUN answer");
			goto out;
		}
	}
	if (stun_parse(buf, (size_t)flen, &m) < 0 || m.cls != STUN_SUCCESS ||
	    memcmp(m.txid, txid, sizeof(txid)) ||
	    (at = stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS)) == NULL ||
	    stun_attr_get_xor_addr(at, &m, &mapped) < 0 || mapped.family != STUN_FAMILY_IPV4) {
		err = -EBADMSG;
		snprintf(why, whylen, "binding: no mapped address in the answer");
		goto out;
	}
	*port = mapped.port;
out:
	close(fd);	/* all read: FIN, not RST */
	return err;
}
