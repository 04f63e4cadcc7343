/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Test helper: build synthetic journals in a temp dir through the one
 * journal writer (common/journal_writer.c), run bpfleak-report in-process
 * on them, and query its JSON output with sqlite's JSON functions.  Tests
 * that need a journal no recorder writes (damaged, old, lying) change it
 * with jb_sql.
 */
#ifndef BPFLEAK_JBUILD_H
#define BPFLEAK_JBUILD_H

#include <stdint.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include "analyzer.h"
#include "journal_writer.h"

/* A row written earlier that a later call changes. */
struct jb_row {
	int pid;
	char *path;      /* modules: the path; processes: NULL */
	int64_t row;
};

struct jb {
	struct jw jw;
	bool open;
	char dir[256];
	char path[320];
	int64_t ts;      /* next event time; each event advances it by step */
	int64_t step;
	struct jb_row *rows;
	size_t n_rows;
};

void jb_init(struct jb *j);
void jb_done(struct jb *j);      /* commit and close the db (idempotent) */
void jb_cleanup(struct jb *j);   /* remove the temp dir */
void jb_sql(struct jb *j, const char *sql);

void jb_process(struct jb *j, int pid, int ppid, const char *exe, const char *origin, int exited);
int64_t jb_stack(struct jb *j, const uint64_t *ips, int n);
int64_t jb_stack1(struct jb *j, uint64_t ip);
void jb_module(struct jb *j, int pid, int64_t ts, const char *path, const char *build_id,
	       uint64_t base, uint64_t size);
void jb_object(struct jb *j, int kind, uint32_t id, int type, const char *name, uint32_t prog_id);

void jb_ev(struct jb *j, int pid, int op, int fd, int fd2, int cmd, int kind, uint32_t id,
	   int64_t stack, int result, int flags, const char *detail);
void jb_create(struct jb *j, int pid, int fd, int kind, uint32_t id, int64_t stack);
void jb_dup(struct jb *j, int pid, int fd, int src, int kind, uint32_t id, int64_t stack);
void jb_close(struct jb *j, int pid, int fd, int kind, uint32_t id, int result, int64_t stack);
void jb_inherited(struct jb *j, int pid, int fd, int kind, uint32_t id, const char *why);

/* An exit snapshot at j->ts whose scan took no time, pins walked. */
int64_t jb_snapshot(struct jb *j, int pid);
/* An exit snapshot whose scan ran from ts to end_ns. */
int64_t jb_snapshot_ex(struct jb *j, int pid, int64_t ts, int64_t end_ns, bool pins_walked);
/* NOTE event (a BPFLEAK_NOTES name) at j->ts. */
void jb_note(struct jb *j, int pid, const char *note, int fd2);
/* DROP: lost events between start and end (end < 0: NULL), why (NULL ok). */
void jb_drop(struct jb *j, int pid, int lost, int64_t start, int64_t end, const char *why);
/* pid's latest process row says everything up to ts is written. */
void jb_process_flushed(struct jb *j, int pid, int64_t ts);
/* The module row of pid at path was dlclose'd at ts. */
void jb_module_unload(struct jb *j, int pid, const char *path, int64_t ts);
void jb_snap_fd(struct jb *j, int64_t snap, int fd, int kind, uint32_t id);
void jb_snap_pin(struct jb *j, int64_t snap, const char *path, int kind, uint32_t id);

/* Run the report on the journal: args (NULL-terminated) then the path. */
struct run {
	int rc;
	char *out;
	char *err;
};
void jb_report(struct jb *j, struct run *r, ...);
void run_free(struct run *r);

/* One value (as text) of a SQL query where ?1 is the JSON text. */
char *jq(const char *json, const char *sql);
long jq_long(const char *json, const char *sql);
/* Sorted "class@SITE:count" lines, SITE = first frame's ip or '-'. */
char *jb_sites(const char *json);
/* Lines in a text. */
int count_lines(const char *s);

/* Load + replay + reconcile, as report_main does, for direct classify_* tests; then free it. */
void jb_model(struct jb *j, struct model *m);
void jb_model_free(struct model *m);

#endif
