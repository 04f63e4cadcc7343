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
#include <unistd.h>
#include "shim.h"

struct shim_config shim_cfg = { .depth = SHIM_DEFAULT_DEPTH };

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

/* Relative paths are anchored now, so a later chdir does not split the journal. */
static void absolute(char *out, size_t cap, const char *path)
{
	char cwd[PATH_MAX];
	if (path[0] == '/') {
		snprintf(out, cap, "%s", path);
		return;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	if (snprintf(out, cap, "%s/%s", cwd, path) >= (int)cap)
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
		snprintf(name, sizeof(name), "bpfleak.%s.%d.db", program_invocation_short_name,
			 (int)getpid());
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
	shim_cfg.close_stacks = env_flag("BPFLEAK_CLOSE_STACKS");
	shim_cfg.quiet = env_flag("BPFLEAK_QUIET");
}
