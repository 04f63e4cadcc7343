/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The journal writer as the shim reaches it.  sqlite and
 * common/journal_writer.c live in libbpfleak-journal.so, beside
 * libbpfleak.so, loaded when recording starts (jwload.c): a process that
 * never makes a bpf FD does not map them (docs/overhead.md, figure 8).
 * The module hands over this table of its jw_* functions; jwload.c gives
 * the rest of the shim the same jw_* names, so journal.c reads as if the
 * writer were linked in (as it is in the unit tests: jwlinked.c).
 *
 * JW_API(F, V): F(ret, name, params, args) for functions with a result,
 * V(name, params, args) for those without.
 */
#ifndef BPFLEAK_JWAPI_H
#define BPFLEAK_JWAPI_H

#include "journal_writer.h"

#define JW_API_VERSION 2
#define JW_API_SYMBOL "bpfleak_journal_api"

#define JW_API(F, V)                                                                             \
	F(int, open, (struct jw *j, const char *path, int flags, char *err, size_t errcap),       \
	  (j, path, flags, err, errcap))                                                         \
	V(close, (struct jw *j), (j))                                                            \
	F(int, exec, (struct jw *j, const char *sql), (j, sql))                                  \
	F(int, begin, (struct jw *j), (j))                                                       \
	F(int, commit, (struct jw *j), (j))                                                      \
	V(rollback, (struct jw *j), (j))                                                         \
	F(int, errcode, (struct jw *j), (j))                                                     \
	F(const char *, errstr, (int code), (code))                                              \
	V(finish, (struct jw *j, int wait_ms), (j, wait_ms))                                     \
	V(private_sqlite, (int (*open_fn)(const char *, int, int), int (*close_fn)(int)),        \
	  (open_fn, close_fn))                                                                   \
	V(busy_handler, (struct jw *j, int (*fn)(void *, int), void *ctx), (j, fn, ctx))         \
	F(int64_t, stack, (struct jw *j, uint64_t hash, const uint64_t *ips, uint32_t depth),    \
	  (j, hash, ips, depth))                                                                 \
	F(int, object, (struct jw *j, const struct bpfleak_obj_info *o, uint64_t first_seen_ns), \
	  (j, o, first_seen_ns))                                                                 \
	F(int64_t, module, (struct jw *j, const struct jw_module *m), (j, m))                    \
	F(int, module_unloaded, (struct jw *j, int64_t row, uint64_t ts_ns), (j, row, ts_ns))    \
	F(int, event, (struct jw *j, const struct jw_event *e), (j, e))                          \
	F(int, events, (struct jw *j, const struct jw_event *e, size_t n), (j, e, n))            \
	F(bool, last_event_of, (struct jw *j, pid_t pid, int *op, int *flags),                   \
	  (j, pid, op, flags))                                                                   \
	F(int64_t, process, (struct jw *j, const struct jw_process *p), (j, p))                  \
	F(int64_t, process_find_exec,                                                            \
	  (struct jw *j, pid_t pid, uint64_t start_ticks, const char *boot_id),                  \
	  (j, pid, start_ticks, boot_id))                                                        \
	F(int, process_exited, (struct jw *j, int64_t row, uint64_t ts_ns, bool have_status,     \
				int status), (j, row, ts_ns, have_status, status))               \
	F(int, process_flushed, (struct jw *j, int64_t row, uint64_t ts_ns), (j, row, ts_ns))    \
	F(int, snapshot, (struct jw *j, const struct bpfleak_snapshot *s,                        \
			  const struct jw_snapshot_info *info), (j, s, info))                    \
	F(int, fold, (struct jw *j, uint64_t now_ns, uint64_t age_ns, size_t max_rows,           \
		      struct jw_fold_result *res), (j, now_ns, age_ns, max_rows, res))

struct jw_api {
	int version;
	size_t size;
#define JW_API_FIELD(ret, name, params, args) ret(*name) params;
#define JW_API_VFIELD(name, params, args) void(*name) params;
	JW_API(JW_API_FIELD, JW_API_VFIELD)
#undef JW_API_FIELD
#undef JW_API_VFIELD
};

/* What libbpfleak-journal.so exports: the table, or NULL for another version. */
typedef const struct jw_api *(*jw_api_fn)(int version);

/* Load the module (once); false with a reason. */
bool journal_writer_load(char *why, size_t cap);

#endif
