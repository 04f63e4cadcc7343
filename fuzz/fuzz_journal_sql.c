// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libFuzzer harness: journals that lie.  The input drives jgen (fuzz/jgen.h)
 * to write a schema-valid journal whose rows contradict each other --
 * events out of order, closes before creates, duplicate sequence numbers,
 * unknown ops, stacks and modules that do not exist or do not match, FD
 * numbers at the edges, columns of the wrong type -- then runs
 * bpfleak-report on it in-process with an option set chosen by the first
 * byte.  Anything but exit 0/1/2/3 aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include "fuzz_common.h"
#include "jgen.h"

#ifndef FUZZ_SMALL_ELF
#define FUZZ_SMALL_ELF NULL
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *path = fuzz_scratch("lie.db");
	fuzz_unlink_db(path);
	if (jgen_build(path, data + 1, size - 1, FUZZ_SMALL_ELF))
		return 0;
	fuzz_report(path, data[0], NULL);
	return 0;
}
