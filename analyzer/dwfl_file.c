// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * One recorded module's file, opened with elfutils libdwfl in a Dwfl of
 * its own (so modules of different processes never overlap), and an
 * address in it turned into frames.  A file whose build-id differs from
 * the recorded one, or without one whose size or mtime differ, is not
 * used: the mismatch is a warning, and a debug file with the recorded
 * build-id stands in when there is one.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "symbolize.h"

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

static void hex(const unsigned char *b, int n, char *out)
{
	for (int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

int build_id_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Open path into its own Dwfl; NULL when it is missing or not ELF. */
static Dwfl_Module *open_elf(struct dfile *d, const char *path)
{
	struct stat st;
	/* Only regular files: opening a FIFO or a device left at that path would block. */
	if (access(path, R_OK) != 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	d->dwfl = dwfl_begin(&callbacks);
	if (!d->dwfl)
		return NULL;
	/* Base 0: module addresses are the file's own, plus the bias we read back. */
	Dwfl_Module *mod = dwfl_report_elf(d->dwfl, path_base(d->path), path, -1, 0, false);
	dwfl_report_end(d->dwfl, NULL, NULL);
	if (!mod) {
		dwfl_end(d->dwfl);
		d->dwfl = NULL;
	}
	return mod;
}

static int file_build_id(Dwfl_Module *mod, char *out)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);
	if (n <= 0 || n > 64)
		return 0;
	hex(bits, n, out);
	return 1;
}

void dfile_open(struct model *m, struct dfile *d)
{
	char have[130];
	Dwfl_Module *mod = NULL;
	int mismatch = 0;

	if (d->path && d->path[0] == '/') {
		mod = open_elf(d, d->path);
		struct stat st;
		/* No build-id to compare: the file's size and mtime must match instead. */
		if (mod && !(d->build_id && *d->build_id) && d->file_size >= 0 &&
		    (stat(d->path, &st) != 0 || st.st_size != d->file_size ||
		     (d->mtime_ns >= 0 &&
		      (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec != d->mtime_ns))) {
			model_warn(m, "%s changed since it was recorded (size or mtime differ, "
				   "and it has no build-id); not used for symbols", d->path);
			dwfl_end(d->dwfl);
			d->dwfl = NULL;
			mod = NULL;
			mismatch = 1;
		}
		if (mod && d->build_id && *d->build_id) {
			if (!file_build_id(mod, have) || !build_id_equal(have, d->build_id)) {
				model_warn(m, "build-id mismatch: %s is now %s, the journal "
					   "recorded %s; not used for symbols", d->path,
					   file_build_id(mod, have) ? have : "without build-id",
					   d->build_id);
				dwfl_end(d->dwfl);
				d->dwfl = NULL;
				mod = NULL;
				mismatch = 1;
			}
		}
	}
	/* The binary is gone or changed: a debug file with that build-id will do. */
	if (!mod && d->build_id && strlen(d->build_id) > 2) {
		char dbg[512];
		snprintf(dbg, sizeof(dbg), "/usr/lib/debug/.build-id/%.2s/%s.debug", d->build_id,
			 d->build_id + 2);
		mod = open_elf(d, dbg);
		if (mod && (!file_build_id(mod, have) || !build_id_equal(have, d->build_id))) {
			dwfl_end(d->dwfl);
			d->dwfl = NULL;
			mod = NULL;
		}
	}
	if (!mod) {
		if (!mismatch && d->path && d->path[0] == '/')
			model_warn(m, "%s is not readable here (%s): its frames show as "
				   "module+offset unless the journal has them (--symbolize)",
				   d->path, access(d->path, F_OK) ? "missing" : "not ELF");
		return;
	}
	d->mod = mod;
	Elf *elf = dwfl_module_getelf(mod, &d->bias);
	GElf_Ehdr eh;
	if (elf && gelf_getehdr(elf, &eh))
		d->et_exec = eh.e_type == ET_EXEC;
	d->usable = 1;
}

void rstack_push(struct rstack *rs, size_t *cap, const char *fn, const char *file, int line,
		 int inlined, const struct module *md, uint64_t ip)
{
	GROW(rs->f, *cap, rs->n + 1);
	struct frame *f = &rs->f[rs->n++];
	f->function = xstrdup(fn);
	f->file = xstrdup(file);
	f->line = line;
	f->inlined = inlined;
	f->module = md ? md->path : NULL;
	f->ip = ip;
	f->offset = md ? ip - md->base : ip;
	f->resolved = fn || file;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	if (!n)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	return n;
}

/*
 * elfutils before 0.191 finds an address's CU through .debug_aranges only,
 * which clang does not emit: walk the CUs' own ranges when that fails.
 */
static Dwarf_Die *find_cu(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, bias);
	if (cu)
		return cu;
	while ((cu = dwfl_module_nextcu(mod, cu, bias)))
		if (dwarf_haspc(cu, addr - *bias) > 0)
			return cu;
	return NULL;
}

/* Frames for one address, innermost inlined function first. */
size_t dfile_resolve(struct dfile *d, GElf_Addr addr, struct rstack *rs, size_t *cap,
			   const struct module *md, uint64_t ip, int *has_line)
{
	size_t before = rs->n;
	const char *sym = dwfl_module_addrname(d->mod, addr);
	Dwarf_Addr cubias = 0;
	Dwarf_Die *cu = find_cu(d->mod, addr, &cubias);
	Dwfl_Line *line = dwfl_module_getsrc(d->mod, addr);
	const char *file = NULL;
	int lineno = 0;
	if (line) {
		file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	} else if (cu) {
		Dwarf_Line *dl = dwarf_getsrc_die(cu, addr - cubias);
		if (dl && (file = dwarf_linesrc(dl, NULL, NULL)))
			dwarf_lineno(dl, &lineno);
	}
	*has_line = file != NULL && lineno > 0;

	/*
	 * dwarf_getscopes continues into an inlined function's abstract
	 * definition; the callers are found by walking up the DIE tree from
	 * the innermost scope instead (what eu-addr2line -i does).
	 */
	Dwarf_Die *scopes = NULL, *inner = NULL;
	int n = cu ? dwarf_getscopes(cu, addr - cubias, &inner) : 0;
	if (n > 0)
		n = dwarf_getscopes_die(&inner[0], &scopes);
	free(inner);
	const char *cur_file = file;
	int cur_line = lineno;
	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		const char *name = die_name(&scopes[i]);
		if (tag == DW_TAG_subprogram && !name)
			name = sym;
		rstack_push(rs, cap, name, cur_file, cur_line, tag == DW_TAG_inlined_subroutine, md, ip);
		if (tag == DW_TAG_subprogram)
			break;
		/* The caller's position is the inlined call site. */
		Dwarf_Attribute a;
		Dwarf_Word v;
		Dwarf_Files *files;
		size_t nfiles;
		cur_file = NULL;
		cur_line = 0;
		if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &v) == 0 &&
		    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && v < nfiles)
			cur_file = dwarf_filesrc(files, v, NULL, NULL);
		if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &v) == 0)
			cur_line = (int)v;
	}
	if (n > 0)
		free(scopes);
	if (rs->n == before && (sym || file))
		rstack_push(rs, cap, sym, file, lineno, 0, md, ip);
	return rs->n - before;
}

void dfile_close(struct dfile *d)
{
	if (d->dwfl)
		dwfl_end(d->dwfl);
	free(d->path);
	free(d->build_id);
}

GElf_Addr dfile_addr(const struct dfile *d, const struct module *md, uint64_t ip, int adjust)
{
	return (d->et_exec ? ip : ip - md->base + d->bias) - (adjust ? 1 : 0);
}
