// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Children: vfork, clone(CLONE_VM|CLONE_VFORK), posix_spawn, helpers run
 * with system() and fork+exec, workers of a supervisor, forks from one
 * thread while others create. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>
#include "host_trust.h"

extern char **environ;

static int wait_ok(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		trust_die("waitpid");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static volatile int shared_word;

/* vfork's child writes our memory before it leaves: we must see it. */
static int vfork_write_mode(int argc, char **argv)
{
	bool do_exec = argc > 0 && !strcmp(argv[0], "exec");
	int m = trust_map("tr_vfork");
	int d = dup(m);   /* a tracked FD the child closes in its own table */
	if (m < 0 || d < 0)
		trust_die("map");
	pid_t pid = vfork();
	if (pid == 0) {
		shared_word = 42;
		close(d);
		if (do_exec)
			execl("/bin/true", "true", (char *)NULL);
		_exit(0);
	}
	if (pid < 0)
		trust_die("vfork");
	int ok = wait_ok(pid);
	out("written %d", shared_word);
	out("dup_open %d", fcntl(d, F_GETFD) >= 0);
	close(d);
	close(m);
	return ok && shared_word == 42 && fcntl(d, F_GETFD) < 0 ? 0 : 1;
}

static int clone_child(void *arg)
{
	(void)arg;
	shared_word = 7;
	execl("/bin/true", "true", (char *)NULL);
	_exit(127);
}

/* The same with clone(CLONE_VM|CLONE_VFORK), and posix_spawn. */
static int clone_vfork_mode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int m = trust_map("tr_clone");
	if (m < 0)
		trust_die("map");
	size_t sz = 256 * 1024;
	char *stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		trust_die("mmap");
	pid_t pid = clone(clone_child, stack + sz, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	if (pid < 0)
		trust_die("clone");
	int ok = wait_ok(pid);
	out("written %d", shared_word);
	char *args[] = { "true", NULL };
	pid_t sp;
	int rc = posix_spawn(&sp, "/bin/true", NULL, NULL, args, environ);
	out("spawn %d", rc);
	ok = ok && rc == 0 && wait_ok(sp);
	close(m);
	return ok && shared_word == 7 ? 0 : 1;
}

/* Helpers that never use bpf, started the usual ways; everything closed. */
static int spawn_helper_mode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int m = trust_map("tr_spawn");
	int d = fcntl(m, F_DUPFD_CLOEXEC, 0);
	if (m < 0 || d < 0)
		trust_die("map");
	int ok = system("true") == 0;
	char *args[] = { "true", NULL };
	pid_t pid;
	ok = ok && posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ) == 0 && wait_ok(pid);
	pid = fork();
	if (pid == 0) {
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	ok = ok && pid > 0 && wait_ok(pid);
	pid = fork();
	if (pid == 0) {
		execveat(AT_FDCWD, "/bin/true", args, environ, 0);
		_exit(127);
	}
	ok = ok && pid > 0 && wait_ok(pid);
	close(d);
	close(m);
	out("helpers %d", ok);
	return ok ? 0 : 1;
}

/* A fork child that only dups and closes what it inherited, then waits. */
static int child_dups_mode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int m = trust_map("tr_child");
	if (m < 0)
		trust_die("map");
	out("parent %d", (int)getpid());
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			close(dup(m));
		int keep = dup(m);
		out("child %d %d", (int)getpid(), keep);
		for (;;)
			pause();
	}
	if (pid < 0)
		trust_die("fork");
	int st;
	waitpid(pid, &st, 0);   /* the test kills it */
	close(m);
	return 0;
}

/* A supervisor and its workers, each with a map of its own. */
static int supervisor_mode(int argc, char **argv)
{
	int n = argc > 0 ? atoi(argv[0]) : 3;
	if (trust_map("tr_super") < 0)
		trust_die("map");
	out("supervisor %d", (int)getpid());
	int ok = 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			int m = trust_map("tr_worker");
			out("worker %d %u", (int)getpid(), trust_map_id(m));
			exit(m >= 0 ? 0 : 3);
		}
		ok = ok && pid > 0 && wait_ok(pid);
	}
	return ok ? 0 : 1;
}

static _Atomic int stop_creating;

static void *creator(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_creating)) {
		int fd = trust_map("tr_busy");
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* fork() from main while two threads create; children exec or make a map. */
static int fork_threads_mode(int argc, char **argv)
{
	int n = argc > 0 ? atoi(argv[0]) : 100;
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, creator, NULL))
			trust_die("pthread_create");
	int ok = 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			if (i % 2)
				execl("/bin/true", "true", (char *)NULL);
			int m = trust_map("tr_forked");
			_exit(m >= 0 ? 0 : 3);
		}
		ok = ok && pid > 0 && wait_ok(pid);
	}
	atomic_store(&stop_creating, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	out("forks %d ok %d", n, ok);
	return ok ? 0 : 1;
}

const struct trust_mode trust_spawn_modes[] = {
	{ "vfork-write", "[exec]", vfork_write_mode },
	{ "clone-vfork", "", clone_vfork_mode },
	{ "spawn-helper", "", spawn_helper_mode },
	{ "child-dups", "", child_dups_mode },
	{ "supervisor", "[N]", supervisor_mode },
	{ "fork-threads", "[N]", fork_threads_mode },
	{ NULL, NULL, NULL },
};
