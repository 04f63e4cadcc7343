// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * --format html: one self-contained page to attach to a ticket.  The same
 * content as the markdown report, plus a timeline per process
 * (svg_timeline.c).  No script, no external style, font or image: the
 * Content-Security-Policy says so to the browser too, so even a string
 * that escaped escaping could not load or run anything.  Every string
 * from the journal goes through esc_html.
 */
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "report.h"
#include "report_parts.h"
#include "timeline.h"

static const char style[] =
"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI','DejaVu Sans',sans-serif;color:#1f2328;"
"max-width:1120px;margin:20px auto;padding:0 16px}"
"h1{font-size:22px;margin:0 0 4px}h1.leak{color:#cf222e}h1.clean{color:#1a7f37}"
"h2{font-size:17px;border-bottom:1px solid #d0d7de;padding-bottom:3px;margin-top:26px}"
"h3{font-size:15px;margin:18px 0 6px}h4{font-size:13px;margin:10px 0 4px;color:#57606a}"
"code,pre{font:12px/1.45 ui-monospace,'DejaVu Sans Mono',monospace}"
"code{background:#f6f8fa;padding:1px 4px;border-radius:4px}.facts code{word-break:break-all}"
"pre{background:#f6f8fa;padding:8px 10px;border-radius:6px;overflow-x:auto;margin:4px 0}"
"pre b{background:#fff1b8;font-weight:bold}"
"table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:4px 8px;"
"text-align:left;vertical-align:top}th{background:#f6f8fa}td.n{text-align:right}"
".tag{display:inline-block;font-size:11px;font-weight:bold;padding:0 6px;border-radius:10px;"
"color:#fff;background:#57606a}.tag.leak{background:#cf222e}"
".facts{color:#57606a;margin:2px 0}.blind{background:#fff8c5;border:1px solid #d4a72c;"
"border-radius:6px;padding:4px 14px;margin:12px 0}"
"ul.evidence li.leak{color:#a40e26}figure{margin:8px 0}svg.timeline{max-width:100%;height:auto}"
"ul.legend{list-style:none;padding:0;margin:4px 0 0 56px;font-size:12px}"
".swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}"
"footer{color:#57606a;font-size:12px;margin-top:30px}";

static void code(FILE *out, const char *s)
{
	fputs("<code>", out);
	esc_html(out, s);
	fputs("</code>", out);
}

static void header(FILE *out, const struct model *m, const struct opts *o, const struct siteset *ss)
{
	char *headline = sites_headline(ss), *counts = report_counts_text(m, o, ss);
	char *span = journal_span_text(m), *host = journal_host_text(m);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>bpfleak: ",
	      out);
	esc_html(out, headline);
	fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1 class=\"%s\">",
		style, ss->n_leak ? "leak" : "clean");
	esc_html(out, headline);
	fputs("</h1>\n<p class=\"facts\">", out);
	esc_html(out, counts);
	fprintf(out, "; exit status %d</p>\n<p class=\"facts\">journal ", report_exit_code(m, o));
	code(out, m->path);
	fputs(": ", out);
	esc_html(out, span);
	if (host) {
		fputs("; ", out);
		esc_html(out, host);
	}
	fprintf(out, "; bpfleak-report %s</p>\n</header>\n", BPFLEAK_VERSION);
	free(headline);
	free(counts);
	free(span);
	free(host);
}

static void blind_spot_item(FILE *out, int pid, const char *text)
{
	fputs("<li>", out);
	if (pid)
		fprintf(out, "pid %d: ", pid);
	esc_html(out, text);
	fputs("</li>\n", out);
}

static void blind_spots(FILE *out, const struct model *m, const struct opts *o)
{
	if (!report_blind_spots(m, o, NULL, NULL))
		return;
	fputs("<section class=\"blind\">\n<p><b>Blind spots</b>: the recorder could not see "
	      "everything", out);
	fputs(report_exit_code(m, o) == 3 ? "; no leak was found, but the report cannot vouch for it "
					    "(exit status 3)." : ".", out);
	fputs("</p>\n<ul>\n", out);
	report_blind_spots(m, o, blind_spot_item, out);
	fputs("</ul>\n</section>\n", out);
}

static void table(FILE *out, const struct model *m, const struct siteset *ss)
{
	fputs("<h2>Call sites</h2>\n", out);
	if (!ss->shown) {
		fputs("<p>No finding.</p>\n", out);
		return;
	}
	fputs("<table class=\"sites\">\n<thead><tr><th>#</th><th>call site</th><th>file:line</th>"
	      "<th>FDs</th><th>classes</th><th>objects</th></tr></thead>\n<tbody>\n", out);
	for (size_t i = 0; i < ss->shown; i++) {
		const struct site *s = &ss->v[i];
		const struct frame *fr = site_frame(s);
		struct site_cells c;
		site_cells_get(m, s, &c);
		fprintf(out, "<tr class=\"%s\"><td class=\"n\"><a href=\"#site-%zu\">%zu</a></td><td>"
			"<span class=\"tag%s\">%s</span> ", s->leak ? "leak" : "info", i + 1, i + 1,
			s->leak ? " leak" : "", s->leak ? "LEAK" : "info");
		if (fr && fr->function)
			code(out, fr->function);
		fputs("</td><td>", out);
		code(out, c.place);
		fprintf(out, "</td><td class=\"n\">%zu <small>(", s->n_fds);
		esc_html(out, c.pids);
		fputs(")</small></td><td>", out);
		if (*c.leak_classes) {
			fputs("<b>", out);
			esc_html(out, c.leak_classes);
			fputs(*c.info_classes ? "</b>; " : "</b>", out);
		}
		esc_html(out, c.info_classes);
		fputs("</td><td>", out);
		esc_html(out, c.objects);
		fputs("</td></tr>\n", out);
		site_cells_free(&c);
	}
	fputs("</tbody>\n</table>\n", out);
}

static void pins(FILE *out, const struct model *m, const struct proc *p)
{
	struct pin_use *u;
	size_t n = proc_pins(m, p, &u);
	if (n) {
		fprintf(out, "<details><summary>%zu pin%s made or opened</summary><ul>\n", n,
			n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "<li>%s ", u[i].how);
			code(out, u[i].path ? u[i].path : "a pin (path not known)");
			fprintf(out, " (%s %u)</li>\n", bpfleak_kind_name(u[i].kind), u[i].id);
		}
		fputs("</ul></details>\n", out);
	}
	free(u);
}

static void processes(FILE *out, const struct model *m, const struct opts *o,
		      const struct siteset *ss)
{
	char a[32];
	fputs("<h2>Processes</h2>\n", out);
	for (size_t i = 0; i < m->n_procs; i++) {
		const struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		fprintf(out, "<section class=\"process\" id=\"pid-%d\">\n<h3>pid %d ", p->pid, p->pid);
		code(out, p->exe ? p->exe : "(exe unknown)");
		if (p->ppid)
			fprintf(out, " <small>(parent %d)</small>", p->ppid);
		fputs("</h3>\n<p class=\"facts\">", out);
		if (p->cmdline && *p->cmdline) {
			fputs("command line ", out);
			code(out, p->cmdline);
			fputs("<br>", out);
		}
		fprintf(out, "%zu events over %s; %zu bpf FD%s open at the end; ", p->n_ev,
			fmt_duration(ns_between(p->first_ns, p->last_ns), a, sizeof(a)), open_fds(p),
			open_fds(p) == 1 ? "" : "s");
		char *snap = proc_snapshot_text(p);
		esc_html(out, snap);
		free(snap);
		if (p->failed_creates)
			fprintf(out, "; %ld failed FD-creating bpf() calls", p->failed_creates);
		fputs("</p>\n", out);
		for (size_t k = 0; k < p->n_warns; k++) {
			fputs("<p class=\"facts\">warning: ", out);
			esc_html(out, p->warns[k].text);
			fputs("</p>\n", out);
		}
		pins(out, m, p);
		svg_timeline(out, m, ss, p);
		fputs("</section>\n", out);
	}
}

static void evidence(FILE *out, const struct model *m, const struct site *s, int leak)
{
	char *line = site_evidence_line(m, s, leak);
	if (line) {
		const char *what = leak ? "leak" : "info";
		fprintf(out, "<li class=\"%s\"><b>%s</b> ", what, what);
		esc_html(out, line);
		fputs("</li>\n", out);
	}
	free(line);
}

static void details(FILE *out, const struct model *m, const struct site *s, size_t i)
{
	char *title = site_title(s), *pids = site_pids_text(s);
	size_t n;
	fprintf(out, "<section class=\"site\" id=\"site-%zu\">\n<h3>[%zu] <span class=\"tag%s\">%s</span> ",
		i + 1, i + 1, s->leak ? " leak" : "", s->leak ? "LEAK" : "info");
	code(out, title);
	fprintf(out, ": %zu FD%s, ", s->n_fds, s->n_fds == 1 ? "" : "s");
	esc_html(out, pids);
	fputs("</h3>\n<ul class=\"evidence\">\n", out);
	free(title);
	free(pids);
	evidence(out, m, s, 1);
	evidence(out, m, s, 0);
	fprintf(out, "</ul>\n<h4>%s</h4>\n<pre>", site_what_text(s));
	struct text_line *l = site_stack_lines(s, &n);
	for (size_t k = 0; k < n; k++) {
		fputs(l[k].mark ? "<b>" : "", out);
		esc_html(out, l[k].text);
		fputs(l[k].mark ? "</b>\n" : "\n", out);
	}
	text_lines_free(l, n);
	fputs("</pre>\n<h4>objects</h4>\n<pre>", out);
	site_objects_write(out, m, s, esc_html);
	fputs("</pre>\n</section>\n", out);
}

void report_html(const struct model *m, const struct opts *o, FILE *out)
{
	struct siteset ss;
	sites_build(m, o, &ss);
	header(out, m, o, &ss);
	blind_spots(out, m, o);
	table(out, m, &ss);
	processes(out, m, o, &ss);
	if (ss.shown)
		fputs("<h2>Call sites in detail</h2>\n", out);
	for (size_t i = 0; i < ss.shown; i++) {
		if (i == ss.n_leak && i)
			fputs("<p>For information (not leaks):</p>\n", out);
		details(out, m, &ss.v[i], i);
	}
	fprintf(out, "<footer>bpfleak-report %s. Exit status: 0 no leak, 1 leaks, 2 bad input, 3 no "
		"leak found but blind spots keep the report from vouching for it.</footer>\n"
		"</body>\n</html>\n", BPFLEAK_VERSION);
	sites_free(&ss);
}
