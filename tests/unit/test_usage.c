// SPDX-License-Identifier: MIT
#include "common/usage.h"
#include "tests/unit/tap.h"

static void getopt_messages(void)
{
	char b[128];

	CHECK(!strcmp(usage_getopt_msg('?', 0, "--frob", b, sizeof(b)), "unknown option '--frob'"));
	CHECK(!strcmp(usage_getopt_msg('?', 0, "--frob=3", b, sizeof(b)), "unknown option '--frob'"));
	CHECK(!strcmp(usage_getopt_msg('?', 'x', "-dx", b, sizeof(b)), "unknown option '-x'"));
	CHECK(!strcmp(usage_getopt_msg(':', 'c', "-c", b, sizeof(b)), "option '-c' needs a value"));
	/* a long option whose value is a letter: the option as written */
	CHECK(!strcmp(usage_getopt_msg(':', 'c', "--control", b, sizeof(b)),
		      "option '--control' needs a value"));
	CHECK(!strcmp(usage_getopt_msg(':', 260, "--port", b, sizeof(b)),
		      "option '--port' needs a value"));
	CHECK(!strcmp(usage_getopt_msg('?', 0, NULL, b, sizeof(b)), "unknown option '?'"));
}

static void small_buffer_terminated(void)
{
	char b[8];

	usage_getopt_msg('?', 0, "--a-very-long-option", b, sizeof(b));
	CHECK_EQ(strlen(b), 7);
}

int main(void)
{
	RUN(getopt_messages);
	RUN(small_buffer_terminated);
	return TAP_DONE();
}
