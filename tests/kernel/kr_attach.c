// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A process to attach to: it holds three FDs on one map (two of them
 * duplicates, made before anyone traces it), says so in READY_FILE, and
 * waits.  On SIGUSR1 it leaks one more and closes one it held;
 * on SIGUSR2 it exits.  Raw syscalls (rawsys.h), lines marked "ATT:name".
 *
 *   usage: kr_attach READY_FILE     exit 0 ok, 77 bpf() not permitted
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "rawsys.h"

static volatile sig_atomic_t got_usr1, got_usr2;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_usr2 = 1;
}

static void wait_for(volatile sig_atomic_t *flag)
{
	sigset_t none;
	sigemptyset(&none);
	while (!*flag)
		sigsuspend(&none);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);

	int map = raw_map_create("att_map", BPF_MAP_TYPE_HASH, 4); /* ATT:held */
	if (map < 0)
		return map == -EPERM || map == -EACCES ? 77 : 1;
	unsigned int id = raw_map_id(map);
	int before1 = raw_map_by_id(id); /* ATT:before1 */
	int before2 = raw_map_by_id(id); /* ATT:before2 */
	if (before1 < 0 || before2 < 0)
		return 1;
	FILE *f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "%d %d %d %d\n", (int)getpid(), map, before1, before2);
	fclose(f);

	wait_for(&got_usr1);
	int after = raw_map_by_id(id); /* ATT:after */
	raw_close(before1);
	wait_for(&got_usr2);
	return after < 0;
}
