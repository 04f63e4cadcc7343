// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The one seam between the hooks and everything behind them.  A hook asks
 * record_begin() before it records (that is where a dormant process starts
 * recording), hands its event to record_submit(), and brackets its system
 * call with record_mark()/record_overlap() so the replay can tell an event
 * that raced the exit snapshot's scan of the FD table.
 */
#include <sched.h>
#include <string.h>
#include <bpfleak/journal.h>
#include "shim.h"

/* Odd while a snapshot scans the FD table. */
static _Atomic uint64_t scan_epoch;
static _Atomic int pins_touched;
static _Atomic uint32_t unrecorded;

/* A bpf() call on a signal stack too small to record it. */
void record_unrecorded(void)
{
	atomic_fetch_add_explicit(&unrecorded, 1, memory_order_relaxed);
}

uint32_t record_take_unrecorded(void)
{
	return atomic_exchange(&unrecorded, 0);
}

/*
 * Hooks between record_mark() and record_release(), sharded by thread so
 * that threads creating at once do not share one cache line.  The exit
 * snapshot waits until none is left from before the end of its scan: a
 * close done before the scan but queued after the last drain would make
 * the journal disagree with the snapshot.
 */
#define INFLIGHT_SHARDS 16
static struct {
	_Atomic uint32_t n;
	char pad[60];
} inflight[INFLIGHT_SHARDS];

uint64_t record_mark(void)
{
	atomic_fetch_add_explicit(&inflight[shim_tid() % INFLIGHT_SHARDS].n, 1, memory_order_seq_cst);
	return atomic_load(&scan_epoch);
}

void record_release(void)
{
	atomic_fetch_sub_explicit(&inflight[shim_tid() % INFLIGHT_SHARDS].n, 1, memory_order_release);
}

/* After a scan: the hooks running at its end have queued their events. */
void record_wait_inflight(long max_ns)
{
	uint64_t start = shim_now_ns();
	uint32_t self_count = 0;
	for (;;) {
		uint32_t n = 0;
		for (int i = 0; i < INFLIGHT_SHARDS; i++)
			n += atomic_load_explicit(&inflight[i].n, memory_order_acquire);
		/* The caller's own hook (an exit from inside one) never ends here. */
		if (n <= self_count || shim_now_ns() - start > (uint64_t)max_ns)
			return;
		sched_yield();
	}
}

bool record_overlap(uint64_t mark)
{
	return (mark & 1) || atomic_load(&scan_epoch) != mark;
}

void record_scan_begin(void)
{
	atomic_fetch_add(&scan_epoch, 1);
}

void record_scan_end(void)
{
	atomic_fetch_add(&scan_epoch, 1);
}

void record_touched_pins(void)
{
	atomic_store_explicit(&pins_touched, 1, memory_order_relaxed);
}

bool record_pins_touched(void)
{
	return atomic_load(&pins_touched) != 0;
}

bool record_begin(int new_fd)
{
	int state = shim_state_now();
	if (state == SHIM_ACTIVE) {
		if (__builtin_expect(atomic_load_explicit(&shim_setup_pending, memory_order_relaxed), 0))
			lifecycle_finish_setup(new_fd);
		return !shim_foreign;
	}
	if (shim_foreign || (state != SHIM_DORMANT && state != SHIM_ACTIVATING))
		return false;
	return lifecycle_activate(false, new_fd);
}

void record_submit(const struct shim_event *ev)
{
	queue_push(ev);
	size_t depth = queue_depth(), cap = queue_capacity();
	if (depth > cap / 4) {
		writer_kick();
		/*
		 * Nearly full: give the CPU to the writer for a moment rather
		 * than drop events.  A yield never blocks; on an idle core it
		 * returns at once.
		 */
		if (depth > cap - cap / 4)
			sched_yield();
	}
}

void record_note(int note, int fd2)
{
	if (shim_state_now() != SHIM_ACTIVE)
		return;
	struct shim_event ev;
	event_init(&ev, BPFLEAK_OP_NOTE, shim_now_ns());
	ev.fd2 = fd2;
	ev.detail = bpfleak_note_name(note);
	record_submit(&ev);
}

void event_init(struct shim_event *ev, int op, uint64_t ts_ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->op = (uint8_t)op;
	ev->ts_ns = ts_ns;
	ev->pid = shim_pid();
	ev->tid = shim_tid();
	ev->cmd = -1;
}
