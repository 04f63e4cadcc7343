// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * /proc/PID/maps -> ELF modules (see procmaps.h).
 *
 * A module is found from its executable mapping: the file is opened once
 * for it, and its load bias is computed from that mapping's file offset and
 * the PT_LOAD that covers it (the kernel maps each PT_LOAD from its page-
 * aligned file offset).  The file's other mappings (read-only headers,
 * data) only widen the module's address range.  Files mapped without exec
 * (locale archives, data files, the kernel's own mappings) are never opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <elfutils/libdwelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "procmaps.h"

struct maps_line {
	uint64_t start, end, offset, inode;
	bool exec;
	bool deleted;
	char *path;      /* NULL: anonymous or a kernel name ([stack], [vdso]) */
};

/* A module being built, with the address range its PT_LOADs span. */
struct building {
	struct procmap_module m;
	uint64_t lo, hi;
};

static const char deleted_suffix[] = " (deleted)";

static void free_lines(struct maps_line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i].path);
	free(lines);
}

/* "start-end perms offset maj:min inode   path", path optional. */
static int parse_line(char *s, struct maps_line *l)
{
	char perms[8];
	unsigned int dev_major, dev_minor;
	int consumed = 0;

	memset(l, 0, sizeof(*l));
	if (sscanf(s, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 "%n", &l->start,
		   &l->end, perms, &l->offset, &dev_major, &dev_minor, &l->inode, &consumed) != 7)
		return -1;
	l->exec = strlen(perms) >= 3 && perms[2] == 'x';
	s += consumed;
	s += strspn(s, " \t");
	s[strcspn(s, "\n")] = '\0';
	if (*s != '/' || l->inode == 0)
		return 0;
	size_t len = strlen(s), sl = sizeof(deleted_suffix) - 1;
	if (len > sl && !strcmp(s + len - sl, deleted_suffix)) {
		s[len - sl] = '\0';
		l->deleted = true;
	}
	l->path = strdup(s);
	return l->path ? 0 : -ENOMEM;
}

static int read_lines(pid_t pid, struct maps_line **out, size_t *n)
{
	char name[64], *buf = NULL;
	size_t cap = 0, nl = 0, lcap = 0;
	struct maps_line *lines = NULL;
	int rc = 0;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return -errno;
	while (getline(&buf, &cap, f) > 0) {
		struct maps_line l;

		rc = parse_line(buf, &l);
		if (rc < 0) {
			if (rc == -ENOMEM)
				break;
			rc = 0;        /* a line we do not understand is not a module */
			continue;
		}
		if (nl == lcap) {
			size_t ncap = lcap ? 2 * lcap : 64;
			struct maps_line *nlines = realloc(lines, ncap * sizeof(*lines));

			if (!nlines) {
				free(l.path);
				rc = -ENOMEM;
				break;
			}
			lines = nlines;
			lcap = ncap;
		}
		lines[nl++] = l;
	}
	/* A process that exits while we read leaves an empty or short file:
	 * what was read is what there is. */
	if (rc == 0 && ferror(f))
		rc = errno ? -errno : -EIO;
	free(buf);
	fclose(f);
	if (rc) {
		free_lines(lines, nl);
		return rc;
	}
	*out = lines;
	*n = nl;
	return 0;
}

/*
 * The mapped file itself.  map_files is exact (the mapped inode, wherever
 * it lives and whatever happened to its name) but needs CAP_SYS_ADMIN; the
 * path through /proc/PID/root is the same name in the process's mount
 * namespace, accepted only if it is still the mapped inode.  The device is
 * not compared: on overlayfs (container images) maps shows the underlying
 * layer's device while stat through the overlay shows the overlay's.
 */
static int open_mapped_file(pid_t pid, uint64_t start, uint64_t end, const char *path,
			    bool deleted, uint64_t inode)
{
	char name[PATH_MAX + 64];
	struct stat st;
	int fd, e;

	snprintf(name, sizeof(name), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, start, end);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	e = errno;
	if (deleted)
		return -e;
	if ((size_t)snprintf(name, sizeof(name), "/proc/%d/root%s", (int)pid, path) >= sizeof(name))
		return -ENAMETOOLONG;
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (uint64_t)st.st_ino != inode) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int procmaps_open(pid_t pid, const struct procmap_module *m)
{
	return open_mapped_file(pid, m->text_start, m->text_end, m->path, m->deleted, m->inode);
}

static void build_id_hex(Elf *elf, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	const void *id;
	ssize_t len = dwelf_elf_gnu_build_id(elf, &id);
	size_t i;

	out[0] = '\0';
	if (len <= 0)
		return;
	for (i = 0; i < (size_t)len && 2 * i + 2 < cap; i++) {
		out[2 * i] = digits[((const unsigned char *)id)[i] >> 4];
		out[2 * i + 1] = digits[((const unsigned char *)id)[i] & 15];
	}
	out[2 * i] = '\0';
}

/*
 * Fill b from the ELF headers of fd, mapped by line l.  Returns 0, or -1 if
 * the file is not an ELF executable or shared object, or if no PT_LOAD
 * covers the mapping (not mapped by a loader we understand).
 */
static int describe_elf(int fd, const struct maps_line *l, uint64_t page, struct building *b)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	size_t phnum;
	bool found = false;
	uint64_t lo = UINT64_MAX, hi = 0, bias = 0;
	int rc = -1;

	if (!elf)
		return -1;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || elf_getphdrnum(elf, &phnum))
		goto out;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_vaddr < lo)
			lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > hi)
			hi = ph.p_vaddr + ph.p_memsz;
		uint64_t file_lo = ph.p_offset & ~(page - 1);
		if (!found && l->offset >= file_lo && l->offset < ph.p_offset + ph.p_filesz) {
			/* The mapping starts at file offset l->offset, which is
			 * vaddr p_vaddr - (p_offset - l->offset). */
			bias = l->start - (ph.p_vaddr - ph.p_offset + l->offset);
			found = true;
		}
	}
	if (!found || hi == 0)
		goto out;
	b->m.base = bias;
	b->m.size = hi;
	b->lo = bias + (lo & ~(page - 1));
	b->hi = bias + hi;
	build_id_hex(elf, b->m.build_id, sizeof(b->m.build_id));
	rc = 0;
out:
	elf_end(elf);
	return rc;
}

static bool covers(const struct building *b, const struct maps_line *l)
{
	return b->m.inode == l->inode && l->start >= b->lo && l->start < b->hi;
}

static int add_module(pid_t pid, const struct maps_line *l, bool keep_fd, uint64_t page,
		      struct building **mods, size_t *n, size_t *cap)
{
	struct building b = { .m = { .fd = -1, .file_size = -1, .mtime_ns = -1 } };
	struct stat st;
	int fd = open_mapped_file(pid, l->start, l->end, l->path, l->deleted, l->inode);

	if (fd < 0)
		return 0;         /* not readable: unwinding stops there */
	if (describe_elf(fd, l, page, &b)) {
		close(fd);
		return 0;
	}
	if (fstat(fd, &st) == 0) {
		b.m.file_size = st.st_size;
		b.m.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	}
	b.m.path = strdup(l->path);
	if (!b.m.path) {
		close(fd);
		return -ENOMEM;
	}
	b.m.inode = l->inode;
	b.m.deleted = l->deleted;
	b.m.start = b.m.text_start = l->start;
	b.m.end = b.m.text_end = l->end;
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct building *nm = realloc(*mods, ncap * sizeof(**mods));

		if (!nm) {
			free(b.m.path);
			close(fd);
			return -ENOMEM;
		}
		*mods = nm;
		*cap = ncap;
	}
	if (keep_fd)
		b.m.fd = fd;
	else
		close(fd);
	(*mods)[(*n)++] = b;
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct procmap_module *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int read_modules(pid_t pid, bool keep_fd, struct procmap_module **out, size_t *n)
{
	struct maps_line *lines = NULL;
	struct building *b = NULL;
	size_t nl = 0, nb = 0, cap = 0;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int rc;

	*out = NULL;
	*n = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	rc = read_lines(pid, &lines, &nl);
	if (rc)
		return rc;
	for (size_t i = 0; i < nl && rc == 0; i++) {
		bool known = false;

		if (!lines[i].exec || !lines[i].path)
			continue;
		for (size_t j = 0; j < nb && !known; j++)
			known = covers(&b[j], &lines[i]);
		if (!known)
			rc = add_module(pid, &lines[i], keep_fd, page, &b, &nb, &cap);
	}
	/* Widen each module to every mapping of its file in its range. */
	for (size_t i = 0; i < nl && rc == 0; i++) {
		if (!lines[i].path)
			continue;
		for (size_t j = 0; j < nb; j++) {
			if (!covers(&b[j], &lines[i]))
				continue;
			if (lines[i].start < b[j].m.start)
				b[j].m.start = lines[i].start;
			if (lines[i].end > b[j].m.end)
				b[j].m.end = lines[i].end;
		}
	}
	free_lines(lines, nl);

	struct procmap_module *mods = nb ? calloc(nb, sizeof(*mods)) : NULL;
	if (rc == 0 && nb && !mods)
		rc = -ENOMEM;
	for (size_t j = 0; j < nb; j++) {
		if (rc == 0) {
			mods[j] = b[j].m;
			continue;
		}
		free(b[j].m.path);
		if (b[j].m.fd >= 0)
			close(b[j].m.fd);
	}
	free(b);
	if (rc) {
		free(mods);
		return rc;
	}
	if (nb)
		qsort(mods, nb, sizeof(*mods), by_start);
	*out = mods;
	*n = nb;
	return 0;
}

int procmaps_read(pid_t pid, struct procmap_module **out, size_t *n)
{
	return read_modules(pid, false, out, n);
}

int procmaps_read_open(pid_t pid, struct procmap_module **out, size_t *n)
{
	return read_modules(pid, true, out, n);
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
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < mods[mid].start)
			hi = mid;
		else if (addr >= mods[mid].end)
			lo = mid + 1;
		else
			return &mods[mid];
	}
	return NULL;
}
