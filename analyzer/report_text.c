// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The default report: meant to be pasted into a bug ticket, so it is plain
 * text, says where its data came from (journal span, snapshot source) and
 * puts the biggest leaks first, each with its call stack and objects.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"
#include "report.h"

static void print_stack(FILE *out, const struct finding *f)
{
	char buf[512];
	if (!f->rs.n) {
		fprintf(out, "      (%s)\n", f->stack_id > 0 ? "stack not in the journal"
						       : no_stack_text(f));
		return;
	}
	for (size_t i = 0; i < f->rs.n; i++) {
		const struct frame *fr = &f->rs.f[i];
		const char *fn = fr->function ? fr->function : "??";
		if (fr->file && fr->line > 0)
			snprintf(buf, sizeof(buf), "%s:%d", fr->file, fr->line);
		else if (fr->module)
			snprintf(buf, sizeof(buf), "%s+0x%llx", fr->module,
				 (unsigned long long)fr->offset);
		else
			snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)fr->ip);
		fprintf(out, "      #%-2zu %-28s %s%s\n", i, fn, buf, fr->inlined ? " (inlined)" : "");
	}
}

static void print_object(FILE *out, const struct model *m, const struct proc *p,
			 const struct fdrec *r)
{
	struct obj_view v;
	object_view(m, p, r, &v);
	fprintf(out, "%s", bpfleak_kind_name(v.kind));
	if (v.id)
		fprintf(out, " %u", v.id);
	if (v.name)
		fprintf(out, " \"%s\"", v.name);
	if (v.type)
		fprintf(out, " %s", v.type);
	if (v.has_map)
		fprintf(out, " key %u value %u max_entries %u flags 0x%x", v.key_size,
			v.value_size, v.max_entries, v.flags);
	if (v.tag)
		fprintf(out, " tag %s", v.tag);
	if (v.kind == BPFLEAK_KIND_LINK && v.prog_id)
		fprintf(out, " prog %u", v.prog_id);
	if (v.pins)
		for (char *const *s = v.pins; *s; s++)
			fprintf(out, "%s%s", s == v.pins ? " pinned at " : ", ", *s);
	else if (v.kind == BPFLEAK_KIND_MAP || v.kind == BPFLEAK_KIND_PROG ||
		 v.kind == BPFLEAK_KIND_LINK)
		fprintf(out, " not pinned");
}

/* FDs of a finding, one line per object: "fds 5 6 7" rather than 3 lines. */
static void print_fds(FILE *out, const struct model *m, const struct finding *f)
{
	const struct proc *p = f->p;
	char *done = xcalloc(f->n, 1);
	char a[32];
	for (size_t i = 0; i < f->n; i++) {
		if (done[i])
			continue;
		const struct fdrec *r = &p->recs[f->recs[i]];
		fprintf(out, "      ");
		print_object(out, m, p, r);
		fprintf(out, "\n        fd");
		size_t shown = 0, total = 0;
		for (size_t k = i; k < f->n; k++) {
			const struct fdrec *q = &p->recs[f->recs[k]];
			if (done[k] || q->kind != r->kind || q->obj_id != r->obj_id ||
			    (!r->obj_id && k != i))
				continue;
			done[k] = 1;
			total++;
			if (shown++ < 16)
				fprintf(out, " %d", q->fd);
		}
		if (shown > 16)
			fprintf(out, " ... (%zu FDs)", total);
		if (f->cls == CLS_DUPLICATE && r->same_as_fd >= 0)
			fprintf(out, "; same object as fd %d", r->same_as_fd);
		if (r->origin == OR_DUP && f->cls != CLS_DOUBLE_CLOSE)
			fprintf(out, "; dup of fd %d", r->src_fd);
		if (r->origin == OR_INHERIT_FORK)
			fprintf(out, "; inherited from pid %d", r->parent_pid);
		if (f->cls == CLS_STALE)
			fprintf(out, "; %s", stale_text(r->stale));
		if (r->stale == STALE_SNAP_OTHER)
			fprintf(out, " (%s %u)", bpfleak_kind_name(r->other_kind), r->other_id);
		if (f->cls == CLS_UNKNOWN_ORIGIN && r->sfd && r->sfd->target)
			fprintf(out, "; %s", r->sfd->target);
		if (r->created_ns >= 0 && p->end_ns >= r->created_ns && f->cls != CLS_DOUBLE_CLOSE &&
		    f->cls != CLS_STALE)
			fprintf(out, "; age %s", fmt_duration(p->end_ns - r->created_ns, a, sizeof(a)));
		fputc('\n', out);
	}
	free(done);
}

static void print_warnings(FILE *out, const struct warning *w, size_t n, const char *indent)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%swarning: %s", indent, w[i].text);
		if (w[i].count > 1)
			fprintf(out, " (%ld times)", w[i].count);
		fputc('\n', out);
	}
}

/* The first earlier finding of the same process with the same call stack. */
static long earlier_same_stack(const struct model *m, size_t i)
{
	const struct finding *f = &m->findings[i];
	if (f->stack_id <= 0)
		return -1;
	for (size_t j = 0; j < i; j++) {
		const struct finding *g = &m->findings[j];
		if (g->p == f->p && g->stack_id == f->stack_id && g->stack_pid == f->stack_pid)
			return (long)j;
	}
	return -1;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static bool same_fds(const struct finding *f, const struct finding *g)
{
	if (f->n != g->n)
		return false;
	size_t *a = xcalloc(f->n ? f->n : 1, sizeof(*a)), *b = xcalloc(g->n ? g->n : 1, sizeof(*b));
	memcpy(a, f->recs, f->n * sizeof(*a));
	memcpy(b, g->recs, g->n * sizeof(*b));
	qsort(a, f->n, sizeof(*a), cmp_size);
	qsort(b, g->n, sizeof(*b), cmp_size);
	bool same = memcmp(a, b, f->n * sizeof(*a)) == 0;
	free(a);
	free(b);
	return same;
}

void report_text(const struct model *m, const struct opts *o, FILE *out)
{
	char a[32], b[32];
	size_t leaks = 0, open_total = 0;

	fprintf(out, "bpfleak-report %s: %s\n", BPFLEAK_VERSION, m->path);
	fprintf(out, "journal: %ld events over %s", m->n_events,
		fmt_duration(m->n_events ? m->last_ns - m->first_ns : 0, a, sizeof(a)));
	if (m->dropped)
		fprintf(out, ", %llu DROPPED (queue full): results after the drop may be incomplete",
			(unsigned long long)m->dropped);
	fputc('\n', out);
	print_warnings(out, m->warns, m->n_warns, "");
	for (size_t i = 0; i < m->n_procs; i++) {
		const struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		open_total += open_fds(p);
		fprintf(out, "\nprocess %d %s", p->pid, p->exe ? p->exe : "(exe unknown)");
		if (p->ppid)
			fprintf(out, " (parent %d)", p->ppid);
		fputc('\n', out);
		if (p->cmdline && *p->cmdline)
			fprintf(out, "  cmdline: %s\n", p->cmdline);
		if (p->n_ev)
			fprintf(out, "  events: %zu over %s\n", p->n_ev,
				fmt_duration(p->last_ns - p->first_ns, b, sizeof(b)));
		if (p->snap)
			fprintf(out, "  snapshot: %s (%s), %zu bpf FDs, %zu pins%s%s\n",
				p->snap->source, p->snap->reason ? p->snap->reason : "",
				p->snap->n_fds, p->snap->n_pins, p->snap_note ? "; " : "",
				p->snap_note ? p->snap_note : "");
		else
			fprintf(out, "  snapshot: none%s%s: journal only, stale and unknown_origin "
				"not checked, pins from the journal's pin events\n",
				p->snap_note ? " -- " : "", p->snap_note ? p->snap_note : "");
		fprintf(out, "  open bpf FDs at the end: %zu\n", open_fds(p));
		if (p->dropped)
			fprintf(out, "  warning: %llu events of this process were dropped\n",
				(unsigned long long)p->dropped);
		if (p->failed_creates)
			fprintf(out, "  failed FD-creating bpf() calls: %ld\n", p->failed_creates);
		print_warnings(out, p->warns, p->n_warns, "  ");
	}
	for (size_t i = 0; i < m->n_findings; i++)
		leaks += m->findings[i].leak;
	size_t shown = report_shown(m, o);
	fprintf(out, "\n%zu finding%s, %zu leak%s", m->n_findings, m->n_findings == 1 ? "" : "s",
		leaks, leaks == 1 ? "" : "s");
	if (m->n_suppressed)
		fprintf(out, ", %ld suppressed", m->n_suppressed);
	if (shown < m->n_findings)
		fprintf(out, " (top %zu shown)", shown);
	fprintf(out, "; %zu bpf FDs open, %zu of them leaked\n", open_total, leaked_fd_count(m));
	for (size_t i = 0; i < shown; i++) {
		const struct finding *f = &m->findings[i];
		char *sum = finding_summary(f);
		fprintf(out, "\n[%zu] %s %s: pid %d, %zu FD%s\n    %s\n", i + 1,
			f->leak ? "LEAK" : "info", cls_name(f->cls), f->p->pid, f->n,
			f->n == 1 ? "" : "s", sum);
		free(sum);
		const char *what = f->cls == CLS_DOUBLE_CLOSE && !f->flag ? "closed at"
				   : f->cls == CLS_UNKNOWN_ORIGIN ? "origin" : "created at";
		/* A ticket reader needs each stack once: later findings point back. */
		long j = earlier_same_stack(m, i);
		if (j >= 0 && same_fds(f, &m->findings[j])) {
			fprintf(out, "    %s, objects: the same as [%ld]\n", what, j + 1);
			continue;
		}
		if (j >= 0) {
			fprintf(out, "    %s: the same stack as [%ld]\n", what, j + 1);
		} else {
			fprintf(out, "    %s:\n", what);
			print_stack(out, f);
		}
		fprintf(out, "    objects:\n");
		print_fds(out, m, f);
	}
}
