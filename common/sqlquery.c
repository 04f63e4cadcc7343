// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <stddef.h>
#include <bpfleak/sqlquery.h>

int bpfleak_sql_int64(sqlite3 *db, const char *sql, long long *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;   /* no row, as the header says: *out untouched */
	}
	sqlite3_finalize(st);
	return rc;
}
