// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Start-up, configuration, fork handling and exit of the shim: the parts
 * that run on their own when the library is loaded.  Unit tests link every
 * other object of the shim, but not this one or interpose.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

static int list_pipes(int *fds, int cap)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < cap) {
		char path[300], target[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%.255s", de->d_name);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if (len > 5 && !strncmp(target, "pipe:", 5))
			fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	return n;
}

/*
 * Fill every free FD number below `top` with a placeholder, so that the next
 * FDs anyone opens land at top - 1 and above.  Which numbers are ours is kept
 * in `mine`, so releasing them never touches an FD of the host's.
 */
static void reserve_low_fds(int top, uint64_t *mine)
{
	int fd;
	while ((fd = (int)real.syscall(SYS_fcntl, 0, F_DUPFD_CLOEXEC, 0)) >= 0 ||
	       (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
		if (fd >= top - 1) {
			real.close(fd);   /* leave top-1 and up free */
			break;
		}
		mine[fd / 64] |= 1ull << (fd % 64);
	}
}

static void release_low_fds(int top, const uint64_t *mine)
{
	for (int fd = 0; fd < top; fd++)
		if (mine[fd / 64] & (1ull << (fd % 64)))
			real.close(fd);
}

/*
 * libunwind opens a pipe when it initialises (unw_set_caching_policy makes
 * that happen here) and writes to it to validate addresses.  Two things
 * keep it out of the host's way: it is made to land at high FD numbers, so
 * the host's own FD numbering is what it would be without the shim, and
 * it is marked owned, so a host closing "everything" cannot take it.
 */
static void protect_unwinder_fds(void)
{
	int before[64], after[64];
	int nb = list_pipes(before, 64);
	struct rlimit rl;
	int top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024 ? (int)rl.rlim_cur : 1024;
	uint64_t mine[1024 / 64] = { 0 };
	if (top > 64)
		reserve_low_fds(top - 1, mine);
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	release_low_fds(top, mine);
	int na = list_pipes(after, 64);
	for (int i = 0; i < na; i++) {
		bool old = false;
		for (int k = 0; k < nb && !old; k++)
			old = after[i] == before[k];
		if (!old)
			fdtable_mark_owned(after[i], OWNER_UNWINDER);
	}
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
	if (!queue_init(32768)) {
		shim_guard--;
		shim_fail("out of memory for the event queue");
		return;
	}
	if (!journal_check_path(shim_cfg.journal)) {
		shim_guard--;
		atomic_store(&shim_state, SHIM_DISABLED);
		return;   /* journal_check_path said why */
	}
	/* Only a recording shim touches libunwind: failing open leaves no trace. */
	protect_unwinder_fds();
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
	journal_finish();
	atomic_store(&shim_state, SHIM_DONE);
	shim_guard--;
}
