// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * --format folded: "root;...;leaf COUNT" per finding, the input of
 * flamegraph.pl and speedscope.  COUNT is the finding's FD count.  Frames
 * are "function (file:line)", "function" or "module+0xoff"; ';' inside a
 * name would split a frame, so it becomes ':'.  A finding without a stack
 * is one pseudo-frame in brackets.  Every selected class is emitted; use
 * --class to draw one (e.g. --class outstanding for all open FDs by site,
 * each FD counted once).
 */
#include <string.h>
#include "analyzer.h"
#include "report.h"

static void put_frame(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' || *s == '\n' ? ':' : *s, out);
}

void report_folded(const struct model *m, const struct opts *o, FILE *out)
{
	char buf[512];
	size_t shown = report_shown(m, o);
	for (size_t i = 0; i < shown; i++) {
		const struct finding *f = &m->findings[i];
		if (!f->rs.n) {
			snprintf(buf, sizeof(buf), "[%s: %s]", cls_name(f->cls), no_stack_text(f));
			put_frame(out, buf);
		}
		for (size_t k = f->rs.n; k-- > 0;) {
			put_frame(out, frame_label(&f->rs.f[k], buf, sizeof(buf)));
			if (k)
				fputc(';', out);
		}
		fprintf(out, " %zu\n", f->n);
	}
}
