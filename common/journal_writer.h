/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The one writer of the journal format (include/bpfleak/journal.h): the
 * preload shim, the kernel-side recorder, the analyzer's --symbolize, the
 * test journal builder and the bench generator all write rows through it,
 * so a column changes in one place.  Internal: not installed.
 *
 * A caller owns the connection and its transactions; nothing here starts
 * a thread or keeps state outside struct jw.
 */
#ifndef BPFLEAK_JOURNAL_WRITER_H
#define BPFLEAK_JOURNAL_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <bpfleak/objinfo.h>

struct sqlite3;
struct sqlite3_stmt;
struct bpfleak_snapshot;
struct bpfleak_snap_fd;
struct bpfleak_snap_pin;

enum {
	JW_INS_EVENT,
	JW_INS_EVENTS_8,         /* multi-row INSERTs of jw_events() */
	JW_INS_EVENTS_32,
	JW_INS_STACK,
	JW_GET_STACK,
	JW_INS_OBJECT,
	JW_INS_MODULE,
	JW_N_STMTS
};

struct jw_bound;
struct jw {
	struct sqlite3 *db;
	struct sqlite3_stmt *st[JW_N_STMTS];
	struct jw_bound *bound;   /* what the event INSERTs hold bound (journal_writer.c) */
};

/* jw_open flags */
enum {
	/* Create the file (mode 0600, never through a symlink) when missing. */
	JW_CREATE = 1 << 0,
	/* A recorder appending while others may too: WAL, wait for locks. */
	JW_APPEND = 1 << 1,
};

/* An event as it goes into the `event` table.  Zero means absent for the
 * optional columns, except where has_* says otherwise. */
struct jw_event {
	uint64_t ts_ns;
	int pid, tid, op;
	bool has_fd, has_fd2;
	int fd, fd2;
	int cmd;                 /* -1: none */
	int kind;
	uint32_t obj_id;
	int64_t stack_id;
	int result;
	int flags;
	const char *detail;
	uint64_t end_ns;         /* drop: end of the gap; 0 none */
};

struct jw_process {
	pid_t pid, ppid, ns_pid;
	const char *exe, *cmdline, *boot_id, *origin, *recorder;
	uint64_t start_ticks, started_ns;
	int64_t realtime_base_ns;
};

struct jw_module {
	pid_t pid;
	uint64_t ts_ns;
	const char *path, *build_id;
	uint64_t base, size;
	int64_t file_size, mtime_ns;   /* -1: unknown */
};

struct jw_snapshot_info {
	uint64_t ts_ns, end_ns;
	const char *reason;            /* BPFLEAK_SNAP_EXIT | BPFLEAK_SNAP_LIVE */
	bool pins_walked;
};

/* 0, or -1 with a one-line reason in err. */
int jw_open(struct jw *j, const char *path, int flags, char *err, size_t errcap);
void jw_close(struct jw *j);
int jw_exec(struct jw *j, const char *sql);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; 0 or the sqlite error code. */
int jw_begin(struct jw *j);
int jw_commit(struct jw *j);
void jw_rollback(struct jw *j);
/*
 * For a private copy of sqlite that one thread at a time uses (the shim's,
 * built into libbpfleak-journal.so): no mutexes, no memory statistics, and
 * its files opened and closed through these.  Before the first jw_open.
 */
void jw_private_sqlite(int (*open_fn)(const char *path, int flags, int mode),
		       int (*close_fn)(int fd));
/* sqlite's busy handler: fn(ctx, attempts) != 0 to wait and try again. */
void jw_busy_handler(struct jw *j, int (*fn)(void *ctx, int attempts), void *ctx);
/* The extended sqlite error code of the last failure. */
int jw_errcode(struct jw *j);
const char *jw_errstr(int code);
/*
 * A recorder that is done with the file: fold the WAL into it, so the .db
 * alone is complete (bpfleak-report reads it from read-only media with
 * sqlite's immutable mode).  Waits at most wait_ms for other writers.
 */
void jw_finish(struct jw *j, int wait_ms);

int64_t jw_stack(struct jw *j, uint64_t hash, const uint64_t *ips, uint32_t depth);
int jw_object(struct jw *j, const struct bpfleak_obj_info *o, uint64_t first_seen_ns);
int64_t jw_module(struct jw *j, const struct jw_module *m);
int jw_module_unloaded(struct jw *j, int64_t row, uint64_t ts_ns);
int jw_event(struct jw *j, const struct jw_event *e);
/*
 * n events in this order, 32 rows an INSERT: the per-statement work of
 * sqlite (cursor, the table's last rowid, the halt) once per 32 rows.
 */
int jw_events(struct jw *j, const struct jw_event *e, size_t n);
/* The op and flags of pid's last row in `event`; false when it has none. */
bool jw_last_event_of(struct jw *j, pid_t pid, int *op, int *flags);
int64_t jw_process(struct jw *j, const struct jw_process *p);
/* The row of an earlier image of this pid that exec'd into this one, 0 none. */
int64_t jw_process_find_exec(struct jw *j, pid_t pid, uint64_t start_ticks, const char *boot_id);
int jw_process_exited(struct jw *j, int64_t row, uint64_t ts_ns, bool have_status, int status);
int jw_process_flushed(struct jw *j, int64_t row, uint64_t ts_ns);
int jw_snapshot(struct jw *j, const struct bpfleak_snapshot *s, const struct jw_snapshot_info *info);
/* The same row by row: the snapshot row (its id, or -1), then its FDs and pins. */
int64_t jw_snapshot_begin(struct jw *j, pid_t pid, int n_mounts, const struct jw_snapshot_info *info);
int jw_snapshot_fd(struct jw *j, int64_t snapshot_id, const struct bpfleak_snap_fd *f);
int jw_snapshot_pin(struct jw *j, int64_t snapshot_id, const struct bpfleak_snap_pin *p);
int jw_frame(struct jw *j, const char *module_key, uint64_t offset, int inline_depth,
	     const char *function, const char *file, int line);
int jw_meta(struct jw *j, const char *key, const char *value);

/*
 * Folding (common/journal_fold.c): one pass over at most max_rows of the
 * oldest events not yet looked at, in the caller's transaction.  Pairs
 * whose close is older than now_ns - age_ns become counts in the
 * lifetime_fold table, per site and per JW_FOLD_INTERVAL_NS of creates.
 * `more`: the pass stopped at max_rows; another would find more to read.
 */
#define JW_FOLD_INTERVAL_NS (60 * 1000000000ll)
#define JW_FOLD_PASS_ROWS 8192
/*
 * How often a recorder runs a pass for a fold age: a quarter of it, at
 * least every minute, at most every 250 ms (both recorders keep to this).
 */
static inline uint64_t jw_fold_every_ns(uint64_t age_ns)
{
	uint64_t every = age_ns / 4;
	return every > 60000000000ull ? 60000000000ull : every < 250000000ull ? 250000000ull : every;
}
struct jw_fold_result {
	size_t scanned, folded;
	bool more;
};
int jw_fold(struct jw *j, uint64_t now_ns, uint64_t age_ns, size_t max_rows,
	    struct jw_fold_result *res);

#endif
