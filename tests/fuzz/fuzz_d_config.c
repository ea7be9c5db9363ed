// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for stuntd's config parser, secret-file parser, control
 * request parser and /proc/net/if_inet6 line parser (daemon/config.c,
 * daemon/ctlreq.c, daemon/hostaddr6.c). Checked:
 * no crash or overread; what a successful parse holds is NUL-terminated,
 * within its limits, and every id and service name is valid.
 */
#include "daemon/config.h"
#include "daemon/ctlreq.h"
#include "daemon/hostaddr6.h"

#include <net/if.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct d_config c;
	struct d_ctl_req r;
	char err[256], secret[D_SECRET_MAX];
	size_t i, j;

	d_config_init(&c);
	if (d_config_parse((const char *)data, size, &c, err, sizeof(err)) == 0) {
		if (c.id[0] && !sig_id_valid(c.id, strlen(c.id)))
			abort();
		if (c.nexpose > D_MAX_EXPOSE || c.nallow > D_MAX_ALLOW)
			abort();
		for (i = 0; i < c.nexpose; i++)
			if (!sig_id_valid(c.expose[i].name, strlen(c.expose[i].name)) ||
			    (c.expose[i].kind != D_TARGET_TCP && c.expose[i].kind != D_TARGET_EXEC &&
			     c.expose[i].kind != D_TARGET_UDP))
				abort();
		for (i = 0; i < c.nallow; i++)
			for (j = 0; j < c.allow[i].npeers; j++)
				if (!sig_id_valid(c.allow[i].peers[j], strlen(c.allow[i].peers[j])))
					abort();
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	if (d_secret_parse((const char *)data, size, secret, sizeof(secret)) > 0 &&
	    strlen(secret) >= sizeof(secret))
		abort();
	(void)d_ctl_req_parse((const char *)data, size, &r, err, sizeof(err));
	/* a line as fgets gives it: NUL-terminated, shorter than its buffer;
	 * an address it offers is global unicast, its interface name bounded */
	{
		char line[160], ifn[IFNAMSIZ];
		uint8_t ip[16];
		size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;

		memcpy(line, data, n);
		line[n] = '\0';
		if (d_hostaddr6_parse_line(line, ip, ifn) == 1 &&
		    (!d_hostaddr6_global(ip) || memchr(ifn, '\0', sizeof(ifn)) == NULL))
			abort();
	}
	return 0;
}
