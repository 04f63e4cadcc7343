// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Wording shared by the text, JSON and folded reports. */
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"
#include "report.h"

size_t report_shown(const struct model *m, const struct opts *o)
{
	return o->top > 0 && (size_t)o->top < m->n_findings ? (size_t)o->top : m->n_findings;
}

const char *frame_label(const struct frame *fr, char *buf, size_t len)
{
	if (fr->gap && fr->gap_frames)
		snprintf(buf, len, "[%llu frames not recorded]", (unsigned long long)fr->gap_frames);
	else if (fr->gap)
		snprintf(buf, len, "[frames not recorded]");
	else if (fr->function && fr->file && fr->line > 0)
		snprintf(buf, len, "%s (%s:%d)", fr->function, path_base(fr->file), fr->line);
	else if (fr->function)
		snprintf(buf, len, "%s", fr->function);
	else if (fr->module)
		snprintf(buf, len, "%s+0x%llx", path_base(fr->module), (unsigned long long)fr->offset);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)fr->ip);
	return buf;
}

const char *stale_text(int why)
{
	switch (why) {
	case STALE_REUSED:
		return "the kernel gave its number to a new FD with no close recorded";
	case STALE_EBADF:
		return "a later close of it failed with EBADF: it had been closed unseen";
	case STALE_SNAP_CLOSED:
		return "the journal has it open, the snapshot shows it closed";
	case STALE_SNAP_OTHER:
		return "the snapshot shows another object on that FD";
	}
	return "";
}

/* The kernel's name of the command that made an FD (journal.h's table); NULL for others. */
const char *bpf_cmd_name(int cmd)
{
	const char *name = bpfleak_cmd_name(cmd);
	return name && bpfleak_cmds[cmd].creates_fd ? name : NULL;
}

/* Why a stale finding is information rather than a leak. */
static const char *stale_flag_text(int flag)
{
	switch (flag) {
	case STALE_FLAG_DROP:
		return " (events were dropped before: the loss may explain it)";
	case STALE_FLAG_IO_URING:
		return " (closed through io_uring, which the shim cannot see)";
	case STALE_FLAG_IN_FLIGHT:
		return " (in flight: the journal had not confirmed its flush up to the live "
		       "snapshot)";
	}
	return "";
}

/* One sentence that says what the finding is, for text and JSON alike. */
char *finding_summary(const struct finding *f)
{
	char a[32], b[32];
	switch (f->cls) {
	case CLS_DUPLICATE:
		return xasprintf("%zu FD%s on objects this process already holds open", f->n,
				 f->n == 1 ? "" : "s");
	case CLS_GROWTH:
		return xasprintf("open count only rose: %zu FDs, none closed, %.1f/s over %s",
				 f->n, f->rate_per_s,
				 fmt_duration(ns_between(f->first_ns, f->last_ns), a, sizeof(a)));
	case CLS_STALE:
		return xasprintf("%zu FD%s the journal believed open were closed or replaced "
				 "behind its back%s", f->n, f->n == 1 ? "" : "s", stale_flag_text(f->flag));
	case CLS_DOUBLE_CLOSE:
		return xasprintf("%zu close%s of an FD that was not open (EBADF)%s%s", f->n,
				 f->n == 1 ? "" : "s",
				 f->flag & DC_FLAG_IO_URING
				 ? "; the first close may have gone through io_uring, which the shim "
				   "cannot see" : "",
				 f->flag & 1 ? "; close stacks were not recorded (BPFLEAK_CLOSE_STACKS=1), "
					       "the stack is where that FD was created" : "");
	case CLS_UNPINNED:
		return xasprintf("%zu open FD%s whose object no bpffs pin reaches", f->n,
				 f->n == 1 ? "" : "s");
	case CLS_OUTSTANDING:
		return xasprintf("%zu FD%s still open, age %s..%s", f->n, f->n == 1 ? "" : "s",
				 fmt_duration(f->newest_age, a, sizeof(a)),
				 fmt_duration(f->oldest_age, b, sizeof(b)));
	case CLS_UNKNOWN_ORIGIN:
		return xasprintf("%zu bpf FD%s in the snapshot that no journal event explains "
				 "(raw syscall, SCM_RIGHTS, or opened before the shim)", f->n,
				 f->n == 1 ? "" : "s");
	case CLS_FINALIZED:
		return xasprintf("%zu FD%s never closed by the program: the GC's finalizers closed "
				 "them after %s..%s (a leak the GC happened to clean)", f->n,
				 f->n == 1 ? "" : "s", fmt_duration(f->newest_age, a, sizeof(a)),
				 fmt_duration(f->oldest_age, b, sizeof(b)));
	}
	return xstrdup("");
}

const char *no_stack_text(const struct finding *f)
{
	if (f->no_stack_alt)
		return "no stack: made on an alternate signal stack";
	switch (f->origin) {
	case OR_INHERIT_START:
		return "no stack: inherited when the process started";
	case OR_INHERIT_EXEC:
		return "no stack: survived an exec, unknown before it";
	case OR_INHERIT_FORK:
		return "no stack: inherited from the parent, whose record is missing";
	case OR_SNAPSHOT:
		return "no stack: only the kernel knows this FD";
	case OR_CLOSE_EVENT:
		return "no stack: close stacks were not recorded";
	case OR_INHERIT_RESTART:
		return "no stack: open when the journal file was restarted; its birth is in the "
		       "earlier file";
	case OR_INHERIT_ATTACH:
		return "no stack: held before attach, made before tracing began";
	default:
		break;
	}
	return "no stack recorded";
}

const char *snapshot_word(const struct proc *p)
{
	return p->snap ? p->snap->source : "none";
}

/* "3 pins", or that the snapshot did not look (then 0 pins means nothing). */
const char *pins_walk_text(const struct snap *s, char *buf, size_t len)
{
	if (!s->pins_walked)
		snprintf(buf, len, "pins not walked");
	else
		snprintf(buf, len, "%zu pins", s->found.n_pins);
	return buf;
}

static size_t add_use(struct pin_use **out, size_t *cap, size_t n, const char *path,
		      const char *how, int kind, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if ((*out)[i].kind == kind && (*out)[i].id == id && !strcmp((*out)[i].how, how) &&
		    ((*out)[i].path == path || ((*out)[i].path && path && !strcmp((*out)[i].path, path))))
			return n;
	GROW(*out, *cap, n + 1);
	(*out)[n] = (struct pin_use){ path, how, kind, id };
	return n + 1;
}

/*
 * What the process did with pins, from its events, even when it held no
 * FD at the end (bpftool map create PATH pins and exits).  OBJ_GET does
 * not record its path: the pins of that object the snapshot (or the
 * journal's pin events) know stand in for it.
 */
size_t proc_pins(const struct model *m, const struct proc *p, struct pin_use **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	for (size_t i = 0; i < p->n_ev; i++) {
		const struct ev *e = &p->evs[i];
		if (e->op == BPFLEAK_OP_PIN && e->detail && e->result >= 0)
			n = add_use(out, &cap, n, e->detail, "pinned", e->kind, e->obj_id);
		if (e->op != BPFLEAK_OP_CREATE || e->cmd != BPF_OBJ_GET || !e->obj_id)
			continue;
		char *const *paths = pinset_get(p->pins, e->kind, e->obj_id);
		if (!paths)
			paths = pinset_get(&m->journal_pins, e->kind, e->obj_id);
		if (!paths)
			n = add_use(out, &cap, n, NULL, "opened", e->kind, e->obj_id);
		for (; paths && *paths; paths++)
			n = add_use(out, &cap, n, *paths, "opened", e->kind, e->obj_id);
	}
	return n;
}

/*
 * Open FDs in leak findings, each counted once (duplicate and growth
 * overlap); a double close or a stale record is a bug, not an open FD.
 */
size_t leaked_fd_count(const struct model *m)
{
	struct hmap seen = { 0 };
	for (size_t i = 0; i < m->n_findings; i++) {
		const struct finding *f = &m->findings[i];
		if (!f->leak)
			continue;
		for (size_t k = 0; k < f->n; k++) {
			const struct fdrec *r = &f->p->recs[f->recs[k]];
			if (r->origin != OR_CLOSE_EVENT && r->closed_ns == NS_OPEN && !r->stale)
				hmap_put(&seen, (uint64_t)(uint32_t)f->p->pid << 32 | f->recs[k], 1);
		}
	}
	size_t n = seen.len;
	hmap_free(&seen);
	return n;
}
