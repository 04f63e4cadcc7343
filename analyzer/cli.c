// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * bpfleak-report's driver: options, then the stages in analyzer.h's order,
 * then the exit code (0 no leak, 1 leaks, 2 usage or input error, 3 no
 * leak found but blind spots keep the report from vouching for it).  It
 * frees what the stages made.  It takes its streams as arguments so the
 * unit tests run it in-process.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <bpfleak/duration.h>
#include "analyzer.h"

static const char usage_text[] =
"usage: bpfleak-report [options] JOURNAL\n"
"\n"
"Name the call site of every leaked eBPF file descriptor recorded in a\n"
"bpfleak journal (written by LD_PRELOAD=libbpfleak.so).\n"
"\n"
"  -f, --format FMT        text (default), json, folded (flamegraph.pl input),\n"
"                          markdown (for a ticket) or html (one page, with a\n"
"                          timeline of open FDs per process)\n"
"  -n, --top N             show only the N largest call sites\n"
"  -c, --class LIST        only these classes (comma-separated, repeatable):\n"
"                          duplicate growth stale double_close unpinned\n"
"                          outstanding unknown_origin finalized\n"
"  -p, --pid PID           only this process; read its FDs live from /proc\n"
"                          (its exit snapshot if it is no longer running)\n"
"      --flush-wait DURATION  with --pid: how long to wait for the process to\n"
"                          write its journal up to the live snapshot (2s)\n"
"  -s, --suppressions FILE valgrind-style stack patterns that are intended\n"
"      --expect-pinned     an open FD whose object no bpffs pin reaches is a leak\n"
"      --min-age DURATION  outstanding FDs at least this old are leaks\n"
"                          (e.g. 30s, 500ms, 2m; other FDs are not listed)\n"
"      --growth-min N      FDs a call site must hold to count as growth (3)\n"
"      --symbolize         store resolved frames in the journal so it reports\n"
"                          the same lines on a machine without the binaries\n"
"  -q, --quiet             print nothing; the exit code tells\n"
"  -h, --help              this text\n"
"  -V, --version           the version\n"
"\n"
"Leaks (exit 1): duplicate, growth, double_close, stale; unpinned with\n"
"--expect-pinned; outstanding with --min-age.  Other findings are\n"
"information.  Exit 0: no leak; 1: leaks; 2: bad usage or unreadable\n"
"journal or suppressions; 3: no leak found, but the report cannot vouch for\n"
"it (the blind spots it lists first: lost events, a process killed while\n"
"holding FDs, FDs no event explains, a live snapshot the journal did not\n"
"confirm, ...).\n";

enum { OPT_EXPECT_PINNED = 256, OPT_MIN_AGE, OPT_SYMBOLIZE, OPT_GROWTH_MIN, OPT_FLUSH_WAIT };

static const struct option long_opts[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "top", required_argument, NULL, 'n' },
	{ "class", required_argument, NULL, 'c' },
	{ "pid", required_argument, NULL, 'p' },
	{ "suppressions", required_argument, NULL, 's' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "expect-pinned", no_argument, NULL, OPT_EXPECT_PINNED },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "symbolize", no_argument, NULL, OPT_SYMBOLIZE },
	{ "growth-min", required_argument, NULL, OPT_GROWTH_MIN },
	{ "flush-wait", required_argument, NULL, OPT_FLUSH_WAIT },
	{ NULL, 0, NULL, 0 },
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* 0 ok, 1 --help/--version done, -1 usage error (message in err). */
static int parse_opts(int argc, char **argv, struct opts *o, FILE *out, char *err, size_t errlen)
{
	int c;
	long v;
	memset(o, 0, sizeof(*o));
	o->min_age_ns = -1;
	o->growth_min = 3;
	o->flush_wait_ns = 2 * 1000000000ll;
	optind = 0;   /* GNU: restart scanning, for repeated in-process runs */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:n:c:p:s:qhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") == 0)
				o->format = FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = FMT_JSON;
			else if (strcmp(optarg, "folded") == 0)
				o->format = FMT_FOLDED;
			else if (strcmp(optarg, "markdown") == 0 || strcmp(optarg, "md") == 0)
				o->format = FMT_MARKDOWN;
			else if (strcmp(optarg, "html") == 0)
				o->format = FMT_HTML;
			else {
				snprintf(err, errlen, "unknown format '%s' (text, json, folded, markdown, "
					 "html)", optarg);
				return -1;
			}
			break;
		case 'n':
			if (parse_long(optarg, 1, 1000000000, &v) < 0) {
				snprintf(err, errlen, "--top needs a positive number, not '%s'", optarg);
				return -1;
			}
			o->top = v;
			break;
		case 'c': {
			char *list = xstrdup(optarg), *save, *tok;
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				int k = cls_from_name(tok);
				if (k < 0) {
					snprintf(err, errlen, "unknown class '%s'", tok);
					free(list);
					return -1;
				}
				o->class_mask |= 1u << k;
			}
			free(list);
			break;
		}
		case 'p':
			if (parse_long(optarg, 1, 0x7fffffff, &v) < 0) {
				snprintf(err, errlen, "--pid needs a process id, not '%s'", optarg);
				return -1;
			}
			o->pid = (int)v;
			break;
		case 's':
			o->suppressions = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			fputs(usage_text, out);
			return 1;
		case 'V':
			fprintf(out, "bpfleak-report %s (journal schema %d, JSON report %d)\n",
				BPFLEAK_VERSION, BPFLEAK_SCHEMA_VERSION, BPFLEAK_JSON_VERSION);
			return 1;
		case OPT_EXPECT_PINNED:
			o->expect_pinned = 1;
			break;
		case OPT_MIN_AGE:
			o->min_age_ns = bpfleak_parse_duration_ns(optarg);
			if (o->min_age_ns < 0) {
				snprintf(err, errlen, "--min-age needs a duration like 30s or 500ms, not '%s'",
					 optarg);
				return -1;
			}
			break;
		case OPT_SYMBOLIZE:
			o->symbolize = 1;
			break;
		case OPT_FLUSH_WAIT:
			o->flush_wait_ns = bpfleak_parse_duration_ns(optarg);
			if (o->flush_wait_ns < 0) {
				snprintf(err, errlen, "--flush-wait needs a duration like 2s or 500ms, "
					 "not '%s'", optarg);
				return -1;
			}
			break;
		case OPT_GROWTH_MIN:
			if (parse_long(optarg, 2, 1000000000, &v) < 0) {
				snprintf(err, errlen, "--growth-min needs a number >= 2, not '%s'", optarg);
				return -1;
			}
			o->growth_min = (int)v;
			break;
		default:
			if (optopt && optopt < 256)
				snprintf(err, errlen, "option -%c %s", optopt,
					 strchr("fncps", optopt) ? "needs an argument" : "is unknown");
			else
				snprintf(err, errlen, "option %s is unknown or needs an argument",
					 argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc - 1) {
		snprintf(err, errlen, optind >= argc ? "no journal given" : "one journal at a time");
		return -1;
	}
	o->journal = argv[optind];
	if (!o->class_mask)
		o->class_mask = (1u << CLS_MAX) - 1;
	return 0;
}

/*
 * The live snapshot is taken first (time T), then the target is asked to
 * flush, then the journal is loaded: so the journal holds every event
 * before T, or the report knows it may not.
 */
static int open_journal(struct model *m, const struct opts *o, struct snap **live,
			int *confirmed, char *err, size_t errlen)
{
	if (o->pid && snapshot_read_live(o->pid, live, err, errlen) < 0)
		return -1;
	if (journal_open(m, o->journal, o->symbolize, err, errlen) < 0)
		return -1;
	*confirmed = *live ? snapshot_confirm_flush(m, o, (*live)->ts) : 1;
	return 0;
}

static void print_report(const struct model *m, const struct opts *o, FILE *out, FILE *err)
{
	if (o->format == FMT_JSON)
		report_json(m, o, out);
	else if (o->format == FMT_FOLDED)
		report_folded(m, o, out);
	else if (o->format == FMT_MARKDOWN)
		report_markdown(m, o, out);
	else if (o->format == FMT_HTML)
		report_html(m, o, out);
	else
		report_text(m, o, out);
	if (m->dropped && o->format != FMT_TEXT)
		fprintf(err, "bpfleak-report: warning: %llu events were dropped; results "
			"after the drop may be incomplete\n", (unsigned long long)m->dropped);
}

int report_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct opts o;
	struct model m;
	struct suppressions *supp = NULL;
	struct symbolizer *sym = NULL;
	struct snap *live = NULL;
	char msg[1024];
	int rc = 2, confirmed = 1;

	memset(&m, 0, sizeof(m));
	msg[0] = '\0';
	int r = parse_opts(argc, argv, &o, out, msg, sizeof(msg));
	if (r > 0)
		return 0;
	if (r < 0) {
		fprintf(err, "bpfleak-report: %s (see --help)\n", msg);
		return 2;
	}
	if (o.suppressions && !(supp = suppressions_load(o.suppressions, msg, sizeof(msg))))
		goto fail;
	if (open_journal(&m, &o, &live, &confirmed, msg, sizeof(msg)) < 0 ||
	    journal_load(&m, msg, sizeof(msg)) < 0 ||
	    snapshot_load_stored(&m, msg, sizeof(msg)) < 0)
		goto fail;
	if (o.pid) {
		struct snap *s = live;
		live = NULL;   /* snapshot_use_live owns it now */
		if (snapshot_use_live(&m, &o, s, confirmed, msg, sizeof(msg)) < 0)
			goto fail;
	}
	replay_all(&m);
	reconcile_all(&m);
	sym = symbolizer_new(&m);
	if (o.symbolize) {
		int n = symbolize_store_all(sym, msg, sizeof(msg));
		if (n < 0)
			goto fail;
		if (!o.quiet)
			fprintf(err, "bpfleak-report: stored %d resolved frames in %s\n", n, o.journal);
	}
	classify_all(&m, &o);
	findings_finish(&m, &o, supp, sym);
	blind_collect(&m, &o);
	if (!o.quiet)
		print_report(&m, &o, out, err);
	rc = report_exit_code(&m, &o);
	fflush(out);
	goto done;
fail:
	fprintf(err, "bpfleak-report: %s\n", msg);
	rc = 2;
done:
	snap_free(live);
	symbolizer_free(sym);
	suppressions_free(supp);
	journal_close(&m);
	model_free(&m);
	return rc;
}
