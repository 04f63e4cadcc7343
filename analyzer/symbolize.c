// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A recorded stack into frames.  Each address is looked up in the module
 * that covered it at the stack's time: with libdwfl in the module's file
 * (dwfl_file.c), else in the journal's frame table (written by --symbolize
 * on the recording host), else it is module+0xoffset.
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
#include <stdlib.h>
#include <string.h>
#include "symbolize.h"

struct symbolizer *symbolizer_new(struct model *m)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));
	s->m = m;
	return s;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		dfile_close(&s->files[i]);
	free(s->files);
	free(s);
}

struct dfile *dfile_for(struct symbolizer *s, const struct module *md)
{
	const char *bid = md->build_id && *md->build_id ? md->build_id : NULL;
	for (size_t i = 0; i < s->n; i++) {
		struct dfile *d = &s->files[i];
		if (strcmp(d->path ? d->path : "", md->path ? md->path : "") == 0 &&
		    ((!bid && !d->build_id) || (bid && d->build_id && build_id_equal(bid, d->build_id))))
			return d;
	}
	GROW(s->files, s->cap, s->n + 1);
	struct dfile *d = &s->files[s->n++];
	memset(d, 0, sizeof(*d));
	d->path = xstrdup(md->path);
	d->build_id = xstrdup(bid);
	d->file_size = md->file_size;
	d->mtime_ns = md->mtime_ns;
	dfile_open(s->m, d);
	return d;
}

/*
 * The module of pid that covered ip at ts: among the rows seen no later
 * than ts and not dlclose'd by then, the latest (an exec or dlopen may
 * reuse the range); else the earliest row seen after ts that was not
 * unloaded before it (a module is listed at the shim's next look, which
 * can come after the stack was captured); else any row covering it.
 */
const struct module *module_at(struct model *m, int pid, int64_t ts, uint64_t ip)
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

const char *module_key(const struct module *md)
{
	return md->build_id && *md->build_id ? md->build_id : md->path ? md->path : "";
}

struct table_frames {
	struct rstack *rs;
	size_t *cap;
	const struct module *md;
	uint64_t ip;
};

static void table_frame(void *ctx, const char *function, const char *file, int line)
{
	struct table_frames *t = ctx;
	rstack_push(t->rs, t->cap, function, file, line, 1, t->md, t->ip);
}

/* Rows a --symbolize run stored for (module, offset). */
static size_t resolve_table(struct model *m, const struct module *md, uint64_t off,
			    struct rstack *rs, size_t *cap, uint64_t ip)
{
	size_t before = rs->n;
	struct table_frames t = { rs, cap, md, ip };
	journal_frames(m, module_key(md), off, table_frame, &t);
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
		rstack_push(rs, cap, NULL, NULL, 0, 0, NULL, ip);
		return;
	}
	uint64_t off = ip - md->base;
	struct dfile *d = dfile_for(s, md);
	size_t mark = rs->n;
	int has_line = 0;
	if (d->usable) {
		dfile_resolve(d, dfile_addr(d, md, ip, adjust), rs, cap, md, ip, &has_line);
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
		rstack_push(rs, cap, NULL, NULL, 0, 0, md, ip);
}

int is_shim(const char *path)
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
	const uint64_t *ips = journal_stack(s->m, stack_id, &depth);
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
