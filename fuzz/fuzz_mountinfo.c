// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libFuzzer harness: the bpffs finder (common/mountinfo.c) on
 * /proc/PID/mountinfo text, with its octal unescaping.  The input is not
 * NUL-terminated.  Invariants: the return value is -1 or the number of
 * callbacks made; every mount point handed out is a terminated string no
 * longer than a mountinfo line; a callback returning nonzero stops it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpfleak/snapshot.h>

struct ctx {
	int calls;
	int stop_after;
};

static int on_mount(const char *mp, void *p)
{
	struct ctx *c = p;
	size_t n = strnlen(mp, 8192);
	if (n >= 4096 + 256)
		abort();
	c->calls++;
	return c->stop_after && c->calls >= c->stop_after;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = { 0, 0 };
	int rc = bpfleak_mountinfo_bpffs((const char *)data, size, on_mount, &c);
	if (rc != -1 && rc != c.calls)
		abort();
	if (rc == -1 && c.calls != 0)
		abort();
	if (c.calls >= 2) {
		struct ctx s = { 0, 1 };
		bpfleak_mountinfo_bpffs((const char *)data, size, on_mount, &s);
		if (s.calls != 1)
			abort();
	}
	/* No callback at all must work too. */
	int rc2 = bpfleak_mountinfo_bpffs((const char *)data, size, NULL, NULL);
	if (rc2 != rc)
		abort();
	return 0;
}
