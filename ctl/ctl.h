/* SPDX-License-Identifier: MIT */
/*
 * stuntctl's side of the control socket (docs/control.md): argument parsers,
 * a bounded reader for the daemon's one-line JSON answers, the request/answer
 * exchange with SCM_RIGHTS, and the copy loops that carry a traversed socket.
 * Everything here is usable from tests: no globals, no exit().
 */
#ifndef STUNT_CTL_CTL_H
#define STUNT_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "proto/sig.h"

#define CTL_DEFAULT_PATH	"/run/stunt/stuntd.sock"
#define CTL_LINE_MAX		4096	/* one request or answer line, '\n' excluded */
#define CTL_MAX_FDS_ACCEPTED	8	/* room to receive (and close) stray fds */

/* ---- ctl/parse.c: command-line arguments --------------------------------- */

struct ctl_target {
	char peer[SIG_ID_MAX + 1];
	char service[SIG_ID_MAX + 1];
};

/* "PEER/NAME": both parts valid ids (sig_id_valid), exactly one '/'.
 * 0 or -EINVAL. */
int ctl_parse_target(const char *arg, struct ctl_target *out);

/* "[ADDR:]PORT": PORT 1-65535; ADDR an IPv4 address, "[IPv6]", "*" (any
 * IPv4) or "localhost"; without ADDR, 127.0.0.1. 0 or -EINVAL. */
int ctl_parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *sslen);

/* "1.2.3.4:5" or "[::1]:5" for an AF_INET / AF_INET6 address. */
void ctl_addr_str(const struct sockaddr_storage *ss, char *buf, size_t size);

/* Method names of the command-line contract (stuntctl(1)); true if name is one of them. */
bool ctl_method_valid(const char *name);

/* ---- ctl/json.c: a bounded reader for the daemon's answers --------------- */

enum cj_type { CJ_NONE, CJ_NULL, CJ_BOOL, CJ_NUM, CJ_STR, CJ_ARR, CJ_OBJ };

/* A value is a span of the original text (not copied, not terminated). */
struct cj_val {
	enum cj_type	 type;
	const char	*p;
	size_t		 n;
};

#define CJ_MAX_DEPTH	16

/* Validate s[0..n) as exactly one JSON value (white space around allowed,
 * nesting at most CJ_MAX_DEPTH). 0 or -EINVAL. */
int cj_parse(const char *s, size_t n, struct cj_val *root);
/* Member KEY of object obj (the first one if repeated). 0, -ENOENT, -EINVAL. */
int cj_get(const struct cj_val *obj, const char *key, struct cj_val *out);
/* Dotted path of object members, e.g. "nat.tcp.mapping". */
int cj_path(const struct cj_val *root, const char *path, struct cj_val *out);
/* Element i of array arr. 0, -ENOENT, -EINVAL. */
int cj_index(const struct cj_val *arr, size_t i, struct cj_val *out);
/* Iterate an object's members: *iter starts at 0. 1 with key/val, 0 at end. */
int cj_member(const struct cj_val *obj, size_t *iter, struct cj_val *key, struct cj_val *val);
/* String value, unescaped (\uXXXX as UTF-8, NUL refused) into buf.
 * Returns the length, -EINVAL for a non-string, -ENOSPC if it does not fit. */
int cj_str(const struct cj_val *v, char *buf, size_t size);
/* Integer value (no fraction or exponent). 0 or -EINVAL / -ERANGE. */
int cj_int(const struct cj_val *v, long long *out);
/* Boolean value. 0 or -EINVAL. */
int cj_bool(const struct cj_val *v, bool *out);

/* Write s as a JSON string literal (with quotes) into buf. Length or -ENOSPC. */
int cj_quote(const char *s, char *buf, size_t size);

/* The connect answer of docs/control.md, extracted from one line. */
struct ctl_connect_answer {
	bool		ok;
	bool		relayed;
	long long	elapsed_ms;	/* -1 when absent */
	char		method[32];	/* "" when null */
	char		error[256];	/* "" when null */
};
/* 0, or -EINVAL when line is not an object with a boolean "ok". */
int ctl_parse_connect_answer(const char *line, size_t len, struct ctl_connect_answer *a);

/* The request lines. Length written (without NUL) or -ENOSPC / -EINVAL. */
int ctl_build_simple(const char *cmd, char *buf, size_t size);
int ctl_build_connect(const struct ctl_target *t, const char *method, char *buf, size_t size);

/* ---- ctl/io.c: the control socket ---------------------------------------- */

/* Connect to the daemon's socket at path (blocking connect, then the fd is
 * left blocking unless nonblock). fd, or -ENOENT / -ECONNREFUSED (daemon not
 * running), -EACCES, other -errno. */
int ctl_open(const char *path, bool nonblock);
/* Write all of line plus '\n' (blocking; poll()s on EAGAIN). 0 or -errno. */
int ctl_send_line(int fd, const char *line, size_t len, int timeout_ms);

/* Incremental receive of one answer line and at most one descriptor. */
struct ctl_rx {
	char	line[CTL_LINE_MAX + 1];	/* NUL-terminated once done, '\n' removed */
	size_t	len;
	int	fd;			/* the received socket, -1 if none */
	int	stray_fds;		/* extra descriptors received and closed */
	bool	done;
};
void ctl_rx_init(struct ctl_rx *rx);
/* One recvmsg() on sock. 1 when the line is complete, 0 when more is needed
 * (EAGAIN on a non-blocking socket), -EPROTO if the daemon closed early,
 * -EMSGSIZE for an over-long line or truncated control data (MSG_CTRUNC: a
 * descriptor was lost), other -errno. Descriptors beyond the first and any
 * non-SCM_RIGHTS data are closed / ignored. */
int ctl_rx_step(int sock, struct ctl_rx *rx);
/* Loop ctl_rx_step() with poll() until done or timeout (-ETIMEDOUT). */
int ctl_rx_wait(int sock, struct ctl_rx *rx, int timeout_ms);
/* Close rx->fd if set. */
void ctl_rx_release(struct ctl_rx *rx);

/* One request, one answer (no descriptor kept): for status and peers. */
int ctl_query(const char *path, const char *request, struct ctl_rx *rx, int timeout_ms);

/* A one-line description of an ctl_open()/ctl_query() error for users. */
const char *ctl_strerror(int err, const char *path, char *buf, size_t size);

/* ---- ctl/relay.c: moving bytes ------------------------------------------- */
/* splice(2) into a socket has no MSG_NOSIGNAL: callers ignore SIGPIPE. */

/* Copy in_fd -> sock and sock -> out_fd until sock's data has all reached
 * out_fd (read/write, poll loop). On EOF of in_fd, shutdown(sock, SHUT_WR).
 * 0 or -errno. */
int ctl_copy_stdio(int in_fd, int out_fd, int sock);

/* One spliced connection between two sockets, a pipe per direction. */
struct ctl_dir {
	int	from, to;
	int	pipe_r, pipe_w;
	size_t	queued;		/* bytes in the pipe */
	size_t	cap;		/* the pipe's size */
	bool	pipe_full;	/* the last splice into the pipe found no room */
	bool	eof;		/* from reached EOF */
	bool	closed;		/* eof seen, pipe drained, to shut down for writing */
	uint64_t bytes;
};
struct ctl_splice {
	struct ctl_dir	d[2];
	int		a, b;
	bool		failed;
};
/* Set up both directions between sockets a and b (made non-blocking). 0 or -errno. */
int ctl_splice_init(struct ctl_splice *s, int a, int b);
/* Poll events wanted on a and on b (0 when none). */
void ctl_splice_events(const struct ctl_splice *s, short *ev_a, short *ev_b);
/* Move what can be moved without blocking. 1 when both directions are
 * finished, 0 to continue, -errno on a failure (s is then finished too). */
int ctl_splice_run(struct ctl_splice *s);
/* Close the pipes and both sockets. */
void ctl_splice_close(struct ctl_splice *s);

/* ---- ctl/status.c: status and peers in words ------------------------------ */

/* Pure: "7 s", "3 min 12 s", "2 h 5 min", "4 d 3 h"; "?" for ms < 0. */
const char *ctl_duration(char *buf, size_t size, long long ms);
/* A byte count in words: "812 B", "1.5 KiB", "5.0 MiB", "2.3 GiB". */
const char *ctl_bytes(char *buf, size_t size, unsigned long long n);
/* stuntd's status / peers answer (parsed) in words, to out. */
void ctl_show_status(FILE *out, const struct cj_val *root);
void ctl_show_peers(FILE *out, const struct cj_val *root);

/* ---- ctl/genkey.c: a shared secret for a peer ----------------------------- */

#define CTL_KEY_BYTES	32	/* 256 bits */
#define CTL_KEY_HEX	(2 * CTL_KEY_BYTES)

/* The key as 64 lower-case hex digits (a SECRET both files take: no blank,
 * no '#'); hex must hold CTL_KEY_HEX + 1 bytes. */
void ctl_key_hex(const uint8_t key[CTL_KEY_BYTES], char *hex);

/*
 * Pure: what `stuntctl genkey ID` prints: comments, then the line of the
 * server's --secrets file ("ID HEX") and the content of the host's
 * --secret-file (HEX alone), each under a comment that says where it goes.
 * raw: HEX alone. Returns the length written, or -ENOSPC / -EINVAL (a bad id).
 */
int ctl_genkey_format(const uint8_t key[CTL_KEY_BYTES], const char *id, bool raw, char *out,
		      size_t size);

#endif
