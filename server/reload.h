/* SPDX-License-Identifier: MIT */
/*
 * stunt-server's --config FILE, read at start and again on SIGHUP. At
 * SIGHUP the server runs as its run-as user (server/privdrop.h): the file
 * is read as that user. A file it cannot read or parse changes nothing
 * (logged with the file and line). Otherwise the file's options and then
 * the command line's are parsed as at start (server/opts.h), so a flag
 * still overrides the file; the live options take their new values and
 * each option that needs a restart keeps its running value, with one
 * warning "OPTION changed in FILE: needs a restart".
 */
#ifndef STUNT_SERVER_RELOAD_H
#define STUNT_SERVER_RELOAD_H

#include "server/conf.h"
#include "server/loop.h"
#include "server/opts.h"

#include <stdbool.h>
#include <stddef.h>

/* The file at path (at most 64 KiB) as options into out. 0, or -1 with
 * "PATH: REASON" in err (REASON: the system's, or "line N: ..."). */
int srv_reload_read(const char *path, struct srv_conf_args *out, char *err, size_t errlen);

/* At start, once the options are taken: the file (NULL: no --config), the
 * command line (kept: read again at each reload) and the options in force. */
void srv_reload_init(const char *path, int argc, char **argv, const struct srv_opts *run);

/* SIGHUP: read the file again and put the live options' new values into
 * cfg (and the log level). false: nothing changed in cfg (no --config, or
 * the file refused). */
bool srv_reload_config(struct srv_config *cfg);

#endif
