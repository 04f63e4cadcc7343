// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* What the unwinder's tests share: see unwind_testlib.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unwind_testlib.h"

struct capture_sample c_sample;
bool c_sample_ok;
char skip_reason[256];

/* ------------------------------------------------ independent symbolizer */

/* The module that the mount-namespace test runs from a path that exists
 * only inside the child's namespace: symbolized from the identical file
 * outside. */
const char *ns_inside_path, *ns_outside_path;

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


/* Name ips[0..n) of live process pid; frames after the first at ip-1. */
void symbolize(pid_t pid, const uint64_t *ips, int n, struct named_frame *out)
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

void print_stack(const char *what, const uint64_t *ips, int n, const struct named_frame *f,
			enum unwind_stop why)
{
	static const char *const whys[] = { "end", "max", "stack cut short", "no module", "failed" };

	printf("%s: %d frames, stopped: %s\n", what, n, whys[why]);
	for (int i = 0; i < n; i++)
		printf("  #%-2d 0x%016llx %-36s %s\n", i, (unsigned long long)ips[i], f[i].function,
		       strrchr(f[i].module, '/') ? strrchr(f[i].module, '/') + 1 : f[i].module);
}

bool module_is(const struct named_frame *f, const char *base_prefix)
{
	const char *b = strrchr(f->module, '/');

	return !strncmp(b ? b + 1 : f->module, base_prefix, strlen(base_prefix));
}

/* The C host's whole chain, innermost first:
 *   syscall (libc) bpf_map_get_fd_by_id_opts (libbpf) host_leaf host_compare
 *   qsort internals (libc, 1+) main  __libc_start_* (libc, 1+)  _start */
void assert_c_chain(const struct named_frame *f, int n, const char *host_module)
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
pid_t spawn_traced_argv(const char *const *argv, const char *(*prepare)(void))
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

pid_t spawn_traced(const char *path, const char *(*prepare)(void))
{
	const char *argv[] = { path, NULL };

	return spawn_traced_argv(argv, prepare);
}

int capture_host(const char *path, const char *(*prepare)(void), struct capture_sample *s)
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

int group_setup(void **state)
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

int group_teardown(void **state)
{
	(void)state;
	if (c_sample_ok)
		capture_kill(c_sample.pid);
	unwind_shutdown();
	return 0;
}


bool has_frame(const struct named_frame *f, int n, const char *function)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(f[i].function, function))
			return true;
	return false;
}
