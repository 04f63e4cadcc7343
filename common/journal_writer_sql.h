/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Statement helpers the journal writer's files share (journal_writer*.c only). */
#ifndef BPFLEAK_JOURNAL_WRITER_SQL_H
#define BPFLEAK_JOURNAL_WRITER_SQL_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

/* Run a prepared statement to completion and reset it: SQLITE_OK or the error. */
int jw_sql_run(sqlite3_stmt *st);
/* NULL unless present / unless s is a non-empty string. */
void jw_sql_bind_opt_int(sqlite3_stmt *st, int idx, bool present, int64_t v);
void jw_sql_bind_opt_text(sqlite3_stmt *st, int idx, const char *s);
/* One-shot statement: prepare, bind through fn, run, finalize. */
int jw_sql_once(sqlite3 *db, const char *sql, void (*bind)(sqlite3_stmt *, const void *),
		const void *arg);

#endif
