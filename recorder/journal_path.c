// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Journal paths, named and rotated the same way for the shim (`bpfleak
 * run`) and the kernel recorder, so a user finds them in the same place.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpfleak/snapshot.h>
#include "journal_path.h"

void journal_default_path(const char *cwd, const char *argv0, pid_t pid, char *out, size_t cap)
{
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if ((size_t)snprintf(out, cap, "%s%sbpfleak.%s.%d.db", cwd, strcmp(cwd, "/") ? "/" : "",
			     base, (int)pid) >= cap)
		snprintf(out, cap, "/tmp/bpfleak.%d.db", (int)pid);
}

void journal_process_name(pid_t pid, char *out, size_t cap)
{
	char path[64];
	size_t len = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	char *cmd = bpfleak_read_file(path, &len);
	const char *base = cmd && len ? strrchr(cmd, '/') : NULL;
	base = base ? base + 1 : cmd && len ? cmd : "process";
	snprintf(out, cap, "%s", *base ? base : "process");
	free(cmd);
}

int journal_rotate(const char *path, bool quiet, const char *prog)
{
	static const char *const side[] = { "", "-wal", "-shm", "-journal" };
	char from[PATH_MAX + 16], to[PATH_MAX + 32];
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	/* Only an old journal is moved aside: never a directory, device or symlink. */
	if (!S_ISREG(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		snprintf(from, sizeof(from), "%s%s", path, side[i]);
		snprintf(to, sizeof(to), "%s.old%s", path, side[i]);
		if (rename(from, to) != 0 && errno != ENOENT)
			return -1;
		if (i == 0 && !quiet)
			fprintf(stderr, "%s: %s existed: renamed to %s\n", prog, from, to);
	}
	return 0;
}

int journal_absolute(const char *path, char *out, size_t cap, char *err, size_t errcap)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *base = strrchr(path, '/');
	if (base) {
		size_t n = base == path ? 1 : (size_t)(base - path);
		if (n >= sizeof(dir)) {
			snprintf(err, errcap, "journal path too long: %s", path);
			return -1;
		}
		memcpy(dir, path, n);
		dir[n] = '\0';
		base++;
	} else {
		strcpy(dir, ".");
		base = path;
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		snprintf(err, errcap, "journal must name a file: %s", path);
		return -1;
	}
	struct stat st;
	if (!realpath(dir, real)) {
		snprintf(err, errcap, "journal directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(real, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errcap, "journal directory %s is not a directory", dir);
		return -1;
	}
	if ((size_t)snprintf(out, cap, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base) >= cap) {
		snprintf(err, errcap, "journal path too long: %s", path);
		return -1;
	}
	return 0;
}
