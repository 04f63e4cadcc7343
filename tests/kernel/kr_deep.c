// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * How much user stack the kernel recorder copies (recorder/stackcopy.c):
 * many creates from a shallow call chain (the recorder measures them and
 * cuts the copy to 2 KiB), then creates from a chain about 6 KiB deep.
 * The first deep one may be cut short; from then on the process gets the
 * whole 8 KiB again and a deep create's stack reaches main.  Creates are
 * raw system calls (rawsys.h): each keeps its FD open (leaks, for the
 * report to name their lines, marked "DEEP:name").
 *
 *   usage: kr_deep          exit 0 ok, 77 bpf() not permitted
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "rawsys.h"

#define SHALLOW 40
#define LEVELS 6   /* of 1 KiB each */

static unsigned int map_id;

__attribute__((noinline)) static int shallow(void)
{
	return raw_map_by_id(map_id); /* DEEP:shallow */
}

/* A frame of 1 KiB the compiler cannot drop. */
__attribute__((noinline)) static int deep(int level)
{
	volatile char pad[1024];
	memset((char *)pad, level, sizeof(pad));
	if (level == 0)
		return raw_map_by_id(map_id); /* DEEP:bottom */
	int fd = deep(level - 1);
	return fd + pad[level] - level;
}

int main(void)
{
	int map = raw_map_create("deep_map", BPF_MAP_TYPE_ARRAY, 1);
	if (map < 0)
		return map == -EPERM || map == -EACCES ? 77 : 1;
	map_id = raw_map_id(map);
	if (!map_id)
		return 1;
	for (int i = 0; i < SHALLOW; i++)
		if (shallow() < 0)
			return 1;
	/* Give the recorder time to read and measure them. */
	usleep(300 * 1000);
	if (deep(LEVELS) < 0) /* DEEP:first */
		return 1;
	usleep(300 * 1000);
	for (int i = 0; i < 3; i++)
		if (deep(LEVELS) < 0) /* DEEP:again */
			return 1;
	return 0;
}
