// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The snapshot rows (snapshot, snapshot_fd, snapshot_pin) and stored
 * frames of a journal: rows written once per exit or live snapshot, apart
 * from the per-event writers in journal_writer.c.
 */
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "journal_writer.h"
#include "journal_writer_sql.h"

struct snap_args {
	pid_t pid;
	int n_mounts;
	const struct jw_snapshot_info *info;
};

static void bind_snapshot(sqlite3_stmt *st, const void *arg)
{
	const struct snap_args *a = arg;
	sqlite3_bind_int(st, 1, a->pid);
	sqlite3_bind_int64(st, 2, (int64_t)a->info->ts_ns);
	sqlite3_bind_text(st, 3, a->info->reason, -1, SQLITE_STATIC);
	jw_sql_bind_opt_int(st, 4, a->info->end_ns != 0, (int64_t)a->info->end_ns);
	sqlite3_bind_int(st, 5, a->info->pins_walked);
	sqlite3_bind_int(st, 6, a->n_mounts);
}

int64_t jw_snapshot_begin(struct jw *j, pid_t pid, int n_mounts, const struct jw_snapshot_info *info)
{
	struct snap_args args = { pid, n_mounts, info };
	int rc = jw_sql_once(j->db, "INSERT INTO snapshot(pid, ts_ns, reason, end_ns, pins_walked, mounts)"
			     " VALUES (?,?,?,?,?,?)", bind_snapshot, &args);
	return rc == SQLITE_OK ? sqlite3_last_insert_rowid(j->db) : -1;
}

static const char snap_fd_sql[] = "INSERT OR REPLACE INTO snapshot_fd(snapshot_id, fd, kind,"
				  " obj_id, target, cloexec, fdinfo) VALUES (?,?,?,?,?,?,?)";
static const char snap_pin_sql[] = "INSERT INTO snapshot_pin(snapshot_id, path, kind, obj_id,"
				   " name, error) VALUES (?,?,?,?,?,?)";

static int write_snap_fd(sqlite3_stmt *st, int64_t id, const struct bpfleak_snap_fd *f)
{
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, f->fd);
	sqlite3_bind_int(st, 3, f->kind);
	jw_sql_bind_opt_int(st, 4, f->obj_id != 0, f->obj_id);
	sqlite3_bind_text(st, 5, f->target, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, f->cloexec);
	sqlite3_bind_text(st, 7, f->fdinfo, -1, SQLITE_STATIC);
	return jw_sql_run(st);
}

static int write_snap_pin(sqlite3_stmt *st, int64_t id, const struct bpfleak_snap_pin *p)
{
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, p->path, -1, SQLITE_STATIC);
	jw_sql_bind_opt_int(st, 3, p->error == 0, p->kind);
	jw_sql_bind_opt_int(st, 4, p->error == 0, p->obj_id);
	if (p->name[0])
		sqlite3_bind_text(st, 5, p->name, (int)strnlen(p->name, sizeof(p->name)),
				  SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 5);
	jw_sql_bind_opt_int(st, 6, p->error != 0, p->error);
	return jw_sql_run(st);
}

int jw_snapshot_fd(struct jw *j, int64_t snapshot_id, const struct bpfleak_snap_fd *f)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db, snap_fd_sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = write_snap_fd(st, snapshot_id, f);
	sqlite3_finalize(st);
	return rc;
}

int jw_snapshot_pin(struct jw *j, int64_t snapshot_id, const struct bpfleak_snap_pin *p)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(j->db, snap_pin_sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = write_snap_pin(st, snapshot_id, p);
	sqlite3_finalize(st);
	return rc;
}

int jw_snapshot(struct jw *j, const struct bpfleak_snapshot *s, const struct jw_snapshot_info *info)
{
	int64_t id = jw_snapshot_begin(j, s->pid, s->n_mounts, info);
	if (id < 0)
		return jw_errcode(j);
	sqlite3_stmt *fd = NULL, *pin = NULL;
	int rc = sqlite3_prepare_v2(j->db, snap_fd_sql, -1, &fd, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(j->db, snap_pin_sql, -1, &pin, NULL);
	for (size_t i = 0; i < s->n_fds && rc == SQLITE_OK; i++)
		rc = write_snap_fd(fd, id, &s->fds[i]);
	for (size_t i = 0; i < s->n_pins && rc == SQLITE_OK; i++)
		rc = write_snap_pin(pin, id, &s->pins[i]);
	sqlite3_finalize(fd);
	sqlite3_finalize(pin);
	return rc;
}

struct frame_args {
	const char *key;
	uint64_t offset;
	int depth;
	const char *function, *file;
	int line;
};

static void bind_frame(sqlite3_stmt *st, const void *arg)
{
	const struct frame_args *a = arg;
	sqlite3_bind_text(st, 1, a->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)a->offset);
	sqlite3_bind_int(st, 3, a->depth);
	jw_sql_bind_opt_text(st, 4, a->function);
	jw_sql_bind_opt_text(st, 5, a->file);
	jw_sql_bind_opt_int(st, 6, a->line > 0, a->line);
}

int jw_frame(struct jw *j, const char *module_key, uint64_t offset, int inline_depth,
	     const char *function, const char *file, int line)
{
	struct frame_args a = { module_key, offset, inline_depth, function, file, line };
	return jw_sql_once(j->db, "INSERT OR REPLACE INTO frame(module_key, offset, inline_depth,"
			   " function, file, line) VALUES (?,?,?,?,?,?)", bind_frame, &a);
}
