// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Offline symbolization with elfutils libdwfl.  Each recorded module (path +
 * build-id, per pid, with the time it was seen) is opened at most once, in
 * a Dwfl of its own so modules of different processes never overlap.  A
 * file whose build-id differs from the recorded one is not used: the
 * mismatch is reported and the frame falls back to the journal's frame
 * table (written by --symbolize on the recording host), then to
 * module+0xoffset.
 *
 * A cut stack holds BPFLEAK_STACK_GAP and the number of frames left out
 * between its innermost and outermost frames: those two words are a gap
 * frame, never addresses.
 *
 * Every stored IP is a return address except a PC inside the shim itself
 * (the shim cuts its own frames before storing, see preload/stack.c), so
 * lookups use ip-1 for all frames but such an innermost shim PC: a call
 * that is the last instruction of a line returns into the next line.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "analyzer.h"

struct dfile {
	char *path;
	char *build_id;          /* recorded, lower-case hex; NULL = none */
	int64_t file_size, mtime_ns;   /* recorded file identity; -1 unknown */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Addr bias;
	int et_exec;
	int usable;
};

struct symbolizer {
	struct model *m;
	struct dfile *files;
	size_t n, cap;
};

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct symbolizer *symbolizer_new(struct model *m)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));
	s->m = m;
	return s;
}

void symbolizer_free(struct symbolizer *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->files[i].dwfl)
			dwfl_end(s->files[i].dwfl);
		free(s->files[i].path);
		free(s->files[i].build_id);
	}
	free(s->files);
	free(s);
}

void rstack_free(struct rstack *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->f[i].function);
		free(rs->f[i].file);
	}
	free(rs->f);
	rs->f = NULL;
	rs->n = 0;
}

static void hex(const unsigned char *b, int n, char *out)
{
	for (int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static int same_id(const char *a, const char *b)
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

static void prepare(struct symbolizer *s, struct dfile *d)
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
			model_warn(s->m, "%s changed since it was recorded (size or mtime differ, "
				   "and it has no build-id); not used for symbols", d->path);
			dwfl_end(d->dwfl);
			d->dwfl = NULL;
			mod = NULL;
			mismatch = 1;
		}
		if (mod && d->build_id && *d->build_id) {
			if (!file_build_id(mod, have) || !same_id(have, d->build_id)) {
				model_warn(s->m, "build-id mismatch: %s is now %s, the journal "
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
		if (mod && (!file_build_id(mod, have) || !same_id(have, d->build_id))) {
			dwfl_end(d->dwfl);
			d->dwfl = NULL;
			mod = NULL;
		}
	}
	if (!mod) {
		if (!mismatch && d->path && d->path[0] == '/')
			model_warn(s->m, "%s is not readable here (%s): its frames show as "
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

static struct dfile *dfile_for(struct symbolizer *s, const struct module *md)
{
	const char *bid = md->build_id && *md->build_id ? md->build_id : NULL;
	for (size_t i = 0; i < s->n; i++) {
		struct dfile *d = &s->files[i];
		if (strcmp(d->path ? d->path : "", md->path ? md->path : "") == 0 &&
		    ((!bid && !d->build_id) || (bid && d->build_id && same_id(bid, d->build_id))))
			return d;
	}
	GROW(s->files, s->cap, s->n + 1);
	struct dfile *d = &s->files[s->n++];
	memset(d, 0, sizeof(*d));
	d->path = xstrdup(md->path);
	d->build_id = xstrdup(bid);
	d->file_size = md->file_size;
	d->mtime_ns = md->mtime_ns;
	prepare(s, d);
	return d;
}

/*
 * The module of pid that covered ip at ts: among the rows seen no later
 * than ts and not dlclose'd by then, the latest (an exec or dlopen may
 * reuse the range); else the earliest row seen after ts that was not
 * unloaded before it (a module is listed at the shim's next look, which
 * can come after the stack was captured); else any row covering it.
 */
static const struct module *module_at(struct model *m, int pid, int64_t ts, uint64_t ip)
{
	uint64_t first;
	const struct module *best = NULL, *later = NULL, *any = NULL;
	/* A fork child with no rows of its own has its parent's layout. */
	for (int hops = 0; !hmap_get(&m->mod_idx, (uint64_t)(uint32_t)pid, &first); hops++) {
		const struct proc *p = model_proc(m, pid, 0);
		if (!p || !p->ppid || p->ppid == pid || hops == 8)
			return NULL;
		pid = p->ppid;
	}
	for (size_t i = first - 1; i < m->n_mods && m->mods[i].pid == pid; i++) {
		const struct module *md = &m->mods[i];
		if (ip < md->base || ip - md->base >= md->size)
			continue;
		if (!any)
			any = md;
		if (md->unloaded_ns <= ts)
			continue;
		if (md->ts <= ts) {
			if (!best || md->ts >= best->ts)
				best = md;
		} else if (!later) {
			later = md;
		}
	}
	return best ? best : later ? later : any;
}

static const char *module_key(const struct module *md)
{
	return md->build_id && *md->build_id ? md->build_id : md->path ? md->path : "";
}

static void push(struct rstack *rs, size_t *cap, const char *fn, const char *file, int line,
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
static size_t resolve_dwfl(struct dfile *d, GElf_Addr addr, struct rstack *rs, size_t *cap,
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
		push(rs, cap, name, cur_file, cur_line, tag == DW_TAG_inlined_subroutine, md, ip);
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
		push(rs, cap, sym, file, lineno, 0, md, ip);
	return rs->n - before;
}

/* Rows a --symbolize run stored for (module, offset). */
static size_t resolve_table(struct model *m, const struct module *md, uint64_t off,
			    struct rstack *rs, size_t *cap, uint64_t ip)
{
	size_t before = rs->n;
	sqlite3_stmt *st = m->st_frame;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, module_key(md), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)off);
	while (sqlite3_step(st) == SQLITE_ROW)
		push(rs, cap, (const char *)sqlite3_column_text(st, 1),
		     (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3), 1, md, ip);
	sqlite3_reset(st);
	if (rs->n > before)
		rs->f[rs->n - 1].inlined = 0;
	return rs->n - before;
}

static void drop_frames(struct rstack *rs, size_t from)
{
	for (size_t i = from; i < rs->n; i++) {
		free(rs->f[i].function);
		free(rs->f[i].file);
	}
	rs->n = from;
}

/* One address: libdwfl with a line, else stored rows, else whatever we have. */
static void resolve_ip(struct symbolizer *s, const struct module *md, uint64_t ip, int adjust,
		       struct rstack *rs, size_t *cap)
{
	if (!md) {
		push(rs, cap, NULL, NULL, 0, 0, NULL, ip);
		return;
	}
	uint64_t off = ip - md->base;
	struct dfile *d = dfile_for(s, md);
	size_t mark = rs->n;
	int has_line = 0;
	if (d->usable) {
		GElf_Addr addr = (d->et_exec ? ip : off + d->bias) - (adjust ? 1 : 0);
		resolve_dwfl(d, addr, rs, cap, md, ip, &has_line);
		if (has_line)
			return;
	}
	size_t got = rs->n - mark;
	struct rstack tbl = { 0 };
	size_t tcap = 0;
	if (resolve_table(s->m, md, off, &tbl, &tcap, ip) && (!got || tbl.f[0].file)) {
		drop_frames(rs, mark);
		for (size_t i = 0; i < tbl.n; i++) {
			GROW(rs->f, *cap, rs->n + 1);
			rs->f[rs->n++] = tbl.f[i];
		}
		free(tbl.f);
		return;
	}
	rstack_free(&tbl);
	if (!got)
		push(rs, cap, NULL, NULL, 0, 0, md, ip);
}

static int is_shim(const char *path)
{
	const char *b = path_base(path);
	return strncmp(b, "libbpfleak.so", 13) == 0;
}

static int is_libc(const char *path)
{
	const char *b = path_base(path);
	return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "libc-", 5) == 0;
}

static void push_gap(struct rstack *rs, size_t *cap, uint64_t n)
{
	GROW(rs->f, *cap, rs->n + 1);
	struct frame *f = &rs->f[rs->n++];
	memset(f, 0, sizeof(*f));
	f->gap = 1;
	f->gap_frames = n;
	rs->truncated = 1;
	rs->cut = n;
}

/* Leading frames of the shim, then of libc, up to a gap: the call site follows. */
static uint32_t skip_own_frames(struct symbolizer *s, const uint64_t *ips, uint32_t depth,
				int pid, int64_t ts)
{
	uint32_t i = 0;
	while (i < depth && ips[i] != BPFLEAK_STACK_GAP) {
		const struct module *md = module_at(s->m, pid, ts, ips[i]);
		if (!md || !is_shim(md->path))
			break;
		i++;
	}
	while (i < depth && ips[i] != BPFLEAK_STACK_GAP) {
		const struct module *md = module_at(s->m, pid, ts, ips[i]);
		if (!md || !is_libc(md->path))
			break;
		i++;
	}
	/* Nothing but shim and libc: show it all rather than nothing. */
	return i == depth ? 0 : i;
}

void symbolize_stack(struct symbolizer *s, int64_t stack_id, int pid, int64_t ts,
		     struct rstack *out)
{
	uint32_t depth;
	const uint64_t *ips = model_stack(s->m, stack_id, &depth);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (!ips)
		return;
	for (uint32_t i = skip_own_frames(s, ips, depth, pid, ts); i < depth; i++) {
		if (ips[i] == BPFLEAK_STACK_GAP) {
			push_gap(out, &cap, i + 1 < depth ? ips[i + 1] : 0);
			i++;   /* the count is not an address */
			continue;
		}
		const struct module *md = module_at(s->m, pid, ts, ips[i]);
		int adjust = !(i == 0 && md && is_shim(md->path));
		resolve_ip(s, md, ips[i], adjust, out, &cap);
	}
}

/*
 * --symbolize: resolve, with libdwfl only, every address of every stack an
 * event uses and store the result in `frame`, keyed by (build-id or path,
 * ip - base).  Only successful resolutions are stored.
 */
int symbolize_store_all(struct symbolizer *s, char *err, size_t errlen)
{
	struct model *m = s->m;
	struct hmap seen = { 0 }, done = { 0 };
	sqlite3_stmt *ins = NULL;
	long stored = 0;
	int rc = sqlite3_prepare_v2(m->db, "INSERT OR REPLACE INTO frame(module_key, offset,"
				    " inline_depth, function, file, line) VALUES (?,?,?,?,?,?)",
				    -1, &ins, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	for (size_t pi = 0; pi < m->n_procs; pi++) {
		struct proc *p = m->procs[pi];
		for (size_t k = 0; k < p->n_ev; k++) {
			const struct ev *e = &p->evs[k];
			if (e->stack_id <= 0)
				continue;
			bool fresh;
			hmap_slot(&seen, (uint64_t)e->stack_id ^ ((uint64_t)(uint32_t)p->pid << 40),
				  0, &fresh);
			if (!fresh)
				continue;
			uint32_t depth;
			const uint64_t *ips = model_stack(m, e->stack_id, &depth);
			for (uint32_t i = 0; i < depth; i++) {
				if (ips[i] == BPFLEAK_STACK_GAP) {
					i++;   /* the gap and its count are not addresses */
					continue;
				}
				const struct module *md = module_at(m, p->pid, e->ts, ips[i]);
				if (!md)
					continue;
				uint64_t key = (uint64_t)md->id << 40 | ((ips[i] - md->base) & ((1ull << 40) - 1));
				hmap_slot(&done, key, 0, &fresh);
				if (!fresh)
					continue;
				struct dfile *d = dfile_for(s, md);
				if (!d->usable)
					continue;
				struct rstack rs = { 0 };
				size_t cap = 0;
				int has_line;
				int adjust = !(i == 0 && is_shim(md->path));
				uint64_t off = ips[i] - md->base;
				GElf_Addr addr = (d->et_exec ? ips[i] : off + d->bias) - (adjust ? 1 : 0);
				resolve_dwfl(d, addr, &rs, &cap, md, ips[i], &has_line);
				for (size_t j = 0; j < rs.n; j++) {
					sqlite3_reset(ins);
					sqlite3_bind_text(ins, 1, module_key(md), -1, SQLITE_TRANSIENT);
					sqlite3_bind_int64(ins, 2, (sqlite3_int64)off);
					sqlite3_bind_int(ins, 3, (int)j);
					sqlite3_bind_text(ins, 4, rs.f[j].function, -1, SQLITE_TRANSIENT);
					sqlite3_bind_text(ins, 5, rs.f[j].file, -1, SQLITE_TRANSIENT);
					if (rs.f[j].line > 0)
						sqlite3_bind_int(ins, 6, rs.f[j].line);
					else
						sqlite3_bind_null(ins, 6);
					if (sqlite3_step(ins) != SQLITE_DONE) {
						rstack_free(&rs);
						goto fail;
					}
					stored++;
				}
				rstack_free(&rs);
			}
		}
	}
	sqlite3_finalize(ins);
	hmap_free(&seen);
	hmap_free(&done);
	if (sqlite3_exec(m->db, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto fail_nofin;
	return (int)(stored > 0x7fffffff ? 0x7fffffff : stored);
fail:
	sqlite3_finalize(ins);
	hmap_free(&seen);
	hmap_free(&done);
fail_nofin:
	snprintf(err, errlen, "%s: cannot store frames: %s", m->path, sqlite3_errmsg(m->db));
	return -1;
}
