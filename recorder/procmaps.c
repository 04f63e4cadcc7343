// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * /proc/PID/maps -> ELF modules (see procmaps.h).  A module is found from
 * its executable mapping; its load bias comes from that mapping's file
 * offset and the PT_LOAD that covers it (the kernel maps each PT_LOAD from
 * its page-aligned file offset, so start - offset = bias + p_vaddr -
 * p_offset for every mapping of that segment).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <elfutils/libdwelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "procmaps.h"

static const char deleted_suffix[] = " (deleted)";

struct maps_line {
	uint64_t start, end, offset, inode;
	bool exec;
	const char *path;   /* into the line buffer; NULL: not a file */
};

static bool parse_line(char *s, struct maps_line *l)
{
	char perms[8];
	unsigned int major, minor;
	int used = 0;
	memset(l, 0, sizeof(*l));
	if (sscanf(s, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 "%n", &l->start,
		   &l->end, perms, &l->offset, &major, &minor, &l->inode, &used) != 7)
		return false;
	l->exec = perms[2] == 'x';
	s += used;
	s += strspn(s, " \t");
	s[strcspn(s, "\n")] = '\0';
	if (*s == '/' && l->inode)
		l->path = s;
	return true;
}

/* The mapped file as the process sees it. */
static int open_mapped(pid_t pid, const struct maps_line *l, const char *path)
{
	char p[4200];
	snprintf(p, sizeof(p), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, l->start, l->end);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	snprintf(p, sizeof(p), "/proc/%d/root%s", (int)pid, path);
	return open(p, O_RDONLY | O_CLOEXEC);
}

static void hex(const unsigned char *b, size_t n, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t i = 0;
	for (; i < n && 2 * i + 2 < cap; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * i] = '\0';
}

/* Fill bias, size, span and build-id of the module mapped by l from its ELF file. */
static bool describe(int fd, const struct maps_line *l, struct procmap_module *m)
{
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		return false;
	bool ok = false;
	size_t phnum;
	if (elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &phnum))
		goto out;
	uint64_t lo = UINT64_MAX, hi = 0, delta = 0;
	bool found = false;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		lo = ph.p_vaddr < lo ? ph.p_vaddr : lo;
		hi = ph.p_vaddr + ph.p_memsz > hi ? ph.p_vaddr + ph.p_memsz : hi;
		uint64_t align = ph.p_align > 1 ? ph.p_align : 4096;
		uint64_t seg_lo = ph.p_offset & ~(align - 1), seg_hi = ph.p_offset + ph.p_filesz;
		if (!found && (ph.p_flags & PF_X) && l->offset >= seg_lo && l->offset < seg_hi) {
			delta = ph.p_vaddr - ph.p_offset;
			found = true;
		}
	}
	if (!found || !hi)
		goto out;
	m->base = l->start - l->offset - delta;
	m->size = hi;
	m->start = m->base + (lo & ~4095ull);
	m->end = m->base + hi;
	const void *id;
	ssize_t n = dwelf_elf_gnu_build_id(e, &id);
	if (n > 0)
		hex(id, (size_t)n, m->build_id, sizeof(m->build_id));
	ok = true;
out:
	elf_end(e);
	return ok;
}

static int add_module(pid_t pid, const struct maps_line *l, struct procmap_module **mods,
		      size_t *n, size_t *cap, bool keep_open)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", l->path);
	size_t len = strlen(path), sl = sizeof(deleted_suffix) - 1;
	bool deleted = len > sl && !strcmp(path + len - sl, deleted_suffix);
	if (deleted)
		path[len - sl] = '\0';
	/* A file with two executable mappings (split by mprotect) is one module. */
	for (size_t i = 0; i < *n; i++)
		if ((*mods)[i].inode == l->inode && !strcmp((*mods)[i].path, path) &&
		    l->start >= (*mods)[i].start && l->start < (*mods)[i].end)
			return 0;
	int fd = open_mapped(pid, l, path);
	if (fd < 0)
		return 0;   /* gone or not ours to read: a module we cannot name */
	struct procmap_module m;
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.inode = l->inode;
	m.deleted = deleted;
	m.text_start = l->start;
	m.text_end = l->end;
	struct stat st;
	if (fstat(fd, &st) == 0) {
		m.file_size = st.st_size;
		m.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	} else {
		m.file_size = m.mtime_ns = -1;
	}
	bool ok = describe(fd, l, &m);
	if (ok && keep_open)
		m.fd = fd;
	else
		close(fd);
	if (!ok)
		return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct procmap_module *p = realloc(*mods, nc * sizeof(*p));
		if (!p) {
			if (m.fd >= 0)
				close(m.fd);
			return -ENOMEM;
		}
		*mods = p;
		*cap = nc;
	}
	m.path = strdup(path);
	if (!m.path) {
		if (m.fd >= 0)
			close(m.fd);
		return -ENOMEM;
	}
	(*mods)[(*n)++] = m;
	return 0;
}

static int read_maps(pid_t pid, struct procmap_module **out, size_t *n, bool keep_open)
{
	*out = NULL;
	*n = 0;
	elf_version(EV_CURRENT);
	char name[64];
	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(name, "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t linecap = 0, cap = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &linecap, f) > 0) {
		struct maps_line l;
		if (parse_line(line, &l) && l.exec && l.path)
			rc = add_module(pid, &l, out, n, &cap, keep_open);
	}
	free(line);
	fclose(f);
	if (rc) {
		procmaps_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int procmaps_read(pid_t pid, struct procmap_module **out, size_t *n)
{
	return read_maps(pid, out, n, false);
}

int procmaps_read_open(pid_t pid, struct procmap_module **out, size_t *n)
{
	return read_maps(pid, out, n, true);
}

void procmaps_free(struct procmap_module *mods, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(mods[i].path);
		if (mods[i].fd >= 0)
			close(mods[i].fd);
	}
	free(mods);
}

const struct procmap_module *procmaps_find(const struct procmap_module *mods, size_t n,
					   uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= mods[i].start && addr < mods[i].end)
			return &mods[i];
	return NULL;
}
