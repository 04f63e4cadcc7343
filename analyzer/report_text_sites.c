// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The text report's body: the headline, then one entry per call site,
 * leaking sites first, each with its evidence, its stack once, and its
 * objects.  Everything from the journal goes through esc_text: a map name
 * or a command line must not drive the reader's terminal.
 */
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "report.h"
#include "report_parts.h"

static void print_stack(FILE *out, const struct site *s)
{
	size_t n;
	struct text_line *l = site_stack_lines(s, &n);
	for (size_t i = 0; i < n; i++) {
		fputs("      ", out);
		esc_text(out, l[i].text);
		fputc('\n', out);
	}
	text_lines_free(l, n);
}

static void print_evidence(FILE *out, const struct model *m, const struct site *s, int leak)
{
	char *line = site_evidence_line(m, s, leak);
	if (line)
		fprintf(out, "    %s %s\n", leak ? "leak" : "info", line);
	free(line);
}

static void print_objects(FILE *out, const struct model *m, const struct site *s)
{
	size_t n;
	struct obj_line *l = site_object_lines(m, s, &n);
	for (size_t i = 0; i < n; i++) {
		if (!i || l[i].p != l[i - 1].p)
			fprintf(out, s->n_pids > 1 ? "    objects in pid %d:\n" : "    objects:\n",
				l[i].p->pid);
		if (l[i].object) {
			fputs("      ", out);
			esc_text(out, l[i].object);
			fputc('\n', out);
		}
		fputs("        ", out);
		esc_text(out, l[i].fds);
		fputc('\n', out);
	}
	obj_lines_free(l, n);
}

void report_text_sites(const struct model *m, const struct opts *o, const struct siteset *ss,
		       FILE *out)
{
	char *headline = sites_headline(ss), *counts = report_counts_text(m, o, ss);
	fprintf(out, "\n%s; %s\n", headline, counts);
	free(headline);
	free(counts);
	if (report_exit_code(m, o) == 3)
		fprintf(out, "no leak found, but the report cannot vouch for it: see the blind spots "
			"at the top (exit status 3)\n");
	for (size_t i = 0; i < ss->shown; i++) {
		const struct site *s = &ss->v[i];
		char *title = site_title(s), *pids = site_pids_text(s);
		if (i == ss->n_leak && i)
			fputs("\nFor information (not leaks):\n", out);
		fprintf(out, "\n[%zu] %s ", i + 1, s->leak ? "LEAK" : "info");
		esc_text(out, title);
		fprintf(out, ": %zu FD%s, %s\n", s->n_fds, s->n_fds == 1 ? "" : "s", pids);
		free(title);
		free(pids);
		print_evidence(out, m, s, 1);
		print_evidence(out, m, s, 0);
		fprintf(out, "    %s:\n", site_what_text(s));
		print_stack(out, s);
		print_objects(out, m, s);
	}
}
