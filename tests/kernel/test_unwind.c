// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The recorder's offline unwinder (recorder/unwind.c) and module reader
 * (recorder/procmaps.c) on real processes.
 *
 * A child (tests/kernel/unwind_host, built without frame pointers) is
 * stopped with ptrace at the entry of its bpf() call, deep inside libbpf and
 * libc, and its registers and 8 KiB of stack are captured as the BPF side
 * captures them.  The unwound IPs are then named by an independent
 * symbolizer (libdwfl's own /proc/PID/maps reader) and must be the whole
 * chain, syscall() in libc to _start.  The same for Go binaries (static and
 * cgo), for a binary that exists only in the child's mount namespace, for a
 * process that has exited since, and for a copy cut short.  Then garbage:
 * random registers and random or corrupted stack bytes must never crash or
 * hang it.  And the cost of one unwind, printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <link.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sendfile.h>
#include <time.h>
#include <bpfleak/buildid.h>
#include "ptrace_capture.h"
#include "procmaps.h"
#include "unwind.h"

#ifndef BPFLEAK_BUILD_DIR
#define BPFLEAK_BUILD_DIR "build"
#endif
#define HOST_C      BPFLEAK_BUILD_DIR "/tests/kernel/unwind_host"
#define HOST_GO     BPFLEAK_BUILD_DIR "/tests/kernel/unwind_host_go"
#define HOST_GO_CGO BPFLEAK_BUILD_DIR "/tests/kernel/unwind_host_go_cgo"
#define BPF_MAP_GET_FD_BY_ID_CMD 14
#define MAX_IPS 64

/* The C host stopped at its bpf() call, shared by the tests. */
static struct capture_sample c_sample;
static bool c_sample_ok;
static char skip_reason[256];

/* ------------------------------------------------ independent symbolizer */

/* The module that the mount-namespace test runs from a path that exists
 * only inside the child's namespace: symbolized from the identical file
 * outside. */
static const char *ns_inside_path, *ns_outside_path;

static int oracle_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			   char **file_name, Elf **elfp)
{
	if (ns_inside_path && !strcmp(name, ns_inside_path))
		name = ns_outside_path;
	return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
}

/* Names from the files' own symbol tables; no debuginfo search. */
static int oracle_no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			       Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			       GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
	(void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
	return -1;
}

static const Dwfl_Callbacks oracle_callbacks = {
	.find_elf = oracle_find_elf,
	.find_debuginfo = oracle_no_debuginfo,
};

struct named_frame {
	char function[128];
	char module[PATH_MAX];
};

/* Name ips[0..n) of live process pid; frames after the first at ip-1. */
static void symbolize(pid_t pid, const uint64_t *ips, int n, struct named_frame *out)
{
	Dwfl *dwfl = dwfl_begin(&oracle_callbacks);

	assert_non_null(dwfl);
	dwfl_report_begin(dwfl);
	assert_int_equal(dwfl_linux_proc_report(dwfl, pid), 0);
	assert_int_equal(dwfl_report_end(dwfl, NULL, NULL), 0);
	for (int i = 0; i < n; i++) {
		Dwarf_Addr a = i ? ips[i] - 1 : ips[i];
		Dwfl_Module *mod = dwfl_addrmodule(dwfl, a);
		const char *fn = mod ? dwfl_module_addrname(mod, a) : NULL;
		const char *mname = mod ? dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL) : NULL;

		snprintf(out[i].function, sizeof(out[i].function), "%s", fn ? fn : "?");
		snprintf(out[i].module, sizeof(out[i].module), "%s", mname ? mname : "?");
	}
	dwfl_end(dwfl);
}

static void print_stack(const char *what, const uint64_t *ips, int n, const struct named_frame *f,
			enum unwind_stop why)
{
	static const char *const whys[] = { "end", "max", "stack cut short", "no module", "failed" };

	printf("%s: %d frames, stopped: %s\n", what, n, whys[why]);
	for (int i = 0; i < n; i++)
		printf("  #%-2d 0x%016llx %-36s %s\n", i, (unsigned long long)ips[i], f[i].function,
		       strrchr(f[i].module, '/') ? strrchr(f[i].module, '/') + 1 : f[i].module);
}

static bool module_is(const struct named_frame *f, const char *base_prefix)
{
	const char *b = strrchr(f->module, '/');

	return !strncmp(b ? b + 1 : f->module, base_prefix, strlen(base_prefix));
}

/* The C host's whole chain, innermost first:
 *   syscall (libc) bpf_map_get_fd_by_id_opts (libbpf) host_leaf host_compare
 *   qsort internals (libc, 1+) main  __libc_start_* (libc, 1+)  _start */
static void assert_c_chain(const struct named_frame *f, int n, const char *host_module)
{
	int i = 0;

	assert_true(n >= 8);
	assert_string_equal(f[0].function, "syscall");
	assert_true(module_is(&f[0], "libc.so"));
	assert_string_equal(f[1].function, "bpf_map_get_fd_by_id_opts");
	assert_true(module_is(&f[1], "libbpf.so"));
	assert_string_equal(f[2].function, "host_leaf");
	assert_string_equal(f[3].function, "host_compare");
	assert_string_equal(f[2].module, host_module);
	for (i = 4; i < n && module_is(&f[i], "libc.so"); i++)
		;
	assert_true(i > 4);                 /* qsort's frames, in libc */
	assert_true(i < n);
	assert_string_equal(f[i].function, "main");
	assert_string_equal(f[i].module, host_module);
	for (i++; i < n && module_is(&f[i], "libc.so"); i++)
		;
	assert_true(i == n - 1);            /* __libc_start_call_main etc. */
	assert_string_equal(f[n - 1].function, "_start");
	assert_string_equal(f[n - 1].module, host_module);
}

/* ------------------------------------------------------------ children */

/* Start argv traced (stopped after exec).  In the child, before exec,
 * prepare() may change its world; it returns the path to exec.  -1 if
 * tracing is refused here. */
static pid_t spawn_traced_argv(const char *const *argv, const char *(*prepare)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *run = prepare ? prepare() : argv[0];

		if (!run || ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(126);
		execv(run, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static pid_t spawn_traced(const char *path, const char *(*prepare)(void))
{
	const char *argv[] = { path, NULL };

	return spawn_traced_argv(argv, prepare);
}

static int capture_host(const char *path, const char *(*prepare)(void), struct capture_sample *s)
{
	pid_t pid = spawn_traced(path, prepare);

	if (pid < 0)
		return -1;
	if (capture_at_bpf(pid, BPF_MAP_GET_FD_BY_ID_CMD, s)) {
		capture_kill(pid);
		return -1;
	}
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	unsetenv("DEBUGINFOD_URLS");
	if (access(HOST_C, X_OK)) {
		snprintf(skip_reason, sizeof(skip_reason), "%s is missing (run make)", HOST_C);
		return 0;
	}
	if (capture_host(HOST_C, NULL, &c_sample)) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "cannot trace a child to its bpf() call (ptrace refused?)");
		return 0;
	}
	c_sample_ok = true;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (c_sample_ok)
		capture_kill(c_sample.pid);
	unwind_shutdown();
	return 0;
}

#define REQUIRE_SAMPLE()                                             \
	do {                                                         \
		if (!c_sample_ok) {                                  \
			print_message("skip: %s\n", skip_reason);    \
			skip();                                      \
		}                                                    \
	} while (0)

/* --------------------------------------------------------------- tests */

static void test_c_through_libbpf_and_libc(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	uint64_t ips[MAX_IPS];
	struct named_frame f[MAX_IPS];
	enum unwind_stop why;
	struct unwinder *u = unwinder_new();

	assert_non_null(u);
	int n = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				ips, MAX_IPS, &why);
	symbolize(c_sample.pid, ips, n, f);
	print_stack("C host (no frame pointers) at bpf()", ips, n, f, why);
	assert_int_equal(ips[0], c_sample.regs.ip);
	assert_c_chain(f, n, HOST_C);
	assert_int_equal(why, UNWIND_STOP_END);

	/* The fixed entry point gives the same. */
	uint64_t ips2[MAX_IPS];
	int n2 = unwind_user_stack(c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				   ips2, MAX_IPS);
	assert_int_equal(n2, n);
	assert_memory_equal(ips2, ips, (size_t)n * sizeof(ips[0]));

	/* What bpf_get_stack would give: follow rbp.  Not the chain. */
	int fp_frames = 1;
	for (uint64_t bp = c_sample.regs.bp; fp_frames < MAX_IPS; fp_frames++) {
		uint64_t w[2];

		if (bp < c_sample.regs.sp || bp - c_sample.regs.sp + 16 > c_sample.stack_len)
			break;
		memcpy(w, c_sample.stack + (bp - c_sample.regs.sp), sizeof(w));
		if (w[1] != ips[fp_frames])
			break;
		bp = w[0];
	}
	printf("a frame-pointer walk of the same capture agrees on %d frame(s) of %d\n", fp_frames, n);
	unwinder_free(u);
}

/* regs[] all zero, only ip/sp/bp: what a minimal capture gives. */
static void test_ip_sp_bp_only(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct unwind_regs r = { .ip = c_sample.regs.ip, .sp = c_sample.regs.sp, .bp = c_sample.regs.bp };
	uint64_t full[MAX_IPS], part[MAX_IPS];
	struct unwinder *u = unwinder_new();
	int nf = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				 full, MAX_IPS, NULL);
	int np = unwinder_unwind(u, c_sample.pid, &r, c_sample.stack, c_sample.stack_len, part,
				 MAX_IPS, NULL);

	assert_int_equal(np, nf);
	assert_memory_equal(part, full, (size_t)nf * sizeof(full[0]));
	unwinder_free(u);
}

/* A copy shorter than the stack: a prefix of the chain, and we are told. */
static void test_stack_cut_short(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	uint64_t full[MAX_IPS], part[MAX_IPS];
	enum unwind_stop why;
	struct unwinder *u = unwinder_new();
	int nf = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				 full, MAX_IPS, NULL);
	int np = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, 256, part,
				 MAX_IPS, &why);

	printf("with 256 of %zu stack bytes: %d of %d frames\n", c_sample.stack_len, np, nf);
	assert_true(np >= 2 && np < nf);
	assert_memory_equal(part, full, (size_t)np * sizeof(full[0]));
	assert_int_equal(why, UNWIND_STOP_STACK);

	/* max_ips caps it, and says so. */
	np = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
			     part, 3, &why);
	assert_int_equal(np, 3);
	assert_int_equal(why, UNWIND_STOP_MAX);
	assert_memory_equal(part, full, 3 * sizeof(full[0]));
	assert_int_equal(unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack,
					 c_sample.stack_len, part, 0, NULL), 0);
	/* No stack at all: the PC, and perhaps what registers alone give. */
	np = unwinder_unwind(u, c_sample.pid, &c_sample.regs, NULL, 0, part, MAX_IPS, &why);
	assert_true(np >= 1 && np < nf);
	assert_int_equal(part[0], c_sample.regs.ip);
	unwinder_free(u);
}

/* Modules loaded while the process lived still unwind after it exited;
 * a process never seen alive gives its PC only. */
static void test_after_exit(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct capture_sample *s = malloc(sizeof(*s));
	uint64_t live[MAX_IPS], dead[MAX_IPS];
	struct named_frame f[MAX_IPS];
	enum unwind_stop why;
	struct unwinder *u = unwinder_new();

	assert_non_null(s);
	assert_int_equal(capture_host(HOST_C, NULL, s), 0);
	assert_true(unwinder_load_pid(u, s->pid) >= 3);   /* host, libbpf, libc, ... */
	int nl = unwinder_unwind(u, s->pid, &s->regs, s->stack, s->stack_len, live, MAX_IPS, NULL);
	symbolize(s->pid, live, nl, f);
	assert_c_chain(f, nl, HOST_C);
	capture_kill(s->pid);
	assert_int_equal(kill(s->pid, 0), -1);

	int nd = unwinder_unwind(u, s->pid, &s->regs, s->stack, s->stack_len, dead, MAX_IPS, &why);
	assert_int_equal(nd, nl);
	assert_memory_equal(dead, live, (size_t)nl * sizeof(live[0]));
	assert_int_equal(why, UNWIND_STOP_END);

	unwinder_forget(u, s->pid);
	nd = unwinder_unwind(u, s->pid, &s->regs, s->stack, s->stack_len, dead, MAX_IPS, &why);
	assert_int_equal(nd, 1);
	assert_int_equal(dead[0], s->regs.ip);
	assert_int_equal(why, UNWIND_STOP_NO_MODULE);
	assert_int_equal(unwinder_load_pid(u, s->pid), -ENOENT);

	struct unwind_stats st;
	unwinder_stats(u, &st);
	assert_int_equal(st.unwinds, 3);
	assert_int_equal(st.stopped[UNWIND_STOP_END], 2);
	unwinder_free(u);
	free(s);
}

/* Modules handed over by the caller (procmaps_read_open), as the recorder
 * does when it writes module rows anyway. */
static void test_add_modules(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct procmap_module *mods;
	size_t n;
	uint64_t a[MAX_IPS], b[MAX_IPS];
	struct unwinder *u = unwinder_new(), *v = unwinder_new();

	assert_int_equal(procmaps_read_open(c_sample.pid, &mods, &n), 0);
	assert_true(n >= 3);
	assert_int_equal(unwinder_add_modules(u, c_sample.pid, mods, n), (int)n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mods[i].fd, -1);   /* taken over */
	/* Again: nothing new, nothing reported twice. */
	assert_int_equal(unwinder_add_modules(u, c_sample.pid, mods, n), (int)n);
	procmaps_free(mods, n);
	/* Without FDs: opened through /proc. */
	assert_int_equal(procmaps_read(c_sample.pid, &mods, &n), 0);
	assert_int_equal(unwinder_add_modules(v, c_sample.pid, mods, n), (int)n);
	procmaps_free(mods, n);

	int na = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack,
				 c_sample.stack_len, a, MAX_IPS, NULL);
	int nb = unwinder_unwind(v, c_sample.pid, &c_sample.regs, c_sample.stack,
				 c_sample.stack_len, b, MAX_IPS, NULL);
	assert_true(na >= 8);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, (size_t)na * sizeof(a[0]));
	unwinder_free(u);
	unwinder_free(v);
}

/* procmaps of this very process agrees with what the loader says
 * (dl_iterate_phdr: bias, extent, build-id), as the shim records it. */
struct loader_view {
	const struct procmap_module *mods;
	size_t n;
	int checked;
};

static int check_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct loader_view *v = arg;
	uint64_t hi = 0, text = 0;
	char build_id[PROCMAP_BUILD_ID_HEX], real[PATH_MAX];
	const char *name = info->dlpi_name;
	(void)size;

	if (!name || !name[0])
		name = "/proc/self/exe";
	if (!strncmp(name, "linux-vdso", 10) || !realpath(name, real))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && !text)
			text = ph->p_vaddr;
	}
	bpfleak_build_id_hex(info, build_id, sizeof(build_id));
	const struct procmap_module *m = procmaps_find(v->mods, v->n, info->dlpi_addr + text);

	if (!m)
		fail_msg("procmaps has no module for %s", real);
	assert_string_equal(m->path, real);
	assert_int_equal(m->base, info->dlpi_addr);
	assert_int_equal(m->size, hi);
	assert_string_equal(m->build_id, build_id);
	assert_true(m->text_start <= info->dlpi_addr + text && m->text_end > info->dlpi_addr + text);
	assert_true(m->file_size > 0 && m->mtime_ns > 0);
	assert_int_equal(m->fd, -1);
	v->checked++;
	return 0;
}

static void test_procmaps_matches_loader(void **state)
{
	(void)state;
	struct procmap_module *mods;
	size_t n;
	struct loader_view v = { 0 };

	assert_int_equal(procmaps_read(getpid(), &mods, &n), 0);
	v.mods = mods;
	v.n = n;
	dl_iterate_phdr(check_loaded, &v);
	printf("procmaps: %zu modules, %d checked against dl_iterate_phdr\n", n, v.checked);
	assert_true(v.checked >= 4);   /* the test, libdw, libelf, libc, ... */
	for (size_t i = 1; i < n; i++)
		assert_true(mods[i - 1].end <= mods[i].start);
	procmaps_free(mods, n);

	assert_int_equal(procmaps_read(0x3fffffff, &mods, &n), -ENOENT);
	assert_null(mods);
	assert_int_equal(n, 0);
	assert_null(procmaps_find(NULL, 0, 0x1000));
}

/* ---- a binary that exists only in the child's mount namespace ---- */

static char ns_dir[] = "/tmp/bpfleak-unwind-ns.XXXXXX";
static char ns_host[sizeof(ns_dir) + 32];

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	struct stat st;
	int rc = -1;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out >= 0 && fstat(in, &st) == 0) {
		off_t off = 0;

		rc = 0;
		while (off < st.st_size)
			if (sendfile(out, in, &off, (size_t)(st.st_size - off)) <= 0) {
				rc = -1;
				break;
			}
	}
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

/* In the child: a private mount namespace with a tmpfs over ns_dir, and
 * the host copied into it. */
static const char *enter_private_ns(void)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", ns_dir, "tmpfs", 0, "size=16m") || copy_file(HOST_C, ns_host))
		return NULL;
	return ns_host;
}

/* Without CAP_SYS_ADMIN (and CAP_CHECKPOINT_RESTORE) map_files is refused:
 * procmaps must then find the file through /proc/PID/root.  Runs in a
 * thread of its own, which drops those capabilities (capabilities are per
 * thread); returns 0 if the module is found with the right build-id. */
struct reader_job {
	pid_t pid;
	const char *want_build_id;
	int code;
};

static int read_without_map_files(pid_t pid, const char *want_build_id);

static void *reader_thread(void *arg)
{
	struct reader_job *j = arg;

	j->code = read_without_map_files(j->pid, j->want_build_id);
	return NULL;
}

static int read_without_map_files(pid_t pid, const char *want_build_id)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct procmap_module *mods;
	size_t n;
	char name[128];
	int code = 3;

	if (syscall(SYS_capget, &h, d))
		return 1;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	d[CAP_CHECKPOINT_RESTORE / 32].effective &= ~(1u << (CAP_CHECKPOINT_RESTORE % 32));
	if (syscall(SYS_capset, &h, d))
		return 1;
	if (procmaps_read(pid, &mods, &n))
		return 2;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(mods[i].path, ns_host))
			continue;
		code = strcmp(mods[i].build_id, want_build_id) ? 4 : 0;
		/* And map_files really was refused, so /proc/PID/root did it. */
		snprintf(name, sizeof(name), "/proc/%d/map_files/%llx-%llx", (int)pid,
			 (unsigned long long)mods[i].text_start, (unsigned long long)mods[i].text_end);
		int fd = open(name, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			code = 5;
		}
	}
	procmaps_free(mods, n);
	return code;
}

static void test_mount_namespace(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct capture_sample *s = malloc(sizeof(*s));
	uint64_t ips[MAX_IPS];
	struct named_frame f[MAX_IPS];
	struct procmap_module *mods;
	size_t n;
	enum unwind_stop why;
	const struct procmap_module *host = NULL, *outside = NULL;
	struct procmap_module *self_mods;
	size_t self_n;

	assert_non_null(s);
	assert_non_null(mkdtemp(ns_dir));
	snprintf(ns_host, sizeof(ns_host), "%s/host-in-ns", ns_dir);
	if (capture_host(ns_host, enter_private_ns, s)) {
		rmdir(ns_dir);
		free(s);
		print_message("skip: cannot run a child in a private mount namespace\n");
		skip();
	}
	/* The path is not there for us. */
	assert_int_equal(access(ns_host, F_OK), -1);

	assert_int_equal(procmaps_read(s->pid, &mods, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(mods[i].path, ns_host))
			host = &mods[i];
	assert_non_null(host);
	/* The same bytes as the binary outside: the same build-id. */
	assert_int_equal(procmaps_read(c_sample.pid, &self_mods, &self_n), 0);
	for (size_t i = 0; i < self_n; i++)
		if (!strcmp(self_mods[i].path, HOST_C))
			outside = &self_mods[i];
	assert_non_null(outside);
	assert_true(host->build_id[0]);
	assert_string_equal(host->build_id, outside->build_id);

	struct reader_job job = { .pid = s->pid, .want_build_id = outside->build_id, .code = -1 };
	pthread_t reader;
	assert_int_equal(pthread_create(&reader, NULL, reader_thread, &job), 0);
	assert_int_equal(pthread_join(reader, NULL), 0);
	assert_int_equal(job.code, 0);
	procmaps_free(self_mods, self_n);
	procmaps_free(mods, n);

	int got = unwind_user_stack(s->pid, &s->regs, s->stack, s->stack_len, ips, MAX_IPS);
	(void)why;
	ns_inside_path = ns_host;
	ns_outside_path = HOST_C;
	symbolize(s->pid, ips, got, f);
	ns_inside_path = ns_outside_path = NULL;
	print_stack("C host inside a private mount namespace", ips, got, f, UNWIND_STOP_END);
	assert_c_chain(f, got, ns_host);
	unwind_forget(s->pid);
	capture_kill(s->pid);
	/* The tmpfs went away with the child's namespace. */
	assert_int_equal(rmdir(ns_dir), 0);
	free(s);
}

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

#define GATEWAY_GO BPFLEAK_BUILD_DIR "/samples/gateway-go/gateway-go"

static char gw_dir[] = "/tmp/bpfleak-unwind-gw.XXXXXX";
static char gw_pins[sizeof(gw_dir) + 16];

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

static bool has_frame(const struct named_frame *f, int n, const char *function)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(f[i].function, function))
			return true;
	return false;
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
	w.u = unwinder_new();
	int rc = capture_follow(w.pid, gateway_wants, gateway_event, &w, s);
	capture_kill(w.pid);
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

/* --------------------------------------------------------------- fuzz */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed printed below */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* Garbage in every shape: random registers, a PC in real code with a
 * random or corrupted stack, stack pointers near the ends of the address
 * space.  It must return 1..max frames, never crash or hang. */
static void fuzz_pid(struct unwinder *u, pid_t pid, const struct procmap_module *mods, size_t n,
		     int rounds)
{
	static unsigned char stack[CAPTURE_STACK_BYTES];
	uint64_t ips[MAX_IPS];

	for (int r = 0; r < rounds; r++) {
		struct unwind_regs regs;
		size_t len = (size_t)(rnd() % (sizeof(stack) + 1));
		int max = 1 + (int)(rnd() % MAX_IPS);
		enum unwind_stop why;

		for (int i = 0; i < 17; i++)
			regs.regs[i] = rnd();
		regs.bp = rnd();
		switch (rnd() % 4) {
		case 0:
			regs.ip = rnd();
			regs.sp = rnd();
			break;
		case 1:   /* a PC in a module's code */
		case 2: {
			const struct procmap_module *m = &mods[rnd() % n];

			regs.ip = m->text_start + rnd() % (m->text_end - m->text_start);
			regs.sp = c_sample.regs.sp + (rnd() % 64) * 8;
			break;
		}
		default:  /* the real capture, corrupted */
			regs = c_sample.regs;
			if (rnd() % 2)
				regs.regs[rnd() % 17] ^= rnd();
			break;
		}
		if (rnd() % 8 == 0)
			regs.sp = rnd() % 2 ? UINT64_MAX - rnd() % 64 : rnd() % 64;
		if (rnd() % 2 && c_sample_ok) {
			memcpy(stack, c_sample.stack, c_sample.stack_len);
			for (int k = (int)(rnd() % 16); k >= 0; k--)
				stack[rnd() % sizeof(stack)] = (unsigned char)rnd();
		} else {
			for (size_t i = 0; i < len; i += 8) {
				uint64_t w = rnd();

				memcpy(stack + i, &w, len - i < 8 ? len - i : 8);
			}
		}
		int got = unwinder_unwind(u, pid, &regs, stack, len, ips, max, &why);
		assert_true(got >= 1 && got <= max);
		assert_int_equal(ips[0], regs.ip);
		assert_true(why <= UNWIND_STOP_FAILED);
	}
}

static void test_fuzz_random_stacks(void **state)
{
	(void)state;
	const char *env = getenv("BPFLEAK_FUZZ_SEED");
	const char *env_rounds = getenv("BPFLEAK_FUZZ_ROUNDS");
	int rounds = env_rounds ? atoi(env_rounds) : 20000;
	struct procmap_module *mods;
	size_t n;
	struct unwinder *u = unwinder_new();

	rng_state = env ? strtoull(env, NULL, 0) : 0x5eed5eedull;
	if (!rng_state)
		rng_state = 1;
	printf("fuzz: seed 0x%llx, %d rounds per process (BPFLEAK_FUZZ_SEED, BPFLEAK_FUZZ_ROUNDS)\n",
	       (unsigned long long)rng_state, rounds);
	assert_int_equal(procmaps_read(getpid(), &mods, &n), 0);
	assert_true(n > 0);
	fuzz_pid(u, getpid(), mods, n, rounds);
	procmaps_free(mods, n);
	if (c_sample_ok) {
		assert_int_equal(procmaps_read(c_sample.pid, &mods, &n), 0);
		fuzz_pid(u, c_sample.pid, mods, n, rounds);
		procmaps_free(mods, n);
	}
	/* A pid with no modules at all. */
	fuzz_pid(u, 0x3ffffff0, (struct procmap_module[]){ { .text_start = 0x1000, .text_end = 0x2000 } },
		 1, 200);
	struct unwind_stats st;
	unwinder_stats(u, &st);
	printf("fuzz: %llu unwinds, %llu frames; stopped: end %llu, max %llu, stack %llu, "
	       "no module %llu, failed %llu; %llu reloads\n",
	       (unsigned long long)st.unwinds, (unsigned long long)st.frames,
	       (unsigned long long)st.stopped[0], (unsigned long long)st.stopped[1],
	       (unsigned long long)st.stopped[2], (unsigned long long)st.stopped[3],
	       (unsigned long long)st.stopped[4], (unsigned long long)st.reloads);
	unwinder_free(u);
}

/* More pids than the table holds: the oldest give way, memory stays bounded. */
static void test_pid_table_bounded(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	struct unwinder *u = unwinder_new();
	uint64_t ips[4];
	struct unwind_stats st;

	for (int i = 0; i < UNWIND_MAX_PIDS + 10; i++)
		unwinder_unwind(u, 0x3fff0000 + i, &c_sample.regs, NULL, 0, ips, 4, NULL);
	unwinder_stats(u, &st);
	assert_int_equal(st.evictions, 10);
	/* A live pid still works after all that. */
	assert_true(unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack,
				    c_sample.stack_len, ips, 4, NULL) == 4);
	unwinder_free(u);
}

/* --------------------------------------------------------------- cost */

static double elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 + (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

static void test_cost_per_unwind(void **state)
{
	(void)state;
	REQUIRE_SAMPLE();
	const char *env = getenv("BPFLEAK_UNWIND_BENCH_ITERS");
	int iters = env ? atoi(env) : 20000;
	uint64_t ips[MAX_IPS];
	struct timespec t0, t1, t2;
	struct unwinder *u = unwinder_new();
	int n = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(unwinder_load_pid(u, c_sample.pid) > 0);
	n = unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
			    ips, MAX_IPS, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < iters; i++)
		unwinder_unwind(u, c_sample.pid, &c_sample.regs, c_sample.stack, c_sample.stack_len,
				ips, MAX_IPS, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	double per = elapsed_us(&t1, &t2) / iters;
	printf("unwind cost: %.2f us per unwind of %d frames (%.2f us/frame, %d iterations); "
	       "first unwind of a pid incl. reading its maps and CFI: %.0f us\n",
	       per, n, per / n, iters, elapsed_us(&t0, &t1));
	/* A generous ceiling, to catch a per-unwind reload or re-parse. */
	assert_true(per < 500.0);
	unwinder_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procmaps_matches_loader),
		cmocka_unit_test(test_c_through_libbpf_and_libc),
		cmocka_unit_test(test_ip_sp_bp_only),
		cmocka_unit_test(test_stack_cut_short),
		cmocka_unit_test(test_after_exit),
		cmocka_unit_test(test_add_modules),
		cmocka_unit_test(test_mount_namespace),
		cmocka_unit_test(test_go_static),
		cmocka_unit_test(test_go_cgo),
		cmocka_unit_test(test_go_gateway_cilium),
		cmocka_unit_test(test_pid_table_bounded),
		cmocka_unit_test(test_fuzz_random_stacks),
		cmocka_unit_test(test_cost_per_unwind),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* make bench-unwind runs the cost test alone. */
	if (getenv("BPFLEAK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("BPFLEAK_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
