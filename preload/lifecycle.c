// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Start-up, configuration, fork handling and exit of the shim: the parts
 * that run on their own when the library is loaded.  Unit tests link every
 * other object of the shim, but not this one or interpose.c.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <bpfleak/journal.h>
#include "shim.h"

static void default_journal(char *out, size_t cap)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	if (snprintf(out, cap, "%s/bpfleak.%s.%d.db", cwd, program_invocation_short_name,
		     (int)getpid()) >= (int)cap)
		snprintf(out, cap, "/tmp/bpfleak.%d.db", (int)getpid());
}

static void load_config(void)
{
	const char *j = getenv("BPFLEAK_JOURNAL");
	if (j && j[0] == '/') {
		snprintf(shim_cfg.journal, sizeof(shim_cfg.journal), "%s", j);
	} else if (j && j[0]) {
		/* Relative: anchor it now so a later chdir does not split the journal. */
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			snprintf(cwd, sizeof(cwd), ".");
		if (snprintf(shim_cfg.journal, sizeof(shim_cfg.journal), "%s/%s", cwd, j) >=
		    (int)sizeof(shim_cfg.journal))
			shim_cfg.journal[0] = '\0';   /* too long: refused in journal_check_path */
	} else {
		default_journal(shim_cfg.journal, sizeof(shim_cfg.journal));
	}
	/* Children and exec'd images append to the same journal. */
	setenv("BPFLEAK_JOURNAL", shim_cfg.journal, 1);

	const char *d = getenv("BPFLEAK_DEPTH");
	if (d && *d) {
		long v = strtol(d, NULL, 10);
		shim_cfg.depth = v < 1 ? 1 : v > SHIM_MAX_DEPTH ? SHIM_MAX_DEPTH : (int)v;
	}
	const char *c = getenv("BPFLEAK_CLOSE_STACKS");
	shim_cfg.close_stacks = c && *c && strcmp(c, "0") != 0;
	const char *q = getenv("BPFLEAK_QUIET");
	shim_cfg.quiet = q && *q && strcmp(q, "0") != 0;
}

static void on_fork_prepare(void)
{
	if (atomic_load(&shim_state) == SHIM_ACTIVE)
		writer_fork_prepare();
}

static void on_fork_parent(void)
{
	if (atomic_load(&shim_state) == SHIM_ACTIVE)
		writer_fork_parent();
}

static void on_fork_child(void)
{
	pid_t parent = shim_cached_pid;
	shim_cached_pid = 0;
	shim_cached_tid = 0;
	arena_after_fork_child();
	if (atomic_load(&shim_state) != SHIM_ACTIVE)
		return;
	queue_after_fork_child();
	modules_after_fork_child();
	writer_fork_child();
	hooks_record_fork_child(parent);
}

__attribute__((constructor)) static void shim_init(void)
{
	real_resolve();
	if (!real.syscall || !real.close || !real.dup) {
		shim_fail("cannot find libc's functions");
		return;
	}
	shim_guard++;
	load_config();
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	if (!queue_init(16384)) {
		shim_guard--;
		shim_fail("out of memory for the event queue");
		return;
	}
	if (!journal_check_path(shim_cfg.journal)) {
		shim_guard--;
		atomic_store(&shim_state, SHIM_DISABLED);
		return;   /* journal_check_path said why */
	}
	pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
	modules_refresh();
	atomic_store(&shim_state, SHIM_ACTIVE);
	shim_guard--;
	hooks_record_inherited("start");
}

__attribute__((destructor)) static void shim_fini(void)
{
	if (atomic_load(&shim_state) != SHIM_ACTIVE || getpid() != shim_pid())
		return;
	shim_guard++;
	journal_finish(0, false);
	atomic_store(&shim_state, SHIM_DONE);
	shim_guard--;
}
