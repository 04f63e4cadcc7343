/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * What the unwinder's tests (test_unwind*.c, test_procmaps.c) share: the C
 * host stopped at its bpf() call (the cmocka group setup), an independent
 * symbolizer (libdwfl's own /proc/PID/maps reader, not recorder/procmaps.c)
 * and the expected chain of the C host.
 */
#ifndef BPFLEAK_TESTS_UNWIND_TESTLIB_H
#define BPFLEAK_TESTS_UNWIND_TESTLIB_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "ptrace_capture.h"
#include "procmaps.h"
#include "unwind.h"

#ifndef BPFLEAK_BUILD_DIR
#define BPFLEAK_BUILD_DIR "build"
#endif
#define HOST_C      BPFLEAK_BUILD_DIR "/tests/kernel/unwind_host"
#define HOST_GO     BPFLEAK_BUILD_DIR "/tests/kernel/unwind_host_go"
#define HOST_GO_CGO BPFLEAK_BUILD_DIR "/tests/kernel/unwind_host_go_cgo"
#define GATEWAY_GO  BPFLEAK_BUILD_DIR "/samples/gateway-go/gateway-go"
#define BPF_MAP_GET_FD_BY_ID_CMD 14
#define MAX_IPS 64

/* The C host stopped at its bpf() call by group_setup; c_sample_ok false
 * (and skip_reason why) when that cannot be done here. */
extern struct capture_sample c_sample;
extern bool c_sample_ok;
extern char skip_reason[256];

int group_setup(void **state);
int group_teardown(void **state);

#define REQUIRE_SAMPLE()                                             \
	do {                                                         \
		if (!c_sample_ok) {                                  \
			print_message("skip: %s\n", skip_reason);    \
			skip();                                      \
		}                                                    \
	} while (0)

/* Start argv (or path) traced, stopped after exec; prepare() runs in the
 * child first and returns the path to exec.  -1 on failure. */
pid_t spawn_traced_argv(const char *const *argv, const char *(*prepare)(void));
pid_t spawn_traced(const char *path, const char *(*prepare)(void));
/* spawn_traced, then capture_at_bpf(BPF_MAP_GET_FD_BY_ID): 0 or -1. */
int capture_host(const char *path, const char *(*prepare)(void), struct capture_sample *s);

struct named_frame {
	char function[128];
	char module[PATH_MAX];
};

/* A module the symbolizer finds at another path: set both while a child
 * runs a copy that exists only in its own mount namespace. */
extern const char *ns_inside_path, *ns_outside_path;

/* Name ips[0..n) of live process pid; frames after the first at ip-1. */
void symbolize(pid_t pid, const uint64_t *ips, int n, struct named_frame *out);
void print_stack(const char *what, const uint64_t *ips, int n, const struct named_frame *f,
		 enum unwind_stop why);
bool module_is(const struct named_frame *f, const char *base_prefix);
bool has_frame(const struct named_frame *f, int n, const char *function);
/* The C host's whole chain, syscall() in libc to _start. */
void assert_c_chain(const struct named_frame *f, int n, const char *host_module);

#endif
