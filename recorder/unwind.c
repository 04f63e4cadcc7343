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
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdio.h>
#include <unistd.h>
#include "unwind.h"
#include "unwind_fast.h"

#define X86_64_DWARF_RBP 6
#define X86_64_DWARF_RSP 7
#define X86_64_DWARF_RIP 16
#define X86_64_DWARF_NREGS 17

/* A read this far above the copy is still "the stack": the copy was too
 * short, not the walk wrong.  8 MiB is the default main-thread stack. */
#define STACK_WINDOW (8ull << 20)

/* One unwind in progress: what the callbacks answer from. */
struct capture {
	const struct unwind_regs *regs;
	const unsigned char *stack;
	size_t len;
	bool wanted_beyond;          /* asked for stack past the copy */
	bool read_failed;            /* any word we could not give */
	size_t used;                 /* bytes of the copy up to the highest word read */
	uint64_t *ips;
	int max, n;
	uint64_t last_pc, last_sp;
	bool last_sp_known;          /* last_sp is the previous frame's */
	enum unwind_stop why;
	bool stopped;                /* the frame callback decided why */
};

struct known_module {
	uint64_t inode, base, start, end;
};

/* Everything about one pid. */
struct session {
	pid_t pid;
	Dwfl *dwfl;                  /* NULL until a module is known */
	bool attached;               /* dwfl_attach_state done */
	struct known_module *mods;
	size_t n_mods, cap_mods;
	uint64_t loaded_ns;          /* last read of /proc/PID/maps; 0 never */
	uint64_t used;               /* LRU clock */
	struct capture *cur;
	struct cfi_cache *cfi;       /* the fast path's rules (unwind_fast.c); NULL until used */
};

/* Sessions are allocated one by one: libdwfl keeps a pointer to each (the
 * dwfl_arg of its callbacks), so they never move. */
struct unwinder {
	struct session **s;
	size_t n;
	uint64_t clock;
	struct unwind_stats st;
	int verify;                  /* check the fast path: 1 on, 0 off, -1 BPFLEAK_UNWIND_VERIFY */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------- libdwfl hooks */

/* Modules are reported with their open file, so libdwfl never looks for an
 * ELF by name; and unwinding needs only the CFI in the file itself (.eh_frame,
 * or .debug_frame in Go binaries): no debuginfo search, no debuginfod. */
static int no_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		  char **file_name, Elf **elfp)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)elfp;
	return -1;
}

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
	(void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
	return -1;
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = no_elf,
	.find_debuginfo = no_debuginfo,
};

/* Threads are not enumerated: dwfl_getthread_frames asks for one by id. */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl, (void)arg, (void)thread_argp;
	return 0;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl, (void)tid;
	*thread_argp = arg;
	return true;
}

/*
 * A word of the target's memory that is not on the captured stack: only
 * from a segment the process cannot have changed (not PF_W), whose bytes are
 * therefore the file's.  Writable data differs from the file once relocated
 * or written, and a wrong word would send the walk astray.
 */
static bool read_module_word(Dwfl *dwfl, uint64_t addr, Dwarf_Word *out)
{
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
	Dwarf_Addr bias;
	Elf *elf;
	size_t phnum, raw_size;
	char *raw;

	if (!mod || !(elf = dwfl_module_getelf(mod, &bias)) || elf_getphdrnum(elf, &phnum) ||
	    !(raw = elf_rawfile(elf, &raw_size)))
		return false;
	uint64_t vaddr = addr - bias;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || (ph.p_flags & PF_W))
			continue;
		if (vaddr < ph.p_vaddr || ph.p_filesz < sizeof(*out) ||
		    vaddr - ph.p_vaddr > ph.p_filesz - sizeof(*out))
			continue;
		uint64_t off = ph.p_offset + (vaddr - ph.p_vaddr);
		if (off > raw_size || raw_size - off < sizeof(*out))
			return false;
		memcpy(out, raw + off, sizeof(*out));
		return true;
	}
	return false;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct session *s = arg;
	struct capture *c = s->cur;
	uint64_t sp;

	if (!c)
		return false;
	sp = c->regs->sp;
	if (addr >= sp && c->len >= sizeof(*result) && addr - sp <= c->len - sizeof(*result)) {
		memcpy(result, c->stack + (addr - sp), sizeof(*result));
		if (addr - sp + sizeof(*result) > c->used)
			c->used = addr - sp + sizeof(*result);
		return true;
	}
	if (read_module_word(dwfl, addr, result))
		return true;
	c->read_failed = true;
	if (addr >= sp && addr - sp < STACK_WINDOW)
		c->wanted_beyond = true;
	return false;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct session *s = arg;
	const struct unwind_regs *r = s->cur->regs;
	Dwarf_Word w[X86_64_DWARF_NREGS];

	for (int i = 0; i < X86_64_DWARF_NREGS; i++)
		w[i] = r->regs[i];
	w[X86_64_DWARF_RBP] = r->bp;
	w[X86_64_DWARF_RSP] = r->sp;
	w[X86_64_DWARF_RIP] = r->ip;
	return dwfl_thread_state_registers(thread, 0, X86_64_DWARF_NREGS, w);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* ------------------------------------------------------------ sessions */

static void session_clear(struct session *s)
{
	if (s->dwfl)
		dwfl_end(s->dwfl);
	s->dwfl = NULL;
	s->attached = false;
	s->n_mods = 0;
	cfi_cache_clear(s->cfi);
}

static void session_free(struct session *s)
{
	session_clear(s);
	cfi_cache_free(s->cfi);
	free(s->mods);
	free(s);
}

/* Remove u->s[i], filling its slot with the last one. */
static void session_remove(struct unwinder *u, size_t i)
{
	session_free(u->s[i]);
	u->s[i] = u->s[--u->n];
}

static struct session *session_find(struct unwinder *u, pid_t pid)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->s[i]->pid == pid)
			return u->s[i];
	return NULL;
}

/* The session of pid, made (empty) if there is none; the least recently
 * used one gives way when the table is full.  NULL on out of memory. */
static struct session *session_get(struct unwinder *u, pid_t pid)
{
	struct session *s = session_find(u, pid);

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (u->n == UNWIND_MAX_PIDS) {
		size_t lru = 0;

		for (size_t i = 1; i < u->n; i++)
			if (u->s[i]->used < u->s[lru]->used)
				lru = i;
		session_remove(u, lru);
		u->st.evictions++;
	}
	s->pid = pid;
	u->s[u->n++] = s;
	return s;
}

static const struct known_module *known_find(const struct session *s,
					      const struct procmap_module *m)
{
	for (size_t i = 0; i < s->n_mods; i++)
		if (s->mods[i].inode == m->inode && s->mods[i].base == m->base)
			return &s->mods[i];
	return NULL;
}

static bool known_overlaps(const struct session *s, const struct procmap_module *m)
{
	for (size_t i = 0; i < s->n_mods; i++)
		if (m->start < s->mods[i].end && s->mods[i].start < m->end)
			return true;
	return false;
}

static int known_add(struct session *s, const struct procmap_module *m)
{
	if (s->n_mods == s->cap_mods) {
		size_t ncap = s->cap_mods ? 2 * s->cap_mods : 16;
		struct known_module *nm = realloc(s->mods, ncap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		s->mods = nm;
		s->cap_mods = ncap;
	}
	s->mods[s->n_mods++] = (struct known_module){
		.inode = m->inode, .base = m->base, .start = m->start, .end = m->end,
	};
	return 0;
}

/*
 * Report the modules of mods[] that s does not know yet.  mods[] is the
 * whole current map: a new module over the range of a known one means the
 * process unmapped something and mapped another file there (dlclose then
 * dlopen), so the session starts over from mods[] alone.
 */
static int session_add(struct session *s, struct procmap_module *mods, size_t n)
{
	bool reset = false;
	int rc = 0;

	for (size_t i = 0; i < n && !reset; i++)
		reset = !known_find(s, &mods[i]) && known_overlaps(s, &mods[i]);
	if (reset)
		session_clear(s);
	if (!s->dwfl) {
		s->dwfl = dwfl_begin(&dwfl_callbacks);
		if (!s->dwfl)
			return -ENOMEM;
	}
	dwfl_report_begin_add(s->dwfl);
	for (size_t i = 0; i < n; i++) {
		struct procmap_module *m = &mods[i];
		int fd;

		if (known_find(s, m))
			continue;
		fd = m->fd >= 0 ? m->fd : procmaps_open(s->pid, m);
		if (fd < 0)
			continue;
		m->fd = -1;
		/* add_p_vaddr: base is the load bias (ignored for ET_EXEC).
		 * On success libdwfl owns fd; on failure we still do. */
		if (!dwfl_report_elf(s->dwfl, m->path, m->path, fd, m->base, true)) {
			close(fd);
			continue;
		}
		rc = known_add(s, m);
		if (rc)
			break;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (rc == 0 && !s->attached && s->n_mods > 0) {
		/* NULL ELF: the backend (x86_64) comes from a module. */
		if (!dwfl_attach_state(s->dwfl, NULL, s->pid, &thread_callbacks, s))
			return -EINVAL;
		s->attached = true;
	}
	return rc ? rc : (int)s->n_mods;
}

static int session_load(struct unwinder *u, struct session *s)
{
	struct procmap_module *mods;
	size_t n;
	int rc;

	s->loaded_ns = now_ns();
	u->st.loads++;
	rc = procmaps_read_open(s->pid, &mods, &n);
	if (rc)
		return rc;
	rc = session_add(s, mods, n);
	procmaps_free(mods, n);
	return rc;
}

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
		s->loaded_ns = now_ns();
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
	if (c.why == UNWIND_STOP_NO_MODULE && now_ns() - s->loaded_ns >= UNWIND_RELOAD_NS) {
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

/* ------------------------------------------------- process-wide default */

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static struct unwinder *default_unwinder;

static struct unwinder *default_get(void)
{
	if (!default_unwinder)
		default_unwinder = unwinder_new();
	return default_unwinder;
}

int unwind_user_stack_why(pid_t pid, const struct unwind_regs *regs, const void *stack,
			  size_t stack_len, uint64_t *ips, int max_ips, enum unwind_stop *why)
{
	return unwind_user_stack_used(pid, regs, stack, stack_len, ips, max_ips, why, NULL);
}

int unwind_user_stack_used(pid_t pid, const struct unwind_regs *regs, const void *stack,
			   size_t stack_len, uint64_t *ips, int max_ips, enum unwind_stop *why,
			   size_t *used)
{
	struct unwinder *u;
	int n;

	if (used)
		*used = 0;
	if (max_ips <= 0) {
		if (why)
			*why = UNWIND_STOP_MAX;
		return 0;
	}
	pthread_mutex_lock(&default_lock);
	u = default_get();
	if (u) {
		n = unwinder_unwind_used(u, pid, regs, stack, stack_len, ips, max_ips, why, used);
	} else {
		ips[0] = regs->ip;
		n = 1;
		if (why)
			*why = UNWIND_STOP_FAILED;
	}
	pthread_mutex_unlock(&default_lock);
	return n;
}

int unwind_user_stack(pid_t pid, const struct unwind_regs *regs, const void *stack,
		      size_t stack_len, uint64_t *ips, int max_ips)
{
	return unwind_user_stack_why(pid, regs, stack, stack_len, ips, max_ips, NULL);
}

int unwind_load_pid(pid_t pid)
{
	struct unwinder *u;
	int rc = -ENOMEM;

	pthread_mutex_lock(&default_lock);
	u = default_get();
	if (u)
		rc = unwinder_load_pid(u, pid);
	pthread_mutex_unlock(&default_lock);
	return rc;
}

int unwind_add_modules(pid_t pid, struct procmap_module *mods, size_t n)
{
	struct unwinder *u;
	int rc = -ENOMEM;

	pthread_mutex_lock(&default_lock);
	u = default_get();
	if (u)
		rc = unwinder_add_modules(u, pid, mods, n);
	pthread_mutex_unlock(&default_lock);
	return rc;
}

void unwind_forget(pid_t pid)
{
	pthread_mutex_lock(&default_lock);
	if (default_unwinder)
		unwinder_forget(default_unwinder, pid);
	pthread_mutex_unlock(&default_lock);
}

void unwind_shutdown(void)
{
	pthread_mutex_lock(&default_lock);
	unwinder_free(default_unwinder);
	default_unwinder = NULL;
	pthread_mutex_unlock(&default_lock);
}
