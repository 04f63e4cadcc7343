// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The module map (path, load bias, size, build-id) that lets bpfleak-report
 * symbolize raw IPs offline.  Collected with dl_iterate_phdr at start and
 * by the writer before each batch (which picks up dlopen'd libraries) —
 * never from the bpf/close hooks, which may run while the host holds the
 * loader lock.
 */
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpfleak/buildid.h>
#include "shim.h"

#define MAX_MODULES 1024

struct module {
	const char *path;         /* arena */
	char build_id[41 * 2];    /* hex; 40 bytes of id is the longest in use */
	uintptr_t base, size;
	uint64_t ts;
	int64_t file_size, mtime_ns;   /* -1 when the file could not be read */
	bool written;
};

static struct module modules[MAX_MODULES];
static int n_modules;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *exe_path;

static int on_module(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	uintptr_t self = (uintptr_t)ctx;
	const char *path = info->dlpi_name;
	bool is_exe = !path || !path[0];
	if (is_exe)
		path = exe_path;
	if (!path || !path[0] || !strncmp(path, "linux-vdso", 10) || !strncmp(path, "linux-gate", 10))
		return 0;

	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr < lo)
			lo = ph->p_vaddr;
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	uintptr_t base = info->dlpi_addr;
	if (self >= base + lo && self < base + hi)
		stack_set_self_range(base + lo, base + hi);

	for (int i = 0; i < n_modules; i++)
		if (modules[i].base == base && !strcmp(modules[i].path, path))
			return 0;
	if (n_modules == MAX_MODULES)
		return 0;
	struct module *m = &modules[n_modules];
	m->path = arena_strdup(path, 4096);
	if (!m->path)
		return 0;
	m->base = base;
	m->size = hi;
	m->ts = shim_now_ns();
	m->written = false;
	struct stat st;
	if (stat(path, &st) == 0) {
		m->file_size = st.st_size;
		m->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	} else {
		m->file_size = m->mtime_ns = -1;
	}
	bpfleak_build_id_hex(info, m->build_id, sizeof(m->build_id));
	n_modules++;
	return 0;
}

void modules_refresh(void)
{
	shim_guard++;
	shim_internal++;
	pthread_mutex_lock(&lock);
	if (!exe_path) {
		char buf[4096];
		ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			exe_path = arena_strdup(buf, sizeof(buf));
		}
	}
	dl_iterate_phdr(on_module, (void *)(uintptr_t)&modules_refresh);
	pthread_mutex_unlock(&lock);
	shim_internal--;
	shim_guard--;
}

void modules_each_unwritten(void (*fn)(const struct module_info *m, void *ctx), void *ctx)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < n_modules; i++) {
		if (modules[i].written)
			continue;
		struct module_info info = {
			.path = modules[i].path, .build_id = modules[i].build_id,
			.base = modules[i].base, .size = modules[i].size, .ts = modules[i].ts,
			.file_size = modules[i].file_size, .mtime_ns = modules[i].mtime_ns,
		};
		fn(&info, ctx);
		modules[i].written = true;
	}
	pthread_mutex_unlock(&lock);
}

void modules_mark_unwritten(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < n_modules; i++)
		modules[i].written = false;
	pthread_mutex_unlock(&lock);
}

/* The child has the same mappings, but its own pid: write them again. */
void modules_after_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	for (int i = 0; i < n_modules; i++)
		modules[i].written = false;
}
