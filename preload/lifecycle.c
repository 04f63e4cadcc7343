// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The life of the shim in a process: loaded dormant, activated by the
 * first bpf FD, carried over fork, exec and exit.
 *
 * Dormant costs the host nothing it can notice: no file, no thread, no
 * unwinder.  Activation (the first bpf FD, or bpf FDs found at exit) lists
 * the bpf FDs already held, starts the unwinder and the writer; the writer
 * creates the journal.  A fork child starts dormant too, with the parent's
 * FD table: it is journaled only once it does something with a bpf FD.
 *
 * Unit tests link every other object of the shim, but not this one or
 * interpose.c.
 */
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "jwapi.h"
#include "shim.h"
#include "unwinder.h"

static _Atomic pid_t activating_tid;

/* How long exit paths wait for the writer before letting the process go. */
#define EXIT_WAIT_NS (5 * 1000000000l)
#define UNDERSCORE_EXIT_WAIT_NS (500 * 1000000l)
#define EXEC_WAIT_NS (1000 * 1000000l)
/* Events the queue holds; mapped when recording starts, paid for as it fills. */
#define QUEUE_EVENTS 32768

/*
 * The heavy part of activation, never on a small signal stack: the bpf FDs
 * held already (a fork child's are checked against its own FD table), the
 * module map, the unwinder, the writer.
 */
static void setup(bool at_exit, int new_fd)
{
	if (!writer_prepare_journal())
		return;
	if (self.from_fork)
		hooks_list_fork_child(new_fd);
	else   /* found only at exit: made where the shim could not see */
		hooks_list_held(at_exit ? "exit" : "start", new_fd);
	self.from_fork = false;
	modules_refresh();
	if (at_exit)
		return;   /* the exit path writes inline: no stacks, no thread */
	ownfds_start_unwinder();
	writer_start();
}

/*
 * What recording needs from other libraries, loaded before other threads
 * are made to wait in ACTIVATING: dlopen takes the loader's lock, and a
 * thread that holds it (in dlopen, making a bpf FD in a library's
 * constructor) would wait here for us while we waited for it.  Failures
 * are reported by the set-up, which asks again.
 */
static void load_recording_libraries(void)
{
	if (shim_state_now() != SHIM_DORMANT || sigstack_on_alt())
		return;
	char why[300];
	journal_writer_load(why, sizeof(why));
	unwinder_load(why, sizeof(why));
}

bool lifecycle_activate(bool at_exit, int new_fd)
{
	load_recording_libraries();
	int expected = SHIM_DORMANT;
	if (!atomic_compare_exchange_strong(&shim_state, &expected, SHIM_ACTIVATING)) {
		/* A signal handler on the activating thread must not wait for itself. */
		if (expected == SHIM_ACTIVATING && atomic_load(&activating_tid) != shim_tid())
			while (shim_state_now() == SHIM_ACTIVATING)
				sched_yield();
		return shim_state_now() == SHIM_ACTIVE;
	}
	atomic_store(&activating_tid, shim_tid());
	shim_guard++;
	shim_internal++;
	/* Other threads wait in ACTIVATING: the list of held FDs must not race
	 * their creates and closes. */
	bool defer = !at_exit && sigstack_on_alt();
	/* The queue first, even on a signal stack: events wait there for the set-up. */
	if (!queue_init(QUEUE_EVENTS))
		shim_fail("out of memory for the event queue");
	else if (!defer)
		setup(at_exit, new_fd);
	atomic_store(&shim_setup_pending, defer);
	expected = SHIM_ACTIVATING;   /* unless set-up failed open */
	atomic_compare_exchange_strong(&shim_state, &expected, SHIM_ACTIVE);
	shim_internal--;
	shim_guard--;
	return shim_state_now() == SHIM_ACTIVE;
}

/* record_begin() on an active process whose set-up was deferred. */
void lifecycle_finish_setup(int new_fd)
{
	if (sigstack_on_alt())
		return;
	if (atomic_load(&shim_setup_pending)) {   /* as in lifecycle_activate */
		char why[300];
		journal_writer_load(why, sizeof(why));
		unwinder_load(why, sizeof(why));
	}
	int expected = SHIM_ACTIVE;
	if (!atomic_compare_exchange_strong(&shim_state, &expected, SHIM_ACTIVATING))
		return;
	if (atomic_exchange(&shim_setup_pending, 0)) {
		atomic_store(&activating_tid, shim_tid());
		shim_guard++;
		shim_internal++;
		setup(false, new_fd);
		shim_internal--;
		shim_guard--;
	}
	expected = SHIM_ACTIVATING;
	atomic_compare_exchange_strong(&shim_state, &expected, SHIM_ACTIVE);
}

/* ---- fork ---- */

/*
 * Said before a child starts with copies of our FDs: the child is
 * journaled only once it touches a bpf FD, maybe hours later, and until
 * then nothing else in the journal marks the moment it took them, which
 * folding must not fold across (common/journal_fold.c).
 */
void lifecycle_child_coming(void)
{
	if (!shim_foreign && !shim_guard)
		record_note(BPFLEAK_NOTE_CHILD, 0);
}

/*
 * Nothing the child will need may be held by a thread that does not exist
 * there: the writer's mutex (an open sqlite connection), the module list
 * (the loader's lock), the unwinder (its global mutex).
 */
static void on_fork_prepare(void)
{
	if (shim_state_now() != SHIM_ACTIVE)
		return;
	lifecycle_child_coming();
	writer_fork_prepare();
	modules_fork_prepare();
	stack_fork_prepare();
}

static void on_fork_parent(void)
{
	if (shim_state_now() != SHIM_ACTIVE)
		return;
	stack_fork_done(false);
	modules_fork_parent();
	writer_fork_parent();
}

void lifecycle_fork_child(void)
{
	int state = shim_state_now();
	arena_after_fork_child();
	self_after_fork_child();
	if (state != SHIM_ACTIVE && state != SHIM_ACTIVATING) {
		self.from_fork = false;
		return;
	}
	queue_after_fork_child();
	stack_fork_done(true);
	modules_after_fork_child();
	writer_fork_child();
	/* The child is journaled once it does something with a bpf FD. */
	atomic_store(&shim_setup_pending, 0);
	atomic_store(&shim_state, SHIM_DORMANT);
}

/* ---- exec, exit ---- */

void lifecycle_before_exec(const char *path)
{
	if (shim_foreign || shim_guard || shim_state_now() != SHIM_ACTIVE)
		return;
	shim_guard++;
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_EXEC, shim_now_ns());
	ev.flags = BPFLEAK_EF_BEFORE_EXEC;
	ev.detail = path ? arena_strdup(path, 4096) : NULL;
	record_submit(&ev);
	writer_flush(EXEC_WAIT_NS);
	shim_guard--;
}

void lifecycle_exit_now(int status)
{
	if (shim_foreign || shim_state_now() != SHIM_ACTIVE)
		return;
	writer_set_exit_status(status);
	if (writer_is_self())
		return;
	if (!writer_exit(UNDERSCORE_EXIT_WAIT_NS, true))
		shim_warn("_exit: the writer did not finish in time; the last events are not in %s",
			  shim_cfg.journal);
}

void lifecycle_main_thread_exit(void)
{
	if (shim_tid() == self.pid && shim_state_now() == SHIM_ACTIVE)
		writer_main_exited();
}

/*
 * A thread of a multi-threaded process got its own FD table: what it opens
 * and closes from now on is not the table the shim tracks (nor the one
 * /proc/PID/fd shows).  Its operations pass through, and the journal says
 * so, rather than let its closes contradict the shared table.
 */
void lifecycle_unshare_files(void)
{
	size_t len = 0;
	char *stat = bpfleak_read_file("/proc/self/stat", &len);
	int threads = 1;
	if (stat) {
		char *p = strrchr(stat, ')');
		for (int field = 2; p && field < 20; field++)
			p = strchr(p + 1, ' ');
		if (p)
			threads = atoi(p + 1);
		free(stat);
	}
	/* Writer thread included: alone with it, nothing was shared. */
	if (threads <= 1 + (writer_running() ? 1 : 0))
		return;
	if (shim_tid() == self.pid) {
		record_note(BPFLEAK_NOTE_PRIVATE_MAIN, shim_tid());
	} else {
		record_note(BPFLEAK_NOTE_UNSHARE, shim_tid());
		shim_foreign++;
	}
}

/* ---- start and end ---- */

/* Go binaries carry a "Go" build-id note; their runtime calls the kernel
 * directly, so the shim sees none of their bpf FDs. */
static int main_is_go(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof(*nh);
			size_t name_sz = (nh->n_namesz + 3) & ~3u, desc_sz = (nh->n_descsz + 3) & ~3u;
			if (name + name_sz + desc_sz > end)
				break;
			/* Go's linker pads the name: n_namesz is 4 for "Go\0\0". */
			if ((nh->n_namesz == 3 || nh->n_namesz == 4) && !memcmp(name, "Go", 3) &&
			    nh->n_type == 4)
				*(bool *)ctx = true;
			p = name + name_sz + desc_sz;
		}
	}
	return 1;   /* the first entry is the main program */
}

__attribute__((constructor)) static void shim_init(void)
{
	real_resolve();
	log_init();
	config_load();
	self_init();
	hooks_init();
	pthread_atfork(on_fork_prepare, on_fork_parent, lifecycle_fork_child);
	atomic_store(&shim_state, SHIM_DORMANT);
	bool go = false;
	dl_iterate_phdr(main_is_go, &go);
	if (go) {
		shim_warn("a Go program: its bpf calls bypass libc and the shim cannot see them; "
			  "use bpfleak run --tracer=kernel");
		if (lifecycle_activate(false, -1))
			record_note(BPFLEAK_NOTE_GO, 0);
	}
}

__attribute__((destructor)) static void shim_fini(void)
{
	if (shim_foreign || raw_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0) != self.pid)
		return;
	int state = shim_state_now();
	/* A fork child that never touched a bpf FD leaves no trace; a process
	 * that holds bpf FDs it never saw made is journaled, for what it holds. */
	if (state == SHIM_DORMANT && !self.from_fork && heldscan_any_bpf_fd())
		state = lifecycle_activate(true, -1) ? SHIM_ACTIVE : SHIM_DISABLED;
	if (state != SHIM_ACTIVE)
		return;
	shim_guard++;
	/* A writer that does not answer in time is not waited for further:
	 * the host's exit matters more than the journal's last batch. */
	if (writer_is_self() || !writer_running())
		writer_exit_inline(false);
	else
		writer_exit(EXIT_WAIT_NS, false);
	shim_guard--;
}
