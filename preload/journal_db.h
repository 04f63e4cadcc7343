/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Row writers for the journal; used only by the writer (writer.c). */
#ifndef BPFLEAK_JOURNAL_DB_H
#define BPFLEAK_JOURNAL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <bpfleak/objinfo.h>

struct sqlite3;
struct sqlite3_stmt;
struct bpfleak_snapshot;

enum { JDB_INS_EVENT, JDB_INS_STACK, JDB_GET_STACK, JDB_INS_OBJECT, JDB_INS_MODULE, JDB_N_STMTS };

struct jdb {
	struct sqlite3 *db;
	struct sqlite3_stmt *st[JDB_N_STMTS];
};

/* An event as it goes into the `event` table. */
struct jdb_event {
	uint64_t ts_ns;
	int pid, tid, op;
	bool has_fd, has_fd2;
	int fd, fd2, cmd, kind;
	uint32_t obj_id;
	int64_t stack_id;
	int result;
	int flags;
	const char *detail;
};

struct jdb_process {
	pid_t pid, ppid;
	const char *exe, *cmdline, *boot_id, *origin;
	uint64_t start_ticks, started_ns;
	int64_t realtime_base_ns;
};

int jdb_open(struct jdb *j, const char *path, char *err, size_t errcap);
void jdb_close(struct jdb *j);
int jdb_exec(struct jdb *j, const char *sql);
const char *jdb_errmsg(struct jdb *j);

int64_t jdb_stack_id(struct jdb *j, uint64_t hash, const uintptr_t *ips, uint32_t depth);
int jdb_object(struct jdb *j, const struct bpfleak_obj_info *o, uint64_t first_seen_ns);
struct module_info;
int jdb_module(struct jdb *j, pid_t pid, const struct module_info *m);
int jdb_event(struct jdb *j, const struct jdb_event *e);
int64_t jdb_process_insert(struct jdb *j, const struct jdb_process *p);
int64_t jdb_process_find_exec(struct jdb *j, pid_t pid, uint64_t start_ticks, const char *boot_id);
int jdb_process_exited(struct jdb *j, int64_t row, uint64_t ts, bool have_status, int status);
int jdb_snapshot(struct jdb *j, const struct bpfleak_snapshot *s, uint64_t ts, const char *reason);

#endif
