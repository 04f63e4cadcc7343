// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Blind spots: what the report could not see, each as one sentence with a
 * machine-readable kind, and the exit status they decide.  A CI gate must never pass on a blind run, so the
 * ones that can hide a leak (or fake an all-clear) "spoil" the result: with
 * no leak found the exit status is then 3, not 0.  The others (no stacks,
 * an unshared thread) are said but leave the verdict standing.
 *
 * Collected after classification: whether io_uring explained a stale
 * finding, and whether unknown_origin FDs remain, are known only then.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include "analyzer.h"

const char *note_sentence(int kind)
{
	switch (kind) {
	case BPFLEAK_NOTE_IO_URING:
		return "the process has an io_uring: closes through it are invisible to the shim";
	case BPFLEAK_NOTE_UNSHARE:
		return "a thread unshared its FD table: its FD operations after that were not recorded";
	case BPFLEAK_NOTE_GO:
		return "a Go program: the shim cannot see its bpf calls (use bpfleak run "
		       "--tracer=kernel)";
	case BPFLEAK_NOTE_RESTART:
		return "the journal file was moved or deleted while it ran: earlier events are in "
		       "that file";
	case BPFLEAK_NOTE_NO_STACKS:
		return "stack capture was switched off: findings have no call sites";
	case BPFLEAK_NOTE_PRIVATE_MAIN:
		return "the main thread's FD table is its own: comparisons with the snapshot are "
		       "not trusted";
	case BPFLEAK_NOTE_CHILD:
		return "it started child processes";
	}
	return "?";
}

/* A time of the journal: wall clock when the process row gives its base. */
static const char *when(const struct model *m, const struct proc *p, int64_t ns, char *buf,
			size_t len)
{
	char d[32];
	if (p->realtime_base) {
		int64_t wall = ns_add(ns, p->realtime_base);
		time_t sec = (time_t)(wall / 1000000000);
		struct tm tm;
		localtime_r(&sec, &tm);
		size_t k = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(buf + k, len - k, ".%03d", (int)(wall % 1000000000 / 1000000));
	} else {
		snprintf(buf, len, "t+%s", fmt_duration(ns_between(m->first_ns, ns), d, sizeof(d)));
	}
	return buf;
}

static void add(struct proc *p, const char *kind, int spoils, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(struct proc *p, const char *kind, int spoils, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	blind_add(&p->blinds, &p->n_blinds, &p->cap_blinds, kind, p->pid, spoils, "%s", buf);
}

static void drops(const struct model *m, struct proc *p)
{
	char a[64], b[64];
	for (size_t i = 0; i < p->n_drops; i++) {
		const struct drop *d = &p->drops[i];
		const char *why = d->why && *d->why ? d->why : "queue full";
		if (d->end_ns >= d->start_ns)
			add(p, "drop", 1, "%llu events lost between %s and %s (%s)",
			    (unsigned long long)d->lost, when(m, p, d->start_ns, a, sizeof(a)),
			    when(m, p, d->end_ns, b, sizeof(b)), why);
		else
			add(p, "drop", 1, "%llu events lost after %s (%s)", (unsigned long long)d->lost,
			    when(m, p, d->start_ns, a, sizeof(a)), why);
	}
}

static void notes(const struct model *m, struct proc *p)
{
	char a[64];
	for (size_t i = 0; i < p->n_notes; i++) {
		const struct note *n = &p->notes[i];
		switch (n->kind) {
		case BPFLEAK_NOTE_IO_URING:
			/* Spoils only when it changed a verdict. */
			add(p, "io_uring", p->n_downgraded > 0, "%s%s", note_sentence(n->kind),
			    p->n_downgraded ? "; stale FDs and double closes are reported as "
					      "information" : "");
			break;
		case BPFLEAK_NOTE_UNSHARE:
			add(p, "unshare", 0, "thread %d unshared its FD table at %s: its FD "
			    "operations after that were not recorded", n->fd2,
			    when(m, p, n->ts, a, sizeof(a)));
			break;
		case BPFLEAK_NOTE_RESTART:
			add(p, "journal_restart", 1, "the journal file was moved or deleted at %s: "
			    "events before it are in that file; what was open then is listed as "
			    "\"restart\"", when(m, p, n->ts, a, sizeof(a)));
			break;
		case BPFLEAK_NOTE_GO:
		case BPFLEAK_NOTE_PRIVATE_MAIN:
			add(p, bpfleak_note_name(n->kind), 1, "%s", note_sentence(n->kind));
			break;
		case BPFLEAK_NOTE_CHILD:   /* a moment for folding, nothing the report missed */
			break;
		default:
			add(p, bpfleak_note_name(n->kind), 0, "%s", note_sentence(n->kind));
		}
	}
}

static size_t count_origin(const struct proc *p, enum origin origin)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_final; i++)
		n += p->recs[p->final[i]].origin == origin;
	return n;
}

/* How the process ended, as far as the journal and the snapshot tell. */
static void ending(struct proc *p, const struct opts *o)
{
	size_t held = open_fds(p);
	if (p->exec_untraced && held)
		add(p, "untraced_exec", 1, "exec'd %s, which the shim did not trace, holding %zu "
		    "bpf FD%s without O_CLOEXEC: what it did with them is not known",
		    p->exec_path ? p->exec_path : "an image", held, held == 1 ? "" : "s");
	else if (!p->snap && !p->exited && !p->exec_untraced && held)
		add(p, "no_exit", 1, "no exit snapshot and no recorded exit (killed, or still "
		    "running%s) while it held %zu bpf FD%s: closes after its last batch are not "
		    "known", o->pid ? "" : ": try --pid", held, held == 1 ? "" : "s");
	else if (!p->snap && p->exited && held)
		add(p, "no_snapshot", 0, "exited without an exit snapshot: stale and "
		    "unknown_origin FDs could not be checked");
	/* The recorder starts with a bpf FD and writes the process row then:
	 * a row with nothing after it lost every event it had. */
	if (p->in_journal && !p->n_ev && !p->snap && !p->exited)
		add(p, "nothing_recorded", 1, "recording began (the process made a bpf FD) but "
		    "none of its events reached the journal: a failed write, or a kill before "
		    "the first batch");
	if (p->live_unconfirmed)
		add(p, "live_unconfirmed", 1, "the journal did not confirm a flush up to the live "
		    "snapshot in %.1fs: disagreements with it are reported as in flight",
		    (double)o->flush_wait_ns / 1e9);
	size_t unknown = count_origin(p, OR_SNAPSHOT);
	if (unknown)
		add(p, "unknown_origin", 1, "%zu bpf FD%s in the snapshot that no journal event "
		    "explains (raw syscall, SCM_RIGHTS, or opened before the shim)", unknown,
		    unknown == 1 ? "" : "s");
}

void blind_collect(struct model *m, const struct opts *o)
{
	if (m->wal_unread)
		blind_add(&m->blinds, &m->n_blinds, &m->cap_blinds, "wal_unread", 0, 1,
			  "the journal's write-ahead log could not be read here: the last "
			  "batches may be missing");
	/* Recorders write a process row as they create the journal: a journal
	 * with none was cut off during set-up (a full disk, a kill). */
	if (m->n_procs == 0)
		blind_add(&m->blinds, &m->n_blinds, &m->cap_blinds, "no_process", 0, 1,
			  "the journal holds no process: the recorder could not write past "
			  "creating it (a full disk, or killed during set-up)");
	for (size_t i = 0; i < m->n_procs; i++) {
		struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		drops(m, p);
		notes(m, p);
		ending(p, o);
	}
}

/* Exit status 3 (when no leak was found): something spoils the result. */
int blind_spoils(const struct model *m, const struct opts *o)
{
	for (size_t i = 0; i < m->n_blinds; i++)
		if (m->blinds[i].spoils)
			return 1;
	for (size_t i = 0; i < m->n_procs; i++) {
		const struct proc *p = m->procs[i];
		if (!proc_shown(p, o))
			continue;
		for (size_t k = 0; k < p->n_blinds; k++)
			if (p->blinds[k].spoils)
				return 1;
	}
	return 0;
}

int report_exit_code(const struct model *m, const struct opts *o)
{
	for (size_t i = 0; i < m->n_findings; i++)
		if (m->findings[i].leak)
			return 1;
	return blind_spoils(m, o) ? 3 : 0;
}
