// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * --format json, version 1: the keys docs/report.md ("JSON output") lists
 * as always present are (null when unknown); the others appear where they
 * apply.  Consumers must ignore keys they do not know; a change of meaning
 * bumps "bpfleak_report".
 */
#include <stdint.h>
#include <stdlib.h>
#include "analyzer.h"
#include "report.h"
#include "sites.h"
#include "jsonw.h"

static void kv_str(FILE *f, const char *k, const char *v, int comma)
{
	fprintf(f, "%s\"%s\": ", comma ? ", " : "", k);
	jsonw_quote(f, v);
}

static void kv_i64(FILE *f, const char *k, int64_t v, int comma)
{
	fprintf(f, "%s\"%s\": %lld", comma ? ", " : "", k, (long long)v);
}

static void warnings(FILE *out, const struct warning *w, size_t n)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		char *s = w[i].count > 1 ? xasprintf("%s (%ld times)", w[i].text, w[i].count)
					 : xstrdup(w[i].text);
		jsonw_quote(out, s);
		free(s);
	}
	fputc(']', out);
}

static void stack(FILE *out, const struct finding *f)
{
	char ip[32];
	fputc('[', out);
	for (size_t i = 0; i < f->rs.n; i++) {
		const struct frame *fr = &f->rs.f[i];
		fprintf(out, "%s{", i ? ", " : "");
		if (fr->gap) {
			/* Where the recorder cut the stack: a frame with no address. */
			fputs("\"function\": null, \"file\": null, \"line\": null, \"module\": null,"
			      " \"ip\": null, \"inlined\": false, \"gap\": true", out);
			kv_i64(out, "frames_not_recorded", (int64_t)fr->gap_frames, 1);
			fputc('}', out);
			continue;
		}
		kv_str(out, "function", fr->function, 0);
		kv_str(out, "file", fr->file, 1);
		if (fr->line > 0)
			kv_i64(out, "line", fr->line, 1);
		else
			fputs(", \"line\": null", out);
		kv_str(out, "module", fr->module, 1);
		snprintf(ip, sizeof(ip), "0x%llx", (unsigned long long)fr->ip);
		kv_str(out, "ip", ip, 1);
		if (fr->module) {
			snprintf(ip, sizeof(ip), "0x%llx", (unsigned long long)fr->offset);
			kv_str(out, "offset", ip, 1);
		}
		fprintf(out, ", \"inlined\": %s}", fr->inlined ? "true" : "false");
	}
	fputc(']', out);
}

static void fd_obj(FILE *out, const struct model *m, const struct finding *f, size_t k)
{
	const struct proc *p = f->p;
	const struct fdrec *r = &p->recs[f->recs[k]];
	struct obj_view v;
	object_view(m, p, r, &v);
	fputc('{', out);
	kv_i64(out, "fd", r->fd, 0);
	kv_str(out, "kind", bpfleak_kind_name(r->kind), 1);
	kv_i64(out, "id", r->obj_id, 1);
	kv_str(out, "name", v.name, 1);
	kv_str(out, "type", v.type, 1);
	if (r->created_ns >= 0)
		kv_i64(out, "created_ns", r->created_ns, 1);
	else
		fputs(", \"created_ns\": null", out);
	fputs(", \"pins\": [", out);
	if (v.pins)
		for (char *const *s = v.pins; *s; s++) {
			if (s != v.pins)
				fputs(", ", out);
			jsonw_quote(out, *s);
		}
	fputc(']', out);
	kv_str(out, "origin", origin_name(r->origin), 1);
	/* Unknown is null: an FD only the kernel knows was made by no known call. */
	if (r->origin != OR_CLOSE_EVENT)
		kv_str(out, "cmd", r->cmd >= 0 ? bpf_cmd_name(r->cmd) : NULL, 1);
	if (v.has_map) {
		kv_i64(out, "key_size", v.key_size, 1);
		kv_i64(out, "value_size", v.value_size, 1);
		kv_i64(out, "max_entries", v.max_entries, 1);
		kv_i64(out, "flags", v.flags, 1);
	}
	if (v.tag)
		kv_str(out, "tag", v.tag, 1);
	if (v.prog_id && r->kind == BPFLEAK_KIND_LINK)
		kv_i64(out, "prog_id", v.prog_id, 1);
	if (r->origin == OR_DUP)
		kv_i64(out, "dup_of", r->src_fd, 1);
	if (r->parent_pid && (r->origin == OR_INHERIT_FORK || r->origin == OR_INHERIT_START))
		kv_i64(out, "parent_pid", r->parent_pid, 1);
	if (r->in_flight)
		fputs(", \"in_flight\": true", out);
	if (f->cls == CLS_DUPLICATE && r->same_as_fd >= 0)
		kv_i64(out, "same_as_fd", r->same_as_fd, 1);
	if (r->created_ns >= 0 && p->end_ns >= r->created_ns && r->closed_ns == NS_OPEN)
		kv_i64(out, "age_ns", ns_between(r->created_ns, p->end_ns), 1);
	if (r->closed_ns != NS_OPEN)
		kv_i64(out, "closed_ns", r->closed_ns, 1);
	if (r->stale) {
		kv_str(out, "stale", stale_name(r->stale), 1);
		if (r->stale == STALE_SNAP_OTHER) {
			kv_str(out, "snapshot_kind", bpfleak_kind_name(r->other_kind), 1);
			kv_i64(out, "snapshot_id", r->other_id, 1);
		}
	}
	if (r->sfd && r->sfd->target[0])
		kv_str(out, "target", r->sfd->target, 1);
	if (r->sfd || r->origin != OR_CLOSE_EVENT)
		fprintf(out, ", \"cloexec\": %s", r->cloexec ? "true" : "false");
	fputc('}', out);
}

static void blind_spots(FILE *out, const struct blind *b, size_t n, int with_pid, int *first)
{
	for (size_t i = 0; i < n; i++) {
		fputs(*first ? "{" : ", {", out);
		*first = 0;
		kv_str(out, "kind", b[i].kind, 0);
		if (with_pid)
			kv_i64(out, "pid", b[i].pid, 1);
		kv_str(out, "text", b[i].text, 1);
		fprintf(out, ", \"spoils\": %s}", b[i].spoils ? "true" : "false");
	}
}

static void drops(FILE *out, const struct proc *p)
{
	fputs(", \"drops\": [", out);
	for (size_t i = 0; i < p->n_drops; i++) {
		const struct drop *d = &p->drops[i];
		fputs(i ? ", {" : "{", out);
		kv_i64(out, "lost", (int64_t)d->lost, 0);
		kv_i64(out, "start_ns", d->start_ns, 1);
		if (d->end_ns >= 0)
			kv_i64(out, "end_ns", d->end_ns, 1);
		else
			fputs(", \"end_ns\": null", out);
		kv_str(out, "why", d->why, 1);
		fputc('}', out);
	}
	fputc(']', out);
}

static void notes(FILE *out, const struct proc *p)
{
	fputs(", \"notes\": [", out);
	for (size_t i = 0; i < p->n_notes; i++) {
		fputs(i ? ", {" : "{", out);
		kv_str(out, "note", bpfleak_note_name(p->notes[i].kind), 0);
		kv_i64(out, "ts_ns", p->notes[i].ts, 1);
		if (p->notes[i].fd2)
			kv_i64(out, "tid", p->notes[i].fd2, 1);
		fputc('}', out);
	}
	fputc(']', out);
}

static void pins(FILE *out, const struct model *m, const struct proc *p)
{
	struct pin_use *u;
	size_t n = proc_pins(m, p, &u);
	if (p->snap && p->snap->pins_walked >= 0)
		fprintf(out, ", \"pins_walked\": %s", p->snap->pins_walked ? "true" : "false");
	else
		fputs(", \"pins_walked\": null", out);
	fputs(", \"pins\": [", out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", {" : "{", out);
		kv_str(out, "path", u[i].path, 0);
		kv_str(out, "how", u[i].how, 1);
		kv_str(out, "kind", bpfleak_kind_name(u[i].kind), 1);
		kv_i64(out, "id", u[i].id, 1);
		fputc('}', out);
	}
	fputc(']', out);
	free(u);
}

static void strings(FILE *out, const char *key, char **v, size_t n)
{
	fprintf(out, ", \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		jsonw_quote(out, v[i]);
	}
	fputc(']', out);
}

static void class_list(FILE *out, const char *key, unsigned bits)
{
	int first = 1;
	fprintf(out, ", \"%s\": [", key);
	for (int c = 0; c < CLS_MAX; c++)
		if (bits & (1u << c)) {
			fputs(first ? "" : ", ", out);
			jsonw_quote(out, cls_name(c));
			first = 0;
		}
	fputc(']', out);
}

/* The findings grouped by call site (docs/report.md, "sites"). */
static void sites(FILE *out, const struct model *m, const struct siteset *ss, const size_t *index)
{
	static const char *const what[] = { [SITE_CREATED] = "creation", [SITE_CLOSED] = "close",
					    [SITE_ORIGIN] = "origin" };
	for (size_t i = 0; i < ss->shown; i++) {
		const struct site *s = &ss->v[i];
		const struct frame *fr = site_frame(s);
		char *t = site_title(s), *place = site_place(s), **ev;
		size_t n;
		fprintf(out, "%s\n  {", i ? "," : "");
		kv_i64(out, "site", (int64_t)i + 1, 0);
		fprintf(out, ", \"leak\": %s", s->leak ? "true" : "false");
		kv_str(out, "title", t, 1);
		kv_str(out, "place", place, 1);
		kv_str(out, "function", fr ? fr->function : NULL, 1);
		kv_str(out, "file", fr ? fr->file : NULL, 1);
		if (fr && fr->line > 0)
			kv_i64(out, "line", fr->line, 1);
		else
			fputs(", \"line\": null", out);
		if (s->frame >= 0)
			kv_i64(out, "frame", s->frame, 1);
		else
			fputs(", \"frame\": null", out);
		kv_str(out, "stack_of", what[s->what], 1);
		free(t);
		free(place);
		class_list(out, "classes", s->classes);
		class_list(out, "leak_classes", s->leak_classes);
		ev = site_evidence(m, s, 1, &n);
		strings(out, "evidence", ev, n);
		strv_free(ev, n);
		ev = site_evidence(m, s, 0, &n);
		strings(out, "information", ev, n);
		strv_free(ev, n);
		kv_i64(out, "count", (int64_t)s->n_fds, 1);
		kv_i64(out, "leaked_fds", (int64_t)s->leaked_fds, 1);
		kv_i64(out, "open_fds", (int64_t)s->open_fds, 1);
		fputs(", \"pids\": [", out);
		for (size_t k = 0; k < s->n_pids; k++)
			fprintf(out, "%s%d", k ? ", " : "", s->pids[k]);
		fputs("], \"findings\": [", out);
		for (size_t k = 0; k < s->n_findings; k++)
			fprintf(out, "%s%zu", k ? ", " : "", index[s->findings[k]]);
		fputs("],\n   \"stack\": ", out);
		stack(out, s->lead);
		fputs(",\n   \"fds\": [", out);
		for (size_t k = 0; k < s->n_fds; k++) {
			const struct site_fd *d = &s->fds[k];
			const struct fdrec *r = &d->p->recs[d->rec];
			struct obj_view v;
			object_view(m, d->p, r, &v);
			fputs(k ? ", {" : "{", out);
			kv_i64(out, "pid", d->p->pid, 0);
			kv_i64(out, "fd", r->fd, 1);
			kv_str(out, "kind", bpfleak_kind_name(r->kind), 1);
			kv_i64(out, "id", r->obj_id, 1);
			kv_str(out, "name", v.name, 1);
			fprintf(out, ", \"open\": %s, \"leaked\": %s}",
				r->origin != OR_CLOSE_EVENT && r->closed_ns == NS_OPEN && !r->stale ? "true"
				: "false", d->leaked ? "true" : "false");
		}
		fputs("]}", out);
	}
}

void report_json(const struct model *m, const struct opts *o, FILE *out)
{
	size_t open_total = 0, leaks = 0, leaked_fds = 0;
	int first = 1;
	struct siteset ss;

	fprintf(out, "{\"bpfleak_report\": %d,\n \"journal\": {", BPFLEAK_JSON_VERSION);
	kv_str(out, "path", m->path, 0);
	kv_i64(out, "events", m->n_events, 1);
	kv_i64(out, "first_ns", m->first_ns, 1);
	kv_i64(out, "last_ns", m->last_ns, 1);
	kv_i64(out, "dropped", (int64_t)m->dropped, 1);
	kv_i64(out, "folded_pairs", m->folded_pairs, 1);
	kv_i64(out, "fold_age_ns", m->fold_age_ns > 0 ? m->fold_age_ns : -1, 1);
	kv_i64(out, "schema", m->schema_version, 1);
	kv_str(out, "boot_id", m->boot_id, 1);
	fputs(", \"warnings\": ", out);
	warnings(out, m->warns, m->n_warns);
	fputs("},\n \"blind_spots\": [", out);
	int bfirst = 1;
	blind_spots(out, m->blinds, m->n_blinds, 1, &bfirst);
	for (size_t i = 0; i < m->n_procs; i++)
		if (proc_shown(m->procs[i], o))
			blind_spots(out, m->procs[i]->blinds, m->procs[i]->n_blinds, 1, &bfirst);
	fputs("],\n \"processes\": [", out);
	for (size_t i = 0; i < m->n_procs; i++) {
		const struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		open_total += open_fds(p);
		fprintf(out, "%s\n  {", first ? "" : ",");
		first = 0;
		kv_i64(out, "pid", p->pid, 0);
		kv_str(out, "exe", p->exe, 1);
		kv_str(out, "cmdline", p->cmdline, 1);
		kv_str(out, "snapshot", snapshot_word(p), 1);
		if (p->snap)
			kv_i64(out, "snapshot_ns", p->snap->ts, 1);
		if (p->snap_note)
			kv_str(out, "snapshot_note", p->snap_note, 1);
		kv_i64(out, "ppid", p->ppid, 1);
		fprintf(out, ", \"exited\": %s", p->exited ? "true" : "false");
		kv_i64(out, "events", (int64_t)p->n_ev, 1);
		kv_i64(out, "folded_pairs", p->folded, 1);
		kv_i64(out, "open_bpf_fds", (int64_t)open_fds(p), 1);
		kv_i64(out, "dropped", (int64_t)p->dropped, 1);
		kv_i64(out, "failed_creates", p->failed_creates, 1);
		kv_i64(out, "fds_not_judged", (int64_t)p->n_uncertain, 1);
		drops(out, p);
		notes(out, p);
		pins(out, m, p);
		fputs(", \"warnings\": ", out);
		warnings(out, p->warns, p->n_warns);
		fputs(", \"blind_spots\": [", out);
		int pfirst = 1;
		blind_spots(out, p->blinds, p->n_blinds, 0, &pfirst);
		fputs("]}", out);
	}
	fputs("],\n \"findings\": [", out);
	for (size_t i = 0; i < m->n_findings; i++)
		leaks += m->findings[i].leak;
	leaked_fds = leaked_fd_count(m);
	/* --top keeps the biggest call sites, and with them their findings. */
	sites_build(m, o, &ss);
	size_t shown = 0, *index = xcalloc(m->n_findings, sizeof(*index));
	for (size_t i = 0; i < m->n_findings; i++) {
		const struct finding *f = &m->findings[i];
		index[i] = SIZE_MAX;
		if (ss.site_of[i] >= ss.shown)
			continue;
		index[i] = shown;
		fprintf(out, "%s\n  {", shown++ ? "," : "");
		kv_str(out, "class", cls_name(f->cls), 0);
		kv_i64(out, "pid", f->p->pid, 1);
		kv_i64(out, "count", (int64_t)f->n, 1);
		fprintf(out, ", \"leak\": %s", f->leak ? "true" : "false");
		char *sum = finding_summary(f);
		kv_str(out, "detail", sum, 1);
		free(sum);
		if (f->cls == CLS_OUTSTANDING) {
			kv_i64(out, "oldest_age_ns", f->oldest_age, 1);
			kv_i64(out, "newest_age_ns", f->newest_age, 1);
		}
		if (f->cls == CLS_GROWTH) {
			fprintf(out, ", \"rate_per_s\": %.3f", f->rate_per_s);
			kv_i64(out, "first_ns", f->first_ns, 1);
			kv_i64(out, "last_ns", f->last_ns, 1);
		}
		if (!f->rs.n)
			kv_str(out, "no_stack", no_stack_text(f), 1);
		if (f->rs.truncated) {
			fputs(", \"truncated\": true", out);
			kv_i64(out, "frames_not_recorded", (int64_t)f->rs.cut, 1);
		}
		fputs(",\n   \"stack\": ", out);
		stack(out, f);
		fputs(",\n   \"fds\": [", out);
		for (size_t k = 0; k < f->n; k++) {
			if (k)
				fputs(", ", out);
			fd_obj(out, m, f, k);
		}
		fputs("]}", out);
	}
	fputs("],\n \"sites\": [", out);
	sites(out, m, &ss, index);
	fputs("],\n \"summary\": {", out);
	char *headline = sites_headline(&ss);
	kv_str(out, "headline", headline, 0);
	free(headline);
	kv_i64(out, "sites", (int64_t)ss.n, 1);
	kv_i64(out, "leaking_sites", (int64_t)ss.n_leak, 1);
	kv_i64(out, "open_bpf_fds", (int64_t)open_total, 1);
	kv_i64(out, "leaked_fds", (int64_t)leaked_fds, 1);
	kv_i64(out, "findings", (int64_t)m->n_findings, 1);
	kv_i64(out, "leaks", (int64_t)leaks, 1);
	kv_i64(out, "shown", (int64_t)shown, 1);
	kv_i64(out, "suppressed", m->n_suppressed, 1);
	int code = report_exit_code(m, o);
	fprintf(out, ", \"vouched\": %s", code == 3 ? "false" : "true");
	kv_i64(out, "exit_status", code, 1);
	fputs("}}\n", out);
	free(index);
	sites_free(&ss);
}
