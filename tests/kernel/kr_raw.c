// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * bpf FDs made, copied and closed with raw `syscall` instructions only
 * (rawsys.h), in a static binary: invisible to the preload shim, seen by
 * the kernel recorder.  Leaks at lines marked "RAW:name" (the test finds
 * them with grep).
 *
 *   usage: kr_raw BPFFS_DIR      exit 0 ok, 77 bpf() not permitted
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/close_range.h>
#include "rawsys.h"

#define GET_BY_ID_LOOPS 6

int main(int argc, char **argv)
{
	char pin[4096];
	if (argc != 2) {
		fprintf(stderr, "usage: %s BPFFS_DIR\n", argv[0]);
		return 2;
	}
	snprintf(pin, sizeof(pin), "%s/raw_map", argv[1]);

	int map = raw_map_create("raw_map", BPF_MAP_TYPE_HASH, 16); /* RAW:held */
	if (map < 0)
		return map == -EPERM || map == -EACCES ? 77 : 1;
	if (raw_pin(map, pin) < 0)
		return 1;
	int again = raw_obj_get(pin); /* RAW:obj_get */
	unsigned int id = raw_map_id(map);
	if (again < 0 || !id)
		return 1;
	/* Spread over time, like a per-request leak (the growth class). */
	for (int i = 0; i < GET_BY_ID_LOOPS; i++) {
		if (raw_map_by_id(id) < 0) /* RAW:get_by_id */
			return 1;
		usleep(15000);
	}
	int copy = raw_dup(map); /* RAW:dup */
	if (copy < 0)
		return 1;

	/* Copies that are closed again: no leak. */
	int high = raw_fcntl_dupfd(map, F_DUPFD_CLOEXEC, 100);
	if (high < 100 || raw_close(high))
		return 1;
	int other = raw_map_create("ranged", BPF_MAP_TYPE_ARRAY, 1);
	if (other < 0 || raw_dup3(other, 201, 0) != 201 || raw_dup3(other, 202, O_CLOEXEC) != 202 ||
	    raw_close(other))
		return 1;
	if (raw_close_range(200, 210, 0))
		return 1;

	/* A double close. */
	int tmp = raw_map_create("closed_twice", BPF_MAP_TYPE_ARRAY, 1);
	if (tmp < 0)
		return 1;
	raw_close(tmp);
	raw_close(tmp); /* RAW:double_close */

	printf("kr_raw: map %d again %d copy %d\n", map, again, copy);
	return 0;
}
