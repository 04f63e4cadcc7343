// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libFuzzer harness: the fdinfo parser (common/fdinfo.c) and the readlink
 * classifier, as the shim's exit snapshot and `bpfleak-report --pid` use
 * them on /proc/PID/fdinfo/N text.  The input is not NUL-terminated, so a
 * read past len is an ASan report.  Invariants checked: the kind is a
 * known one, fixed-size strings stay terminated inside their arrays.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfleak_fdinfo fi;
	int kind = bpfleak_fdinfo_parse((const char *)data, size, &fi);
	if (kind < 0 || kind >= BPFLEAK_KIND_MAX || kind != fi.kind)
		abort();
	if (!memchr(fi.link_type_name, '\0', sizeof(fi.link_type_name)) ||
	    !memchr(fi.prog_tag, '\0', sizeof(fi.prog_tag)))
		abort();
	if (fi.cloexec != 0 && fi.cloexec != 1)
		abort();
	/* Parsing is a pure function of the bytes. */
	struct bpfleak_fdinfo again;
	bpfleak_fdinfo_parse((const char *)data, size, &again);
	if (memcmp(&fi, &again, sizeof(fi)) != 0)
		abort();

	char *target = malloc(size + 1);
	if (!target)
		return 0;
	memcpy(target, data, size);
	target[size] = '\0';
	int k2 = bpfleak_kind_from_target(target);
	if (k2 < 0 || k2 >= BPFLEAK_KIND_MAX)
		abort();
	free(target);
	return 0;
}
