/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The hostile host: programs that run under LD_PRELOAD=libbpfleak.so and do
 * what real programs do to a preloaded recorder -- threads racing on FD
 * numbers, forks and execs under load, closes from signal handlers, closing
 * every FD including the shim's, SIGKILL mid-loop, FD numbers near
 * RLIMIT_NOFILE.  One binary, one mode a file (mode_NAME.c):
 *
 *   host_hostile MODE [ARGS...]          (without arguments: the modes)
 *
 * Each mode checks its own results as it goes (return values, errno, the
 * object behind every FD it makes) and counts mismatches: the shim must not
 * change what the host sees.  At the end it prints, one per line,
 *
 *   open FD ID        every bpf FD it knows it leaves open (and map ID)
 *   errors N          how many of its own checks failed (0 = unchanged)
 *
 * and other mode-specific facts.  It also compares what it believes with
 * /proc/self/fd before exiting, so a test never checks the journal against
 * a host that is itself wrong.  Output is write(2), never stdio buffers, so
 * nothing is duplicated across fork or lost across exec.
 *
 * Exit status: 0 done, 1 own checks failed, 2 usage, 3 setup failed,
 * 77 the environment does not allow the mode (reason on stderr).
 */
#ifndef BPFLEAK_HOST_HOSTILE_H
#define BPFLEAK_HOST_HOSTILE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include "../lib/host_out.h"

/* A line on stderr, "host_hostile[PID]: ...". */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Setup failed: say why (with errno) and exit 3. */
void die(const char *what) __attribute__((noreturn));

/* The host's own checks that failed; printed as "errors N". */
extern _Atomic long errors;

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond)) {                                                   \
			atomic_fetch_add(&errors, 1);                            \
			say(__VA_ARGS__);                                        \
		}                                                                \
	} while (0)

uint64_t mono_ns(void);
/* xorshift64*: deterministic per seed, no shared state. */
uint64_t rng_next(uint64_t *s);
unsigned rnd(uint64_t *s, unsigned n);

#define MAX_THREADS 64

/* A map of our own: an array with a slot per thread (and one). */
int make_map(const char *name);
/* The map ID behind fd, or 0 (with errno) when it is not a bpf map. */
uint32_t map_id_of(int fd);
int fd_is_open(int fd);
/* Raise RLIMIT_NOFILE to want, or exit 77 saying why it cannot be. */
void raise_nofile(rlim_t want);

/*
 * The program's own belief about its open bpf FDs, checked against the
 * kernel: every FD it lists must be open on that map, and no other bpf map
 * FD may be open.  Prints the "open FD ID" lines.
 */
struct belief {
	int fd;
	uint32_t id;
};
void report_open(struct belief *b, size_t n);

struct hostile_mode {
	const char *name;
	int min_args;
	const char *usage;       /* its arguments */
	int (*run)(int argc, char **argv);   /* argv: the arguments after MODE */
};

extern const struct hostile_mode threads_mode, forks_mode, execchild_mode, sigclose_mode,
	closeall_mode, killloop_mode, highfd_mode, plain_mode, leak_mode;

#endif
