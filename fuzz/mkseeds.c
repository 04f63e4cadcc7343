// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * mkseeds DB_DIR BIN_DIR ELF: the seed corpora of the journal harnesses.
 *
 * Each seed is a short story told in jgen's byte language (fuzz/jgen.c):
 * BIN_DIR gets the bytes, with an option byte in front (fuzz_journal_sql);
 * DB_DIR gets the journal jgen writes from them, in rollback and in WAL
 * form (fuzz_journal, which mutates the file itself).  The encoders below
 * read the same bytes, in the same order, as jgen's bind_* functions.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "jgen.h"

struct buf {
	uint8_t b[1024];
	size_t n;
};

static void put(struct buf *o, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		o->b[o->n++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}

/* Table indices in jgen.c. */
enum { PID_1000 = 0, PID_1001 = 3, PID_1002 = 4 };
enum { FD3 = 0, FD4 = 2, FD5 = 4, FD6 = 5, FD_HUGE = 11, FD_PARENT = 14 };
enum { OBJ1 = 0, OBJ2 = 2, OBJ3 = 3 };
enum { ST1 = 0, ST2 = 2, ST_NONE = 5, ST_MISSING = 6 };
enum { CMD_MAP_CREATE = 0, CMD_GET_FD_BY_ID = 3 };
enum { RES_0 = 0, RES_EBADF = 2 };
enum { DET_NULL = 0, DET_START = 1, DET_FORK = 2, DET_EXEC = 3 };
enum { OR_START = 0, OR_FORK = 1, OR_EXEC = 2 };
#define T 0          /* "bind the value as intended" */
#define STEP 9       /* clock +10 us */
#define BACK 210     /* clock -11 us: out of order */

static void process(struct buf *o, int pid, int ppid, int origin)
{
	put(o, 1, 0);
	put(o, 4, pid, T, ppid, T);
	put(o, 3, 0 /* exe */, 1 /* cmdline */, 1 /* boot id */);
	put(o, 3, 7, 0, T);              /* start_ticks */
	put(o, 1, origin);
	put(o, 2, STEP, T);              /* started_ns */
	put(o, 1, T);                    /* realtime base */
	put(o, 1, 0);                    /* not exited */
}

static void event(struct buf *o, int op, int clock, int pid, int fd, int fd2, int cmd, int kind,
		  int obj, int stack, int res, int flags, int detail)
{
	put(o, 1, 1);
	put(o, 2, op - 1, 0);
	put(o, 2, clock, T);
	put(o, 4, pid, T, pid, T);
	put(o, 1, T);
	put(o, 4, fd, T, fd2, T);
	put(o, 2, cmd, T);
	put(o, 2, kind, T);
	put(o, 2, obj, T);
	put(o, 2, stack, T);
	put(o, 2, res, T);
	put(o, 2, flags, T);
	put(o, 1, detail);
}

static void stack(struct buf *o, int id_idx, int depth)
{
	put(o, 1, 6);
	put(o, 1, depth);
	for (int i = 0; i < depth; i++)
		put(o, 3, 0 /* base 0x400000 */, 8 + i * 9, 0);
	put(o, 3, 0 /* explicit id */, id_idx, T);
	put(o, 5, 0x11, 0x22, id_idx, 0x44, T);   /* hash */
	put(o, 2, 0 /* depth = n */, T);
	put(o, 1, 0);                              /* whole blob */
}

static void module(struct buf *o, int pid)
{
	put(o, 1, 8);
	put(o, 2, pid, T);
	put(o, 2, 1 /* ts 0 */, T);
	put(o, 2, 0 /* the small ELF */, 0 /* no build-id */);
	put(o, 4, 0, T, 0, T);                     /* base 0x400000, size 1 MiB */
}

static void snapshot(struct buf *o, int pid)
{
	put(o, 1, 10);
	put(o, 2, pid, T);
	put(o, 2, STEP, T);
	put(o, 1, 0 /* exit */);
}

static void snap_fd(struct buf *o, int fd, int obj, int info)
{
	put(o, 1, 11);
	put(o, 2, 0, T);                           /* this snapshot */
	put(o, 2, fd, T);
	put(o, 2, 1 /* map */, T);
	put(o, 2, obj, T);
	put(o, 1, 0 /* anon_inode:bpf-map */);
	put(o, 2, 1, T);                           /* cloexec */
	put(o, 1, info);
}

static void create(struct buf *o, int clock, int pid, int fd, int obj, int st, int cmd)
{
	event(o, 1, clock, pid, fd, FD3, cmd, 1, obj, st, RES_0, 1, DET_NULL);
}

static void close_ev(struct buf *o, int clock, int pid, int fd, int obj, int res)
{
	event(o, 3, clock, pid, fd, FD3, CMD_MAP_CREATE, 1, obj, ST_NONE, res, 0, DET_NULL);
}

typedef void (*story)(struct buf *o);

static void s_create_close(struct buf *o)
{
	process(o, PID_1000, PID_1000, OR_START);
	module(o, PID_1000);
	stack(o, ST1, 3);
	create(o, STEP, PID_1000, FD3, OBJ1, ST1, CMD_MAP_CREATE);
	close_ev(o, STEP, PID_1000, FD3, OBJ1, RES_0);
	snapshot(o, PID_1000);
}

static void s_duplicate_leak(struct buf *o)
{
	process(o, PID_1000, PID_1000, OR_START);
	module(o, PID_1000);
	stack(o, ST1, 3);
	stack(o, ST2, 2);
	create(o, STEP, PID_1000, FD3, OBJ1, ST1, CMD_MAP_CREATE);
	create(o, STEP, PID_1000, FD4, OBJ1, ST2, CMD_GET_FD_BY_ID);
	create(o, STEP, PID_1000, FD5, OBJ2, ST2, CMD_MAP_CREATE);
	snapshot(o, PID_1000);
	snap_fd(o, FD3, OBJ1, 0);
	snap_fd(o, FD4, OBJ1, 0);
	snap_fd(o, FD5, OBJ2, 4);
}

static void s_double_close(struct buf *o)
{
	process(o, PID_1000, PID_1000, OR_START);
	create(o, STEP, PID_1000, FD3, OBJ1, ST1, CMD_MAP_CREATE);
	close_ev(o, STEP, PID_1000, FD3, OBJ1, RES_0);
	close_ev(o, STEP, PID_1000, FD3, OBJ1, RES_EBADF);
}

static void s_fork_exec(struct buf *o)
{
	process(o, PID_1000, PID_1000, OR_START);
	module(o, PID_1000);
	stack(o, ST1, 2);
	create(o, STEP, PID_1000, FD3, OBJ1, ST1, CMD_MAP_CREATE);
	process(o, PID_1001, PID_1000, OR_FORK);
	event(o, 7, STEP, PID_1001, FD3, FD_PARENT /* fd2 = the parent pid */, 0, 0, OBJ1,
	      ST_NONE, RES_0, 0, DET_NULL);
	event(o, 5, STEP, PID_1001, FD3, FD3, 0, 1, OBJ1, ST_NONE, RES_0, 0, DET_FORK);
	process(o, PID_1001, PID_1000, OR_EXEC);
	event(o, 6, STEP, PID_1001, FD3, FD3, 0, 0, OBJ1, ST_NONE, RES_0, 0, DET_EXEC);
	create(o, STEP, PID_1001, FD4, OBJ2, ST1, CMD_MAP_CREATE);
}

static void s_out_of_order(struct buf *o)
{
	process(o, PID_1000, PID_1000, OR_START);
	create(o, STEP, PID_1000, FD3, OBJ1, ST1, CMD_MAP_CREATE);
	close_ev(o, BACK, PID_1000, FD3, OBJ1, RES_0);     /* closed before it was made */
	create(o, STEP, PID_1000, FD3, OBJ2, ST1, CMD_MAP_CREATE);
	close_ev(o, STEP, PID_1000, FD6, OBJ3, RES_0);     /* never created */
	snapshot(o, PID_1000);
	snap_fd(o, FD3, OBJ2, 0);
}

static void s_unknown_op_missing_stack(struct buf *o)
{
	process(o, PID_1000, PID_1000, OR_START);
	module(o, PID_1000);
	create(o, STEP, PID_1000, FD3, OBJ1, ST_MISSING, CMD_MAP_CREATE);
	create(o, STEP, PID_1000, FD4, OBJ1, ST_MISSING, CMD_GET_FD_BY_ID);
	/* op byte 241 -> op 11, 255 -> op 255 (jgen's bind_event) */
	size_t at = o->n;
	event(o, 1, STEP, PID_1000, FD5, FD3, 0, 1, OBJ1, ST_NONE, RES_0, 0, DET_NULL);
	o->b[at + 1] = 241;
	at = o->n;
	event(o, 1, STEP, PID_1000, FD6, FD3, 0, 1, OBJ1, ST_NONE, RES_0, 0, DET_NULL);
	o->b[at + 1] = 255;
}

static void s_drop_huge_fd(struct buf *o)
{
	process(o, PID_1000, PID_1000, OR_START);
	create(o, STEP, PID_1000, FD_HUGE, OBJ1, ST1, CMD_MAP_CREATE);
	event(o, 8, STEP, PID_1000, FD3, FD4, 0, 0, OBJ1, ST_NONE, RES_0, 0, DET_NULL);
	create(o, STEP, PID_1000, FD3, OBJ2, ST1, CMD_MAP_CREATE);
}

static const struct {
	const char *name;
	story fn;
} seeds[] = {
	{ "create_close", s_create_close },
	{ "duplicate_leak", s_duplicate_leak },
	{ "double_close", s_double_close },
	{ "fork_exec", s_fork_exec },
	{ "out_of_order", s_out_of_order },
	{ "unknown_op_missing_stack", s_unknown_op_missing_stack },
	{ "drop_huge_fd", s_drop_huge_fd },
};

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: mkseeds DB_DIR BIN_DIR ELF\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		for (int wal = 0; wal < 2; wal++) {
			char path[4096];
			struct buf o = { .n = 0 };
			seeds[i].fn(&o);
			if (wal)
				put(&o, 2, 15, 255);   /* leave the file in WAL mode */
			snprintf(path, sizeof(path), "%s/%s%s.db", argv[1], seeds[i].name,
				 wal ? "_wal" : "");
			if (jgen_build(path, o.b, o.n, argv[3])) {
				fprintf(stderr, "mkseeds: cannot write %s\n", path);
				return 1;
			}
			/* The option byte picks the report's format and flags. */
			snprintf(path, sizeof(path), "%s/%s%s.bin", argv[2], seeds[i].name,
				 wal ? "_wal" : "");
			FILE *f = fopen(path, "wb");
			if (!f || fputc((int)(i + (size_t)wal), f) == EOF ||
			    fwrite(o.b, 1, o.n, f) != o.n || fclose(f)) {
				fprintf(stderr, "mkseeds: cannot write %s\n", path);
				return 1;
			}
		}
	}
	return 0;
}
