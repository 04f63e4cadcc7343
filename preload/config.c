// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * BPFLEAK_* settings, read once in the constructor straight from environ.
 * Not through getenv(): a host may export its own (bash does), which does
 * not work before the host's main() has set up its variables; and nothing
 * is ever written back with setenv(), which such a host also overrides.
 * Children started through exec get BPFLEAK_JOURNAL from the exec
 * interposers instead (interpose.c), so a whole process tree shares one
 * journal.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpfleak/duration.h>
#include "shim.h"

struct shim_config shim_cfg = { .depth = SHIM_DEFAULT_DEPTH, .fold_age_ns = SHIM_DEFAULT_FOLD_AGE_NS };

extern char **environ;

static const char *env(const char *name)
{
	size_t n = strlen(name);
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static bool env_flag(const char *name)
{
	const char *v = env(name);
	return v && *v && strcmp(v, "0") != 0;
}

/*
 * Strings are put together by hand here, and the working directory read
 * with a plain system call: this runs in every process the shim is
 * preloaded into, and printf's pages are ones a short-lived host
 * (/bin/true) never touches otherwise (docs/overhead.md, figure 8).
 * put() appends s at *at; on overflow *at becomes cap.
 */
static void put(char *out, size_t cap, size_t *at, const char *s)
{
	while (*s && *at + 1 < cap)
		out[(*at)++] = *s++;
	if (*s)
		*at = cap;
	else if (*at < cap)
		out[*at] = '\0';
}

static void put_uint(char *out, size_t cap, size_t *at, unsigned long v)
{
	char digits[24];
	int n = (int)sizeof(digits) - 1;
	digits[n] = '\0';
	do
		digits[--n] = (char)('0' + v % 10);
	while ((v /= 10) && n > 0);
	put(out, cap, at, digits + n);
}

/* Relative paths are anchored now, so a later chdir does not split the journal. */
static void absolute(char *out, size_t cap, const char *path)
{
	size_t at = 0;
	out[0] = '\0';
	if (path[0] != '/') {
		if (raw_syscall(SYS_getcwd, (long)out, (long)cap, 0, 0, 0, 0) > 0)
			at = strlen(out);
		else
			put(out, cap, &at, ".");
		put(out, cap, &at, "/");
	}
	put(out, cap, &at, path);
	if (at >= cap)
		out[0] = '\0';   /* too long: refused when the journal is opened */
}

void config_load(void)
{
	const char *j = env("BPFLEAK_JOURNAL");
	shim_cfg.journal_given = j && *j;
	if (shim_cfg.journal_given) {
		absolute(shim_cfg.journal, sizeof(shim_cfg.journal), j);
	} else {
		char name[64];
		size_t at = 0;
		put(name, sizeof(name), &at, "bpfleak.");
		put(name, sizeof(name) - 16, &at, program_invocation_short_name);
		if (at > sizeof(name) - 16)
			at = sizeof(name) - 16;   /* a long program name is cut, as before */
		put(name, sizeof(name), &at, ".");
		put_uint(name, sizeof(name), &at, (unsigned long)raw_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0));
		put(name, sizeof(name), &at, ".db");
		absolute(shim_cfg.journal, sizeof(shim_cfg.journal), name);
	}
	const char *l = env("BPFLEAK_LOG");
	if (l && *l)
		absolute(shim_cfg.log, sizeof(shim_cfg.log), l);
	const char *d = env("BPFLEAK_DEPTH");
	if (d && *d) {
		long v = strtol(d, NULL, 10);
		shim_cfg.depth = v < 1 ? 1 : v > SHIM_MAX_DEPTH ? SHIM_MAX_DEPTH : (int)v;
	}
	const char *f = env("BPFLEAK_FOLD_AGE");
	if (f && *f) {
		int64_t ns = bpfleak_parse_fold_age_ns(f);
		if (ns >= 0)
			shim_cfg.fold_age_ns = (uint64_t)ns;
		else
			shim_cfg.fold_age_bad = true;
	}
	shim_cfg.close_stacks = env_flag("BPFLEAK_CLOSE_STACKS");
	shim_cfg.quiet = env_flag("BPFLEAK_QUIET");
}
