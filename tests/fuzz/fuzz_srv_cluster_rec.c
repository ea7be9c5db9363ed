// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for what stunt-server reads back from Redis
 * (server/cluster_rec.c): registration records, stunt:reg notices, keys
 * and forwarded indications, any bytes. Checked: no crash or overread;
 * what parses holds a valid id and server name and can be written again
 * (not byte for byte: leading zeros and IPv6 spellings parse to one value).
 */
#include "server/cluster_rec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct srv_cluster_rec r;
	struct srv_cluster_note n;
	char id[SIG_ID_MAX + 1], back[SRV_CLUSTER_REC_MAX + 64];
	const uint8_t *msg;
	size_t ml;

	if (srv_cluster_rec_parse(s, size, &r) == 0) {
		if (!srv_cluster_name_valid(r.server, strlen(r.server)))
			abort();
		if (srv_cluster_rec_format(&r, back, sizeof(back)) <= 0)
			abort();
	}
	if (srv_cluster_note_parse(s, size, &n) == 0) {
		if (!sig_id_valid(n.id, strlen(n.id)) ||
		    !srv_cluster_name_valid(n.rec.server, strlen(n.rec.server)))
			abort();
		if (srv_cluster_note_format(&n, back, sizeof(back)) <= 0)
			abort();
	}
	if (srv_cluster_key_parse(s, size, id) == 0 && !sig_id_valid(id, strlen(id)))
		abort();
	if (srv_cluster_fwd_parse(data, size, 2048, id, &msg, &ml) == 0 &&
	    (!sig_id_valid(id, strlen(id)) || ml < 1 || ml > 2048 || msg < data ||
	     msg + ml != data + size))
		abort();
	return 0;
}
