// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpfleak/buildid.h>
#include "gen_modules.h"
#include "journal_writer.h"

#define MAX_MODS 64

static struct gen_mod mods[MAX_MODS];
static int n_mods;
static char exe_path[4096];

static int on_module(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : exe_path;
	if (!path[0] || !strncmp(path, "linux-vdso", 10) || n_mods == MAX_MODS)
		return 0;
	struct gen_mod *m = &mods[n_mods];
	memset(m, 0, sizeof(*m));
	uint64_t hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
		if ((ph->p_flags & PF_X) && !m->text_lo) {
			m->text_lo = info->dlpi_addr + ph->p_vaddr;
			m->text_hi = m->text_lo + ph->p_memsz;
		}
	}
	if (!hi || !m->text_lo)
		return 0;
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->base = info->dlpi_addr;
	m->size = hi;
	bpfleak_build_id_hex(info, m->build_id, sizeof(m->build_id));
	n_mods++;
	return 0;
}

int gen_modules_scan(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	exe_path[n > 0 ? n : 0] = '\0';
	n_mods = 0;
	dl_iterate_phdr(on_module, NULL);
	return n_mods ? 0 : -1;
}

const struct gen_mod *gen_module_find(const char *needle)
{
	for (int i = 0; i < n_mods; i++)
		if (needle ? strstr(mods[i].path, needle) != NULL : !strcmp(mods[i].path, exe_path))
			return &mods[i];
	return NULL;
}

const char *gen_exe_path(void)
{
	return exe_path;
}

int gen_journal_create(struct jw *j, const char *path, const char *who)
{
	char side[4200], err[512];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	if (jw_open(j, path, JW_CREATE, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", who, err);
		return -1;
	}
	if (jw_exec(j, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;")) {
		fprintf(stderr, "%s: %s: %s\n", who, path, jw_errstr(jw_errcode(j)));
		jw_close(j);
		return -1;
	}
	return 0;
}

int gen_modules_write(struct jw *j, int pid, uint64_t ts)
{
	for (int i = 0; i < n_mods; i++) {
		struct jw_module m = {
			.pid = pid, .ts_ns = ts, .path = mods[i].path, .build_id = mods[i].build_id,
			.base = mods[i].base, .size = mods[i].size, .file_size = -1, .mtime_ns = -1,
		};
		struct stat sb;
		if (stat(mods[i].path, &sb) == 0) {
			m.file_size = (int64_t)sb.st_size;
			m.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000ll + sb.st_mtim.tv_nsec;
		}
		if (jw_module(j, &m) < 0)
			return -1;
	}
	return 0;
}
