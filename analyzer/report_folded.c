// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * --format folded: "root;...;leaf COUNT", the input of flamegraph.pl and
 * speedscope, one line per call site, so an FD that is growth, duplicate
 * and outstanding at once is counted once.  COUNT is the site's FDs.  The
 * root frame carries the classes: "[leak: growth,duplicate]" or "[info:
 * outstanding]", so leaks and information make two towers.  Frames are
 * "function (file:line)", "function" or "module+0xoff"; a site without a
 * stack is one bracketed frame saying why.  Names come from the journal:
 * control characters are escaped (escape.h), and ';', which would split a
 * frame, becomes ':'.
 */
#include <stdlib.h>
#include <string.h>
#include "analyzer.h"
#include "escape.h"
#include "report.h"
#include "sites.h"

static void put_frame(FILE *out, const char *s)
{
	char *t = esc_text_dup(s);
	for (const char *c = t; *c; c++)
		fputc(*c == ';' ? ':' : *c, out);
	free(t);
}

void report_folded(const struct model *m, const struct opts *o, FILE *out)
{
	char buf[512];
	struct siteset ss;
	sites_build(m, o, &ss);
	for (size_t i = 0; i < ss.shown; i++) {
		const struct site *s = &ss.v[i];
		const struct finding *f = s->lead;
		char *classes = site_classes_text(s, s->leak);
		for (char *c = classes; *c; c++)
			if (*c == ' ')
				memmove(c, c + 1, strlen(c));   /* "growth,duplicate" */
		fprintf(out, "[%s: %s];", s->leak ? "leak" : "info", classes);
		free(classes);
		if (!f->rs.n)
		{
			snprintf(buf, sizeof(buf), "[%s]", f->stack_id > 0 ? "stack not in the journal"
								      : no_stack_text(f));
			put_frame(out, buf);
		}
		for (size_t k = f->rs.n; k-- > 0;) {
			put_frame(out, frame_label(&f->rs.f[k], buf, sizeof(buf)));
			if (k)
				fputc(';', out);
		}
		fprintf(out, " %zu\n", s->n_fds);
	}
	sites_free(&ss);
}
