// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The reports made for bug tickets (docs/report.md): findings grouped by
 * call site in every format, with one headline; the markdown and HTML
 * formats; the timeline's step series; and untrusted text staying text in
 * every format.  The journals are in scenarios.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenarios.h"
#include "sites.h"
#include "timeline.h"

static void report(struct jb *j, struct run *r, const char *format, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;
	argv[argc++] = "--format";
	argv[argc++] = (char *)format;
	va_start(ap, format);
	for (char *a; (a = va_arg(ap, char *)) && argc < 14;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	jb_report(j, r, argv[0], argv[1], argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL,
		  argc > 4 ? argv[4] : NULL, argc > 5 ? argv[5] : NULL, NULL);
}

static char *jqs(const char *json, const char *sql)
{
	char *s = jq(json, sql);
	return s ? s : strdup("(null)");
}

static void expect_jq(const char *json, const char *sql, const char *want)
{
	char *got = jqs(json, sql);
	if (strcmp(got, want))
		fail_msg("%s\n  got:  %s\n  want: %s", sql, got, want);
	free(got);
}

static void expect_in(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("lacks \"%s\":\n%s", want, text);
}

/* The sites array groups every finding exactly once, by its stack. */
static void test_sites_json(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	scenario_multi(&j);
	report(&j, &r, "json", NULL);
	assert_int_equal(r.rc, 1);
	const char *js = r.out;
	assert_int_equal(jq_long(js, "SELECT json_valid(?1)"), 1);
	expect_jq(js, "SELECT json_extract(?1, '$.summary.sites') || ' ' ||"
		  " json_extract(?1, '$.summary.leaking_sites')", "4 1");
	/* Site 1: reload_acl in both agents, named after the agent's frame, not libbpf's. */
	expect_jq(js, "SELECT json_extract(?1, '$.sites[0].leak') || ' ' ||"
		  " json_extract(?1, '$.sites[0].place') || ' ' || json_extract(?1, '$.sites[0].function')"
		  " || ' ' || json_extract(?1, '$.sites[0].frame') || ' ' ||"
		  " json_extract(?1, '$.sites[0].pids') || ' ' || json_extract(?1, '$.sites[0].count') || ' '"
		  " || json_extract(?1, '$.sites[0].leaked_fds') || ' ' ||"
		  " json_extract(?1, '$.sites[0].leak_classes')",
		  "1 agent.c:120 reload_acl 1 [100,101] 11 11 [\"duplicate\",\"growth\"]");
	char want[64];
	snprintf(want, sizeof(want), "1 leaking call site, %d FDs",
		 MULTI_RELOADS * MULTI_RELOAD_MAPS + MULTI_CHILD_RELOADS);
	expect_jq(js, "SELECT json_extract(?1, '$.summary.headline')", want);
	expect_jq(js, "SELECT group_concat(json_extract(value, '$.leak') || ':' ||"
		  " json_extract(value, '$.place'), ' ') FROM json_each(?1, '$.sites')",
		  "1:agent.c:120 0:agent.c:50 0:helper.c:10 0:no stack: only the kernel knows this FD");
	/* Each finding in exactly one site, and that site's stack is the finding's. */
	expect_jq(js, "SELECT count(*) = json_array_length(?1, '$.findings') AND count(DISTINCT i.value) ="
		  " count(*) AND max(i.value) = count(*) - 1 FROM json_each(?1, '$.sites') s,"
		  " json_each(s.value, '$.findings') i", "1");
	/* duplicate, growth, outstanding in each agent; setup's outstanding in each; pid 102's two. */
	expect_jq(js, "SELECT json_array_length(?1, '$.findings')", "10");
	expect_jq(js, "SELECT count(*) FROM json_each(?1, '$.sites') s, json_each(s.value, '$.findings') i"
		  " WHERE json_extract(?1, '$.findings[' || i.value || '].stack') IS NOT"
		  " json_extract(s.value, '$.stack')", "0");
	/* A site's FDs are its findings' FDs, each once. */
	expect_jq(js, "SELECT count(*) FROM json_each(?1, '$.sites') s WHERE"
		  " json_extract(s.value, '$.count') != (SELECT count(DISTINCT"
		  " json_extract(?1, '$.findings[' || i.value || '].pid') || '/' ||"
		  " json_extract(d.value, '$.fd')) FROM json_each(s.value, '$.findings') i,"
		  " json_each(json_extract(?1, '$.findings[' || i.value || '].fds')) d)", "0");
	expect_jq(js, "SELECT (SELECT sum(json_extract(value, '$.leaked_fds')) FROM json_each(?1, '$.sites'))"
		  " = json_extract(?1, '$.summary.leaked_fds')", "1");
	/* The findings keep their shape. */
	expect_jq(js, "SELECT json_type(?1, '$.findings[0].class') || json_type(?1, '$.findings[0].count')"
		  " || json_type(?1, '$.findings[0].stack') || json_type(?1, '$.findings[0].fds')",
		  "textintegerarrayarray");
	run_free(&r);
	jb_cleanup(&j);
}

/* Every format says the same headline, and lists the same sites. */
static void test_headline_every_format(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	char want[256];
	int fds = MULTI_RELOADS * MULTI_RELOAD_MAPS + MULTI_CHILD_RELOADS;
	scenario_multi(&j);

	report(&j, &r, "text", NULL);
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "\n1 leaking call site, %d FDs; 3 call sites for information; ", fds);
	expect_in(r.out, want);
	snprintf(want, sizeof(want), "\n[1] LEAK agent.c:120 reload_acl: %d FDs, pids 100, 101\n", fds);
	expect_in(r.out, want);
	expect_in(r.out, "\n    leak (duplicate, growth): pid 100: ");
	expect_in(r.out, "\nFor information (not leaks):\n\n[2] info agent.c:50 setup: 4 FDs, pids 100, 101\n");
	expect_in(r.out, "\n[4] info no stack: only the kernel knows this FD: 1 FD, pid 102\n");
	assert_null(strstr(r.out, "\n[5] "));
	run_free(&r);

	report(&j, &r, "markdown", NULL);
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "### bpfleak: 1 leaking call site, %d FDs\n", fds);
	assert_int_equal(strncmp(r.out, want, strlen(want)), 0);
	expect_in(r.out, "- **journal** `");
	expect_in(r.out, "- **recorded on** `build-7`, **kernel** `6.1.0-test` (`x86_64`)\n");
	expect_in(r.out, "- **process 101** `/opt/agent/bin/agent` (parent 100)");
	expect_in(r.out, "  - command line: `/usr/bin/helper`\n");
	snprintf(want, sizeof(want), "| 1 | **LEAK** `reload_acl` | `agent.c:120` | %d (pids 100, 101) | "
		 "**duplicate, growth**; outstanding | `map acl_rules \xc3\x97%d, map acl_config \xc3\x97%d` |\n",
		 fds, MULTI_RELOADS + MULTI_CHILD_RELOADS, MULTI_RELOADS);
	expect_in(r.out, want);
	expect_in(r.out, "\n#### 1. LEAK `reload_acl` at `agent.c:120`: ");
	expect_in(r.out, "#1  reload_acl                   /src/agent/agent.c:120   <-- the call site\n");
	expect_in(r.out, "\n> **Blind spots**: the recorder could not see everything\n");
	expect_in(r.out, "\n#### 4. info `no stack: only the kernel knows this FD`: 1 FD, pid 102\n");
	run_free(&r);

	report(&j, &r, "html", NULL);
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "<h1 class=\"leak\">1 leaking call site, %d FDs</h1>", fds);
	expect_in(r.out, want);
	snprintf(want, sizeof(want), "<title>bpfleak: 1 leaking call site, %d FDs</title>", fds);
	expect_in(r.out, want);
	expect_in(r.out, "<b>#1  reload_acl                   /src/agent/agent.c:120</b>");
	for (int i = 1; i <= 4; i++) {
		snprintf(want, sizeof(want), "<section class=\"site\" id=\"site-%d\">", i);
		expect_in(r.out, want);
	}
	run_free(&r);

	report(&j, &r, "folded", NULL);
	assert_int_equal(r.rc, 1);
	snprintf(want, sizeof(want), "[leak: duplicate,growth];main (agent.c:300);reload_acl (agent.c:120);"
		 "bpf_obj_get (bpf.c:900) %d\n", fds);
	assert_int_equal(strncmp(r.out, want, strlen(want)), 0);
	assert_int_equal(count_lines(r.out), 4);
	expect_in(r.out, "\n[info: outstanding];main (agent.c:300);setup (agent.c:50);"
		  "bpf_map_create (bpf.c:200) 4\n");
	run_free(&r);
	jb_cleanup(&j);
}

static void frame_row(struct jb *j, uint64_t offset, const char *fn, const char *file, int line)
{
	char *sql = NULL;
	assert_true(asprintf(&sql, "INSERT INTO frame VALUES ('90b1d', %llu, 0, '%s', '%s', %d)",
			     (unsigned long long)offset, fn, file, line) > 0);
	jb_sql(j, sql);
	free(sql);
}

/*
 * The frame that names a site: Go's runtime, cilium/ebpf, the module
 * cache and a compiler's "<autogenerated>" wrapper are all in the
 * executable, none is the program's own line; a stack all in the system
 * falls back to its innermost source line, one with no lines to its
 * innermost frame.
 */
static void test_site_frame(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	jb_init(&j);
	jb_module(&j, 100, 0, "/usr/bin/gw-go", "90b1d", 0x400000, 0x100000);
	jb_module(&j, 100, 0, "/usr/lib/bpfleak-test/libsys.so", "5y5", 0x7000000, 0x100000);
	frame_row(&j, 0x1000, "runtime/internal/syscall.Syscall6",
		  "/usr/lib/go-1.19/src/runtime/internal/syscall/asm_linux_amd64.s", 35);
	frame_row(&j, 0x2000, "syscall.Syscall", "./<autogenerated>", 1);
	frame_row(&j, 0x3000, "github.com/cilium/ebpf.LoadPinnedMap",
		  "/usr/share/gocode/src/github.com/cilium/ebpf/map.go", 1277);
	frame_row(&j, 0x4000, "github.com/x/y.Z", "/root/go/pkg/mod/github.com/x/y@v1/z.go", 5);
	frame_row(&j, 0x5000, "main.(*gateway).aclReload", "/src/gw/acl_apply.go", 103);
	frame_row(&j, 0x6000, "main.main", "/src/gw/main.go", 61);
	jb_sql(&j, "INSERT INTO frame VALUES ('5y5', 16, 0, 'sys_open', '/usr/src/sys/open.c', 12)");
	uint64_t go[] = { 0x401000, 0x402000, 0x403000, 0x404000, 0x405000, 0x406000 };
	uint64_t sys[] = { 0x7000010 }, bare[] = { 0x7000020, 0x7000030 };
	jb_process(&j, 100, 1, "/usr/bin/gw-go", "start", 1);
	jb_object(&j, BPFLEAK_KIND_MAP, 1, 1, "m", 0);
	jb_create(&j, 100, 3, BPFLEAK_KIND_MAP, 1, jb_stack(&j, go, 6));
	jb_create(&j, 100, 4, BPFLEAK_KIND_MAP, 1, jb_stack(&j, sys, 1));
	jb_create(&j, 100, 5, BPFLEAK_KIND_MAP, 1, jb_stack(&j, bare, 2));
	report(&j, &r, "json", "--class", "outstanding", NULL);
	expect_jq(r.out, "SELECT group_concat(json_extract(value, '$.title') || '@' ||"
		  " json_extract(value, '$.frame'), ' | ') FROM json_each(?1, '$.sites')",
		  "acl_apply.go:103 main.(*gateway).aclReload@4 | open.c:12 sys_open@0 |"
		  " libsys.so+0x20@0");
	run_free(&r);
	jb_cleanup(&j);
}

/* --class still filters: the sites are built from what is left. */
static void test_class_and_top(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	scenario_multi(&j);
	jb_report(&j, &r, "--class", "outstanding", NULL);
	assert_int_equal(r.rc, 3);   /* pid 102's unexplained FD is a blind spot */
	expect_in(r.out, "\nno leaking call site; 3 call sites for information; ");
	assert_null(strstr(r.out, "] LEAK "));
	run_free(&r);
	/* The exit status is the same in every format: sites group findings, not verdicts. */
	static const char *const formats[] = { "json", "markdown", "html", "folded" };
	for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++) {
		report(&j, &r, formats[i], "--class", "outstanding", NULL);
		if (r.rc != 3)
			fail_msg("--format %s --class outstanding exited %d, not 3", formats[i], r.rc);
		run_free(&r);
	}
	jb_report(&j, &r, "--format", "json", "--class", "duplicate", NULL);
	expect_jq(r.out, "SELECT json_extract(?1, '$.summary.sites') || ' ' ||"
		  " json_array_length(?1, '$.sites[0].findings') || ' ' || json_extract(?1, '$.sites[0].classes')",
		  "1 2 [\"duplicate\"]");
	run_free(&r);
	jb_report(&j, &r, "--format", "markdown", "--top", "2", NULL);
	expect_in(r.out, "(top 2 of 4 call sites shown)");
	expect_in(r.out, "\n#### 2. info ");
	assert_null(strstr(r.out, "\n#### 3. "));
	run_free(&r);
	jb_cleanup(&j);
}

/* As report_main does, up to the sites; *sym holds the frames' names until it is freed. */
static void analyze(struct jb *j, struct model *m, struct opts *o, struct siteset *ss,
		    struct symbolizer **sym)
{
	memset(o, 0, sizeof(*o));
	o->class_mask = (1u << CLS_MAX) - 1;
	o->growth_min = 3;
	o->min_age_ns = -1;
	jb_model(j, m);
	*sym = symbolizer_new(m);
	classify_all(m, o);
	findings_finish(m, o, NULL, *sym);
	sites_build(m, o, ss);
}

static const struct tl_series *series_of(const struct timeline *tl, const struct siteset *ss,
					 const char *place)
{
	for (size_t k = 0; k < tl->n; k++) {
		if (tl->s[k].kind != TL_SITE)
			continue;
		char *p = site_place(&ss->v[tl->s[k].site]);
		int same = !strcmp(p, place);
		free(p);
		if (same)
			return &tl->s[k];
	}
	fail_msg("no series for %s", place);
	return NULL;
}

/* The step series: each reload is a step of its FDs, at its time. */
static void test_timeline_steps(void **state)
{
	(void)state;
	struct jb j;
	struct model m;
	struct opts o;
	struct siteset ss;
	struct timeline tl;
	struct symbolizer *sym;
	enum { COLS = 500 };
	scenario_multi(&j);
	analyze(&j, &m, &o, &ss, &sym);
	struct proc *p = model_proc(&m, 100, 0);
	assert_non_null(p);
	assert_int_equal(timeline_build(&m, &ss, p, COLS, &tl), 1);
	size_t sites = 0, other = 0;
	for (size_t k = 0; k < tl.n; k++) {
		sites += tl.s[k].kind == TL_SITE;
		other += tl.s[k].kind == TL_OTHER;
	}
	assert_int_equal(sites, 2);   /* reload_acl and setup; the polls are no site */
	assert_int_equal(other, 1);
	const struct tl_series *reload = series_of(&tl, &ss, "agent.c:120");
	const struct tl_series *setup = series_of(&tl, &ss, "agent.c:50");
	const struct tl_series *polls = NULL;
	for (size_t k = 0; k < tl.n; k++)
		if (tl.s[k].kind == TL_OTHER)
			polls = &tl.s[k];
	assert_int_equal(reload->last, MULTI_RELOADS * MULTI_RELOAD_MAPS);
	assert_int_equal(reload->peak, MULTI_RELOADS * MULTI_RELOAD_MAPS);
	assert_int_equal(setup->last, 3);
	assert_int_equal(polls->last, 0);
	assert_int_equal(polls->peak, 1);
	/* Never down, and up by one reload's FDs at each reload's column. */
	double per_ns = (double)COLS / (double)(tl.t1 - tl.t0);
	for (size_t c = 1; c < COLS; c++)
		assert_true(reload->vals[c] >= reload->vals[c - 1]);
	for (int r = 1; r <= MULTI_RELOADS; r++) {
		/* A reload's FDs are 1 ms apart: its step is whole two columns later. */
		size_t col = (size_t)((MULTI_T0 + r * MULTI_RELOAD_NS - tl.t0) * per_ns);
		assert_int_equal(reload->vals[col - 1], (r - 1) * MULTI_RELOAD_MAPS);
		assert_int_equal(reload->vals[col + 2], r * MULTI_RELOAD_MAPS);
	}
	/* A poll opens and closes one FD inside a column: the column still shows it. */
	size_t col = (size_t)((MULTI_T0 + MULTI_RELOAD_NS + MULTI_RELOAD_NS / 2 - tl.t0) * per_ns);
	assert_int_equal(polls->vals[col], 1);
	assert_int_equal(polls->vals[col + 3], 0);
	timeline_free(&tl);
	/* pid 102: an unexplained FD and helper_main, both sites; nothing else. */
	p = model_proc(&m, 102, 0);
	assert_int_equal(timeline_build(&m, &ss, p, COLS, &tl), 1);
	assert_int_equal(tl.n, 2);
	timeline_free(&tl);
	sites_free(&ss);
	symbolizer_free(sym);
	jb_model_free(&m);
	jb_cleanup(&j);
}

/* The part of html between <svg ... data-pid="PID" and </svg>, or NULL. */
static char *svg_of(const char *html, int pid)
{
	char key[64];
	snprintf(key, sizeof(key), "<svg class=\"timeline\" data-pid=\"%d\"", pid);
	const char *a = strstr(html, key);
	if (!a)
		return NULL;
	const char *b = strstr(a, "</svg>");
	return b ? strndup(a, (size_t)(b - a)) : NULL;
}

static int count(const char *s, const char *what)
{
	int n = 0;
	for (const char *at = s; (at = strstr(at, what)); at++)
		n++;
	return n;
}

/* One SVG per process, one series per site with FDs in it. */
static void test_html_timelines(void **state)
{
	(void)state;
	struct jb j;
	struct run r, js;
	scenario_multi(&j);
	report(&j, &js, "json", NULL);
	report(&j, &r, "html", NULL);
	assert_int_equal(count(r.out, "<svg class=\"timeline\""), 3);
	for (int pid = 100; pid <= 102; pid++) {
		char sql[256], *svg = svg_of(r.out, pid);
		assert_non_null(svg);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM json_each(?1, '$.sites') s,"
			 " json_each(s.value, '$.pids') p WHERE p.value = %d", pid);
		long want = jq_long(js.out, sql);
		assert_true(want >= 1);
		if (count(svg, "<g class=\"series site") != want)
			fail_msg("pid %d: %d series, %ld sites:\n%s", pid,
				 count(svg, "<g class=\"series site"), want, svg);
		assert_int_equal(count(svg, "<g class=\"series site leak\""), pid == 102 ? 0 : 1);
		if (pid != 102)
			expect_in(svg, "<g class=\"series site leak\" data-site=\"1\"><title>[1] LEAK agent.c:120 "
				  "reload_acl");
		free(svg);
	}
	/* Self-contained: no script, nothing fetched. */
	assert_null(strstr(r.out, "<script"));
	assert_null(strstr(r.out, "<link"));
	assert_null(strstr(r.out, "src="));
	assert_null(strstr(r.out, "url("));
	expect_in(r.out, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'");
	run_free(&r);
	run_free(&js);
	jb_cleanup(&j);
}

/* A busy process draws a small picture: columns, not events. */
static void test_html_busy_is_small(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	scenario_busy(&j, 20000);
	report(&j, &r, "html", NULL);
	assert_int_equal(r.rc, 1);
	if (strlen(r.out) > 100000)
		fail_msg("%zu bytes of HTML for 20000 events", strlen(r.out));
	char *svg = svg_of(r.out, 100);
	assert_non_null(svg);
	assert_int_equal(count(svg, "<g class=\"series site"), 1);
	assert_int_equal(count(svg, "<g class=\"series other\""), 1);
	/* 200 leaked FDs, one every 5 ms: 199 steps up in the top line (H..V.. per step). */
	const char *g = strstr(svg, "<g class=\"series site leak\"");
	assert_non_null(g);
	const char *edge = strstr(strstr(g, "<path d=\"") + 1, "<path d=\"");
	const char *end = strchr(edge + 9, '"');
	int steps = 0;
	for (const char *c = edge; c < end; c++)
		steps += *c == 'V';
	assert_int_equal(steps, 199);
	free(svg);
	run_free(&r);
	jb_cleanup(&j);
}

/* ---- escaping ------------------------------------------------------------ */

static void no_raw_controls(const char *fmt, const char *out)
{
	for (const unsigned char *c = (const unsigned char *)out; *c; c++)
		if ((*c < 0x20 && *c != '\n') || *c == 0x7f || *c == 0xff)
			fail_msg("%s: raw byte 0x%02x at offset %zu", fmt, *c, (size_t)((const char *)c - out));
	if (strstr(out, "\xe2\x80\xae"))
		fail_msg("%s: a raw right-to-left override", fmt);
}

/* Markdown without its code spans and fenced blocks: what a renderer would interpret. */
static char *md_outside_code(const char *md)
{
	char *out = calloc(1, strlen(md) + 1), *o = out;
	size_t fence = 0;
	for (const char *line = md; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t ticks = strspn(line, "`");
		if (fence) {
			if (ticks >= fence && ticks == len)
				fence = 0;
		} else if (ticks >= 3) {
			fence = ticks;
		} else {
			for (size_t i = 0; i < len;) {
				size_t run = strspn(line + i, "`");
				if (run > len - i)
					run = len - i;
				if (!run) {
					*o++ = line[i++];
					continue;
				}
				/* The closing run of the same length, on this line. */
				size_t k = i + run, close = 0;
				while (k < len) {
					size_t r2 = strspn(line + k, "`");
					if (r2 == run) {
						close = k;
						break;
					}
					k += r2 ? r2 : 1;
				}
				if (!close) {
					memcpy(o, line + i, run);
					o += run;
					i += run;
				} else {
					i = close + run;
				}
			}
			*o++ = '\n';
		}
		line += len + (end ? 1 : 0);
	}
	return out;
}

static size_t unescaped_pipes(const char *line, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
	return n;
}

static void check_markdown(const char *md)
{
	no_raw_controls("markdown", md);
	char *plain = md_outside_code(md);
	static const char *const never[] = { "<script", "<img", "<b>", "<i>", "javascript:", "[link]",
					     "@mention", "*bold*", "rm -rf", "heading", "onerror" };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strstr(plain, never[i]))
			fail_msg("markdown has \"%s\" outside code:\n%s", never[i], plain);
	free(plain);
	size_t fence = 0;
	for (const char *line = md; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t ticks = strspn(line, "`");
		if (fence || ticks >= 3) {
			/* In a fenced block: nothing is interpreted until the fence closes. */
			if (fence && ticks >= fence && ticks == len)
				fence = 0;
			else if (!fence)
				fence = ticks;
			line += len + (end ? 1 : 0);
			continue;
		}
		if (line[0] == '|' && unescaped_pipes(line, len) != 7)
			fail_msg("a table row with %zu cells: %.*s", unescaped_pipes(line, len) - 1, (int)len,
				 line);
		if (line[0] == '#' && strncmp(line, "### bpfleak: ", 13) &&
		    !(strncmp(line, "#### ", 5) == 0 && isdigit((unsigned char)line[5])))
			fail_msg("a heading the report did not write: %.*s", (int)len, line);
		if (line[0] == '>' && strncmp(line, "> - ", 4) && strcmp(line, ">\n") &&
		    strncmp(line, ">\n", 2) && strncmp(line, "> **Blind spots**", 17))
			fail_msg("a quote the report did not write: %.*s", (int)len, line);
		line += len + (end ? 1 : 0);
	}
	expect_in(md, "\\x1b[31mred");
	expect_in(md, "\\u202eevil");
	expect_in(md, "\\n# heading\\n> quote \\\\x1b \\xff end");
}

static void check_html(const char *html)
{
	no_raw_controls("html", html);
	static const char *const never[] = { "<script", "<img", "<i>", "<b>|", "onerror=alert(1)>" };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strstr(html, never[i]))
			fail_msg("html has \"%s\"", never[i]);
	expect_in(html, "&#39;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;");
	expect_in(html, "/tmp/&lt;img src=x onerror=alert(1)&gt;/\\x1b[31mred|`gw`");
	expect_in(html, "/sys/fs/bpf/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;|`pin`\\n# pinned");
	expect_in(html, "m&lt;b&gt;|`*_[x](y)\\x1b[1m\\n#");
	expect_in(html, "fn&lt;script&gt;alert(1)&lt;/script&gt;|`x`*\\x1b[2J\\n## not a heading");
	expect_in(html, "&lt;script&gt;host&lt;/script&gt;|`h`, kernel 6.1\\x1b[31m|*k*");
}

static void check_text(const char *text)
{
	no_raw_controls("text", text);
	expect_in(text, "  cmdline: evil --name '<script>alert(\"x\")</script>' | `rm -rf /` *bold* _it_ "
		  "[link](javascript:alert(1)) \\x1b[31mred\\x1b[0m \\x1b]0;owned\\x07 bell\\x07 "
		  "\\u202eevil\\u202c @mention #1\\n# heading\\n> quote \\\\x1b \\xff end\n");
	expect_in(text, "\nprocess 100 /tmp/<img src=x onerror=alert(1)>/\\x1b[31mred|`gw` (parent 1)\n");
	expect_in(text, "#0  fn<script>alert(1)</script>|`x`*\\x1b[2J\\n## not a heading");
	expect_in(text, "map 1 \"m<b>|`*_[x](y)\\x1b[1m\\n#\" hash");
	expect_in(text, "pinned at /sys/fs/bpf/\"><script>alert(2)</script>|`pin`\\n# pinned");
	expect_in(text, "\n[1] LEAK \\x1b[31m<i>evil|file`.c:7 fn<script>alert(1)</script>|`x`*\\x1b[2J"
		  "\\n## not a heading: 1 FD, pid 100\n");
}

static void test_escaping(void **state)
{
	(void)state;
	struct jb j;
	struct run r;
	scenario_hostile(&j);

	report(&j, &r, "text", NULL);
	assert_int_equal(r.rc, 1);
	check_text(r.out);
	run_free(&r);

	report(&j, &r, "markdown", NULL);
	assert_int_equal(r.rc, 1);
	check_markdown(r.out);
	run_free(&r);

	report(&j, &r, "html", NULL);
	assert_int_equal(r.rc, 1);
	check_html(r.out);
	run_free(&r);

	report(&j, &r, "folded", NULL);
	assert_int_equal(r.rc, 1);
	no_raw_controls("folded", r.out);
	assert_int_equal(count_lines(r.out), 2);
	expect_in(r.out, "[leak: duplicate];main (main.c:1);fn<script>alert(1)</script>|`x`*\\x1b[2J\\n## not "
		  "a heading (\\x1b[31m<i>evil|file`.c:7) 1\n");
	run_free(&r);

	/* JSON carries the strings exactly; a byte that is not UTF-8 becomes U+FFFD. */
	report(&j, &r, "json", NULL);
	assert_int_equal(r.rc, 1);
	assert_int_equal(jq_long(r.out, "SELECT json_valid(?1)"), 1);
	for (const char *c = r.out; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\n')
			fail_msg("json: raw byte 0x%02x", (unsigned char)*c);
	char *want = strdup(hostile_cmdline), *ff = strchr(want, '\xff');
	assert_non_null(ff);
	*ff = '\0';
	char *expect = NULL;
	assert_true(asprintf(&expect, "%s\xef\xbf\xbd%s", want, ff + 1) > 0);
	expect_jq(r.out, "SELECT json_extract(?1, '$.processes[0].cmdline')", expect);
	expect_jq(r.out, "SELECT json_extract(?1, '$.sites[0].function')", hostile_function);
	free(want);
	free(expect);
	run_free(&r);
	jb_cleanup(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sites_json),
		cmocka_unit_test(test_headline_every_format),
		cmocka_unit_test(test_class_and_top),
		cmocka_unit_test(test_site_frame),
		cmocka_unit_test(test_timeline_steps),
		cmocka_unit_test(test_html_timelines),
		cmocka_unit_test(test_html_busy_is_small),
		cmocka_unit_test(test_escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
