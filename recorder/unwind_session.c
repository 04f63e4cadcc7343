// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The unwinder's per-pid sessions (unwind_session.h): a Dwfl whose
 * modules are the process's mapped files, reported as they are found, and
 * whose process state is "attached" with our own callbacks, so libdwfl
 * asks us for the initial registers and every memory word it needs, and
 * we answer from the captured copy of the stack (struct capture).
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "unwind_session.h"

uint64_t unwind_now_ns(void)
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

void session_free(struct session *s)
{
	session_clear(s);
	cfi_cache_free(s->cfi);
	free(s->mods);
	free(s);
}

void session_remove(struct unwinder *u, size_t i)
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

struct session *session_get(struct unwinder *u, pid_t pid)
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
int session_add(struct session *s, struct procmap_module *mods, size_t n)
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

int session_load(struct unwinder *u, struct session *s)
{
	struct procmap_module *mods;
	size_t n;
	int rc;

	s->loaded_ns = unwind_now_ns();
	u->st.loads++;
	rc = procmaps_read_open(s->pid, &mods, &n);
	if (rc)
		return rc;
	rc = session_add(s, mods, n);
	procmaps_free(mods, n);
	return rc;
}
