/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The writer thread's side of requests (writer_requests.c): how it sleeps,
 * learns what other threads asked for, and tells them it is done.  The
 * asking side (writer_flush, writer_exit, ...) is declared in shim.h.
 */
#ifndef BPFLEAK_WRITER_REQUESTS_H
#define BPFLEAK_WRITER_REQUESTS_H

#include <stdbool.h>
#include <stdint.h>

/* Sleep until kicked, or ns at most. */
void requests_wait(long ns);
/* Tickets handed out so far; requests_done(t) once they are written. */
uint32_t requests_taken(void);
void requests_done(uint32_t tickets);
/* 0 none, 1 exit, 2 _exit. */
int requests_exit_kind(void);
/* The status exit() was called with, if it was. */
bool requests_exit_status(int *status);
bool requests_main_exited(void);
/* bpfleak-report --pid touched JOURNAL-flush since the last look. */
bool requests_flush_file_touched(void);
void requests_after_fork_child(void);

#endif
