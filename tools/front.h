/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* What the front end's files (bpfleak.c, report_cmd.c) share. */
#ifndef BPFLEAK_FRONT_H
#define BPFLEAK_FRONT_H

#include <stdbool.h>
#include <stddef.h>

#define SHIM_NAME "libbpfleak.so"
#define REPORT_NAME "bpfleak-report"
/* bpfleak's own failures, as timeout(1) and env(1) number them. */
#define EXIT_FAIL 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

/* The name bpfleak was run as, for messages. */
extern const char *prog;
/* "bpfleak: <message>" on stderr, then exit(status). */
void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Directory of this executable, from /proc/self/exe ("" if unknown). */
void self_dir(char *buf, size_t len);
bool is_file(const char *path, int mode);

/* report_cmd.c */
/* `run --report FILE`: the report of the journal CMD left, if it left one. */
void report_after_run(const char *journal, const char *file, bool quiet);
/* `bpfleak report [-o FILE] ARGS...` */
int cmd_report(int argc, char **argv);

#endif
