/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * bpfleak-report's stages, in the order the driver (cli.c) runs them:
 *
 *   journal_open/journal_load -> snapshot_load_stored (and --pid's live
 *   snapshot) -> replay_all -> reconcile_all -> classify_all ->
 *   findings_finish (symbolize, suppress, verdict, order) -> blind_collect
 *   -> report_{text,json,folded}
 *
 * Each stage reads and fills the model (model.h) and calls only what is
 * listed below it here, never a stage before it; cli.c frees what they made.
 */
#ifndef BPFLEAK_ANALYZER_H
#define BPFLEAK_ANALYZER_H

#include "model.h"

/* cli.c: the command line; 0, 1, 2 or 3 as documented in --help. */
int report_main(int argc, char **argv, FILE *out, FILE *err);

/* report_*.c */
void report_text(const struct model *m, const struct opts *o, FILE *out);
void report_json(const struct model *m, const struct opts *o, FILE *out);
void report_folded(const struct model *m, const struct opts *o, FILE *out);
size_t report_shown(const struct model *m, const struct opts *o);
const char *frame_label(const struct frame *fr, char *buf, size_t len);

/* objects.c: what is known about a kernel object, from every source. */
struct obj_view {
	int kind;
	uint32_t id;
	const char *name;
	const char *type;        /* map/prog/link type name */
	int has_map;
	uint32_t key_size, value_size, max_entries, flags;
	const char *tag;
	uint32_t prog_id;
	char *const *pins;
	char type_buf[32];
	char tag_buf[17];
	char name_buf[16];
};
void object_view(const struct model *m, const struct proc *p, const struct fdrec *r,
		 struct obj_view *v);

/* blind.c: what the report could not see; decides exit status 3. */
void blind_collect(struct model *m, const struct opts *o);
int blind_spoils(const struct model *m, const struct opts *o);
/* 1 leaks; else 3 when a blind spot spoils the all-clear; else 0. */
int report_exit_code(const struct model *m, const struct opts *o);
const char *note_sentence(int kind);

/* finish.c: symbolize, apply --class and suppressions, decide leak or not, order. */
struct symbolizer;
struct suppressions;
void findings_finish(struct model *m, const struct opts *o, const struct suppressions *supp,
		     struct symbolizer *sym);

/* suppress.c */
struct suppressions *suppressions_load(const char *path, char *err, size_t errlen);
const char *suppressions_match(const struct suppressions *s, int cls, const struct rstack *rs);
void suppressions_free(struct suppressions *s);

/* symbolize.c, symbolize_store.c, dwfl_file.c */
struct symbolizer *symbolizer_new(struct model *m);
void symbolizer_free(struct symbolizer *s);
/* Resolve a stack of pid at ts; shim and libc syscall-wrapper frames cut. */
void symbolize_stack(struct symbolizer *s, int64_t stack_id, int pid, int64_t ts,
		     struct rstack *out);
/* --symbolize: resolve every recorded stack into the frame table. */
int symbolize_store_all(struct symbolizer *s, char *err, size_t errlen);

/* classify.c: the classes, their names, which are leaks, and running them. */
const char *cls_name(int cls);
int cls_from_name(const char *name);     /* -1 when unknown */
int finding_is_leak(const struct finding *f, const struct opts *o);
/* One class's findings for one process; every class for every process shown. */
void classify_one(struct model *m, struct proc *p, int cls, const struct opts *o);
void classify_all(struct model *m, const struct opts *o);

/*
 * classify_*.c: each adds its class's findings for one process to a sink,
 * which groups them by call site (findings.c).
 */
struct finding_sink {
	struct model *m;
	struct proc *p;
	int cls;
	struct hmap groups;
};
void classify_duplicate(struct finding_sink *s, const struct opts *o);
void classify_growth(struct finding_sink *s, const struct opts *o);
void classify_stale(struct finding_sink *s, const struct opts *o);
void classify_double_close(struct finding_sink *s, const struct opts *o);
void classify_unpinned(struct finding_sink *s, const struct opts *o);
void classify_outstanding(struct finding_sink *s, const struct opts *o);
void classify_unknown_origin(struct finding_sink *s, const struct opts *o);
void classify_finalized(struct finding_sink *s, const struct opts *o);

/* findings.c: the sink. */
void sink_open(struct finding_sink *s, struct model *m, struct proc *p, int cls);
/* The finding of the sink's class for site's call site (NULL: no site), flag apart. */
struct finding *sink_group(struct finding_sink *s, const struct fdrec *site, int flag);
void sink_close(struct finding_sink *s);
void finding_add_rec(struct finding *f, size_t rec);

/* reconcile.c: judge the replay against the snapshot; the FDs open at the end. */
void reconcile_all(struct model *m);
void reconcile_proc(struct proc *p);

/* replay.c, replay_parent.c, fdtable.c: events into FD lifetimes. */
void replay_all(struct model *m);
void replay_proc(struct model *m, struct proc *p);
const struct fdrec *parent_rec(const struct proc *pp, const struct proc *child,
			       const struct ev *e);
const struct fdrec *parent_rec_by_object(const struct proc *pp, const struct proc *child,
					 const struct ev *e);
void fdslot(int32_t **arr, size_t *cap, int fd);
struct fdrec *open_rec(struct proc *p, int fd);
struct fdrec *new_rec(struct proc *p, int fd, int64_t ts);
void close_rec(struct proc *p, struct fdrec *r, int64_t ts, enum close_how how);
void vanish(struct proc *p, struct fdrec *r, int64_t ts, enum stale_why why);

/* snapshot_live.c: --pid. */
/* The kernel's view now, before the journal is read; *out NULL: not running. */
int snapshot_read_live(int pid, struct snap **out, char *err, size_t errlen);
/* Ask the target to flush up to the live snapshot at t; 1 when the journal confirms it. */
int snapshot_confirm_flush(struct model *m, const struct opts *o, int64_t t);
/* Attach it to the --pid process (or say why not); takes ownership of live. */
int snapshot_use_live(struct model *m, const struct opts *o, struct snap *live, int confirmed,
		      char *err, size_t errlen);

/* snapshot_load.c: the exit snapshots stored in the journal. */
int snapshot_load_stored(struct model *m, char *err, size_t errlen);
void snapshot_attach(struct proc *p, struct snap *s);

/* journal_load.c: the journal's rows into the model; stacks and frames on demand. */
int journal_load(struct model *m, char *err, size_t errlen);
const uint64_t *journal_stack(struct model *m, int64_t stack_id, uint32_t *depth);
/* Frames --symbolize stored for (module key, offset), innermost first, through fn. */
void journal_frames(struct model *m, const char *module_key, uint64_t offset,
		    void (*fn)(void *ctx, const char *function, const char *file, int line),
		    void *ctx);

/* journal_open.c */
int journal_open(struct model *m, const char *path, int writable, char *err, size_t errlen);
void journal_close(struct model *m);
/* The target's latest flushed_ns (fresh read), or -1 when it has no row. */
int64_t journal_flushed_ns(struct model *m, int pid);
void journal_sql_error(struct model *m, int rc, char *err, size_t errlen);

#endif
