// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Offline user-stack unwinding with libdwfl (see unwind.h).
 *
 * The technique is perf's (tools/perf/util/unwind-libdw.c): a Dwfl whose
 * process state is "attached" with our own Dwfl_Thread_Callbacks, so that
 * libdwfl asks us for the initial registers and for every memory word it
 * needs, and we answer from the captured copy.  Unlike perf, which builds a
 * Dwfl per sample, a Dwfl lives as long as its pid: reporting modules and
 * reading their CFI is the expensive part, a walk over cached CFI is cheap.
 *
 * Here: the walk and the unwinder's API.  The sessions (Dwfl, modules, the
 * callbacks that answer from the copy) are in unwind_session.c, the
 * process-wide default unwinder in unwind_default.c.
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "unwind_session.h"

/* --------------------------------------------------------------- walk */

static int on_frame(Dwfl_Frame *frame, void *arg)
{
	struct capture *c = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp;
	bool activation;

	if (!dwfl_frame_pc(frame, &pc, &activation)) {
		c->why = UNWIND_STOP_FAILED;
		c->stopped = true;
		return DWARF_CB_ABORT;
	}
	if (c->n > 0 && pc == 0) {
		/* A zero return address is how some thread entries end. */
		c->why = UNWIND_STOP_END;
		c->stopped = true;
		return DWARF_CB_ABORT;
	}
	/* Garbage CFI or stack can describe a frame as its own caller: the
	 * same pc at the same sp.  The sp is read only while the pc repeats
	 * (recursion, or that loop), since reading it costs ~8% of a walk; so
	 * a loop is caught on its third frame, not its second. */
	if (c->n > 0 && pc == c->last_pc) {
		if (dwfl_frame_reg(frame, X86_64_DWARF_RSP, &sp) == 0) {
			if (c->last_sp_known && sp == c->last_sp) {
				c->why = UNWIND_STOP_FAILED;
				c->stopped = true;
				return DWARF_CB_ABORT;
			}
			c->last_sp = sp;
			c->last_sp_known = true;
		}
	} else {
		c->last_sp_known = false;
	}
	c->last_pc = pc;
	c->ips[c->n++] = pc;
	if (c->n == c->max) {
		c->why = UNWIND_STOP_MAX;
		c->stopped = true;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

static void walk(struct session *s, struct capture *c)
{
	int rc;

	c->n = 0;
	c->last_sp_known = false;
	c->stopped = false;
	c->wanted_beyond = false;
	c->read_failed = false;
	c->used = 0;
	if (!s->attached) {
		c->why = UNWIND_STOP_NO_MODULE;
		return;
	}
	s->cur = c;
	rc = dwfl_getthread_frames(s->dwfl, s->pid, on_frame, c);
	s->cur = NULL;
	if (c->stopped)
		return;
	/* libdw takes a return address it could not read for the end of the
	 * stack (rc 0, as for _start, whose CFI says "no caller"): only a
	 * walk that read all it asked for really ended. */
	if (rc == 0 && !c->read_failed) {
		c->why = UNWIND_STOP_END;
		return;
	}
	/* libdw found no way on from the last frame: say why, as best known. */
	if (c->wanted_beyond)
		c->why = UNWIND_STOP_STACK;
	else if (c->n > 0 && !dwfl_addrmodule(s->dwfl, c->n == 1 ? c->last_pc : c->last_pc - 1))
		c->why = UNWIND_STOP_NO_MODULE;
	else
		c->why = UNWIND_STOP_FAILED;
}

/* ------------------------------------------------ fast path checking */

/* unwinder_verify, or BPFLEAK_UNWIND_VERIFY=1: walk every stack the fast
 * path took with libdwfl too, and count (and say) where they differ. */
static bool verify_fast(struct unwinder *u)
{
	if (u->verify < 0)
		u->verify = getenv("BPFLEAK_UNWIND_VERIFY") != NULL;
	return u->verify;
}

void unwinder_verify(struct unwinder *u, bool on)
{
	u->verify = on;
}

static void check_fast(struct unwinder *u, struct session *s, const struct capture *fast)
{
	uint64_t ips[256];
	struct capture c = *fast;
	c.ips = ips;
	c.max = fast->max < 256 ? fast->max : 256;
	walk(s, &c);
	int same = 0;
	while (same < c.n && same < fast->n && ips[same] == fast->ips[same])
		same++;
	if (same == c.n && c.n == fast->n && c.why == fast->why)
		return;
	if (u->st.mismatches++ < 5)
		fprintf(stderr, "unwind: pid %d: the fast path gave %d frames (stop %d), libdwfl %d "
			"(stop %d), first difference at frame %d\n", (int)s->pid, fast->n,
			(int)fast->why, c.n, (int)c.why, same);
}

/* ---------------------------------------------------------------- API */

struct unwinder *unwinder_new(void)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->verify = -1;
	u->s = calloc(UNWIND_MAX_PIDS, sizeof(*u->s));
	if (!u->s) {
		free(u);
		return NULL;
	}
	return u;
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++)
		session_free(u->s[i]);
	free(u->s);
	free(u);
}

int unwinder_load_pid(struct unwinder *u, pid_t pid)
{
	struct session *s = session_get(u, pid);

	if (!s)
		return -ENOMEM;
	s->used = ++u->clock;
	return session_load(u, s);
}

int unwinder_add_modules(struct unwinder *u, pid_t pid, struct procmap_module *mods, size_t n)
{
	struct session *s = session_get(u, pid);

	if (!s)
		return -ENOMEM;
	s->used = ++u->clock;
	if (!s->loaded_ns)
		s->loaded_ns = unwind_now_ns();
	return session_add(s, mods, n);
}

void unwinder_forget(struct unwinder *u, pid_t pid)
{
	for (size_t i = 0; i < u->n; i++) {
		if (u->s[i]->pid == pid) {
			session_remove(u, i);
			return;
		}
	}
}

int unwinder_unwind(struct unwinder *u, pid_t pid, const struct unwind_regs *regs,
		    const void *stack, size_t stack_len, uint64_t *ips, int max_ips,
		    enum unwind_stop *why)
{
	return unwinder_unwind_used(u, pid, regs, stack, stack_len, ips, max_ips, why, NULL);
}

int unwinder_unwind_used(struct unwinder *u, pid_t pid, const struct unwind_regs *regs,
			 const void *stack, size_t stack_len, uint64_t *ips, int max_ips,
			 enum unwind_stop *why, size_t *used)
{
	if (used)
		*used = 0;
	struct capture c = {
		.regs = regs, .stack = stack, .len = stack ? stack_len : 0,
		.ips = ips, .max = max_ips,
	};
	struct session *s;

	if (max_ips <= 0) {
		if (why)
			*why = UNWIND_STOP_MAX;
		return 0;
	}
	s = session_get(u, pid);
	if (!s) {
		c.why = UNWIND_STOP_FAILED;
		goto out;
	}
	s->used = ++u->clock;
	if (!s->loaded_ns)
		session_load(u, s);
	if (s->attached && (s->cfi || (s->cfi = cfi_cache_new()))) {
		int m = fast_unwind(s->dwfl, s->cfi, regs, c.stack, c.len, ips, max_ips, &c.why,
				    &c.used);
		if (m >= 0) {
			c.n = m;
			u->st.fast++;
			if (verify_fast(u))
				check_fast(u, s, &c);
			goto out;
		}
	}
	walk(s, &c);
	/* A PC in no module: a library mapped since the last look. */
	if (c.why == UNWIND_STOP_NO_MODULE && unwind_now_ns() - s->loaded_ns >= UNWIND_RELOAD_NS) {
		u->st.reloads++;
		if (session_load(u, s) > 0)
			walk(s, &c);
	}
out:
	if (c.n == 0) {
		/* Whatever happened, the PC itself is known. */
		ips[0] = regs->ip;
		c.n = 1;
	}
	u->st.unwinds++;
	u->st.frames += (uint64_t)c.n;
	u->st.stopped[c.why]++;
	if (why)
		*why = c.why;
	if (used)
		*used = c.used;
	return c.n;
}

void unwinder_stats(const struct unwinder *u, struct unwind_stats *out)
{
	*out = u->st;
}
