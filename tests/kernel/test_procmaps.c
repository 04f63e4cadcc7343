// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The module reader (recorder/procmaps.c): it agrees with the loader's own
 * view of this process (bias, extent, build-id); it finds a binary that
 * exists only in a child's mount namespace, through map_files and, where
 * that is refused, through /proc/PID/root; and the unwinder unwinds that
 * child fully.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <link.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <bpfleak/buildid.h>
#include "unwind_testlib.h"

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
static pid_t ns_child = -1;

/* After the test, passed or failed: the child killed (its tmpfs goes with
 * its mount namespace) and the empty directory removed. */
static int ns_cleanup(void **state)
{
	(void)state;
	if (ns_child > 0)
		capture_kill(ns_child);
	ns_child = -1;
	if (!strstr(ns_dir, "XXXXXX"))
		rmdir(ns_dir);
	return 0;
}

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
	ns_child = s->pid;
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
	ns_child = -1;
	/* The tmpfs went away with the child's namespace. */
	assert_int_equal(rmdir(ns_dir), 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procmaps_matches_loader),
		cmocka_unit_test_teardown(test_mount_namespace, ns_cleanup),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("BPFLEAK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("BPFLEAK_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
