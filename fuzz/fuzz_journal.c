// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libFuzzer harness: bpfleak-report on a journal file made of the input
 * bytes (the seed corpus is small valid journals, from mkseeds and from the
 * shim).  Runs the whole binary in-process -- report_main: header checks,
 * sqlite, load, replay, classification, symbolization, output -- with an
 * option set chosen by the last byte.  Anything but exit 0/1/2/3 aborts.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_scratch("j.db");
	fuzz_unlink_db(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	fuzz_report(path, size ? data[size - 1] : 0, NULL);
	return 0;
}
