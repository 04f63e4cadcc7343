// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Sentences shared by the site-based reports (report_parts.h). */
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "report_parts.h"

char *journal_meta(const struct model *m, const char *key)
{
	sqlite3_stmt *st;
	char *v = NULL;
	if (!m->db || sqlite3_prepare_v2(m->db, "SELECT value FROM meta WHERE key = ?1", -1, &st,
					 NULL) != SQLITE_OK)
		return NULL;   /* an older journal, or one without a meta table */
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

char *journal_span_text(const struct model *m)
{
	char a[32];
	const char *span = fmt_duration(m->n_events || m->folded_pairs
					? ns_between(m->first_ns, m->last_ns) : 0, a, sizeof(a));
	char *folded = journal_folded_text(m);
	char *t;
	if (m->dropped)
		t = xasprintf("%ld events over %s%s, %llu DROPPED: results after the drop may be "
			      "incomplete", m->n_events, span, folded, (unsigned long long)m->dropped);
	else
		t = xasprintf("%ld events over %s%s", m->n_events, span, folded);
	free(folded);
	return t;
}

char *journal_folded_text(const struct model *m)
{
	char a[32];
	if (!m->folded_pairs)
		return xstrdup("");
	if (m->fold_age_ns <= 0)
		return xasprintf(", and %lld create/close pairs folded into per-minute counts",
				 (long long)m->folded_pairs);
	return xasprintf(", and %lld create/close pairs closed over %s before they were "
			 "folded into per-minute counts", (long long)m->folded_pairs,
			 fmt_duration(m->fold_age_ns, a, sizeof(a)));
}

char *journal_host_text(const struct model *m)
{
	char *host = journal_meta(m, "hostname"), *kernel = journal_meta(m, "kernel");
	char *machine = journal_meta(m, "machine"), *t = NULL;
	if (host || kernel)
		t = xasprintf("recorded on %s, kernel %s%s%s%s", host ? host : "a host not named",
			      kernel ? kernel : "not named", machine ? " (" : "", machine ? machine : "",
			      machine ? ")" : "");
	free(host);
	free(kernel);
	free(machine);
	return t;
}

size_t shown_open_fds(const struct model *m, const struct opts *o)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_procs; i++)
		if (proc_shown(m->procs[i], o))
			n += open_fds(m->procs[i]);
	return n;
}

size_t report_blind_spots(const struct model *m, const struct opts *o,
			  void (*fn)(FILE *out, int pid, const char *text), FILE *out)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_blinds; i++, n++)
		if (fn)
			fn(out, 0, m->blinds[i].text);
	for (size_t i = 0; i < m->n_procs; i++) {
		const struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		for (size_t k = 0; k < p->n_blinds; k++, n++)
			if (fn)
				fn(out, p->pid, p->blinds[k].text);
	}
	return n;
}

void site_cells_get(const struct model *m, const struct site *s, struct site_cells *c)
{
	c->place = site_place(s);
	c->pids = site_pids_text(s);
	c->leak_classes = site_classes_text(s, 1);
	c->info_classes = site_classes_text(s, 0);
	c->objects = site_objects_brief(m, s);
}

void site_cells_free(struct site_cells *c)
{
	free(c->place);
	free(c->pids);
	free(c->leak_classes);
	free(c->info_classes);
	free(c->objects);
}

char *report_counts_text(const struct model *m, const struct opts *o, const struct siteset *ss)
{
	size_t leaks = 0, info = ss->n - ss->n_leak;
	for (size_t i = 0; i < m->n_findings; i++)
		leaks += m->findings[i].leak;
	char *info_text = info ? xasprintf("%zu call site%s for information; ", info,
					    info == 1 ? "" : "s") : xstrdup("");
	char *supp = m->n_suppressed ? xasprintf(", %ld suppressed", m->n_suppressed) : xstrdup("");
	char *top = ss->shown < ss->n ? xasprintf(" (top %zu of %zu call sites shown)", ss->shown, ss->n)
				      : xstrdup("");
	size_t open = shown_open_fds(m, o);
	char *t = xasprintf("%s%zu bpf FD%s open; %zu finding%s, %zu leak%s%s%s", info_text,
			    open, open == 1 ? "" : "s", m->n_findings, m->n_findings == 1 ? "" : "s", leaks,
			    leaks == 1 ? "" : "s", supp, top);
	free(info_text);
	free(supp);
	free(top);
	return t;
}

char *proc_snapshot_text(const struct proc *p)
{
	char pins[48];
	if (p->snap)
		return xasprintf("%s snapshot (%s): %zu bpf FD%s, %s%s%s", p->snap->source,
				 p->snap->reason ? p->snap->reason : "", p->snap->found.n_fds,
				 p->snap->found.n_fds == 1 ? "" : "s",
				 pins_walk_text(p->snap, pins, sizeof(pins)), p->snap_note ? "; " : "",
				 p->snap_note ? p->snap_note : "");
	return xasprintf("no snapshot%s%s: journal only, stale and unknown_origin not checked, pins "
			 "from the journal's pin events", p->snap_note ? " -- " : "",
			 p->snap_note ? p->snap_note : "");
}

static void add_line(struct text_line **v, size_t *n, size_t *cap, char *text, int mark)
{
	GROW(*v, *cap, *n + 1);
	(*v)[(*n)++] = (struct text_line){ text, mark };
}

struct text_line *site_stack_lines(const struct site *s, size_t *n)
{
	const struct finding *f = s->lead;
	struct text_line *v = NULL;
	size_t cap = 0, shown = 0;   /* frame numbers skip the gap: it is not a frame */
	char where[512];
	*n = 0;
	if (!f->rs.n)
		add_line(&v, n, &cap, xasprintf("(%s)", f->stack_id > 0 ? "stack not in the journal"
								: no_stack_text(f)), 0);
	for (size_t i = 0; i < f->rs.n; i++) {
		const struct frame *fr = &f->rs.f[i];
		if (fr->gap && fr->gap_frames)
			add_line(&v, n, &cap, xasprintf("... %llu frames not recorded ...",
							(unsigned long long)fr->gap_frames), 0);
		else if (fr->gap)
			add_line(&v, n, &cap, xstrdup("... frames not recorded ..."), 0);
		if (fr->gap)
			continue;
		frame_where(fr, where, sizeof(where));
		add_line(&v, n, &cap, xasprintf("#%-2zu %-28s %s%s", shown++,
						fr->function ? fr->function : "??", where,
						fr->inlined ? " (inlined)" : ""), (long)i == s->frame);
	}
	if (f->rs.truncated && f->rs.cut)
		add_line(&v, n, &cap, xasprintf("(stack cut: %llu frames not recorded)",
						(unsigned long long)f->rs.cut), 0);
	else if (f->rs.truncated)
		add_line(&v, n, &cap, xstrdup("(stack cut: frames not recorded)"), 0);
	return v;
}

void text_lines_free(struct text_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

char *site_evidence_line(const struct model *m, const struct site *s, int leak)
{
	size_t n;
	char **ev = site_evidence(m, s, leak, &n);
	char *line = NULL;
	if (n) {
		char *classes = site_classes_text(s, leak);
		line = xasprintf("(%s): ", classes);
		free(classes);
		for (size_t i = 0; i < n; i++) {
			char *t = xasprintf("%s%s%s", line, i ? "; " : "", ev[i]);
			free(line);
			line = t;
		}
	}
	strv_free(ev, n);
	return line;
}

void site_objects_write(FILE *out, const struct model *m, const struct site *s,
			void (*esc)(FILE *, const char *))
{
	size_t n;
	struct obj_line *l = site_object_lines(m, s, &n);
	for (size_t i = 0; i < n; i++) {
		if (s->n_pids > 1 && (!i || l[i].p != l[i - 1].p))
			fprintf(out, "pid %d:\n", l[i].p->pid);
		if (l[i].object) {
			esc(out, l[i].object);
			fputc('\n', out);
		}
		fputs("  ", out);
		esc(out, l[i].fds);
		fputc('\n', out);
	}
	obj_lines_free(l, n);
}
