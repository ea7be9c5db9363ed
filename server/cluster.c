// SPDX-License-Identifier: MIT
/* Several servers as one rendezvous through Redis: see server/cluster.h. */
#include "server/cluster.h"
#include "server/client.h"
#include "server/cluster_peers.h"
#include "server/cluster_rec.h"
#include "common/clock.h"
#include "common/log.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#define BACKOFF_MIN_MS	500
#define BACKOFF_MAX_MS	5000
#define CONNECT_MS	3000	/* a connection not up by then is tried again */
#define PING_MS		1000
#define DEAD_MS		3000	/* no answer for this long: the link is gone */
#define SCAN_COUNT	"1000"

/* Delete the key only while it still names this server: a peer that moved
 * to another server keeps that server's registration. */
#define DEL_IF_OURS \
	"local v = redis.call('GET', KEYS[1]) " \
	"if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then " \
	"return redis.call('DEL', KEYS[1]) end return 0"

struct clu_link {
	struct srv_fd		 h;	/* first: what epoll hands back */
	struct srv_cluster	*cl;
	redisAsyncContext	*ac;	/* NULL: not connected */
	uint32_t		 events;
	bool			 ready;	/* PING answered / both channels subscribed */
	unsigned		 subscribed;
};

struct srv_cluster {
	struct srv_state	*st;
	const struct srv_config	*cfg;
	char			 to_channel[sizeof(SRV_CLUSTER_TO_PREFIX) + SRV_CLUSTER_NAME_MAX];
	struct clu_link		 cmd, sub;
	bool			 up, was_up, tearing;
	uint64_t		 retry_ms, backoff_ms, connect_ms;
	uint64_t		 next_refresh_ms, next_ping_ms, last_answer_ms;
	bool			 ping_out;
	struct srv_cluster_peers peers;	/* the other servers' */
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t ttl_ms(const struct srv_cluster *cl)
{
	return (uint64_t)cl->cfg->redis_ttl_s * 1000;
}

/* ---- the cache of other servers' peers ---- */

static void peers_counted(struct srv_cluster *cl)
{
	cl->st->stats.cluster_remote = cl->peers.n;
}

/* id registered on rec->server until rec->expires_ms (wall clock): into
 * the cache, for at most one TTL from now whatever the record says. */
static void peer_note(struct srv_cluster *cl, const char *id, const struct srv_cluster_rec *rec)
{
	uint64_t now = clock_ms(), wall = wall_ms(), left;
	struct srv_cluster_peer *p;

	if (!strcmp(rec->server, cl->cfg->server_name))
		return;	/* ours: the local registry knows better */
	if (rec->expires_ms <= wall) {
		if ((p = srv_cluster_peers_find(&cl->peers, id)) && !strcmp(p->server, rec->server))
			srv_cluster_peers_remove(&cl->peers, p);
		peers_counted(cl);
		return;
	}
	left = rec->expires_ms - wall;
	if (left > ttl_ms(cl))
		left = ttl_ms(cl);
	log_debug("redis: %s is on server %s for %llu ms more", id, rec->server,
		  (unsigned long long)left);
	if (srv_cluster_peers_put(&cl->peers, id, rec->server, &rec->endpoint, now + left) < 0)
		log_warnx("redis: out of memory for the peers of other servers");
	peers_counted(cl);
}

static bool remote_find(const void *ctx, const char *id, uint64_t now_ms, struct rdv_remote *out)
{
	const struct srv_cluster *cl = ctx;
	const struct srv_cluster_peer *p = srv_cluster_peers_find(&cl->peers, id);

	if (!p || p->expires_ms <= now_ms)
		return false;
	strcpy(out->server, p->server);
	out->endpoint = p->endpoint;
	return true;
}

/* ---- hiredis on our epoll set ---- */

static void link_events(struct clu_link *l, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	int op = !l->events ? EPOLL_CTL_ADD : events ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;

	if (events == l->events)
		return;
	ev.data.ptr = &l->h;
	if (epoll_ctl(l->cl->st->epfd, op, l->h.fd, &ev) < 0)
		log_warnx("redis: epoll_ctl: %s", strerror(errno));
	l->events = events;
}

static void ev_add_read(void *p)
{
	struct clu_link *l = p;

	link_events(l, l->events | EPOLLIN);
}

static void ev_del_read(void *p)
{
	struct clu_link *l = p;

	link_events(l, l->events & ~(uint32_t)EPOLLIN);
}

static void ev_add_write(void *p)
{
	struct clu_link *l = p;

	link_events(l, l->events | EPOLLOUT);
}

static void ev_del_write(void *p)
{
	struct clu_link *l = p;

	link_events(l, l->events & ~(uint32_t)EPOLLOUT);
}

/* hiredis frees the context: its descriptor leaves the epoll set */
static void ev_cleanup(void *p)
{
	struct clu_link *l = p;

	link_events(l, 0);
	l->ac = NULL;
	l->ready = false;
}

static void set_down(struct srv_cluster *cl, const char *why)
{
	uint64_t now = clock_ms();

	if (cl->up || !cl->was_up)
		log_warnx("redis %s:%u: %s; serving this server's own peers only, trying again",
			  cl->cfg->redis_host, cl->cfg->redis_port, why);
	cl->up = false;
	cl->was_up = true;	/* said once: not again at every try */
	cl->st->stats.redis_link = SRV_REDIS_DOWN;
	cl->retry_ms = now + cl->backoff_ms;
	cl->backoff_ms = cl->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : cl->backoff_ms * 2;
}

/*
 * The link is given up: its sockets are reset, not closed in order. What
 * they still hold unsent is stale by now (a refresh the partition held
 * back), and a close in order would have the kernel deliver it once the
 * path is back -- measured in t_server_redis: a SET and PUBLISH of a peer
 * written before the cut reached Redis with the FIN 2 s after the link was
 * given up, and the other servers took the peer as registered here again
 * for the rest of its TTL while this server was not listening. Worse, a
 * late SET would overwrite the newer record of a peer that has moved.
 */
static void reset_fd(const redisAsyncContext *ac)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (ac->c.fd >= 0)
		(void)setsockopt(ac->c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* Close both links (one gone is both gone): self is a context hiredis is
 * freeing already, not to be freed again. */
static void teardown(struct srv_cluster *cl, redisAsyncContext *self, const char *why)
{
	struct clu_link *links[2] = { &cl->cmd, &cl->sub };
	unsigned i;

	if (cl->tearing)
		return;
	cl->tearing = true;
	for (i = 0; i < 2; i++) {
		redisAsyncContext *ac = links[i]->ac;

		links[i]->ready = false;
		if (!ac)
			continue;
		reset_fd(ac);
		if (ac == self) {
			links[i]->ac = NULL;
			continue;
		}
		/* freed now, or once the callback it is in returns */
		redisAsyncFree(ac);
		links[i]->ac = NULL;
	}
	cl->tearing = false;
	set_down(cl, why);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct clu_link *l = ac->data;

	if (status != REDIS_OK)
		teardown(l->cl, (redisAsyncContext *)ac, ac->errstr[0] ? ac->errstr : "cannot connect");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct clu_link *l = ac->data;

	(void)status;
	teardown(l->cl, (redisAsyncContext *)ac, ac->errstr[0] ? ac->errstr : "connection lost");
}

/* A reply that says Redis refuses us (AUTH, NOAUTH, ...): both links go. */
static bool reply_failed(redisAsyncContext *ac, redisReply *r, const char *what)
{
	struct clu_link *l = ac->data;
	char why[160];

	if (!r)
		return true;	/* the context is being freed */
	l->cl->last_answer_ms = clock_ms();
	if (r->type != REDIS_REPLY_ERROR)
		return false;
	snprintf(why, sizeof(why), "%s: %s", what, r->str ? r->str : "error");
	teardown(l->cl, NULL, why);
	return true;
}

/* ---- what this server writes ---- */

static void publish_reg(struct srv_cluster *cl, const struct rdv_conn *c, uint64_t wall)
{
	struct srv_cluster_note n = { .add = true };
	char key[sizeof(SRV_CLUSTER_KEY_PREFIX) + SIG_ID_MAX], note[SRV_CLUSTER_REC_MAX];
	int len;

	strcpy(n.id, c->id);
	strcpy(n.rec.server, cl->cfg->server_name);
	n.rec.endpoint = c->peer;
	n.rec.expires_ms = wall + ttl_ms(cl);
	if (srv_cluster_key_format(c->id, key, sizeof(key)) < 0 ||
	    (len = srv_cluster_note_format(&n, note, sizeof(note))) < 0)
		return;
	/* the key's value is the notice without its "+ID " */
	redisAsyncCommand(cl->cmd.ac, NULL, NULL, "SET %s %s PX %llu", key,
			  note + 2 + strlen(c->id), (unsigned long long)ttl_ms(cl));
	redisAsyncCommand(cl->cmd.ac, NULL, NULL, "PUBLISH %s %b", SRV_CLUSTER_REG_CHANNEL, note,
			  (size_t)len);
}

/* Every registration of this server into Redis again. */
static void publish_all(struct srv_cluster *cl)
{
	const struct srv_rdv *r = &cl->st->rdv;
	uint64_t wall = wall_ms();
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->reg[i]->authed)
			publish_reg(cl, r->reg[i], wall);
}

void srv_cluster_registered(struct srv_state *st, const struct rdv_conn *c)
{
	struct srv_cluster *cl = st->cluster;
	struct srv_cluster_peer *p;

	if (!cl)
		return;
	/* here now: what another server said of it is past */
	if ((p = srv_cluster_peers_find(&cl->peers, c->id))) {
		srv_cluster_peers_remove(&cl->peers, p);
		peers_counted(cl);
	}
	if (cl->up)
		publish_reg(cl, c, wall_ms());
}

void srv_cluster_unregistered(struct srv_state *st, const char *id)
{
	struct srv_cluster *cl = st->cluster;
	struct srv_cluster_note n = { .add = false };
	char key[sizeof(SRV_CLUSTER_KEY_PREFIX) + SIG_ID_MAX], note[SRV_CLUSTER_REC_MAX];
	int len;

	if (!cl || !cl->up)
		return;	/* down: the key lapses by itself */
	strcpy(n.id, id);
	strcpy(n.rec.server, cl->cfg->server_name);
	if (srv_cluster_key_format(id, key, sizeof(key)) < 0 ||
	    (len = srv_cluster_note_format(&n, note, sizeof(note))) < 0)
		return;
	redisAsyncCommand(cl->cmd.ac, NULL, NULL, "EVAL %s 1 %s %s", DEL_IF_OURS, key,
			  cl->cfg->server_name);
	redisAsyncCommand(cl->cmd.ac, NULL, NULL, "PUBLISH %s %b", SRV_CLUSTER_REG_CHANNEL, note,
			  (size_t)len);
}

static void on_published(redisAsyncContext *ac, void *reply, void *priv)
{
	struct clu_link *l = ac->data;
	redisReply *r = reply;

	(void)priv;
	if (reply_failed(ac, r, "PUBLISH"))
		return;
	/* nobody listens on that server's channel: it is gone */
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 0)
		l->cl->st->stats.cluster_unreached++;
}

int srv_cluster_forward(struct srv_state *st, const struct rdv_out *o, const uint8_t *fwd)
{
	struct srv_cluster *cl = st->cluster;
	static uint8_t buf[SIG_ID_MAX + 1 + RDV_BUF];
	char chan[sizeof(SRV_CLUSTER_TO_PREFIX) + RDV_SERVER_MAX];
	int len;

	if (!cl || !cl->up) {
		st->stats.cluster_unreached++;
		return -ENOTCONN;
	}
	if ((len = srv_cluster_fwd_format(o->fwd_id, fwd, o->fwd_len, buf, sizeof(buf))) < 0)
		return len;
	snprintf(chan, sizeof(chan), SRV_CLUSTER_TO_PREFIX "%s", o->remote.server);
	redisAsyncCommand(cl->cmd.ac, on_published, NULL, "PUBLISH %s %b", chan, buf, (size_t)len);
	st->stats.cluster_fwd_out++;
	return 0;
}

/* ---- what the other servers write ---- */

static void on_mget(redisAsyncContext *ac, void *reply, void *priv)
{
	struct clu_link *l = ac->data;
	char (*ids)[SIG_ID_MAX + 1] = priv;
	redisReply *r = reply;
	struct srv_cluster_rec rec;
	size_t i;

	if (!reply_failed(ac, r, "MGET") && r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < r->elements; i++) {
			redisReply *e = r->element[i];

			if (e->type != REDIS_REPLY_STRING)
				continue;	/* lapsed since the SCAN */
			if (srv_cluster_rec_parse(e->str, e->len, &rec) < 0) {
				l->cl->st->stats.cluster_bad++;
				continue;
			}
			peer_note(l->cl, ids[i], &rec);
		}
	free(priv);
}

static void on_scan(redisAsyncContext *ac, void *reply, void *priv)
{
	struct clu_link *l = ac->data;
	redisReply *r = reply, *keys;
	char (*ids)[SIG_ID_MAX + 1] = NULL;
	const char **argv = NULL;
	size_t *argvlen = NULL, i, n = 0;

	(void)priv;
	if (reply_failed(ac, r, "SCAN"))
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY)
		return;
	keys = r->element[1];
	if (keys->elements) {
		ids = calloc(keys->elements, sizeof(*ids));
		argv = calloc(keys->elements + 1, sizeof(*argv));
		argvlen = calloc(keys->elements + 1, sizeof(*argvlen));
		if (!ids || !argv || !argvlen)
			goto out;
		argv[0] = "MGET";
		argvlen[0] = 4;
		for (i = 0; i < keys->elements; i++) {
			redisReply *k = keys->element[i];

			if (k->type != REDIS_REPLY_STRING ||
			    srv_cluster_key_parse(k->str, k->len, ids[n]) < 0) {
				l->cl->st->stats.cluster_bad++;
				continue;
			}
			argv[n + 1] = k->str;
			argvlen[n + 1] = k->len;
			n++;
		}
		if (n && redisAsyncCommandArgv(ac, on_mget, ids, (int)n + 1, argv, argvlen) ==
			 REDIS_OK)
			ids = NULL;	/* on_mget frees them */
	}
	/* cursor "0": the whole key space seen */
	if (strcmp(r->element[0]->str, "0"))
		redisAsyncCommand(ac, on_scan, NULL, "SCAN %s MATCH " SRV_CLUSTER_KEY_PREFIX
				  "* COUNT " SCAN_COUNT, r->element[0]->str);
out:
	free(ids);
	free(argv);
	free(argvlen);
}

static void on_note(struct srv_cluster *cl, const char *buf, size_t len)
{
	struct srv_cluster_note n;
	struct srv_cluster_peer *p;

	if (srv_cluster_note_parse(buf, len, &n) < 0) {
		cl->st->stats.cluster_bad++;
		return;
	}
	if (n.add) {
		peer_note(cl, n.id, &n.rec);
	} else if ((p = srv_cluster_peers_find(&cl->peers, n.id)) &&
		   !strcmp(p->server, n.rec.server)) {
		srv_cluster_peers_remove(&cl->peers, p);
		peers_counted(cl);
	}
}

/* An indication for one of our peers, from another server. */
static void on_forward(struct srv_cluster *cl, const char *buf, size_t len)
{
	struct srv_state *st = cl->st;
	static uint8_t msg[RDV_BUF];
	char id[SIG_ID_MAX + 1];
	const uint8_t *m;
	struct rdv_conn *t;
	size_t ml;

	/* room for the seal: RDV_BUF holds any indication and its seal */
	if (srv_cluster_fwd_parse((const uint8_t *)buf, len, RDV_BUF - SIG_SEAL_OVERHEAD, id, &m,
				  &ml) < 0) {
		st->stats.cluster_bad++;
		return;
	}
	st->stats.cluster_fwd_in++;
	if (!(t = srv_rdv_find(&st->rdv, id)) || !t->authed) {
		st->stats.cluster_fwd_lost++;
		log_debug("redis: indication for %s dropped: not registered here", id);
		return;
	}
	memcpy(msg, m, ml);
	if (srv_client_indicate(st, t, msg, ml, sizeof(msg)) < 0)
		st->stats.cluster_fwd_lost++;
}

static void maybe_up(struct srv_cluster *cl)
{
	if (cl->up || !cl->cmd.ready || !cl->sub.ready)
		return;
	cl->up = true;
	cl->backoff_ms = BACKOFF_MIN_MS;
	cl->st->stats.redis_link = SRV_REDIS_UP;
	log_info("redis %s:%u: connected as server %s%s", cl->cfg->redis_host, cl->cfg->redis_port,
		 cl->cfg->server_name, cl->was_up ? ", publishing this server's peers again" : "");
	/* ours into Redis, the others' out of it */
	publish_all(cl);
	cl->next_refresh_ms = clock_ms() + ttl_ms(cl) / 3;
	redisAsyncCommand(cl->cmd.ac, on_scan, NULL,
			  "SCAN 0 MATCH " SRV_CLUSTER_KEY_PREFIX "* COUNT " SCAN_COUNT);
}

static void on_sub(redisAsyncContext *ac, void *reply, void *priv)
{
	struct clu_link *l = ac->data;
	struct srv_cluster *cl = l->cl;
	redisReply *r = reply, *kind, *chan, *data;

	(void)priv;
	if (reply_failed(ac, r, "SUBSCRIBE"))
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
		return;
	kind = r->element[0];
	chan = r->element[1];
	data = r->element[2];
	if (kind->type != REDIS_REPLY_STRING || chan->type != REDIS_REPLY_STRING)
		return;
	if (!strcmp(kind->str, "subscribe")) {
		if (++l->subscribed == 2) {
			l->ready = true;
			maybe_up(cl);
		}
		return;
	}
	if (strcmp(kind->str, "message") || data->type != REDIS_REPLY_STRING)
		return;
	if (!strcmp(chan->str, SRV_CLUSTER_REG_CHANNEL))
		on_note(cl, data->str, data->len);
	else if (!strcmp(chan->str, cl->to_channel))
		on_forward(cl, data->str, data->len);
}

static void on_ping(redisAsyncContext *ac, void *reply, void *priv)
{
	struct clu_link *l = ac->data;

	(void)priv;
	if (reply_failed(ac, reply, "PING"))
		return;
	l->cl->ping_out = false;
	if (!l->ready) {
		l->ready = true;
		maybe_up(l->cl);
	}
}

static void on_auth(redisAsyncContext *ac, void *reply, void *priv)
{
	(void)priv;
	reply_failed(ac, reply, "AUTH");
}

static bool link_open(struct srv_cluster *cl, struct clu_link *l)
{
	const struct srv_config *cfg = cl->cfg;
	redisAsyncContext *ac = redisAsyncConnect(cfg->redis_host, cfg->redis_port);

	if (!ac || ac->err) {
		teardown(cl, NULL, ac && ac->errstr[0] ? ac->errstr : "cannot connect");
		if (ac)
			redisAsyncFree(ac);
		return false;
	}
	l->ac = ac;
	l->h.kind = SRV_FD_REDIS;
	l->h.fd = ac->c.fd;
	l->cl = cl;
	l->events = 0;
	l->ready = false;
	l->subscribed = 0;
	ac->data = l;
	ac->ev.data = l;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (cfg->redis_pass) {
		if (cfg->redis_user)
			redisAsyncCommand(ac, on_auth, NULL, "AUTH %s %s", cfg->redis_user,
					  cfg->redis_pass);
		else
			redisAsyncCommand(ac, on_auth, NULL, "AUTH %s", cfg->redis_pass);
	}
	return true;
}

static void connect_all(struct srv_cluster *cl, uint64_t now)
{
	cl->connect_ms = now;
	cl->last_answer_ms = now;
	cl->ping_out = false;
	if (!link_open(cl, &cl->cmd) || !link_open(cl, &cl->sub))
		return;
	cl->ping_out = true;
	redisAsyncCommand(cl->cmd.ac, on_ping, NULL, "PING");
	redisAsyncCommand(cl->sub.ac, on_sub, NULL, "SUBSCRIBE %s %s", SRV_CLUSTER_REG_CHANNEL,
			  cl->to_channel);
}

void srv_cluster_open(struct srv_state *st, const struct srv_config *cfg)
{
	struct srv_cluster *cl;

	if (!cfg->redis_host)
		return;
	if (!(cl = calloc(1, sizeof(*cl))))
		fatalx("out of memory");
	cl->st = st;
	cl->cfg = cfg;
	cl->cmd.cl = cl->sub.cl = cl;
	cl->backoff_ms = BACKOFF_MIN_MS;
	snprintf(cl->to_channel, sizeof(cl->to_channel), SRV_CLUSTER_TO_PREFIX "%s",
		 cfg->server_name);
	st->cluster = cl;
	st->rdv.remote_find = remote_find;
	st->rdv.remote_ctx = cl;
	st->stats.redis_link = SRV_REDIS_DOWN;
	log_info("redis %s:%u: this server is %s in the cluster, registrations live %u s",
		 cfg->redis_host, cfg->redis_port, cfg->server_name, cfg->redis_ttl_s);
	connect_all(cl, clock_ms());
}

void srv_cluster_event(struct srv_state *st, struct srv_fd *f, uint32_t events)
{
	struct clu_link *l = (struct clu_link *)f;

	(void)st;
	/* freed earlier in this batch: a stale event */
	if (!l->ac)
		return;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		redisAsyncHandleRead(l->ac);
	if (l->ac && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		redisAsyncHandleWrite(l->ac);
}

void srv_cluster_tick(struct srv_state *st, uint64_t now)
{
	struct srv_cluster *cl = st->cluster;

	if (!cl)
		return;
	if (srv_cluster_peers_expire(&cl->peers, now))
		peers_counted(cl);
	if (!cl->cmd.ac && !cl->sub.ac) {
		if (now >= cl->retry_ms)
			connect_all(cl, now);
		return;
	}
	if (!cl->up) {
		if (now >= cl->connect_ms + CONNECT_MS)
			teardown(cl, NULL, "no answer");
		return;
	}
	/* a partition shows no error: only silence */
	if (cl->ping_out && now >= cl->last_answer_ms + DEAD_MS) {
		teardown(cl, NULL, "no answer for 3 s");
		return;
	}
	if (!cl->ping_out && now >= cl->next_ping_ms) {
		cl->ping_out = true;
		cl->next_ping_ms = now + PING_MS;
		redisAsyncCommand(cl->cmd.ac, on_ping, NULL, "PING");
	}
	if (now >= cl->next_refresh_ms) {
		publish_all(cl);
		cl->next_refresh_ms = now + ttl_ms(cl) / 3;
	}
}

void srv_cluster_close(struct srv_state *st)
{
	struct srv_cluster *cl = st->cluster;

	if (!cl)
		return;
	cl->tearing = true;	/* no reconnecting on the way out */
	if (cl->cmd.ac)
		redisAsyncFree(cl->cmd.ac);
	if (cl->sub.ac)
		redisAsyncFree(cl->sub.ac);
	srv_cluster_peers_free(&cl->peers);
	free(cl);
	st->cluster = NULL;
	st->rdv.remote_find = NULL;
	st->rdv.remote_ctx = NULL;
}
