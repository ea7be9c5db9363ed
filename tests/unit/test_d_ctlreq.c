// SPDX-License-Identifier: MIT
/* The control socket's request line (daemon/ctlreq.c, docs/control.md). */
#include "daemon/ctlreq.h"
#include "tests/unit/tap.h"

#include <errno.h>

static int parse(const char *s, struct d_ctl_req *r, char *err)
{
	return d_ctl_req_parse(s, strlen(s), r, err, 128);
}

static void good(void)
{
	struct d_ctl_req r;
	char err[128];

	CHECK_EQ(parse("{\"cmd\":\"status\"}", &r, err), 0);
	CHECK(!strcmp(r.cmd, "status"));
	CHECK_EQ(parse(" { \"cmd\" : \"connect\", \"peer\":\"office-pc\",\"service\":\"vnc\","
		       "\"method\":null, \"json\": true, \"n\": -1.5e3 } ", &r, err), 0);
	CHECK(!strcmp(r.peer, "office-pc"));
	CHECK(!strcmp(r.service, "vnc"));
	CHECK(r.method[0] == '\0');
	CHECK_EQ(parse("{\"method\":\"simopen\",\"cmd\":\"connect\"}", &r, err), 0);
	CHECK(!strcmp(r.method, "simopen"));
	CHECK_EQ(parse("{\"cmd\":\"a\\\"b\"}", &r, err), 0);
	CHECK(!strcmp(r.cmd, "a\"b"));
}

static void bad(void)
{
	struct d_ctl_req r;
	char err[128];

	CHECK_EQ(parse("", &r, err), -EINVAL);
	CHECK_EQ(parse("{}", &r, err), -EINVAL);
	CHECK(!strcmp(err, "no \"cmd\""));
	CHECK_EQ(parse("{\"cmd\":\"status\"", &r, err), -EINVAL);
	CHECK_EQ(parse("{\"cmd\":\"status\"} x", &r, err), -EINVAL);
	CHECK_EQ(parse("{\"cmd\":1}", &r, err), -EINVAL);
	CHECK_EQ(parse("{\"cmd\":{\"a\":1}}", &r, err), -EINVAL);
	CHECK_EQ(parse("{\"cmd\":\"\\u0041\"}", &r, err), -EINVAL);
	CHECK_EQ(parse("{\"cmd\":\"waytoolongcommandname\"}", &r, err), -EINVAL);
	CHECK_EQ(parse("{\"cmd\":\"x\",}", &r, err), -EINVAL);
	CHECK_EQ(parse("[1]", &r, err), -EINVAL);
	CHECK_EQ(parse("{\"cmd\":\"a\nb\"}", &r, err), -EINVAL);
}

/* root, the control group as primary or supplementary group; nobody else */
static void admit(void)
{
	gid_t sup[] = { 27, 1000, 2000 }, other[] = { 27, 1000 };

	CHECK(d_ctl_admit(0, 0, NULL, 0, false, 0));
	CHECK(d_ctl_admit(0, 1234, NULL, 0, true, 2000));
	CHECK(d_ctl_admit(1000, 2000, NULL, 0, true, 2000));
	CHECK(d_ctl_admit(1000, 1000, sup, 3, true, 2000));
	CHECK(!d_ctl_admit(1000, 1000, other, 2, true, 2000));
	CHECK(!d_ctl_admit(1000, 1000, NULL, 0, true, 2000));
	/* only the first ngroups count */
	CHECK(!d_ctl_admit(1000, 1000, sup, 2, true, 2000));
	/* no control group configured: root only, whatever the gids */
	CHECK(!d_ctl_admit(1000, 0, sup, 3, false, 0));
	CHECK(!d_ctl_admit(1000, 2000, sup, 3, false, 2000));
}

int main(void)
{
	RUN(good);
	RUN(bad);
	RUN(admit);
	return TAP_DONE();
}
