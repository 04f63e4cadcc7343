// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The ELF symbol that names an address, as dwfl_module_addrname says,
 * asked of libdwfl at most once per stretch of the file where its answer
 * cannot change.  libdwfl walks the whole symbol table on every call
 * (thousands of symbols in a libc or a libsqlite3, for every address).
 *
 * Its answer compares the address only with the symbols' start and end
 * addresses and with the section bounds: between two consecutive such
 * bounds, and at each bound itself (an absolute symbol matches only its
 * exact address), it is the same.  So the bounds, sorted, cut the file
 * into classes, and each class remembers libdwfl's answer for the first
 * address asked in it.  More bounds than libdwfl compares with only make
 * more classes, never a wrong answer: every bias a symbol's file has is
 * tried on every section.
 */
#include <gelf.h>
#include <stdlib.h>
#include "symbolize.h"

enum { CLASS_UNKNOWN, CLASS_KNOWN };

static int cmp_addr(const void *a, const void *b)
{
	GElf_Addr x = *(const GElf_Addr *)a, y = *(const GElf_Addr *)b;
	return x < y ? -1 : x > y;
}

struct bounds {
	GElf_Addr *v;
	size_t n, cap;
};

static void add(struct bounds *b, GElf_Addr a)
{
	GROW_RAW(b->v, b->cap, b->n + 1);
	b->v[b->n++] = a;
}

static void add_sections(struct bounds *b, Elf *elf, GElf_Addr bias)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr mem, *sh = gelf_getshdr(scn, &mem);
		if (sh) {
			add(b, sh->sh_addr + bias);
			add(b, sh->sh_addr + sh->sh_size + bias);
		}
	}
}

/* Every (file, bias) the symbols come from, each once. */
struct elves {
	Elf *elf[4];
	GElf_Addr bias[4];
	int n, overflow;
};

static void note_elf(struct elves *e, Elf *elf, GElf_Addr bias)
{
	for (int i = 0; i < e->n; i++)
		if (e->elf[i] == elf && e->bias[i] == bias)
			return;
	if (e->n < 4) {
		e->elf[e->n] = elf;
		e->bias[e->n++] = bias;
	} else {
		e->overflow = 1;
	}
}

static void build_classes(struct dfile *d)
{
	struct bounds b = { 0 };
	struct elves e = { 0 };
	GElf_Addr main_bias;
	Elf *main_elf = dwfl_module_getelf(d->mod, &main_bias);
	if (main_elf)
		note_elf(&e, main_elf, main_bias);
	int n = dwfl_module_getsymtab(d->mod);
	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		GElf_Word shndx;
		Elf *elf = NULL;
		Dwarf_Addr bias = 0;
		if (!dwfl_module_getsym_info(d->mod, i, &sym, &value, &shndx, &elf, &bias))
			continue;
		add(&b, value);
		add(&b, value + sym.st_size);
		if (elf)
			note_elf(&e, elf, bias);
	}
	for (int i = 0; i < e.n; i++)
		for (int k = 0; k < e.n; k++)
			add_sections(&b, e.elf[i], e.bias[k]);
	qsort(b.v, b.n, sizeof(*b.v), cmp_addr);
	size_t u = 0;
	for (size_t i = 0; i < b.n; i++)
		if (u == 0 || b.v[i] != b.v[u - 1])
			b.v[u++] = b.v[i];
	d->sym_bounds = b.v;
	d->n_sym_bounds = u;
	d->sym_names = xcalloc(2 * u + 1, sizeof(*d->sym_names));
	d->sym_known = xcalloc(2 * u + 1, sizeof(*d->sym_known));
	d->sym_classes_built = 1;
	/* Section bounds of a file not noted are missing: ask libdwfl every time. */
	d->sym_ask_always = e.overflow;
}

/* 0 below every bound; 2i+1 at bound i; 2i+2 strictly between bound i and i+1. */
static size_t class_of(const struct dfile *d, GElf_Addr addr)
{
	size_t lo = 0, hi = d->n_sym_bounds;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->sym_bounds[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	return 2 * (lo - 1) + (d->sym_bounds[lo - 1] == addr ? 1 : 2);
}

const char *dfile_symbol(struct dfile *d, GElf_Addr addr)
{
	if (!d->sym_classes_built)
		build_classes(d);
	if (d->sym_ask_always)
		return dwfl_module_addrname(d->mod, addr);
	size_t c = class_of(d, addr);
	if (d->sym_known[c] == CLASS_UNKNOWN) {
		d->sym_names[c] = dwfl_module_addrname(d->mod, addr);
		d->sym_known[c] = CLASS_KNOWN;
	}
	return d->sym_names[c];
}

void dfile_symbols_free(struct dfile *d)
{
	free(d->sym_bounds);
	free(d->sym_names);
	free(d->sym_known);
	d->sym_bounds = NULL;
	d->sym_names = NULL;
	d->sym_known = NULL;
	d->n_sym_bounds = 0;
	d->sym_classes_built = 0;
	d->sym_ask_always = 0;
}
