// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Closes made by Go's garbage collector.  cilium/ebpf sets a finalizer on
 * every FD it wraps (internal/sys.FD), so a *ebpf.Map the program drops
 * without Close() is closed by the runtime's finalizer goroutine once a
 * collection finds it: the program leaked it, the GC happened to clean it.
 * That goroutine is runtime.runfinq, and it is on the close's stack (Go
 * keeps frame pointers: the kernel's walk of a goroutine's stack reaches
 * it).  Such closes are journaled with BPFLEAK_EF_FINALIZER and the report
 * calls their FDs `finalized`.
 *
 * Where runtime.runfinq is comes from the module's ELF symbol table or,
 * in a stripped binary (go build -ldflags=-s, strip), from the function
 * table Go keeps for its own tracebacks (.gopclntab, Go 1.18 and later);
 * read once per file and cached.  A Go binary with neither: its finalizer
 * closes look like the program's own, and stderr says so once.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "session.h"

#define RUNFINQ "runtime.runfinq"
/* Files whose symbols are cached; past this, the oldest is reused. */
#define FIN_CACHE_MAX 64

struct fin_module {
	char *path;
	uint64_t inode;
	int64_t file_size, mtime_ns;
	uint64_t lo, hi;       /* runtime.runfinq as ELF vaddrs; lo == hi: absent */
	bool warned;
};

struct finalizer_cache {
	struct fin_module mods[FIN_CACHE_MAX];
	size_t n, next;
};

static uint64_t le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/*
 * runtime.runfinq in Go's function table (.gopclntab, src/runtime/symtab.go):
 * a header (magic 0xfffffff0 for Go 1.18-1.19, 0xfffffff1 from 1.20; then
 * nfunc, nfiles, textStart, and the offsets of the name table and of the
 * function table, pointer-sized), then nfunc+1 pairs (entry offset from
 * textStart, offset of the function's _func record), each _func starting
 * with its entry offset and the offset of its name.  Every offset is
 * checked against the section: the file may be anything.
 */
static bool from_pclntab(const unsigned char *t, size_t n, uint64_t *lo, uint64_t *hi)
{
	if (n < 8 || (le(t, 4) != 0xfffffff0 && le(t, 4) != 0xfffffff1) || t[4] || t[5] ||
	    t[7] != 8 || n < 8 + 8 * 8)
		return false;
	uint64_t nfunc = le(t + 8, 8), text = le(t + 24, 8);
	uint64_t names = le(t + 32, 8), ftab = le(t + 64, 8);
	if (ftab >= n || (n - ftab) / 8 < 1 || nfunc > (n - ftab) / 8 - 1 || names >= n)
		return false;
	size_t want = strlen(RUNFINQ) + 1;
	for (uint64_t i = 0; i < nfunc; i++) {
		const unsigned char *e = t + ftab + 8 * i;
		uint64_t func = ftab + le(e + 4, 4);
		if (func > n - 8)
			continue;
		uint64_t name = names + le(t + func + 4, 4);
		if (name >= n || n - name < want || memcmp(t + name, RUNFINQ, want))
			continue;
		*lo = text + le(e, 4);
		*hi = text + le(e + 8, 4);
		return *hi > *lo;
	}
	return false;
}

/* runtime.runfinq's [lo, hi) in the ELF file fd; false when it has no such symbol. */
static bool find_runfinq(int fd, uint64_t *lo, uint64_t *hi)
{
	bool found = false;
	size_t shstr;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return false;
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		return false;
	Elf_Scn *pcln = NULL;
	bool have_names = elf_getshdrstrndx(e, &shstr) == 0;
	for (Elf_Scn *scn = NULL; !found && (scn = elf_nextscn(e, scn)) != NULL;) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *sname = have_names ? elf_strptr(e, shstr, sh.sh_name) : NULL;
		if (sname && !strcmp(sname, ".gopclntab") && sh.sh_type == SHT_PROGBITS)
			pcln = scn;
		if (sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = d ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !sym.st_size)
				continue;
			const char *name = elf_strptr(e, sh.sh_link, sym.st_name);
			if (name && !strcmp(name, RUNFINQ)) {
				*lo = sym.st_value;
				*hi = sym.st_value + sym.st_size;
				found = true;
				break;
			}
		}
	}
	if (!found && pcln) {
		Elf_Data *d = elf_getdata(pcln, NULL);
		if (d && d->d_buf)
			found = from_pclntab(d->d_buf, d->d_size, lo, hi);
	}
	elf_end(e);
	return found;
}

static bool same_file(const struct fin_module *c, const struct procmap_module *m)
{
	return c->inode == m->inode && c->file_size == m->file_size &&
	       c->mtime_ns == m->mtime_ns && !strcmp(c->path, m->path);
}

/* The cache entry of m's file, read on first use; NULL when it cannot be read now. */
static struct fin_module *module_entry(struct session *s, pid_t pid,
				       const struct procmap_module *m)
{
	if (!s->fin && !(s->fin = calloc(1, sizeof(*s->fin))))
		return NULL;
	struct finalizer_cache *c = s->fin;
	for (size_t i = 0; i < c->n; i++)
		if (same_file(&c->mods[i], m))
			return &c->mods[i];
	int fd = m->fd >= 0 ? m->fd : procmaps_open(pid, m);
	if (fd < 0)
		return NULL;   /* not cached: the next close tries again */
	uint64_t lo = 0, hi = 0;
	find_runfinq(fd, &lo, &hi);
	if (fd != m->fd)
		close(fd);
	char *path = strdup(m->path);
	if (!path)
		return NULL;
	struct fin_module *slot;
	if (c->n < FIN_CACHE_MAX) {
		slot = &c->mods[c->n++];
	} else {
		slot = &c->mods[c->next];
		c->next = (c->next + 1) % FIN_CACHE_MAX;
		free(slot->path);
	}
	*slot = (struct fin_module){ .path = path, .inode = m->inode, .file_size = m->file_size,
				     .mtime_ns = m->mtime_ns, .lo = lo, .hi = hi };
	return slot;
}

bool finalizer_on_stack(struct session *s, const struct kproc *p, const struct stack_ips *st)
{
	/* Frames past the first are return addresses: ip - 1 is in the caller. */
	for (uint32_t i = 1; i < st->n; i++) {
		uint64_t ip = st->ips[i] - 1;
		const struct procmap_module *m = procs_module_at(s, p, ip);
		struct fin_module *c = m ? module_entry(s, p->pid, m) : NULL;
		if (!c)
			continue;
		uint64_t vaddr = ip - m->base;
		if (c->lo < c->hi && vaddr >= c->lo && vaddr < c->hi)
			return true;
		if (c->lo == c->hi && !c->warned && p->exe && !strcmp(m->path, p->exe)) {
			/* The Go program itself does not say where runtime.runfinq is. */
			c->warned = true;
			if (!s->opts.quiet)
				fprintf(stderr, "%s: %s has neither a symbol table nor a Go 1.18+ "
					"function table: closes made by Go's GC finalizers cannot be "
					"told from the program's own\n", s->opts.prog, m->path);
		}
	}
	return false;
}

void finalizer_cache_free(struct session *s)
{
	if (!s->fin)
		return;
	for (size_t i = 0; i < s->fin->n; i++)
		free(s->fin->mods[i].path);
	free(s->fin);
	s->fin = NULL;
}
