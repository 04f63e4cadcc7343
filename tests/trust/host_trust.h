/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * host_trust: small programs written the way daemons are written (worker
 * threads alive at exit, pthread_exit from main, _exit from a signal
 * handler, vfork, helpers spawned, stderr reopened, ...), each a mode of
 * one binary, run by the scripts in tests/trust with and without the
 * shim.  Each mode prints "key value" facts on stdout (out()) and exits 0
 * when the host itself saw nothing wrong.
 */
#ifndef BPFLEAK_HOST_TRUST_H
#define BPFLEAK_HOST_TRUST_H

#include <stdbool.h>
#include "../lib/host_out.h"

/* A map of our own, made the way libbpf makes them. */
int trust_map(const char *name);
unsigned int trust_map_id(int fd);
void trust_die(const char *what) __attribute__((noreturn));
void trust_sleep_ms(long ms);

struct trust_mode {
	const char *name;
	const char *usage;
	int (*run)(int argc, char **argv);
};

/* Each file of modes lists its own. */
extern const struct trust_mode trust_exit_modes[];
extern const struct trust_mode trust_spawn_modes[];
extern const struct trust_mode trust_fd_modes[];
extern const struct trust_mode trust_stack_modes[];

#endif
