/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* One-value queries on a journal, shared by the shim and the analyzer. */
#ifndef BPFLEAK_SQLQUERY_H
#define BPFLEAK_SQLQUERY_H

#include <sqlite3.h>

/* Run sql (a PRAGMA or a SELECT of one value) and store its first column.
 * Returns SQLITE_OK, or the sqlite error; *out is untouched when no row. */
int bpfleak_sql_int64(sqlite3 *db, const char *sql, long long *out);

#endif
