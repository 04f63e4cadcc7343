// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Opening a journal and closing it.  Everything that can be wrong with the
 * file itself (missing, empty, not SQLite, another application's database,
 * a newer schema, truncated) is said here, in one line, before any row is
 * read.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpfleak/sqlquery.h>
#include "analyzer.h"

#define SQLITE_MAGIC "SQLite format 3"

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What the file itself says, before sqlite sees it. */
static int check_header(const char *path, char *err, size_t errlen)
{
	unsigned char h[100];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	ssize_t n = st.st_size ? read(fd, h, sizeof(h)) : 0;
	close(fd);
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file, not a bpfleak journal", path);
		return -1;
	}
	if (n < 16 || memcmp(h, SQLITE_MAGIC, 16) != 0) {
		snprintf(err, errlen, "%s: not a bpfleak journal (not an SQLite database)", path);
		return -1;
	}
	if (n < (ssize_t)sizeof(h)) {
		snprintf(err, errlen, "%s: truncated journal (%zd bytes)", path, n);
		return -1;
	}
	uint32_t page = (uint32_t)h[16] << 8 | h[17];
	if (page == 1)
		page = 65536;
	uint32_t pages = be32(h + 28);
	/*
	 * The in-header size is only authoritative when these two agree, and
	 * when no WAL holds newer pages: a writer killed in the middle of a
	 * checkpoint leaves the main file shorter than its header says, and the
	 * WAL makes it whole.
	 */
	char wal[PATH_MAX];
	struct stat wst;
	bool wal_has_pages = snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) &&
			     stat(wal, &wst) == 0 && wst.st_size > 0;
	if (pages && !wal_has_pages && be32(h + 24) == be32(h + 92) &&
	    (uint64_t)page * pages > (uint64_t)st.st_size) {
		snprintf(err, errlen, "%s: truncated journal (%lld of %llu bytes)", path,
			 (long long)st.st_size, (unsigned long long)page * pages);
		return -1;
	}
	return 0;
}

void journal_sql_error(struct model *m, int rc, char *err, size_t errlen)
{
	if (rc == SQLITE_NOTADB)
		snprintf(err, errlen, "%s: not a bpfleak journal (not an SQLite database)", m->path);
	else if (rc == SQLITE_CORRUPT || rc == SQLITE_IOERR_SHORT_READ || (rc & 0xff) == SQLITE_CORRUPT)
		snprintf(err, errlen, "%s: journal is damaged or truncated (%s)", m->path,
			 sqlite3_errmsg(m->db));
	else
		snprintf(err, errlen, "%s: cannot read journal: %s", m->path, sqlite3_errmsg(m->db));
}

/* "file:PATH?immutable=1", PATH escaped as a URI path. */
static char *immutable_uri(const char *path)
{
	size_t n = strlen(path);
	char *uri = xmalloc(n * 3 + 32), *o = uri;
	o += sprintf(o, "file:");
	for (const char *c = path; *c; c++) {
		unsigned char ch = (unsigned char)*c;
		if (ch == '%' || ch == '?' || ch == '#' || ch < 0x21 || ch >= 0x7f)
			o += sprintf(o, "%%%02X", ch);
		else
			*o++ = (char)ch;
	}
	strcpy(o, "?immutable=1");
	return uri;
}

static int open_db(struct model *m, const char *name, int flags, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(name, &m->db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open journal: %s", m->path,
			 m->db ? sqlite3_errmsg(m->db) : sqlite3_errstr(rc));
		return -1;
	}
	/* A live target may be committing a batch: wait rather than fail. */
	sqlite3_busy_timeout(m->db, 5000);
	return 0;
}

/*
 * A read-only open of a WAL journal still needs to create PATH-shm, which
 * fails on read-only media and for a user who cannot write the directory.
 * A finished journal can then be read as immutable; a WAL left beside it
 * (a writer that never checkpointed) is not read that way, so say so.
 */
static int reopen_immutable(struct model *m, char *err, size_t errlen)
{
	char wal[PATH_MAX];
	struct stat st;
	sqlite3_close(m->db);
	m->db = NULL;
	char *uri = immutable_uri(m->path);
	int rc = open_db(m, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err, errlen);
	free(uri);
	if (rc < 0)
		return -1;
	if (snprintf(wal, sizeof(wal), "%s-wal", m->path) < (int)sizeof(wal) &&
	    stat(wal, &st) == 0 && st.st_size > 0) {
		m->wal_unread = 1;
		model_warn(m, "%s could not be read (the journal is read-only here and its "
			   "writer did not finish): the last batches may be missing", wal);
	}
	return 0;
}

int journal_open(struct model *m, const char *path, int writable, char *err, size_t errlen)
{
	long long appid = 0, version = 0;
	int rc;

	m->path = path;
	m->writable = writable;
	if (check_header(path, err, errlen) < 0)
		return -1;
	if (open_db(m, path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, err,
		    errlen) < 0)
		return -1;
	rc = bpfleak_sql_int64(m->db, "PRAGMA application_id", &appid);
	if (rc != SQLITE_OK && !writable && rc != SQLITE_NOTADB && (rc & 0xff) != SQLITE_CORRUPT &&
	    (rc & 0xff) != SQLITE_BUSY) {
		if (reopen_immutable(m, err, errlen) < 0)
			return -1;
		rc = bpfleak_sql_int64(m->db, "PRAGMA application_id", &appid);
	}
	if (rc != SQLITE_OK) {
		journal_sql_error(m, rc, err, errlen);
		return -1;
	}
	if (appid != BPFLEAK_APPLICATION_ID) {
		snprintf(err, errlen, "%s: not a bpfleak journal (sqlite application_id 0x%llx)",
			 path, appid);
		return -1;
	}
	if ((rc = bpfleak_sql_int64(m->db, "PRAGMA user_version", &version)) != SQLITE_OK) {
		journal_sql_error(m, rc, err, errlen);
		return -1;
	}
	if (version > BPFLEAK_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "%s: journal schema version %lld is newer than this bpfleak-report (%d); "
			 "use a newer bpfleak-report", path, version, BPFLEAK_SCHEMA_VERSION);
		return -1;
	}
	m->schema_version = (int)version;
	return 0;
}

/*
 * Outside any transaction, so each call sees the latest commit: --pid
 * polls this until the target says it has written everything up to the
 * live snapshot.
 */
int64_t journal_flushed_ns(struct model *m, int pid)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(m->db, "SELECT flushed_ns FROM process WHERE pid = ?"
			       " ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, pid);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void journal_close(struct model *m)
{
	sqlite3_finalize(m->st_stack);
	sqlite3_finalize(m->st_frame);
	m->st_stack = m->st_frame = NULL;
	if (m->db)
		sqlite3_close(m->db);
	m->db = NULL;
}
