// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The exit snapshot: the bpf FDs the process holds as it ends (and, when
 * it holds any or touched a pin, every pin under every bpffs), which the
 * report checks the journal's replay against.
 */
#include <string.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>
#include "journal_writer.h"
#include "shim.h"

/* How long the snapshot waits for hooks still on their way to the queue. */
#define INFLIGHT_WAIT_NS (50 * 1000000l)

void exitsnap_take(struct bpfleak_snapshot *snap, struct jw_snapshot_info *info)
{
	memset(snap, 0, sizeof(*snap));
	memset(info, 0, sizeof(*info));
	snap->pid = self.pid;
	record_scan_begin();
	info->ts_ns = shim_now_ns();
	/* Through this thread's own view: after pthread_exit, main is a zombie
	 * and /proc/PID/fd shows nothing, while the table lives on. */
	bpfleak_snapshot_fds_of(snap->pid, shim_tid(), snap);
	info->end_ns = shim_now_ns();
	record_scan_end();
	record_wait_inflight(INFLIGHT_WAIT_NS);
	info->reason = BPFLEAK_SNAP_EXIT;
	if (snap->n_fds > 0 || record_pins_touched()) {
		bpfleak_snapshot_pins_of(snap->pid, shim_tid(), snap);
		info->pins_walked = true;
	}
	if (snap->n_io_uring)
		record_note(BPFLEAK_NOTE_IO_URING, 0);
}
