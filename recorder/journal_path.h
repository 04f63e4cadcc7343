/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Where a kernel recording goes (journal_path.c). */
#ifndef BPFLEAK_RECORDER_JOURNAL_PATH_H
#define BPFLEAK_RECORDER_JOURNAL_PATH_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The shim's default: CWD/bpfleak.NAME.PID.db (NAME: basename of argv[0]). */
void journal_default_path(const char *cwd, const char *argv0, pid_t pid, char *out, size_t cap);
/* The name a process was started as (basename of its argv[0]), or "process". */
void journal_process_name(pid_t pid, char *out, size_t cap);
/* Move an existing journal (and its -wal/-shm) to PATH.old*; 0 or -1 with errno. */
int journal_rotate(const char *path, bool quiet, const char *prog);
/* PATH made absolute (its directory must exist); 0 or -1 with a reason in err. */
int journal_absolute(const char *path, char *out, size_t cap, char *err, size_t errcap);
#endif
