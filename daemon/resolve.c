// SPDX-License-Identifier: MIT
/*
 * The host names of stuntd's configuration resolved (common/resolve.h): at
 * start and on SIGHUP everything (daemon/main.c), before each connection to
 * a server that server's name and TURN's (daemon/sig.c), so that a name whose
 * address changed is followed without a restart.
 */
#include "daemon/config.h"

#include "common/resolve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* an expose target's name: IPv4 first, else IPv6; a server's and turn's: the
 * same among the families this host has (remote, common/resolve.h) */
static int one_any(const char *what, const char *host, union addr_sa *a, bool remote, char *err,
		   size_t errlen)
{
	char why[128];
	int e;

	e = (remote ? resolve_remote : resolve_any)(host, addr_sa_port(a), a, why, sizeof(why));
	if (e < 0)
		snprintf(err, errlen, "cannot resolve %s '%s': %s", what, host, why);
	return e;
}

int d_config_resolve_server(struct d_config *c, size_t i, char *err, size_t errlen)
{
	struct d_server *v;
	int e;

	if (i >= c->nservers || !c->servers[i].host[0])
		return 0;
	v = &c->servers[i];
	e = one_any("server", v->host, &v->addr, true, err, errlen);
	if (e == 0) {
		uint16_t port = addr_sa_port(&v->sig);

		v->sig = v->addr;
		addr_sa_set_port(&v->sig, port);
	}
	return e;
}

int d_config_resolve(struct d_config *c, unsigned what, char *err, size_t errlen)
{
	char label[D_NAME_MAX + 16];
	size_t i;
	int e;

	if (what & D_RESOLVE_SERVER) {
		for (i = 0; i < c->nservers; i++) {
			e = d_config_resolve_server(c, i, err, errlen);
			if (e < 0)
				return e;
		}
	}
	if ((what & D_RESOLVE_TURN) && c->have_turn && c->turn_host[0]) {
		e = one_any("turn", c->turn_host, &c->turn, true, err, errlen);
		if (e < 0)
			return e;
	}
	if (what & D_RESOLVE_EXPOSE) {
		for (i = 0; i < c->nexpose; i++) {
			if (!c->expose[i].host[0])
				continue;
			snprintf(label, sizeof(label), "the target of %s", c->expose[i].name);
			e = one_any(label, c->expose[i].host, &c->expose[i].addr, false, err, errlen);
			if (e < 0)
				return e;
		}
	}
	return 0;
}
