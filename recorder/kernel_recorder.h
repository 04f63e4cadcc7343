/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The kernel recorder as the front end (tools/bpfleak.c) sees it:
 * `bpfleak run --tracer=kernel`, `bpfleak attach`, and the choice between
 * the preload shim and the kernel recorder for `--tracer=auto`.
 */
#ifndef BPFLEAK_KERNEL_RECORDER_H
#define BPFLEAK_KERNEL_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit status when the kernel recorder cannot run here (no privileges, no BTF, ...). */
#define RECORDER_EXIT_UNSUPPORTED 2

enum tracer { TRACER_AUTO = 0, TRACER_PRELOAD, TRACER_KERNEL };

/* "auto" | "preload" | "kernel"; -1 when it is none of them. */
int tracer_parse(const char *s, enum tracer *out);

/*
 * auto: the kernel recorder for programs that bypass libc (no PT_INTERP:
 * static; a Go binary, cgo or not: .go.buildinfo), the shim otherwise.
 * cmd is resolved like execvp does.  why gets a few words for the user.
 */
enum tracer tracer_choose(const char *cmd, char *why, size_t whycap);

/* As the shim's BPFLEAK_FOLD_AGE default. */
#define RECORDER_DEFAULT_FOLD_AGE_NS (3600ull * 1000000000ull)

struct recorder_opts {
	const char *journal;       /* path; NULL: CWD/bpfleak.NAME.PID.db */
	const char *cwd;           /* for the default journal name */
	bool append, quiet, close_stacks;
	int depth;                 /* frames per stack, 1..128 */
	size_t ring_bytes;         /* ring buffer size (tiny values force drops: tests) */
	uint64_t fold_age_ns;      /* fold create/close pairs closed before this; 0 never */
	const char *prog;          /* the front end's name, for messages */
	char *journal_used;        /* if set: the journal's path is copied here (run --report) */
	size_t journal_used_cap;
};

/* "1h", "30m", "off": the --fold-age option; 0 or -1. */
int recorder_parse_fold_age(const char *s, uint64_t *out);

/* "65536", "64K", "16M": the ring buffer size option; 0 or -1. */
int recorder_parse_ring_size(const char *s, size_t *out);

/* Fill the defaults. */
void recorder_opts_init(struct recorder_opts *o, const char *prog);

/*
 * `bpfleak run --tracer=kernel -- CMD...`: run CMD traced from its first
 * instruction, forward signals, return its exit status (128+N if killed by
 * signal N), or RECORDER_EXIT_UNSUPPORTED / 125-127 as `bpfleak run` does.
 */
int recorder_run(const struct recorder_opts *o, char *const argv[]);

/* `bpfleak attach [OPTIONS] PID`: argv[0] is "attach". */
int recorder_attach_main(int argc, char **argv, const char *prog);

#endif
