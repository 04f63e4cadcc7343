// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The model (model.h): lookups, warnings and blind spots, the names of its
 * codes, and its teardown.  Every stage calls down into this file; it calls
 * no stage.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

struct proc *model_proc(struct model *m, int pid, int create)
{
	uint64_t v;
	if (hmap_get(&m->pid_idx, (uint64_t)(uint32_t)pid, &v))
		return m->procs[v];
	if (!create)
		return NULL;
	struct proc *p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->end_ns = -1;
	p->exited_ns = -1;
	p->flushed_ns = -1;
	GROW(m->procs, m->cap_procs, m->n_procs + 1);
	hmap_put(&m->pid_idx, (uint64_t)(uint32_t)pid, m->n_procs);
	m->procs[m->n_procs++] = p;
	return p;
}

const struct object_info *model_object(const struct model *m, int kind, uint32_t id)
{
	uint64_t v;
	if (!hmap_get(&m->objects, (uint64_t)kind << 32 | id, &v))
		return NULL;
	return &m->objs[v - 1];
}

struct object_info *model_add_object(struct model *m, int kind, uint32_t id)
{
	GROW(m->objs, m->cap_objs, m->n_objs + 1);
	struct object_info *o = &m->objs[m->n_objs];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->id = id;
	hmap_put(&m->objects, (uint64_t)kind << 32 | id, ++m->n_objs);
	return o;
}

int rec_open_at(const struct fdrec *r, int64_t t)
{
	return r->origin != OR_CLOSE_EVENT && r->created_ns <= t && r->closed_ns > t;
}

int proc_shown(const struct proc *p, const struct opts *o)
{
	return o->pid ? p->pid == o->pid : (p->n_ev || p->snap || p->in_journal);
}

size_t open_fds(const struct proc *p)
{
	return p->n_final;
}

/* Same message twice is counted, not repeated: a journal can be huge. */
static void warn_into(struct warning **w, size_t *n, size_t *cap, const char *text)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*w)[i].text, text) == 0) {
			(*w)[i].count++;
			return;
		}
	GROW(*w, *cap, *n + 1);
	(*w)[*n].text = xstrdup(text);
	(*w)[*n].count = 1;
	(*n)++;
}

void proc_warn(struct proc *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	warn_into(&p->warns, &p->n_warns, &p->cap_warns, buf);
}

int64_t proc_span_end(const struct proc *p)
{
	int64_t end = p->end_ns > p->last_ns ? p->end_ns : p->last_ns;
	if (p->snap && p->snap->ts > end)
		end = p->snap->ts;
	if (p->exited_ns > end)
		end = p->exited_ns;
	if (p->flushed_ns > end)
		end = p->flushed_ns;
	return end;
}

void model_warn(struct model *m, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	warn_into(&m->warns, &m->n_warns, &m->cap_warns, buf);
}

void blind_add(struct blind **b, size_t *n, size_t *cap, const char *kind, int pid, int spoils,
	       const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	GROW(*b, *cap, *n + 1);
	(*b)[(*n)++] = (struct blind){ kind, xstrdup(buf), pid, spoils };
}

const char *origin_name(enum origin origin)
{
	static const char *const n[] = {
		[OR_CREATE] = "create", [OR_DUP] = "dup", [OR_INHERIT_START] = "inherited",
		[OR_INHERIT_EXEC] = "exec", [OR_INHERIT_FORK] = "fork",
		[OR_SNAPSHOT] = "snapshot", [OR_CLOSE_EVENT] = "close",
		[OR_INHERIT_RESTART] = "restart",
		[OR_INHERIT_ATTACH] = "held_before_attach",
	};
	return origin <= OR_INHERIT_ATTACH ? n[origin] : "?";
}

const char *stale_name(enum stale_why why)
{
	static const char *const n[] = {
		[STALE_NONE] = NULL, [STALE_REUSED] = "reused", [STALE_EBADF] = "ebadf",
		[STALE_SNAP_CLOSED] = "closed", [STALE_SNAP_OTHER] = "other_object",
	};
	return why <= STALE_SNAP_OTHER ? n[why] : NULL;
}

void snap_free(struct snap *s)
{
	if (!s)
		return;
	bpfleak_snapshot_free(&s->found);
	free(s->reason);
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

void finding_free(struct finding *f)
{
	free(f->recs);
	free(f->detail);
	rstack_free(&f->rs);
}

static void free_warns(struct warning *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].text);
	free(w);
}

static void free_blinds(struct blind *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].text);
	free(b);
}

static void proc_free(struct model *m, struct proc *p)
{
	for (size_t k = 0; k < p->n_ev; k++)
		free(p->evs[k].detail);
	free(p->evs);
	free(p->recs);
	free(p->open);
	free(p->last);
	free(p->final);
	free(p->exe);
	free(p->cmdline);
	free(p->images);
	for (size_t k = 0; k < p->n_drops; k++)
		free(p->drops[k].why);
	free(p->drops);
	free(p->notes);
	free(p->folds);
	free(p->exec_path);
	free(p->exec_note);
	free_blinds(p->blinds, p->n_blinds);
	snap_free(p->snap);
	if (p->pins && p->pins != &m->journal_pins) {
		pinset_free(p->pins);
		free(p->pins);
	}
	free_warns(p->warns, p->n_warns);
	free(p);
}

void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n_findings; i++)
		finding_free(&m->findings[i]);
	free(m->findings);
	for (size_t i = 0; i < m->n_procs; i++)
		proc_free(m, m->procs[i]);
	free(m->procs);
	hmap_free(&m->pid_idx);
	for (size_t i = 0; i < m->n_objs; i++) {
		free(m->objs[i].name);
		free(m->objs[i].tag);
	}
	free(m->objs);
	hmap_free(&m->objects);
	for (size_t i = 0; i < m->n_mods; i++) {
		free(m->mods[i].path);
		free(m->mods[i].build_id);
	}
	free(m->mods);
	hmap_free(&m->mod_idx);
	for (size_t i = 0; i < m->stacks.cap; i++)
		if (m->stacks.used[i])
			free((void *)(uintptr_t)m->stacks.vals[i]);
	hmap_free(&m->stacks);
	pinset_free(&m->journal_pins);
	free_warns(m->warns, m->n_warns);
	free_blinds(m->blinds, m->n_blinds);
	free(m->boot_id);
	/* The journal's connection is journal_close's to end. */
	*m = (struct model){ .path = m->path, .db = m->db, .writable = m->writable,
			     .st_stack = m->st_stack, .st_frame = m->st_frame };
}
