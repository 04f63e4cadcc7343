/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The synthetic journals' module rows (gen_journal.c, gen_week.c): the
 * generator's own mappings, so the stacks it writes symbolize for real.
 */
#ifndef BPFLEAK_BENCH_GEN_MODULES_H
#define BPFLEAK_BENCH_GEN_MODULES_H

#include <stdint.h>

struct jw;

struct gen_mod {
	char path[4096];
	char build_id[130];
	uint64_t base, size;
	uint64_t text_lo, text_hi;   /* absolute addresses of the executable PT_LOAD */
};

/* Read this process's mappings; 0, or -1 when none was found. */
int gen_modules_scan(void);
/* The module whose path contains needle; NULL needle: the executable. */
const struct gen_mod *gen_module_find(const char *needle);
/* The executable's path. */
const char *gen_exe_path(void);
/* Their rows for pid, mapped at ts; 0 or -1. */
int gen_modules_write(struct jw *j, int pid, uint64_t ts);
/*
 * A new journal at path (any old one and its -wal/-shm removed), in WAL
 * mode as the shim's are, without fsyncs: built fast.  0, or -1 with a
 * line on stderr naming `who`.
 */
int gen_journal_create(struct jw *j, const char *path, const char *who);

#endif
