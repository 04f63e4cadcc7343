/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The bpfleak journal: one sqlite file that the shim (libbpfleak.so) appends
 * to and bpfleak-report reads.  This header is the only place the schema is
 * written down; both sides include it, and the README documents it.
 *
 * Versioning: PRAGMA user_version holds BPFLEAK_SCHEMA_VERSION.  A reader
 * refuses a file whose version is newer than the one it was built with; the
 * application_id marks the file as a bpfleak journal so a foreign sqlite
 * database is told apart from an old journal.
 */
#ifndef BPFLEAK_JOURNAL_H
#define BPFLEAK_JOURNAL_H

#define BPFLEAK_SCHEMA_VERSION 1
/* "BPFL" as a big-endian 32-bit integer, stored in PRAGMA application_id. */
#define BPFLEAK_APPLICATION_ID 0x4250464c

/* event.op */
enum bpfleak_op {
	BPFLEAK_OP_CREATE = 1,    /* a bpf() command returned a new FD */
	BPFLEAK_OP_DUP = 2,       /* fd is a copy of fd2 (dup, dup2, dup3, F_DUPFD*) */
	BPFLEAK_OP_CLOSE = 3,     /* a tracked FD was closed; result -EBADF = not open */
	BPFLEAK_OP_PIN = 4,       /* BPF_OBJ_PIN of fd at path detail */
	BPFLEAK_OP_INHERITED = 5, /* open at start of image / fork child; no stack */
	BPFLEAK_OP_EXEC = 6,      /* this pid replaced its image; detail = new exe */
	BPFLEAK_OP_FORK = 7,      /* pid is a child of fd2 (the parent pid) */
	BPFLEAK_OP_DROP = 8,      /* fd2 events were lost: the queue was full */
	BPFLEAK_OP_ERROR = 9,     /* an FD-creating bpf command failed; result -errno */
	BPFLEAK_OP_CLOEXEC = 10,  /* close_range(CLOSE_RANGE_CLOEXEC) marked fd */
};

/* event.obj_kind, object.kind, snapshot_fd.kind, snapshot_pin.kind */
enum bpfleak_kind {
	BPFLEAK_KIND_UNKNOWN = 0,
	BPFLEAK_KIND_MAP = 1,
	BPFLEAK_KIND_PROG = 2,
	BPFLEAK_KIND_LINK = 3,
	BPFLEAK_KIND_BTF = 4,
	BPFLEAK_KIND_ITER = 5,
	BPFLEAK_KIND_TOKEN = 6,
	BPFLEAK_KIND_STATS = 7,
	BPFLEAK_KIND_MAX = 8,
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
};

/*
 * The DDL.  Integers rather than strings in `event` keep a row near 30-40
 * bytes; the *_name tables and the event_v view give sqlite3 users names.
 * Object type/name live once per kernel object in `object`, not per event.
 */
#define BPFLEAK_SCHEMA_SQL \
"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;\n" \
"CREATE TABLE IF NOT EXISTS process(\n" \
"  id INTEGER PRIMARY KEY,      -- one row per process image\n" \
"  pid INTEGER NOT NULL, ppid INTEGER, exe TEXT, cmdline TEXT, boot_id TEXT,\n" \
"  start_ticks INTEGER,         -- /proc/PID/stat starttime: tells exec from pid reuse\n" \
"  origin TEXT,                 -- start | fork | exec\n" \
"  started_ns INTEGER,          -- CLOCK_MONOTONIC\n" \
"  realtime_base_ns INTEGER,    -- CLOCK_REALTIME - CLOCK_MONOTONIC at start\n" \
"  exited_ns INTEGER, exit_status INTEGER);\n" \
"CREATE INDEX IF NOT EXISTS process_pid ON process(pid);\n" \
"CREATE TABLE IF NOT EXISTS module(\n" \
"  id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, ts_ns INTEGER,\n" \
"  path TEXT, build_id TEXT,   -- build_id: hex of NT_GNU_BUILD_ID\n" \
"  base INTEGER,               -- load bias (dlpi_addr): ip - base = ELF vaddr\n" \
"  size INTEGER,               -- end of the highest PT_LOAD, from base\n" \
"  file_size INTEGER, mtime_ns INTEGER); -- the file as it was: tells a rebuilt\n" \
"                               -- binary without build-id from the recorded one\n" \
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
"  flags INTEGER, detail TEXT);\n" \
"CREATE TABLE IF NOT EXISTS snapshot(\n" \
"  id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, ts_ns INTEGER, reason TEXT);\n" \
"CREATE TABLE IF NOT EXISTS snapshot_fd(\n" \
"  snapshot_id INTEGER NOT NULL, fd INTEGER NOT NULL, kind INTEGER,\n" \
"  obj_id INTEGER, target TEXT, cloexec INTEGER, fdinfo TEXT,\n" \
"  PRIMARY KEY(snapshot_id, fd)) WITHOUT ROWID;\n" \
"CREATE TABLE IF NOT EXISTS snapshot_pin(\n" \
"  snapshot_id INTEGER NOT NULL, path TEXT NOT NULL, kind INTEGER,\n" \
"  obj_id INTEGER, name TEXT, error INTEGER);   -- error: errno when unreadable\n" \
"CREATE TABLE IF NOT EXISTS op_name(op INTEGER PRIMARY KEY, name TEXT);\n" \
"INSERT OR IGNORE INTO op_name VALUES (1,'create'),(2,'dup'),(3,'close'),\n" \
"  (4,'pin'),(5,'inherited'),(6,'exec'),(7,'fork'),(8,'drop'),(9,'error'),\n" \
"  (10,'cloexec');\n" \
"CREATE TABLE IF NOT EXISTS kind_name(kind INTEGER PRIMARY KEY, name TEXT);\n" \
"INSERT OR IGNORE INTO kind_name VALUES (0,'unknown'),(1,'map'),(2,'prog'),\n" \
"  (3,'link'),(4,'btf'),(5,'iter'),(6,'token'),(7,'stats');\n" \
"CREATE VIEW IF NOT EXISTS event_v AS\n" \
"  SELECT e.seq, e.ts_ns, e.ts_ns + p.realtime_base_ns AS wall_ns, e.pid,\n" \
"         e.tid, o.name AS op, e.fd, e.fd2, e.cmd, k.name AS kind, e.obj_id,\n" \
"         ob.type AS obj_type, ob.name AS obj_name, e.stack_id, e.result,\n" \
"         e.flags, e.detail\n" \
"  FROM event e LEFT JOIN op_name o ON o.op = e.op\n" \
"  LEFT JOIN kind_name k ON k.kind = e.obj_kind\n" \
"  LEFT JOIN object ob ON ob.kind = e.obj_kind AND ob.id = e.obj_id\n" \
"  LEFT JOIN process p ON p.id = (SELECT max(id) FROM process q\n" \
"       WHERE q.pid = e.pid AND q.started_ns <= e.ts_ns);\n"

static inline const char *bpfleak_kind_name(int kind)
{
	static const char *const names[BPFLEAK_KIND_MAX] = {
		"unknown", "map", "prog", "link", "btf", "iter", "token", "stats",
	};
	return kind >= 0 && kind < BPFLEAK_KIND_MAX ? names[kind] : "unknown";
}

static inline const char *bpfleak_op_name(int op)
{
	static const char *const names[] = {
		"?", "create", "dup", "close", "pin", "inherited",
		"exec", "fork", "drop", "error", "cloexec",
	};
	return op > 0 && op < (int)(sizeof(names) / sizeof(names[0])) ? names[op] : "?";
}

#endif
