// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The default report: meant to be pasted into a bug ticket, so it is plain
 * text, says where its data came from (journal span, snapshot source) and
 * puts the biggest leaks first, one entry per call site
 * (report_text_sites.c).  Text from the journal is printed through
 * esc_text: it may hold terminal escape sequences.
 */
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"
#include "escape.h"
#include "report.h"
#include "report_parts.h"

/* The first lines: what the report could not see, before anything it found. */
static void blind_spot_line(FILE *out, int pid, const char *text)
{
	fputs("blind spot: ", out);
	if (pid)
		fprintf(out, "pid %d: ", pid);
	esc_text(out, text);
	fputc('\n', out);
}

static void print_pins(FILE *out, const struct model *m, const struct proc *p)
{
	struct pin_use *u;
	size_t n = proc_pins(m, p, &u);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %s ", u[i].how);
		esc_text(out, u[i].path ? u[i].path : "a pin (path not known)");
		fprintf(out, " (%s", bpfleak_kind_name(u[i].kind));
		if (u[i].id)
			fprintf(out, " %u", u[i].id);
		fprintf(out, ")\n");
	}
	free(u);
}

static void print_warnings(FILE *out, const struct warning *w, size_t n, const char *indent)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%swarning: ", indent);
		esc_text(out, w[i].text);
		if (w[i].count > 1)
			fprintf(out, " (%ld times)", w[i].count);
		fputc('\n', out);
	}
}

static void print_snapshot(FILE *out, const struct proc *p)
{
	char pins[48];
	fputs("  snapshot: ", out);
	if (p->snap) {
		fprintf(out, "%s (", p->snap->source);
		esc_text(out, p->snap->reason);
		fprintf(out, "), %zu bpf FD%s, %s", p->snap->found.n_fds,
			p->snap->found.n_fds == 1 ? "" : "s", pins_walk_text(p->snap, pins, sizeof(pins)));
		if (p->snap_note)
			fputs("; ", out);
	} else {
		fputs("none", out);
		if (p->snap_note)
			fputs(" -- ", out);
	}
	esc_text(out, p->snap_note);
	if (!p->snap)
		fputs(": journal only, stale and unknown_origin not checked, pins from the journal's "
		      "pin events", out);
	fputc('\n', out);
}

void report_text(const struct model *m, const struct opts *o, FILE *out)
{
	char b[32];
	struct siteset ss;

	fprintf(out, "bpfleak-report %s: ", BPFLEAK_VERSION);
	esc_text(out, m->path);
	char *span = journal_span_text(m);
	fprintf(out, "\njournal: %s\n", span);
	free(span);
	report_blind_spots(m, o, blind_spot_line, out);
	print_warnings(out, m->warns, m->n_warns, "");
	for (size_t i = 0; i < m->n_procs; i++) {
		const struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		fprintf(out, "\nprocess %d ", p->pid);
		esc_text(out, p->exe ? p->exe : "(exe unknown)");
		if (p->ppid)
			fprintf(out, " (parent %d)", p->ppid);
		fputc('\n', out);
		if (p->cmdline && *p->cmdline) {
			fputs("  cmdline: ", out);
			esc_text(out, p->cmdline);
			fputc('\n', out);
		}
		if (p->n_ev || p->folded) {
			fprintf(out, "  events: %zu over %s", p->n_ev,
				fmt_duration(ns_between(p->first_ns, p->last_ns), b, sizeof(b)));
			if (p->folded)
				fprintf(out, ", and %lld create/close pairs folded", (long long)p->folded);
			fputc('\n', out);
		}
		print_snapshot(out, p);
		if (p->n_uncertain)
			fprintf(out, "  %zu FD number%s changed while the snapshot was taken: not "
				"judged against it\n", p->n_uncertain, p->n_uncertain == 1 ? "" : "s");
		fprintf(out, "  open bpf FDs at the end: %zu\n", open_fds(p));
		print_pins(out, m, p);
		for (size_t k = 0; k < p->n_blinds; k++)
			if (!strcmp(p->blinds[k].kind, "drop")) {
				fputs("  lost: ", out);
				esc_text(out, p->blinds[k].text);
				fputc('\n', out);
			}
		if (p->failed_creates)
			fprintf(out, "  failed FD-creating bpf() calls: %ld\n", p->failed_creates);
		print_warnings(out, p->warns, p->n_warns, "  ");
	}
	sites_build(m, o, &ss);
	report_text_sites(m, o, &ss, out);
	sites_free(&ss);
}
