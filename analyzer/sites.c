// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Findings grouped by call site (sites.h), and the words every format
 * uses for a site: its name, its evidence, its objects.
 */
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "sites.h"

static int rec_open(const struct fdrec *r)
{
	return r->origin != OR_CLOSE_EVENT && r->closed_ns == NS_OPEN && !r->stale;
}

static void put_field(FILE *f, const char *s)
{
	fputs(s ? s : "", f);
	fputc('\x1f', f);
}

/*
 * What makes two findings one site: the symbolized stack (so the same
 * code in two processes, or in two module-map generations, is one site);
 * a stack the journal lacks, by id and process; no stack, by process and
 * why there is none.
 */
static char *finding_key(const struct finding *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *k = open_memstream(&buf, &len);
	if (!k)
		return xasprintf("%p", (const void *)f);
	if (f->rs.n) {
		for (size_t i = 0; i < f->rs.n; i++) {
			const struct frame *fr = &f->rs.f[i];
			put_field(k, fr->function);
			put_field(k, fr->file);
			put_field(k, fr->module);
			fprintf(k, "%d\x1f%llx\x1f%d\x1f%d\x1f%llu\x1e", fr->line,
				(unsigned long long)(fr->module ? fr->offset : fr->ip), fr->inlined,
				fr->gap, (unsigned long long)fr->gap_frames);
		}
	} else if (f->stack_id > 0) {
		fprintf(k, "stack %lld pid %d", (long long)f->stack_id, f->p->pid);
	} else {
		fprintf(k, "none pid %d origin %d alt %d", f->p->pid, f->origin, f->no_stack_alt);
	}
	fclose(k);
	return buf;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static size_t site_index(struct siteset *ss, struct hmap *idx, char *key)
{
	uint64_t h = hash_str(key);
	for (;;) {
		bool fresh;
		uint64_t *slot = hmap_slot(idx, h, ss->n, &fresh);
		if (fresh) {
			GROW(ss->v, ss->cap, ss->n + 1);
			struct site *s = &ss->v[ss->n];
			memset(s, 0, sizeof(*s));
			s->key = key;
			s->frame = -1;
			return ss->n++;
		}
		if (!strcmp(ss->v[*slot].key, key)) {
			free(key);
			return (size_t)*slot;
		}
		h = hmap_mix(h + 1);   /* a collision: probe another key */
	}
}

static void add_pid(struct site *s, int pid)
{
	for (size_t i = 0; i < s->n_pids; i++)
		if (s->pids[i] == pid)
			return;
	GROW(s->pids, s->cap_pids, s->n_pids + 1);
	s->pids[s->n_pids++] = pid;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

static int cmp_site_fd(const void *a, const void *b)
{
	const struct site_fd *x = a, *y = b;
	if (x->p->pid != y->p->pid)
		return x->p->pid < y->p->pid ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

static int system_path(const char *path)
{
	static const char *const prefixes[] = { "/lib/", "/lib64/", "/usr/", "../sysdeps/" };
	if (!path)
		return 0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(path, prefixes[i], strlen(prefixes[i])))
			return 1;
	return strstr(path, "/pkg/mod/") != NULL;   /* Go's module cache */
}

static int site_has_exe(const struct site *s, const char *module)
{
	if (!module)
		return 0;
	if (s->lead->p->exe && !strcmp(s->lead->p->exe, module))
		return 1;
	for (size_t i = 0; i < s->n_fds; i++)
		if (s->fds[i].p->exe && !strcmp(s->fds[i].p->exe, module))
			return 1;
	return 0;
}

/*
 * The innermost frame in the program's own code: in its executable (not
 * a library's sources built into it, as Go's are), else any source line
 * outside the system's directories, else any source line, else the
 * innermost frame.
 */
static long choose_frame(const struct site *s)
{
	const struct rstack *rs = &s->lead->rs;
	for (int pass = 0; pass < 4; pass++)
		for (size_t i = 0; i < rs->n; i++) {
			const struct frame *fr = &rs->f[i];
			int src = !fr->gap && fr->function && fr->file && fr->line > 0;
			if ((pass == 0 && src && site_has_exe(s, fr->module) && !system_path(fr->file)) ||
			    (pass == 1 && src && !system_path(fr->file) && !system_path(fr->module)) ||
			    (pass == 2 && src) || (pass == 3 && !fr->gap))
				return (long)i;
		}
	return -1;
}

static void site_finish(const struct model *m, struct site *s)
{
	struct hmap seen = { 0 }, leaked = { 0 };
	int created = 0, closed = 0, origin = 0;
	s->lead = &m->findings[s->findings[0]];
	for (size_t i = 0; i < s->n_findings; i++) {
		const struct finding *f = &m->findings[s->findings[i]];
		s->classes |= 1u << f->cls;
		if (f->leak) {
			s->leak = 1;
			s->leak_classes |= 1u << f->cls;
		}
		if (f->cls == CLS_DOUBLE_CLOSE && !(f->flag & 1))
			closed = 1;
		else if (f->cls == CLS_UNKNOWN_ORIGIN)
			origin = 1;
		else
			created = 1;
		add_pid(s, f->p->pid);
		for (size_t k = 0; k < f->n; k++) {
			uint64_t key = (uint64_t)(uint32_t)f->p->pid << 32 | (uint32_t)f->recs[k];
			bool fresh;
			hmap_slot(&seen, key, 0, &fresh);
			if (fresh) {
				GROW(s->fds, s->cap_fds, s->n_fds + 1);
				s->fds[s->n_fds++] = (struct site_fd){ f->p, f->recs[k], 0 };
			}
			if (f->leak && rec_open(&f->p->recs[f->recs[k]]))
				hmap_put(&leaked, key, 1);
		}
	}
	s->what = created || (closed && origin) ? SITE_CREATED : closed ? SITE_CLOSED : SITE_ORIGIN;
	qsort(s->pids, s->n_pids, sizeof(*s->pids), cmp_int);
	qsort(s->fds, s->n_fds, sizeof(*s->fds), cmp_site_fd);
	for (size_t i = 0; i < s->n_fds; i++) {
		struct site_fd *d = &s->fds[i];
		d->leaked = hmap_get(&leaked, (uint64_t)(uint32_t)d->p->pid << 32 | (uint32_t)d->rec, NULL);
		s->leaked_fds += d->leaked;
		s->open_fds += rec_open(&d->p->recs[d->rec]);
	}
	s->frame = choose_frame(s);
	hmap_free(&seen);
	hmap_free(&leaked);
}

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	if (x->leak != y->leak)
		return y->leak - x->leak;
	if (x->leaked_fds != y->leaked_fds)
		return x->leaked_fds < y->leaked_fds ? 1 : -1;
	if (x->n_fds != y->n_fds)
		return x->n_fds < y->n_fds ? 1 : -1;
	return x->findings[0] < y->findings[0] ? -1 : x->findings[0] > y->findings[0];
}

void sites_build(const struct model *m, const struct opts *o, struct siteset *ss)
{
	struct hmap idx = { 0 };
	memset(ss, 0, sizeof(*ss));
	ss->site_of = xcalloc(m->n_findings, sizeof(*ss->site_of));
	for (size_t i = 0; i < m->n_findings; i++) {
		size_t k = site_index(ss, &idx, finding_key(&m->findings[i]));   /* may move ss->v */
		struct site *s = &ss->v[k];
		GROW(s->findings, s->cap_findings, s->n_findings + 1);
		s->findings[s->n_findings++] = i;
	}
	hmap_free(&idx);
	for (size_t i = 0; i < ss->n; i++) {
		site_finish(m, &ss->v[i]);
		ss->n_leak += ss->v[i].leak;
		ss->leaked_fds += ss->v[i].leaked_fds;
	}
	if (ss->n > 1)
		qsort(ss->v, ss->n, sizeof(*ss->v), cmp_site);
	/* qsort moved the sites: their lead pointers into findings still hold. */
	for (size_t i = 0; i < ss->n; i++)
		for (size_t k = 0; k < ss->v[i].n_findings; k++)
			ss->site_of[ss->v[i].findings[k]] = i;
	ss->shown = o->top > 0 && (size_t)o->top < ss->n ? (size_t)o->top : ss->n;
	for (size_t i = 0; i < ss->shown; i++)
		ss->n_findings_shown += ss->v[i].n_findings;
}

void sites_free(struct siteset *ss)
{
	for (size_t i = 0; i < ss->n; i++) {
		struct site *s = &ss->v[i];
		free(s->findings);
		free(s->fds);
		free(s->pids);
		free(s->key);
	}
	free(ss->v);
	free(ss->site_of);
	memset(ss, 0, sizeof(*ss));
}

char *sites_headline(const struct siteset *ss)
{
	if (!ss->n_leak)
		return xstrdup("no leaking call site");
	return xasprintf("%zu leaking call site%s, %zu FD%s", ss->n_leak, ss->n_leak == 1 ? "" : "s",
			 ss->leaked_fds, ss->leaked_fds == 1 ? "" : "s");
}

const struct frame *site_frame(const struct site *s)
{
	return s->frame >= 0 ? &s->lead->rs.f[s->frame] : NULL;
}

char *site_place(const struct site *s)
{
	const struct frame *fr = site_frame(s);
	if (!fr)
		return xstrdup(s->lead->stack_id > 0 ? "stack not in the journal" : no_stack_text(s->lead));
	if (fr->file && fr->line > 0)
		return xasprintf("%s:%d", path_base(fr->file), fr->line);
	if (fr->module)
		return xasprintf("%s+0x%llx", path_base(fr->module), (unsigned long long)fr->offset);
	return xasprintf("0x%llx", (unsigned long long)fr->ip);
}

char *site_title(const struct site *s)
{
	const struct frame *fr = site_frame(s);
	char *place = site_place(s);
	if (!fr || !fr->function)
		return place;
	char *t = xasprintf("%s %s", place, fr->function);
	free(place);
	return t;
}

const char *site_what_text(const struct site *s)
{
	return s->what == SITE_CLOSED ? "closed at" : s->what == SITE_ORIGIN ? "origin" : "created at";
}

/* Classes in one fixed order (enum cls), so two sites with the same set say the same. */
char *site_classes_text(const struct site *s, int leak)
{
	unsigned bits = leak ? s->leak_classes : s->classes & ~s->leak_classes;
	char *out = xstrdup("");
	for (int c = 0; c < CLS_MAX; c++) {
		if (!(bits & (1u << c)))
			continue;
		char *t = xasprintf("%s%s%s", out, *out ? ", " : "", cls_name(c));
		free(out);
		out = t;
	}
	return out;
}

static size_t open_in_proc(const struct site *s, const struct proc *p)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_fds; i++)
		n += s->fds[i].p == p && rec_open(&p->recs[s->fds[i].rec]);
	return n;
}

static char *phrase(const struct site *s, const struct finding *f)
{
	char a[32];
	switch (f->cls) {
	case CLS_GROWTH:
		return xasprintf("growth %.1f/s over %s, none closed", f->rate_per_s,
				 fmt_duration(ns_between(f->first_ns, f->last_ns), a, sizeof(a)));
	case CLS_DUPLICATE:
		return xasprintf("%zu duplicate%s of objects already open", f->n, f->n == 1 ? "" : "s");
	case CLS_UNPINNED:
		if (f->n == open_in_proc(s, f->p))
			return xstrdup("not pinned");
		return xasprintf("%zu not pinned", f->n);
	case CLS_OUTSTANDING:
		return xasprintf("%zu still open, oldest %s", f->n,
				 fmt_duration(f->oldest_age, a, sizeof(a)));
	case CLS_UNKNOWN_ORIGIN:
		return xasprintf("%zu FD%s no journal event explains (raw syscall, SCM_RIGHTS, or "
				 "opened before the recorder)", f->n, f->n == 1 ? "" : "s");
	}
	return finding_summary(f);   /* stale, double_close, finalized: their caveats matter */
}

char **site_evidence(const struct model *m, const struct site *s, int leak, size_t *n)
{
	char **v = xcalloc(s->n_findings, sizeof(*v));
	*n = 0;
	for (int c = 0; c < CLS_MAX; c++) {
		for (size_t i = 0; i < s->n_findings; i++) {
			const struct finding *f = &m->findings[s->findings[i]];
			if (f->cls != c || !!f->leak != !!leak)
				continue;
			char *p = phrase(s, f);
			if (s->n_pids > 1) {
				char *t = xasprintf("pid %d: %s", f->p->pid, p);
				free(p);
				p = t;
			}
			v[(*n)++] = p;
		}
	}
	return v;
}

void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char *site_pids_text(const struct site *s)
{
	char *out = xstrdup(s->n_pids == 1 ? "pid" : "pids");
	for (size_t i = 0; i < s->n_pids; i++) {
		if (i == 8) {
			char *t = xasprintf("%s, ... (%zu processes)", out, s->n_pids);
			free(out);
			return t;
		}
		char *t = xasprintf("%s%s %d", out, i ? "," : "", s->pids[i]);
		free(out);
		out = t;
	}
	return out;
}

char *site_objects_brief(const struct model *m, const struct site *s)
{
	enum { SHOWN = 4 };
	struct { int kind; uint32_t id; char name[64]; size_t n; } g[SHOWN];
	size_t ng = 0, more = 0;
	for (size_t i = 0; i < s->n_fds; i++) {
		const struct fdrec *r = &s->fds[i].p->recs[s->fds[i].rec];
		struct obj_view v;
		object_view(m, s->fds[i].p, r, &v);
		char name[64];
		if (v.name)
			snprintf(name, sizeof(name), "%s", v.name);
		else if (v.id)
			snprintf(name, sizeof(name), "%u", v.id);
		else
			name[0] = '\0';
		size_t k = 0;
		while (k < ng && !(g[k].kind == v.kind && !strcmp(g[k].name, name)))
			k++;
		if (k == ng && ng == SHOWN) {
			more++;
			continue;
		}
		if (k == ng) {
			g[ng].kind = v.kind;
			g[ng].id = v.id;
			snprintf(g[ng].name, sizeof(g[ng].name), "%s", name);
			g[ng++].n = 0;
		}
		g[k].n++;
	}
	char *out = xstrdup("");
	for (size_t k = 0; k < ng; k++) {
		char *t = xasprintf("%s%s%s%s%s", out, k ? ", " : "", bpfleak_kind_name(g[k].kind),
				    g[k].name[0] ? " " : "", g[k].name);
		free(out);
		out = t;
		if (g[k].n > 1) {
			t = xasprintf("%s \xc3\x97%zu", out, g[k].n);   /* U+00D7 MULTIPLICATION SIGN */
			free(out);
			out = t;
		}
	}
	if (more) {
		char *t = xasprintf("%s, %zu more FD%s", out, more, more == 1 ? "" : "s");
		free(out);
		out = t;
	}
	return out;
}

/* ---- object lines ----------------------------------------------------- */

static char *object_text(const struct model *m, const struct proc *p, const struct fdrec *r)
{
	struct obj_view v;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return xstrdup("");
	object_view(m, p, r, &v);
	fprintf(out, "%s", bpfleak_kind_name(v.kind));
	if (v.id)
		fprintf(out, " %u", v.id);
	if (v.name)
		fprintf(out, " \"%s\"", v.name);
	if (v.type)
		fprintf(out, " %s", v.type);
	if (v.has_map)
		fprintf(out, " key %u value %u max_entries %u flags 0x%x", v.key_size,
			v.value_size, v.max_entries, v.flags);
	if (v.tag)
		fprintf(out, " tag %s", v.tag);
	if (v.kind == BPFLEAK_KIND_LINK && v.prog_id)
		fprintf(out, " prog %u", v.prog_id);
	if (v.pins)
		for (char *const *s = v.pins; *s; s++)
			fprintf(out, "%s%s", s == v.pins ? " pinned at " : ", ", *s);
	else if (v.kind == BPFLEAK_KIND_MAP || v.kind == BPFLEAK_KIND_PROG ||
		 v.kind == BPFLEAK_KIND_LINK)
		fprintf(out, " not pinned");
	fclose(out);
	return buf;
}

/* What is said of one FD besides its number and age; FDs that share it share a line. */
static char *fd_note(const struct site *s, const struct proc *p, const struct fdrec *r)
{
	char *buf = NULL, a[32];
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return xstrdup("");
	if (s->classes & (1u << CLS_DUPLICATE) && r->same_as_fd >= 0)
		fprintf(out, "; same object as fd %d", r->same_as_fd);
	if (r->origin == OR_DUP)
		fprintf(out, "; dup of fd %d", r->src_fd);
	if (r->parent_pid && (r->origin == OR_INHERIT_FORK || r->origin == OR_INHERIT_START))
		fprintf(out, "; inherited from pid %d", r->parent_pid);
	if (r->origin == OR_CLOSE_EVENT)
		fprintf(out, "; closed when it was not open (EBADF)");
	if (r->stale) {
		fprintf(out, "; %s", stale_text(r->stale));
		if (r->stale == STALE_SNAP_OTHER)
			fprintf(out, " (%s %u)", bpfleak_kind_name(r->other_kind), r->other_id);
	}
	if (r->in_flight)
		fprintf(out, "; in flight");
	if (s->classes & (1u << CLS_UNKNOWN_ORIGIN) && r->sfd && r->sfd->target)
		fprintf(out, "; %s", r->sfd->target);
	if (r->origin != OR_CLOSE_EVENT && !r->stale && r->closed_ns != NS_OPEN && r->created_ns >= 0)
		fprintf(out, "; closed after %s",
			fmt_duration(ns_between(r->created_ns, r->closed_ns), a, sizeof(a)));
	(void)p;
	fclose(out);
	return buf;
}

struct fd_item {
	const struct site_fd *d;
	const struct fdrec *r;
	char *note;
};

static int cmp_item(const void *a, const void *b)
{
	const struct fd_item *x = a, *y = b;
	if (x->d->p->pid != y->d->p->pid)
		return x->d->p->pid < y->d->p->pid ? -1 : 1;
	if (x->r->kind != y->r->kind)
		return x->r->kind < y->r->kind ? -1 : 1;
	if (x->r->obj_id != y->r->obj_id)
		return x->r->obj_id < y->r->obj_id ? -1 : 1;
	int c = strcmp(x->note, y->note);
	if (c)
		return c;
	return x->d->rec < y->d->rec ? -1 : x->d->rec > y->d->rec;
}

/* Objects without an id (iter, stats, token) are each a line of their own. */
static int same_object(const struct fd_item *a, const struct fd_item *b)
{
	return a->d->p == b->d->p && a->r->obj_id && a->r->kind == b->r->kind &&
	       a->r->obj_id == b->r->obj_id;
}

struct obj_line *site_object_lines(const struct model *m, const struct site *s, size_t *n)
{
	struct fd_item *it = xcalloc(s->n_fds, sizeof(*it));
	struct obj_line *out = xcalloc(s->n_fds, sizeof(*out));
	char a[32];
	*n = 0;
	for (size_t i = 0; i < s->n_fds; i++) {
		it[i].d = &s->fds[i];
		it[i].r = &s->fds[i].p->recs[s->fds[i].rec];
		it[i].note = fd_note(s, s->fds[i].p, it[i].r);
	}
	qsort(it, s->n_fds, sizeof(*it), cmp_item);
	for (size_t i = 0; i < s->n_fds;) {
		size_t end = i + 1;
		while (end < s->n_fds && same_object(&it[i], &it[end]) && !strcmp(it[i].note, it[end].note))
			end++;
		const struct proc *p = it[i].d->p;
		const struct fdrec *r = it[i].r;
		struct obj_line *l = &out[(*n)++];
		l->p = p;
		if (!i || !same_object(&it[i - 1], &it[i]))
			l->object = object_text(m, p, r);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			fputs("fd", f);
			for (size_t k = i; k < end && k < i + 16; k++)
				fprintf(f, " %d", it[k].r->fd);
			if (end - i > 16)
				fprintf(f, " ... (%zu FDs)", end - i);
			fputs(it[i].note, f);
			/* The oldest of the line: the records are in creation order. */
			if (rec_open(r) && r->created_ns >= 0 && p->end_ns >= r->created_ns)
				fprintf(f, "; age %s", fmt_duration(ns_between(r->created_ns, p->end_ns), a,
								     sizeof(a)));
			fclose(f);
		}
		l->fds = buf ? buf : xstrdup("");
		i = end;
	}
	for (size_t i = 0; i < s->n_fds; i++)
		free(it[i].note);
	free(it);
	return out;
}

void obj_lines_free(struct obj_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].object);
		free(v[i].fds);
	}
	free(v);
}

void frame_where(const struct frame *fr, char *buf, size_t len)
{
	if (fr->file && fr->line > 0)
		snprintf(buf, len, "%s:%d", fr->file, fr->line);
	else if (fr->module)
		snprintf(buf, len, "%s+0x%llx", fr->module, (unsigned long long)fr->offset);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)fr->ip);
}
