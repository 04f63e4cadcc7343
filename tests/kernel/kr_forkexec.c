// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A parent that forks a child which leaks, copies an FD without O_CLOEXEC
 * and execs itself; the new image leaks again.  Raw syscalls for the bpf
 * FDs (rawsys.h), lines marked "FX:name".
 *
 *   usage: kr_forkexec            exit 0 ok, 77 bpf() not permitted
 *          kr_forkexec exec ID    (the child's second image)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "rawsys.h"

static int second_image(unsigned int id)
{
	if (raw_map_by_id(id) < 0) /* FX:exec_leak */
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exec"))
		return second_image((unsigned int)strtoul(argv[2], NULL, 10));
	int map = raw_map_create("fx_map", BPF_MAP_TYPE_HASH, 4); /* FX:parent_map */
	if (map < 0)
		return map == -EPERM || map == -EACCES ? 77 : 1;
	unsigned int id = raw_map_id(map);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (raw_map_by_id(id) < 0) /* FX:child_leak */
			_exit(1);
		if (raw_dup(map) < 0) /* FX:child_dup */
			_exit(1);
		char ids[16];
		snprintf(ids, sizeof(ids), "%u", id);
		execl("/proc/self/exe", argv[0], "exec", ids, (char *)NULL);
		_exit(1);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	printf("kr_forkexec: parent %d child %d\n", (int)getpid(), (int)pid);
	return 0;
}
