// SPDX-License-Identifier: MIT
/*
 * The responder's proof on a connection that may have reached another host
 * (host: a private address, simopen6: an address only the peer names), and
 * the connecting socket's wait for it. See trav.h (daemon/trav/proof.c).
 */
#include "daemon/trav/trav.h"

#include "common/log.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

void trav_proof_arm(struct trav_proof *pr, const struct trav_attempt *a,
		    const struct trav_peer *p)
{
	pr->have_key = p->key != NULL && p->own_key != NULL;
	if (pr->have_key) {
		memcpy(pr->req_half, a->requester ? p->own_key : p->key, SIG_SESSION_KEY_LEN);
		memcpy(pr->resp_half, a->requester ? p->key : p->own_key, SIG_SESSION_KEY_LEN);
	}
}

/* "IP:PORT" / "[IP]:PORT" of fd's remote end */
static const char *peer_str(int fd, char buf[TRAV_EP_STRLEN])
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return "?";
	return d_ep_str((const struct sockaddr *)&ss, buf, TRAV_EP_STRLEN);
}

int trav_proof_send(const struct trav_attempt *a, const struct trav_proof *pr, int fd)
{
	uint8_t hello[TRAV_PROOF_HELLO_LEN];
	char ep[TRAV_EP_STRLEN], c;
	bool more;

	/* A requester that writes its header at once (early_hdr) has it here
	 * already, most of the time: then the proof waits in our send queue
	 * (MSG_MORE) for the 'K' that follows it in the same round trip, and
	 * both leave in one segment -- sent alone, the proof would make the
	 * kernel hold the 'K' until the proof left this host (autocorking)
	 * or, with Nagle, until its ACK. Whatever ends the connection instead
	 * (a wrong header, a failed hand-off's 'E') sends the proof too.
	 * Without that header yet (an older requester, or one that waits for
	 * the proof first), the proof goes at once, and TCP_NODELAY still lets
	 * the 'K' follow without the ACK; it stays on for the service (VNC
	 * servers set what they want themselves). */
	more = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	memcpy(hello, TRAV_PROOF_MAGIC, 4);
	if (sig_conn_proof(pr->req_half, pr->resp_half, SIG_PROOF_RESPONDER, a->sid, a->method,
			   hello + 4) == 0 &&
	    send(fd, hello, sizeof(hello), MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0)) ==
		    (ssize_t)sizeof(hello))
		return 0;
	log_warnx("session %u: %s: cannot send our proof to %s", a->sid,
		  sig_method_name(a->method), peer_str(fd, ep));
	return -1;
}

/* Requester: the responder's proof, before the connection is ours. */
static void on_hello(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	struct trav_proof *pr = a->priv;
	char ep[TRAV_EP_STRLEN], why[160];
	ssize_t n;
	int fd;

	(void)events;
	if (a->state != TA_RUNNING)
		return;
	n = recv(ev->fd, pr->hello + pr->got, sizeof(pr->hello) - pr->got, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		pr->got += (size_t)n;
	if (n > 0 && pr->got < sizeof(pr->hello))
		return;
	d_loop_del(ev);
	if (n > 0 && !memcmp(pr->hello, TRAV_PROOF_MAGIC, 4) &&
	    sig_conn_proof_ok(pr->req_half, pr->resp_half, SIG_PROOF_RESPONDER, a->sid, a->method,
			      pr->hello + 4)) {
		fd = ev->fd;
		ev->fd = -1;
		trav_connected(a, fd);
		return;
	}
	/* another host than the peer: it got our header (early_hdr) or
	 * nothing; FIN, not RST (guarded) */
	close(ev->fd);
	ev->fd = -1;
	g_d->conns_unproven++;
	snprintf(why, sizeof(why), "%s is not %s (%s): dropped", trav_remote_str(a, ep), a->peer,
		 n > 0 ? "wrong proof" : "closed without a proof");
	log_warnx("session %u: %s: %s", a->sid, sig_method_name(a->method), why);
	trav_fail(a, why);
}

void trav_proof_on_connect(struct d_ev *ev, uint32_t events)
{
	struct trav_attempt *a = ev->arg;
	int err = 0, fd, st;
	socklen_t el = sizeof(int);
	char why[96];

	(void)events;
	if (a->state != TA_RUNNING)
		return;
	if (getsockopt(ev->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		trav_fail(a, why);
		return;
	}
	st = trav_sock_state(ev->fd);
	if (st >= 0 && st != TCP_ESTABLISHED)
		return;
	d_loop_del(ev);
	if (!a->requester) {
		/* the responder proves first; the requester's header proves it */
		fd = ev->fd;
		ev->fd = -1;
		if (trav_proof_send(a, a->priv, fd) < 0) {
			close(fd);
			trav_fail(a, "cannot send our proof");
			return;
		}
		trav_connected(a, fd);
		return;
	}
	/* host: the header now, the peer's proof before anything else */
	if (((struct trav_proof *)a->priv)->early_hdr && a->events->early_hdr(a, ev->fd) < 0) {
		trav_fail(a, "cannot write the session header");
		return;
	}
	ev->cb = on_hello;
	if (d_loop_add(ev, EPOLLIN | EPOLLRDHUP) < 0)
		trav_fail(a, "cannot watch the connection");
}
