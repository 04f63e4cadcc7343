// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The unwinder on Go: a small Go host stopped at its bpf() call (static
 * and cgo builds), and the Go gateway on cilium/ebpf, whose threads are all
 * followed: NewMapFromID's stack and a close made by a GC finalizer
 * (runtime.runfinq) must unwind to their ends.  Skipped where the Go
 * programs were not built (no Go toolchain or cilium/ebpf).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include "unwind_testlib.h"

/* ----------------------------------------------------------------- Go */

static void check_go(const char *path, const char *what)
{
	struct capture_sample *s;
	uint64_t ips[MAX_IPS];
	struct named_frame f[MAX_IPS];
	enum unwind_stop why;
	static const char *const chain[] = {
		"syscall.Syscall", "main.hostLeaf", "main.hostMid", "main.main", "runtime.main",
	};
	size_t k = 0;

	if (access(path, X_OK)) {
		print_message("skip: %s is missing (no Go toolchain when it was built)\n", path);
		skip();
	}
	s = malloc(sizeof(*s));
	assert_non_null(s);
	assert_int_equal(capture_host(path, NULL, s), 0);
	struct unwinder *u = unwinder_new();
	int n = unwinder_unwind(u, s->pid, &s->regs, s->stack, s->stack_len, ips, MAX_IPS, &why);
	symbolize(s->pid, ips, n, f);
	print_stack(what, ips, n, f, why);
	for (int i = 0; i < n && k < sizeof(chain) / sizeof(chain[0]); i++)
		if (!strcmp(f[i].function, chain[k]))
			k++;
	if (k != sizeof(chain) / sizeof(chain[0]))
		fail_msg("%s: the chain lacks %s", what, chain[k]);
	/* runtime.goexit, or its ABI0 symbol runtime.goexit.abi0 */
	assert_true(!strncmp(f[n - 1].function, "runtime.goexit", 14));
	assert_int_equal(why, UNWIND_STOP_END);
	unwinder_free(u);
	capture_kill(s->pid);
	free(s);
}

static void test_go_static(void **state)
{
	(void)state;
	check_go(HOST_GO, "Go host, CGO_ENABLED=0 (static)");
}

static void test_go_cgo(void **state)
{
	(void)state;
	check_go(HOST_GO_CGO, "Go host, CGO_ENABLED=1");
}

/* ---- the Go gateway on cilium/ebpf: a lookup by ID and a finalizer ---- */

static char gw_dir[] = "/tmp/bpfleak-unwind-gw.XXXXXX";
static char gw_pins[sizeof(gw_dir) + 16];
static pid_t gw_child = -1;

/* After the test, passed or failed: the gateway killed (its bpffs, network
 * namespace and XDP go with it) and the empty directory removed. */
static int gw_cleanup(void **state)
{
	(void)state;
	if (gw_child > 0)
		capture_kill(gw_child);
	gw_child = -1;
	if (!strstr(gw_dir, "XXXXXX"))
		rmdir(gw_dir);
	return 0;
}

/* In the child: its own network namespace (lo up) and a bpffs mounted in
 * its own mount namespace, so nothing outlives it. */
static const char *enter_gateway_sandbox(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", gw_dir, "bpf", 0, NULL))
		return NULL;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		return NULL;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		return NULL;
	close(s);
	return GATEWAY_GO;
}

struct gateway_watch {
	pid_t pid;
	struct unwinder *u;
	bool saw_lookup, saw_finalizer;
};

static bool fd_is_bpf_map(pid_t tid, unsigned long long fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%llu", (int)tid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strcmp(link, "anon_inode:bpf-map");
}

/* NewMapFromID's bpf(BPF_MAP_GET_FD_BY_ID), and close() of a map FD. */
static bool gateway_wants(pid_t tid, const struct ptrace_syscall_info *info, void *ctx)
{
	(void)ctx;
	if (info->entry.nr == __NR_bpf)
		return info->entry.args[0] == BPF_MAP_GET_FD_BY_ID_CMD;
	return info->entry.nr == __NR_close && fd_is_bpf_map(tid, info->entry.args[0]);
}


static int gateway_event(struct capture_sample *s, void *ctx)
{
	struct gateway_watch *w = ctx;
	uint64_t ips[MAX_IPS];
	struct named_frame f[MAX_IPS];
	enum unwind_stop why;
	int n = unwinder_unwind(w->u, w->pid, &s->regs, s->stack, s->stack_len, ips, MAX_IPS, &why);

	symbolize(w->pid, ips, n, f);
	if (!w->saw_lookup && has_frame(f, n, "github.com/cilium/ebpf.NewMapFromID")) {
		print_stack("Go gateway (cilium/ebpf), the lookup by ID", ips, n, f, why);
		assert_true(has_frame(f, n, "main.(*gateway).statsPoll"));
		assert_true(has_frame(f, n, "main.(*gateway).loop"));
		assert_true(has_frame(f, n, "main.main"));
		assert_int_equal(why, UNWIND_STOP_END);
		w->saw_lookup = true;
	} else if (!w->saw_finalizer && has_frame(f, n, "runtime.runfinq")) {
		print_stack("Go gateway (cilium/ebpf), a close by a finalizer", ips, n, f, why);
		assert_true(has_frame(f, n, "github.com/cilium/ebpf/internal/sys.(*FD).Close"));
		assert_int_equal(why, UNWIND_STOP_END);
		w->saw_finalizer = true;
	}
	return w->saw_lookup && w->saw_finalizer;
}

static void test_go_gateway_cilium(void **state)
{
	(void)state;
	static const char *const argv_tail[] = {
		"--ifname", "lo", "--ticks", "3", "--interval", "50", "--finalize", "--no-probe",
	};
	struct capture_sample *s;
	struct gateway_watch w = { 0 };
	const char *argv[16];
	int i = 0;

	if (access(GATEWAY_GO, X_OK)) {
		print_message("skip: %s is missing (no Go toolchain or cilium/ebpf)\n", GATEWAY_GO);
		skip();
	}
	assert_non_null(mkdtemp(gw_dir));
	snprintf(gw_pins, sizeof(gw_pins), "%s/gw", gw_dir);
	argv[i++] = GATEWAY_GO;
	argv[i++] = "--pin-dir";
	argv[i++] = gw_pins;
	for (size_t k = 0; k < sizeof(argv_tail) / sizeof(argv_tail[0]); k++)
		argv[i++] = argv_tail[k];
	argv[i] = NULL;

	s = malloc(sizeof(*s));
	assert_non_null(s);
	w.pid = spawn_traced_argv(argv, enter_gateway_sandbox);
	assert_true(w.pid > 0);
	gw_child = w.pid;
	w.u = unwinder_new();
	int rc = capture_follow(w.pid, gateway_wants, gateway_event, &w, s);
	capture_kill(w.pid);
	gw_child = -1;
	unwinder_free(w.u);
	free(s);
	assert_int_equal(rmdir(gw_dir), 0);
	if (rc < 0 && !w.saw_lookup) {
		print_message("skip: the gateway exited before its first tick (no bpf or XDP here?)\n");
		skip();
	}
	assert_true(w.saw_lookup);
	assert_true(w.saw_finalizer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_static),
		cmocka_unit_test(test_go_cgo),
		cmocka_unit_test_teardown(test_go_gateway_cilium, gw_cleanup),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("BPFLEAK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("BPFLEAK_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
