// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libFuzzer harness: the suppressions parser and matcher
 * (analyzer/suppress.c, valgrind-style blocks of fun:/src:/obj:/...
 * patterns).  The input is the file; a loaded set is then matched against
 * a few stacks for every class, including empty and unresolved frames.
 * A rejected file must come with an error message.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "analyzer.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_scratch("supp");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	char err[512] = "";
	struct suppressions *s = suppressions_load(path, err, sizeof(err));
	if (!s) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	struct frame frames[4] = {
		{ .function = (char *)"bpf_map_create", .module = "/usr/lib/libbpf.so.1", .resolved = 1 },
		{ .function = (char *)"acl_reload", .file = (char *)"/src/acl.c", .line = 214,
		  .module = "/usr/bin/gateway", .resolved = 1 },
		{ .module = "/usr/bin/gateway", .offset = 0x1234 },
		{ .function = (char *)"main", .file = (char *)"main.c", .line = 80, .resolved = 1 },
	};
	struct rstack stacks[3] = { { frames, 4 }, { frames + 2, 2 }, { NULL, 0 } };
	for (int cls = 0; cls < CLS_MAX; cls++)
		for (int k = 0; k < 3; k++) {
			const char *name = suppressions_match(s, cls, &stacks[k]);
			if (name)
				(void)strlen(name);
		}
	suppressions_free(s);
	return 0;
}
