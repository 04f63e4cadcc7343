/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * What the analyzer harnesses share: a private scratch directory (tmpfs
 * when there is one), a /dev/null stream for the report, and running
 * bpfleak-report in-process (report_main, the binary's own entry point)
 * with a set of options picked by a byte of the input.
 */
#ifndef BPFLEAK_FUZZ_COMMON_H
#define BPFLEAK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int report_main(int argc, char **argv, FILE *out, FILE *err);

static char fuzz_dir[256];

static void fuzz_unlink_db(const char *path);

static void fuzz_cleanup(void)
{
	static const char *const names[] = { "j.db", "lie.db", "supp" };
	char p[600];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", fuzz_dir, names[i]);
		fuzz_unlink_db(p);
	}
	rmdir(fuzz_dir);
}

static const char *fuzz_scratch(const char *name)
{
	static char path[512];
	if (!fuzz_dir[0]) {
		/* run.sh and replay.sh name a directory they remove afterwards:
		 * an input that crashes the harness skips our atexit cleanup. */
		const char *base = getenv("BPFLEAK_FUZZ_TMP");
		if (!base || !*base)
			base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/bpfleak-fuzz.XXXXXX", base);
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_cleanup);
	}
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	return path;
}

/* sqlite leaves these beside a journal: a stale one would leak into the next run. */
static __attribute__((unused)) void fuzz_unlink_db(const char *path)
{
	char side[1024];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
}

/*
 * bpfleak-report with option set `which` on journal path.  Exit codes
 * other than 0/1/2/3 are the harness's bug to find: abort so libFuzzer
 * keeps the input.
 */
static __attribute__((unused)) int fuzz_report(const char *journal, unsigned which, const char *supp)
{
	static FILE *null_out;
	if (!null_out)
		null_out = fopen("/dev/null", "w");
	char *argv[8];
	int argc = 0;
	argv[argc++] = (char *)"bpfleak-report";
	switch (which % 8) {
	case 0: argv[argc++] = (char *)"--format=json"; break;
	case 1: break;   /* text */
	case 2: argv[argc++] = (char *)"--format=folded"; break;
	case 3: argv[argc++] = (char *)"--format=json"; argv[argc++] = (char *)"--expect-pinned"; break;
	case 4: argv[argc++] = (char *)"--min-age=1ms"; break;
	case 5: argv[argc++] = (char *)"--format=json"; argv[argc++] = (char *)"--class=stale,double_close,unknown_origin"; break;
	case 6: argv[argc++] = (char *)"--top=1"; argv[argc++] = (char *)"--growth-min=1"; break;
	case 7: argv[argc++] = (char *)"--format=json"; argv[argc++] = (char *)"--symbolize"; break;
	}
	if (supp) {
		argv[argc++] = (char *)"--suppressions";
		argv[argc++] = (char *)supp;
	}
	argv[argc++] = (char *)journal;
	argv[argc] = NULL;
	int rc = report_main(argc, argv, null_out, null_out);
	if (rc < 0 || rc > 3) {
		fprintf(stderr, "report_main returned %d\n", rc);
		abort();
	}
	return rc;
}

#endif
