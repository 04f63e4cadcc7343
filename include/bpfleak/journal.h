/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The bpfleak journal: one sqlite file that the recorders (libbpfleak.so,
 * the kernel-side recorder) append to and bpfleak-report reads.  This header
 * is the only place the format is written down: the DDL, the codes stored
 * in its integer columns, and the name tables that give those codes names
 * inside the file.  docs/architecture.md explains the invariants.
 *
 * Versioning: PRAGMA user_version holds BPFLEAK_SCHEMA_VERSION.  A reader
 * refuses a file whose version is newer than the one it was built with and
 * reads older ones (columns added since read as NULL); the application_id
 * tells a bpfleak journal from a foreign sqlite database.
 */
#ifndef BPFLEAK_JOURNAL_H
#define BPFLEAK_JOURNAL_H

#include <linux/bpf.h>

/* 3: the lifetime_fold table (folded create/close pairs; readers of 2 would miss them). */
#define BPFLEAK_SCHEMA_VERSION 3
/* "BPFL" as a big-endian 32-bit integer, stored in PRAGMA application_id. */
#define BPFLEAK_APPLICATION_ID 0x4250464c

/*
 * event.op: X(code, NAME, "name").  The code is stored; the name is what
 * the op_name table, the event_v view and the reports call it.
 */
#define BPFLEAK_OPS(X)                                                            \
	X(1, CREATE, "create")       /* a bpf() command returned a new FD */      \
	X(2, DUP, "dup")             /* fd is a copy of fd2 (dup*, F_DUPFD*) */   \
	X(3, CLOSE, "close")         /* result -EBADF: the FD was not open */     \
	X(4, PIN, "pin")             /* BPF_OBJ_PIN of fd at path `detail` */     \
	X(5, INHERITED, "inherited") /* held when recording began; detail says  \
					how: start, exec, fork, attach, restart,   \
					exit (found only at exit: never seen made) */ \
	X(6, EXEC, "exec")           /* the image is replaced; detail: the path */\
	X(7, FORK, "fork")           /* pid is a child of fd2 */                  \
	X(8, DROP, "drop")           /* fd2 events lost between ts_ns and end_ns;\
					detail: why */                            \
	X(9, ERROR, "error")         /* an FD-creating command failed: -errno */  \
	X(10, CLOEXEC, "cloexec")    /* close_range(CLOSE_RANGE_CLOEXEC) on fd */ \
	X(11, NOTE, "note")          /* something limits what the recorder sees;\
					detail: a BPFLEAK_NOTES name */

enum bpfleak_op {
#define BPFLEAK_OP_ENUM(code, id, name) BPFLEAK_OP_##id = code,
	BPFLEAK_OPS(BPFLEAK_OP_ENUM)
#undef BPFLEAK_OP_ENUM
	BPFLEAK_OP_MAX
};

/* event.obj_kind, object.kind, snapshot_fd.kind, snapshot_pin.kind */
#define BPFLEAK_KINDS(X)                                                          \
	X(0, UNKNOWN, "unknown")                                                  \
	X(1, MAP, "map")                                                          \
	X(2, PROG, "prog")                                                        \
	X(3, LINK, "link")                                                        \
	X(4, BTF, "btf")                                                          \
	X(5, ITER, "iter")                                                        \
	X(6, TOKEN, "token")                                                      \
	X(7, STATS, "stats")

enum bpfleak_kind {
#define BPFLEAK_KIND_ENUM(code, id, name) BPFLEAK_KIND_##id = code,
	BPFLEAK_KINDS(BPFLEAK_KIND_ENUM)
#undef BPFLEAK_KIND_ENUM
	BPFLEAK_KIND_MAX
};

/*
 * NOTE events: what the recorder knows it could not see.  The report turns
 * each into a sentence and, when it matters, into exit status 3.
 */
#define BPFLEAK_NOTES(X)                                                          \
	X(IO_URING, "io_uring")      /* the process has an io_uring: closes    \
					through it are invisible */               \
	X(UNSHARE, "unshare")        /* thread fd2 unshared its FD table; its  \
					later FD operations are not recorded */   \
	X(GO, "go")                  /* a Go program: its raw syscalls bypass   \
					libc and the shim */                      \
	X(RESTART, "journal_restart") /* the journal file was moved or deleted; \
					events before ts_ns are in that file */   \
	X(NO_STACKS, "no_stacks")    /* stack capture was switched off */       \
	X(PRIVATE_MAIN, "private_main") /* the main thread's FD table differs   \
					from the one the shim tracks */           \
	X(SMALL_STACK, "small_stack") /* fd2 bpf() calls ran on a signal stack \
					too small to record them */               \
	X(CHILD, "child")            /* a child starts (fork, clone,            \
					posix_spawn) with copies of the FDs open  \
					now; it is journaled only if it touches   \
					a bpf FD, maybe much later */

enum bpfleak_note {
#define BPFLEAK_NOTE_ENUM(id, name) BPFLEAK_NOTE_##id,
	BPFLEAK_NOTES(BPFLEAK_NOTE_ENUM)
#undef BPFLEAK_NOTE_ENUM
	BPFLEAK_NOTE_MAX
};

/* event.flags bits */
enum bpfleak_event_flag {
	BPFLEAK_EF_CLOEXEC = 1 << 0,  /* the new FD has FD_CLOEXEC */
	BPFLEAK_EF_IMPLICIT = 1 << 1, /* close done by dup2/dup3 over the FD */
	BPFLEAK_EF_RANGE = 1 << 2,    /* close done by close_range/closefrom */
	BPFLEAK_EF_RACED = 1 << 3,    /* the FD number was reused before we noted the close */
	/*
	 * The close came right after a close of the number below it by the same
	 * thread: a close-everything sweep.  Its EBADF is not a double close.
	 */
	BPFLEAK_EF_SWEEP = 1 << 4,
	/*
	 * The system call ran while a snapshot of the FD table was being
	 * taken: the snapshot may or may not show its effect.
	 */
	BPFLEAK_EF_IN_SNAPSHOT = 1 << 5,
	/* A create whose FD the scan at the start of recording already listed. */
	BPFLEAK_EF_LISTED = 1 << 6,
	/* No stack: the call ran on an alternate signal stack or inside the shim. */
	BPFLEAK_EF_NO_STACK = 1 << 7,
	/* EXEC written by the image that called exec, before the call. */
	BPFLEAK_EF_BEFORE_EXEC = 1 << 8,
	/* A close made by a garbage collector's finalizer: Go's runtime.runfinq on its stack (kernel recorder). */
	BPFLEAK_EF_FINALIZER = 1 << 9,
};

/*
 * A stack that was cut: its ips hold the innermost frames, then
 * BPFLEAK_STACK_GAP, then the number of frames left out (0: unknown), then
 * the outermost frames.  A real return address is never 0.
 */
#define BPFLEAK_STACK_GAP 0

/* snapshot.reason */
#define BPFLEAK_SNAP_EXIT "exit"
#define BPFLEAK_SNAP_LIVE "live"

/*
 * bpf() commands: what each is called and the kind of FD it returns
 * (BPFLEAK_KIND_UNKNOWN: whatever the pin holds).  Keyed by <linux/bpf.h>'s
 * names; TOKEN_CREATE is newer than Debian 12's header.
 */
#define BPFLEAK_CMD_TOKEN_CREATE 36
#define BPFLEAK_CMD_MAX 64
struct bpfleak_cmd {
	const char *name;
	unsigned char creates_fd;
	unsigned char kind;
};
static const struct bpfleak_cmd bpfleak_cmds[BPFLEAK_CMD_MAX] = {
	[BPF_MAP_CREATE] = { "BPF_MAP_CREATE", 1, BPFLEAK_KIND_MAP },
	[BPF_MAP_LOOKUP_ELEM] = { "BPF_MAP_LOOKUP_ELEM", 0, 0 },
	[BPF_MAP_UPDATE_ELEM] = { "BPF_MAP_UPDATE_ELEM", 0, 0 },
	[BPF_MAP_DELETE_ELEM] = { "BPF_MAP_DELETE_ELEM", 0, 0 },
	[BPF_MAP_GET_NEXT_KEY] = { "BPF_MAP_GET_NEXT_KEY", 0, 0 },
	[BPF_PROG_LOAD] = { "BPF_PROG_LOAD", 1, BPFLEAK_KIND_PROG },
	[BPF_OBJ_PIN] = { "BPF_OBJ_PIN", 0, 0 },
	[BPF_OBJ_GET] = { "BPF_OBJ_GET", 1, BPFLEAK_KIND_UNKNOWN },
	[BPF_PROG_ATTACH] = { "BPF_PROG_ATTACH", 0, 0 },
	[BPF_PROG_DETACH] = { "BPF_PROG_DETACH", 0, 0 },
	[BPF_PROG_TEST_RUN] = { "BPF_PROG_TEST_RUN", 0, 0 },
	[BPF_PROG_GET_NEXT_ID] = { "BPF_PROG_GET_NEXT_ID", 0, 0 },
	[BPF_MAP_GET_NEXT_ID] = { "BPF_MAP_GET_NEXT_ID", 0, 0 },
	[BPF_PROG_GET_FD_BY_ID] = { "BPF_PROG_GET_FD_BY_ID", 1, BPFLEAK_KIND_PROG },
	[BPF_MAP_GET_FD_BY_ID] = { "BPF_MAP_GET_FD_BY_ID", 1, BPFLEAK_KIND_MAP },
	[BPF_OBJ_GET_INFO_BY_FD] = { "BPF_OBJ_GET_INFO_BY_FD", 0, 0 },
	[BPF_PROG_QUERY] = { "BPF_PROG_QUERY", 0, 0 },
	[BPF_RAW_TRACEPOINT_OPEN] = { "BPF_RAW_TRACEPOINT_OPEN", 1, BPFLEAK_KIND_LINK },
	[BPF_BTF_LOAD] = { "BPF_BTF_LOAD", 1, BPFLEAK_KIND_BTF },
	[BPF_BTF_GET_FD_BY_ID] = { "BPF_BTF_GET_FD_BY_ID", 1, BPFLEAK_KIND_BTF },
	[BPF_TASK_FD_QUERY] = { "BPF_TASK_FD_QUERY", 0, 0 },
	[BPF_MAP_LOOKUP_AND_DELETE_ELEM] = { "BPF_MAP_LOOKUP_AND_DELETE_ELEM", 0, 0 },
	[BPF_MAP_FREEZE] = { "BPF_MAP_FREEZE", 0, 0 },
	[BPF_BTF_GET_NEXT_ID] = { "BPF_BTF_GET_NEXT_ID", 0, 0 },
	[BPF_MAP_LOOKUP_BATCH] = { "BPF_MAP_LOOKUP_BATCH", 0, 0 },
	[BPF_MAP_LOOKUP_AND_DELETE_BATCH] = { "BPF_MAP_LOOKUP_AND_DELETE_BATCH", 0, 0 },
	[BPF_MAP_UPDATE_BATCH] = { "BPF_MAP_UPDATE_BATCH", 0, 0 },
	[BPF_MAP_DELETE_BATCH] = { "BPF_MAP_DELETE_BATCH", 0, 0 },
	[BPF_LINK_CREATE] = { "BPF_LINK_CREATE", 1, BPFLEAK_KIND_LINK },
	[BPF_LINK_UPDATE] = { "BPF_LINK_UPDATE", 0, 0 },
	[BPF_LINK_GET_FD_BY_ID] = { "BPF_LINK_GET_FD_BY_ID", 1, BPFLEAK_KIND_LINK },
	[BPF_LINK_GET_NEXT_ID] = { "BPF_LINK_GET_NEXT_ID", 0, 0 },
	[BPF_ENABLE_STATS] = { "BPF_ENABLE_STATS", 1, BPFLEAK_KIND_STATS },
	[BPF_ITER_CREATE] = { "BPF_ITER_CREATE", 1, BPFLEAK_KIND_ITER },
	[BPF_LINK_DETACH] = { "BPF_LINK_DETACH", 0, 0 },
	[BPF_PROG_BIND_MAP] = { "BPF_PROG_BIND_MAP", 0, 0 },
	[BPFLEAK_CMD_TOKEN_CREATE] = { "BPF_TOKEN_CREATE", 1, BPFLEAK_KIND_TOKEN },
};

/*
 * The DDL.  Integers rather than strings in `event` keep a row near 30-40
 * bytes; the *_name tables and the event_v view give sqlite3 users names.
 * Object type/name live once per kernel object in `object`, not per event.
 * The name tables are filled by the writer (common/journal_writer.c) from
 * the X-macro lists above, so there is one list of codes.
 *
 * lifetime_fold: a long run's balanced churn.  A create and the close that
 * ended it, both older than the recorder's fold age, may leave `event` and
 * be counted here instead (common/journal_fold.c says which pairs qualify:
 * never an open FD, nothing a finding could need).  meta keys fold_age_ns
 * and fold_interval_ns say how; folded_pairs counts them all.
 */
#define BPFLEAK_SCHEMA_SQL \
"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;\n" \
"CREATE TABLE IF NOT EXISTS process(\n" \
"  id INTEGER PRIMARY KEY,      -- one row per process image\n" \
"  pid INTEGER NOT NULL, ppid INTEGER, exe TEXT, cmdline TEXT, boot_id TEXT,\n" \
"  start_ticks INTEGER,         -- /proc/PID/stat starttime: tells exec from pid reuse\n" \
"  origin TEXT,                 -- start | fork | exec | attach\n" \
"  started_ns INTEGER,          -- CLOCK_MONOTONIC\n" \
"  realtime_base_ns INTEGER,    -- CLOCK_REALTIME - CLOCK_MONOTONIC at start\n" \
"  exited_ns INTEGER, exit_status INTEGER,\n" \
"  flushed_ns INTEGER,          -- everything the recorder saw up to here is written\n" \
"  recorder TEXT,               -- preload | kernel\n" \
"  ns_pid INTEGER);             -- the pid inside the process's own pid namespace\n" \
"CREATE INDEX IF NOT EXISTS process_pid ON process(pid);\n" \
"CREATE TABLE IF NOT EXISTS module(\n" \
"  id INTEGER PRIMARY KEY, pid INTEGER NOT NULL,\n" \
"  ts_ns INTEGER,               -- mapped no later than this (and after the\n" \
"                               -- previous look at the module list)\n" \
"  path TEXT, build_id TEXT,   -- build_id: hex of NT_GNU_BUILD_ID\n" \
"  base INTEGER,               -- load bias (dlpi_addr): ip - base = ELF vaddr\n" \
"  size INTEGER,               -- end of the highest PT_LOAD, from base\n" \
"  file_size INTEGER, mtime_ns INTEGER, -- the file as it was: tells a rebuilt\n" \
"                               -- binary without build-id from the recorded one\n" \
"  unloaded_ns INTEGER);        -- dlclose'd at this time\n" \
"CREATE INDEX IF NOT EXISTS module_pid ON module(pid);\n" \
"CREATE TABLE IF NOT EXISTS stack(\n" \
"  id INTEGER PRIMARY KEY, hash INTEGER NOT NULL UNIQUE,\n" \
"  depth INTEGER NOT NULL, ips BLOB NOT NULL);  -- native-endian uint64 IPs, innermost first\n" \
"CREATE TABLE IF NOT EXISTS frame(\n" \
"  module_key TEXT NOT NULL,    -- build_id, or path when there is none\n" \
"  offset INTEGER NOT NULL,     -- ip - module base\n" \
"  inline_depth INTEGER NOT NULL, function TEXT, file TEXT, line INTEGER,\n" \
"  PRIMARY KEY(module_key, offset, inline_depth)) WITHOUT ROWID;\n" \
"CREATE TABLE IF NOT EXISTS object(\n" \
"  kind INTEGER NOT NULL, id INTEGER NOT NULL, type INTEGER, name TEXT,\n" \
"  key_size INTEGER, value_size INTEGER, max_entries INTEGER, flags INTEGER,\n" \
"  tag TEXT, prog_id INTEGER, first_seen_ns INTEGER,\n" \
"  PRIMARY KEY(kind, id)) WITHOUT ROWID;\n" \
"CREATE TABLE IF NOT EXISTS event(\n" \
"  seq INTEGER PRIMARY KEY, ts_ns INTEGER NOT NULL, pid INTEGER NOT NULL,\n" \
"  tid INTEGER, op INTEGER NOT NULL, fd INTEGER, fd2 INTEGER, cmd INTEGER,\n" \
"  obj_kind INTEGER, obj_id INTEGER, stack_id INTEGER, result INTEGER,\n" \
"  flags INTEGER, detail TEXT,\n" \
"  end_ns INTEGER);             -- drop: the end of the gap\n" \
"CREATE TABLE IF NOT EXISTS lifetime_fold(\n" \
"  pid INTEGER NOT NULL, stack_id INTEGER NOT NULL,  -- the create's; 0: none\n" \
"  cmd INTEGER NOT NULL, obj_kind INTEGER NOT NULL,\n" \
"  interval_ns INTEGER NOT NULL, -- the creates were made in [interval_ns,\n" \
"                               -- interval_ns + meta fold_interval_ns)\n" \
"  count INTEGER NOT NULL,      -- create/close pairs folded into this row\n" \
"  min_life_ns INTEGER NOT NULL, max_life_ns INTEGER NOT NULL,\n" \
"  first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, -- first and last create\n" \
"  PRIMARY KEY(pid, stack_id, cmd, obj_kind, interval_ns)) WITHOUT ROWID;\n" \
"CREATE TABLE IF NOT EXISTS snapshot(\n" \
"  id INTEGER PRIMARY KEY, pid INTEGER NOT NULL,\n" \
"  ts_ns INTEGER,               -- the scan of the FD table began\n" \
"  reason TEXT,                 -- exit | live\n" \
"  end_ns INTEGER,              -- and ended\n" \
"  pins_walked INTEGER,         -- 1: every bpffs was walked (0 pins means none)\n" \
"  mounts INTEGER);             -- bpffs mounts walked\n" \
"CREATE TABLE IF NOT EXISTS snapshot_fd(\n" \
"  snapshot_id INTEGER NOT NULL, fd INTEGER NOT NULL, kind INTEGER,\n" \
"  obj_id INTEGER, target TEXT, cloexec INTEGER, fdinfo TEXT,\n" \
"  PRIMARY KEY(snapshot_id, fd)) WITHOUT ROWID;\n" \
"CREATE TABLE IF NOT EXISTS snapshot_pin(\n" \
"  snapshot_id INTEGER NOT NULL, path TEXT NOT NULL, kind INTEGER,\n" \
"  obj_id INTEGER, name TEXT, error INTEGER);   -- error: errno when unreadable\n" \
"CREATE TABLE IF NOT EXISTS op_name(op INTEGER PRIMARY KEY, name TEXT);\n" \
"CREATE TABLE IF NOT EXISTS kind_name(kind INTEGER PRIMARY KEY, name TEXT);\n" \
"CREATE TABLE IF NOT EXISTS cmd_name(cmd INTEGER PRIMARY KEY, name TEXT);\n" \
"CREATE VIEW IF NOT EXISTS event_v AS\n" \
"  SELECT e.seq, e.ts_ns, e.ts_ns + p.realtime_base_ns AS wall_ns, e.pid,\n" \
"         e.tid, o.name AS op, e.fd, e.fd2, c.name AS cmd, k.name AS kind, e.obj_id,\n" \
"         ob.type AS obj_type, ob.name AS obj_name, e.stack_id, e.result,\n" \
"         e.flags, e.detail, e.end_ns\n" \
"  FROM event e LEFT JOIN op_name o ON o.op = e.op\n" \
"  LEFT JOIN kind_name k ON k.kind = e.obj_kind\n" \
"  LEFT JOIN cmd_name c ON c.cmd = e.cmd\n" \
"  LEFT JOIN object ob ON ob.kind = e.obj_kind AND ob.id = e.obj_id\n" \
"  LEFT JOIN process p ON p.id = (SELECT max(id) FROM process q\n" \
"       WHERE q.pid = e.pid AND q.started_ns <= e.ts_ns);\n"

static inline const char *bpfleak_kind_name(int kind)
{
	static const char *const names[BPFLEAK_KIND_MAX] = {
#define BPFLEAK_KIND_NAME(code, id, name) [code] = name,
		BPFLEAK_KINDS(BPFLEAK_KIND_NAME)
#undef BPFLEAK_KIND_NAME
	};
	return kind >= 0 && kind < BPFLEAK_KIND_MAX ? names[kind] : "unknown";
}

static inline const char *bpfleak_op_name(int op)
{
	static const char *const names[BPFLEAK_OP_MAX] = {
#define BPFLEAK_OP_NAME(code, id, name) [code] = name,
		BPFLEAK_OPS(BPFLEAK_OP_NAME)
#undef BPFLEAK_OP_NAME
	};
	return op > 0 && op < BPFLEAK_OP_MAX ? names[op] : "?";
}

static inline const char *bpfleak_note_name(int note)
{
	static const char *const names[BPFLEAK_NOTE_MAX] = {
#define BPFLEAK_NOTE_NAME(id, name) [BPFLEAK_NOTE_##id] = name,
		BPFLEAK_NOTES(BPFLEAK_NOTE_NAME)
#undef BPFLEAK_NOTE_NAME
	};
	return note >= 0 && note < BPFLEAK_NOTE_MAX ? names[note] : "?";
}

/* The kernel's name of a bpf() command, or NULL. */
static inline const char *bpfleak_cmd_name(int cmd)
{
	return cmd >= 0 && cmd < BPFLEAK_CMD_MAX ? bpfleak_cmds[cmd].name : (const char *)0;
}

#endif
