// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * --format markdown: GitHub-flavoured markdown to paste into a ticket.
 * The headline, what was recorded where (journal, host, kernel, each
 * process and its command line), the blind spots, a table of call sites,
 * then a section per site with its evidence, stack and objects in code
 * blocks.
 *
 * Our own words are printed as they are.  Everything from the journal
 * (paths, command lines, names, host and kernel, and our sentences that
 * quote them) goes into a code span or a fenced block sized so that
 * nothing inside can close it: a command line must not become a table
 * column, a heading, a link or an @mention in someone's ticket, and
 * backslash escapes do not stop GitHub's autolinks and mentions.
 */
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "report.h"
#include "report_parts.h"

/* A fenced code block around text (lines already escaped with esc_text). */
static void code_block(FILE *out, const char *text)
{
	size_t fence = md_fence_len(text);
	fputc('\n', out);
	for (size_t i = 0; i < fence; i++)
		fputc('`', out);
	fputc('\n', out);
	fputs(text, out);
	for (size_t i = 0; i < fence; i++)
		fputc('`', out);
	fputs("\n\n", out);
}

static void header(FILE *out, const struct model *m, const struct opts *o, const struct siteset *ss)
{
	char *headline = sites_headline(ss), *counts = report_counts_text(m, o, ss);
	char *span = journal_span_text(m);
	char *host = journal_meta(m, "hostname"), *kernel = journal_meta(m, "kernel");
	char *machine = journal_meta(m, "machine");
	fprintf(out, "### bpfleak: %s\n\n%s; exit status %d\n\n", headline, counts,
		report_exit_code(m, o));
	fputs("- **journal** ", out);
	esc_md_code(out, m->path, 0);
	fprintf(out, ": %s\n", span);
	if (host || kernel) {
		fputs("- **recorded on** ", out);
		esc_md_code(out, host ? host : "?", 0);
		fputs(", **kernel** ", out);
		esc_md_code(out, kernel ? kernel : "?", 0);
		if (machine) {
			fputs(" (", out);
			esc_md_code(out, machine, 0);
			fputc(')', out);
		}
		fputc('\n', out);
	}
	free(headline);
	free(counts);
	free(span);
	free(host);
	free(kernel);
	free(machine);
}

/* proc_snapshot_text()'s sentence, with the journal's strings in code spans. */
static void snapshot(FILE *out, const struct proc *p)
{
	char pins[48];
	if (p->snap) {
		fprintf(out, "%s snapshot: %zu bpf FD%s, %s", p->snap->source, p->snap->found.n_fds,
			p->snap->found.n_fds == 1 ? "" : "s",
			pins_walk_text(p->snap, pins, sizeof(pins)));
		if (p->snap->reason && strcmp(p->snap->reason, p->snap->source)) {
			fputs(" (", out);
			esc_md_code(out, p->snap->reason, 0);
			fputc(')', out);
		}
		if (p->snap_note) {
			fputs("; ", out);
			esc_md_code(out, p->snap_note, 0);
		}
		return;
	}
	fputs("no snapshot", out);
	if (p->snap_note) {
		fputs(" (", out);
		esc_md_code(out, p->snap_note, 0);
		fputc(')', out);
	}
	fputs(": journal only, stale and unknown_origin not checked, pins from the journal's pin "
	      "events", out);
}

static void processes(FILE *out, const struct model *m, const struct opts *o)
{
	for (size_t i = 0; i < m->n_procs; i++) {
		const struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		fprintf(out, "- **process %d** ", p->pid);
		if (p->exe)
			esc_md_code(out, p->exe, 0);
		else
			fputs("(exe unknown)", out);
		if (p->ppid)
			fprintf(out, " (parent %d)", p->ppid);
		fprintf(out, ", %zu bpf FD%s open at the end; ", open_fds(p), open_fds(p) == 1 ? "" : "s");
		snapshot(out, p);
		fputc('\n', out);
		if (p->cmdline && *p->cmdline) {
			fputs("  - command line: ", out);
			esc_md_code(out, p->cmdline, 0);
			fputc('\n', out);
		}
		for (size_t k = 0; k < p->n_warns; k++) {
			fputs("  - warning: ", out);
			esc_md_code(out, p->warns[k].text, 0);
			fputc('\n', out);
		}
	}
	for (size_t k = 0; k < m->n_warns; k++) {
		fputs("- warning: ", out);
		esc_md_code(out, m->warns[k].text, 0);
		fputc('\n', out);
	}
}

static void blind_spot_item(FILE *out, int pid, const char *text)
{
	fputs("> - ", out);
	if (pid)
		fprintf(out, "pid %d: ", pid);
	esc_md_code(out, text, 0);
	fputc('\n', out);
}

static void blind_spots(FILE *out, const struct model *m, const struct opts *o)
{
	if (!report_blind_spots(m, o, NULL, NULL))
		return;
	fputs("\n> **Blind spots**: the recorder could not see everything", out);
	fputs(report_exit_code(m, o) == 3 ? "; no leak was found, but the report cannot vouch for "
					    "it (exit status 3)\n>\n" : "\n>\n", out);
	report_blind_spots(m, o, blind_spot_item, out);
}

static void table(FILE *out, const struct model *m, const struct siteset *ss)
{
	if (!ss->shown)
		return;
	fputs("\n| # | call site | file:line | FDs | classes | objects |\n"
	      "| ---: | --- | --- | ---: | --- | --- |\n", out);
	for (size_t i = 0; i < ss->shown; i++) {
		const struct site *s = &ss->v[i];
		const struct frame *fr = site_frame(s);
		struct site_cells c;
		site_cells_get(m, s, &c);
		fprintf(out, "| %zu | %s ", i + 1, s->leak ? "**LEAK**" : "info");
		if (fr && fr->function)
			esc_md_code(out, fr->function, 1);
		fputs(" | ", out);
		esc_md_code(out, c.place, 1);
		fprintf(out, " | %zu (%s) | ", s->n_fds, c.pids);
		if (*c.leak_classes)
			fprintf(out, "**%s**%s", c.leak_classes, *c.info_classes ? "; " : "");
		fprintf(out, "%s | ", c.info_classes);
		if (*c.objects)
			esc_md_code(out, c.objects, 1);
		fputs(" |\n", out);
		site_cells_free(&c);
	}
}

static char *stack_text(const struct site *s)
{
	char *buf = NULL;
	size_t len = 0, n;
	FILE *t = open_memstream(&buf, &len);
	if (!t)
		return xstrdup("");
	struct text_line *l = site_stack_lines(s, &n);
	for (size_t i = 0; i < n; i++) {
		esc_text(t, l[i].text);
		fputs(l[i].mark ? "   <-- the call site\n" : "\n", t);
	}
	text_lines_free(l, n);
	fclose(t);
	return buf;
}

static char *objects_text(const struct model *m, const struct site *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *t = open_memstream(&buf, &len);
	if (!t)
		return xstrdup("");
	site_objects_write(t, m, s, esc_text);
	fclose(t);
	return buf;
}

static void evidence(FILE *out, const struct model *m, const struct site *s, int leak)
{
	char *line = site_evidence_line(m, s, leak);
	if (line)
		fprintf(out, "- %s %s\n", leak ? "**leak**" : "info", line);
	free(line);
}

static void section(FILE *out, const struct model *m, const struct site *s, size_t i)
{
	const struct frame *fr = site_frame(s);
	char *place = site_place(s), *pids = site_pids_text(s);
	fprintf(out, "\n#### %zu. %s ", i + 1, s->leak ? "LEAK" : "info");
	if (fr && fr->function) {
		esc_md_code(out, fr->function, 0);
		fputs(" at ", out);
	}
	esc_md_code(out, place, 0);
	fprintf(out, ": %zu FD%s, %s\n\n", s->n_fds, s->n_fds == 1 ? "" : "s", pids);
	free(place);
	free(pids);
	evidence(out, m, s, 1);
	evidence(out, m, s, 0);
	char *st = stack_text(s), *ob = objects_text(m, s);
	fprintf(out, "\n%c%s:\n", site_what_text(s)[0] - 'a' + 'A', site_what_text(s) + 1);
	code_block(out, st);
	fputs("Objects:\n", out);
	code_block(out, ob);
	free(st);
	free(ob);
}

void report_markdown(const struct model *m, const struct opts *o, FILE *out)
{
	struct siteset ss;
	sites_build(m, o, &ss);
	header(out, m, o, &ss);
	processes(out, m, o);
	blind_spots(out, m, o);
	table(out, m, &ss);
	for (size_t i = 0; i < ss.shown; i++) {
		if (i == ss.n_leak && i)
			fputs("\n---\n\nFor information (not leaks):\n", out);
		section(out, m, &ss.v[i], i);
	}
	fprintf(out, "\n<sub>bpfleak-report %s: exit status 0 no leak, 1 leaks, 2 bad input, 3 no leak "
		"found but blind spots keep the report from vouching for it</sub>\n", BPFLEAK_VERSION);
	sites_free(&ss);
}
