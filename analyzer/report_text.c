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
	size_t shown = 0;   /* frame numbers skip the gap: it is not a frame */
	if (!f->rs.n) {
		fprintf(out, "      (%s)\n", f->stack_id > 0 ? "stack not in the journal"
						       : no_stack_text(f));
		return;
	}
	for (size_t i = 0; i < f->rs.n; i++) {
		const struct frame *fr = &f->rs.f[i];
		if (fr->gap) {
			if (fr->gap_frames)
				fprintf(out, "      ... %llu frames not recorded ...\n",
					(unsigned long long)fr->gap_frames);
			else
				fprintf(out, "      ... frames not recorded ...\n");
			continue;
		}
		const char *fn = fr->function ? fr->function : "??";
		if (fr->file && fr->line > 0)
			snprintf(buf, sizeof(buf), "%s:%d", fr->file, fr->line);
		else if (fr->module)
			snprintf(buf, sizeof(buf), "%s+0x%llx", fr->module,
				 (unsigned long long)fr->offset);
		else
			snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)fr->ip);
		fprintf(out, "      #%-2zu %-28s %s%s\n", shown++, fn, buf, fr->inlined ? " (inlined)" : "");
	}
	if (f->rs.truncated && f->rs.cut)
		fprintf(out, "      (stack cut: %llu frames not recorded)\n", (unsigned long long)f->rs.cut);
	else if (f->rs.truncated)
		fprintf(out, "      (stack cut: frames not recorded)\n");
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

static const struct proc *sort_proc;   /* qsort has no context argument */

/* By object, then by position in the finding (which is creation order). */
static int cmp_by_object(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct fdrec *r = &sort_proc->recs[x], *q = &sort_proc->recs[y];
	if (r->kind != q->kind)
		return r->kind < q->kind ? -1 : 1;
	if (r->obj_id != q->obj_id)
		return r->obj_id < q->obj_id ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The group of FDs on one object starts at order[i]; returns its end. */
static size_t object_group_end(const struct proc *p, const size_t *order, size_t i, size_t n)
{
	const struct fdrec *r = &p->recs[order[i]];
	size_t k = i + 1;
	/* Objects without an id (iter, stats, token) are each their own line. */
	while (r->obj_id && k < n && p->recs[order[k]].kind == r->kind &&
	       p->recs[order[k]].obj_id == r->obj_id)
		k++;
	return k;
}

/* FDs of a finding, one line per object: "fd 5 6 7" rather than 3 lines. */
static void print_fds(FILE *out, const struct model *m, const struct finding *f)
{
	const struct proc *p = f->p;
	size_t *order = xcalloc(f->n ? f->n : 1, sizeof(*order));
	memcpy(order, f->recs, f->n * sizeof(*order));
	sort_proc = p;
	qsort(order, f->n, sizeof(*order), cmp_by_object);
	char a[32];
	for (size_t i = 0; i < f->n;) {
		size_t end = object_group_end(p, order, i, f->n);
		const struct fdrec *r = &p->recs[order[i]];
		fprintf(out, "      ");
		print_object(out, m, p, r);
		fprintf(out, "\n        fd");
		size_t total = end - i;
		for (size_t k = i; k < end && k < i + 16; k++)
			fprintf(out, " %d", p->recs[order[k]].fd);
		if (total > 16)
			fprintf(out, " ... (%zu FDs)", total);
		if (f->cls == CLS_DUPLICATE && r->same_as_fd >= 0)
			fprintf(out, "; same object as fd %d", r->same_as_fd);
		if (r->origin == OR_DUP && f->cls != CLS_DOUBLE_CLOSE)
			fprintf(out, "; dup of fd %d", r->src_fd);
		if (r->parent_pid && (r->origin == OR_INHERIT_FORK || r->origin == OR_INHERIT_START))
			fprintf(out, "; inherited from pid %d", r->parent_pid);
		if (f->cls == CLS_STALE)
			fprintf(out, "; %s", stale_text(r->stale));
		if (r->stale == STALE_SNAP_OTHER)
			fprintf(out, " (%s %u)", bpfleak_kind_name(r->other_kind), r->other_id);
		if (f->cls == CLS_UNKNOWN_ORIGIN && r->sfd && r->sfd->target[0])
			fprintf(out, "; %s", r->sfd->target);
		if (r->created_ns >= 0 && p->end_ns >= r->created_ns && r->closed_ns == NS_OPEN &&
		    f->cls != CLS_DOUBLE_CLOSE &&
		    f->cls != CLS_STALE)
			fprintf(out, "; age %s", fmt_duration(ns_between(r->created_ns, p->end_ns), a, sizeof(a)));
		fputc('\n', out);
		i = end;
	}
	free(order);
}

/* The first lines: what the report could not see, before anything it found. */
static void print_blind_spots(FILE *out, const struct model *m, const struct opts *o)
{
	for (size_t i = 0; i < m->n_blinds; i++)
		fprintf(out, "blind spot: %s\n", m->blinds[i].text);
	for (size_t i = 0; i < m->n_procs; i++) {
		const struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		for (size_t k = 0; k < p->n_blinds; k++)
			fprintf(out, "blind spot: pid %d: %s\n", p->pid, p->blinds[k].text);
	}
}

static void print_pins(FILE *out, const struct model *m, const struct proc *p)
{
	struct pin_use *u;
	size_t n = proc_pins(m, p, &u);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %s %s (%s", u[i].how, u[i].path ? u[i].path : "a pin (path not known)",
			bpfleak_kind_name(u[i].kind));
		if (u[i].id)
			fprintf(out, " %u", u[i].id);
		fprintf(out, ")\n");
	}
	free(u);
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

/*
 * The first earlier finding of the same process with the same call stack,
 * through a hash of (pid, stack id) -> index + 1: reports can hold 100,000
 * findings, so no scan of the earlier ones.
 */
static long earlier_same_stack(const struct model *m, struct hmap *seen, size_t i)
{
	const struct finding *f = &m->findings[i];
	if (f->stack_id <= 0)
		return -1;
	uint64_t key = (uint64_t)f->stack_id * 0x9e3779b97f4a7c15ull ^ (uint32_t)f->p->pid ^
		       (uint64_t)(uint32_t)f->stack_pid << 32;
	bool fresh;
	uint64_t *slot = hmap_slot(seen, key, i + 1, &fresh);
	if (fresh)
		return -1;
	const struct finding *g = &m->findings[*slot - 1];
	/* A hash collision is not a match: print this stack in full. */
	if (g->p != f->p || g->stack_id != f->stack_id || g->stack_pid != f->stack_pid)
		return -1;
	return (long)(*slot - 1);
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
	char a[32], b[32], pins[48];
	size_t leaks = 0, open_total = 0;

	fprintf(out, "bpfleak-report %s: %s\n", BPFLEAK_VERSION, m->path);
	fprintf(out, "journal: %ld events over %s", m->n_events,
		fmt_duration(m->n_events ? ns_between(m->first_ns, m->last_ns) : 0, a, sizeof(a)));
	if (m->dropped)
		fprintf(out, ", %llu DROPPED: results after the drop may be incomplete",
			(unsigned long long)m->dropped);
	fputc('\n', out);
	print_blind_spots(out, m, o);
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
				fmt_duration(ns_between(p->first_ns, p->last_ns), b, sizeof(b)));
		if (p->snap)
			fprintf(out, "  snapshot: %s (%s), %zu bpf FDs, %s%s%s\n",
				p->snap->source, p->snap->reason ? p->snap->reason : "",
				p->snap->found.n_fds, pins_walk_text(p->snap, pins, sizeof(pins)),
				p->snap_note ? "; " : "", p->snap_note ? p->snap_note : "");
		else
			fprintf(out, "  snapshot: none%s%s: journal only, stale and unknown_origin "
				"not checked, pins from the journal's pin events\n",
				p->snap_note ? " -- " : "", p->snap_note ? p->snap_note : "");
		if (p->n_uncertain)
			fprintf(out, "  %zu FD number%s changed while the snapshot was taken: not "
				"judged against it\n", p->n_uncertain, p->n_uncertain == 1 ? "" : "s");
		fprintf(out, "  open bpf FDs at the end: %zu\n", open_fds(p));
		print_pins(out, m, p);
		for (size_t k = 0; k < p->n_blinds; k++)
			if (!strcmp(p->blinds[k].kind, "drop"))
				fprintf(out, "  lost: %s\n", p->blinds[k].text);
		if (p->failed_creates)
			fprintf(out, "  failed FD-creating bpf() calls: %ld\n", p->failed_creates);
		print_warnings(out, p->warns, p->n_warns, "  ");
	}
	for (size_t i = 0; i < m->n_findings; i++)
		leaks += m->findings[i].leak;
	size_t shown = report_shown(m, o);
	struct hmap seen = { 0 };
	fprintf(out, "\n%zu finding%s, %zu leak%s", m->n_findings, m->n_findings == 1 ? "" : "s",
		leaks, leaks == 1 ? "" : "s");
	if (m->n_suppressed)
		fprintf(out, ", %ld suppressed", m->n_suppressed);
	if (shown < m->n_findings)
		fprintf(out, " (top %zu shown)", shown);
	fprintf(out, "; %zu bpf FDs open, %zu of them leaked\n", open_total, leaked_fd_count(m));
	if (report_exit_code(m, o) == 3)
		fprintf(out, "no leak found, but the report cannot vouch for it: see the blind spots "
			"at the top (exit status 3)\n");
	for (size_t i = 0; i < shown; i++) {
		const struct finding *f = &m->findings[i];
		char *sum = finding_summary(f);
		fprintf(out, "\n[%zu] %s %s: pid %d, %zu FD%s\n    %s\n", i + 1,
			f->leak ? "LEAK" : "info", cls_name(f->cls), f->p->pid, f->n,
			f->n == 1 ? "" : "s", sum);
		free(sum);
		const char *what = f->cls == CLS_DOUBLE_CLOSE && !(f->flag & 1) ? "closed at"
				   : f->cls == CLS_UNKNOWN_ORIGIN ? "origin" : "created at";
		/* A ticket reader needs each stack once: later findings point back. */
		long j = earlier_same_stack(m, &seen, i);
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
	hmap_free(&seen);
}
