// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Module rows for an image that was gone before the recorder could read
 * its /proc/PID/maps (a child that execs, leaks and exits within a
 * millisecond).  The kernel put the new image's auxiliary vector in the
 * exec record: AT_PHDR says where the program's headers were loaded (so
 * its load bias), AT_BASE where ld.so was.  Libraries ld.so maps later
 * cannot be recovered this way; a static program (Go) is all there.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <elfutils/libdwelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "session.h"

static uint64_t auxv_get(const struct rec_exec *r, uint64_t type)
{
	for (int i = 0; i + 1 < REC_AUXV_WORDS && r->auxv[i] != AT_NULL; i += 2)
		if (r->auxv[i] == type)
			return r->auxv[i + 1];
	return 0;
}

/* The file at path (seen from pid's root while it exists) if it is dev:ino. */
static int open_checked(pid_t pid, const char *path, uint64_t ino, uint32_t kdev)
{
	char p[4200];
	const char *cands[2] = { p, path };
	snprintf(p, sizeof(p), "/proc/%d/root%s", (int)pid, path);
	for (int i = 0; i < 2; i++) {
		int fd = open(cands[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (!ino || (fstat(fd, &st) == 0 && st.st_ino == ino && major(st.st_dev) == kdev >> 20 &&
			     minor(st.st_dev) == (kdev & 0xfffff)))
			return fd;
		close(fd);
	}
	return -1;
}

struct elf_facts {
	uint64_t phdr_vaddr, entry, size;
	bool has_phdr;
	char interp[4096];
	char build_id[PROCMAP_BUILD_ID_HEX];
};

static bool read_facts(int fd, struct elf_facts *f)
{
	memset(f, 0, sizeof(*f));
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	size_t phnum;
	bool ok = e && gelf_getehdr(e, &eh) && elf_getphdrnum(e, &phnum) == 0;
	for (size_t i = 0; ok && i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			continue;
		if (ph.p_type == PT_PHDR) {
			f->phdr_vaddr = ph.p_vaddr;
			f->has_phdr = true;
		} else if (ph.p_type == PT_LOAD) {
			if (ph.p_vaddr + ph.p_memsz > f->size)
				f->size = ph.p_vaddr + ph.p_memsz;
			/* No PT_PHDR: the headers are wherever the segment holding e_phoff put them. */
			if (!f->has_phdr && eh.e_phoff >= ph.p_offset && eh.e_phoff < ph.p_offset + ph.p_filesz)
				f->phdr_vaddr = ph.p_vaddr + eh.e_phoff - ph.p_offset;
		} else if (ph.p_type == PT_INTERP && ph.p_filesz < sizeof(f->interp)) {
			size_t len;
			char *raw = elf_rawfile(e, &len);
			if (raw && ph.p_offset + ph.p_filesz <= len) {
				memcpy(f->interp, raw + ph.p_offset, ph.p_filesz);
				f->interp[ph.p_filesz] = '\0';
			}
		}
	}
	if (ok) {
		f->entry = eh.e_entry;
		const void *id;
		ssize_t n = dwelf_elf_gnu_build_id(e, &id);
		for (ssize_t i = 0; i < n && 2 * i + 2 < (ssize_t)sizeof(f->build_id); i++)
			snprintf(f->build_id + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
	}
	if (e)
		elf_end(e);
	return ok && f->size;
}

static void add_row(struct session *s, struct kproc *p, int fd, const char *path, uint64_t base,
		    const struct elf_facts *f, uint64_t ts)
{
	struct procmap_module m;
	memset(&m, 0, sizeof(m));
	struct stat st;
	if (fstat(fd, &st) == 0) {
		m.file_size = st.st_size;
		m.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
		m.inode = st.st_ino;
	} else {
		m.file_size = m.mtime_ns = -1;
	}
	m.base = base;
	m.size = f->size;
	m.start = base;
	m.end = base + f->size;
	m.fd = -1;
	memcpy(m.build_id, f->build_id, sizeof(m.build_id));
	if (!(m.path = strdup(path)))
		return;
	struct procmap_module *all = realloc(p->mods, (p->n_mods + 1) * sizeof(*all));
	if (!all) {
		free(m.path);
		return;
	}
	p->mods = all;
	m.fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	procs_write_module(s, p->pid, &m, ts);
	procs_give_unwinder(p->pid, &m, 1);
	p->mods[p->n_mods++] = m;
	p->own_modules = true;
}

/*
 * The program's path when /proc/PID/exe could not be read: the path exec
 * was given (unless relative or /proc/self/exe), else the parent's
 * program, whichever is the file the kernel says was executed.
 */
void exec_resolve_exe(struct session *s, struct kproc *p, const struct rec_exec *r)
{
	if (p->exe)
		return;
	char path[REC_PATH_MAX];
	memcpy(path, r->path, sizeof(path));
	path[sizeof(path) - 1] = '\0';
	struct kproc *parent = p->ppid ? procs_find(s, p->ppid) : NULL;
	const char *cands[2] = { path, parent ? parent->exe : NULL };
	for (int i = 0; i < 2; i++) {
		if (!cands[i] || cands[i][0] != '/' || !strncmp(cands[i], "/proc/", 6))
			continue;
		int fd = open_checked(p->pid, cands[i], r->exe_ino, r->exe_dev);
		if (fd >= 0) {
			close(fd);
			p->exe = strdup(cands[i]);
			return;
		}
	}
	p->exe = strdup(path);
}

void exec_modules_from_auxv(struct session *s, struct kproc *p, const struct rec_exec *r)
{
	uint64_t at_phdr = auxv_get(r, AT_PHDR), at_base = auxv_get(r, AT_BASE);
	if (!at_phdr || !p->exe || p->exe[0] != '/' || !session_batch(s))
		return;
	{
		int fd = open_checked(p->pid, p->exe, r->exe_ino, r->exe_dev);
		if (fd < 0)
			return;
		const char *exe = p->exe;
		struct elf_facts f;
		if (read_facts(fd, &f))
			add_row(s, p, fd, exe, at_phdr - f.phdr_vaddr, &f, r->h.ts_ns);
		close(fd);
		if (f.interp[0] && at_base) {
			struct elf_facts lf;
			int lfd = open_checked(p->pid, f.interp, 0, 0);
			if (lfd >= 0 && read_facts(lfd, &lf))
				add_row(s, p, lfd, f.interp, at_base, &lf, r->h.ts_ns);
			if (lfd >= 0)
				close(lfd);
		}
	}
}
