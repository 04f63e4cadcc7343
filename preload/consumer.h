/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * What the FD hooks (hooks_fd.c) ask of the journal's side of the shim:
 * the writer and the journal are reached from the hooks through these
 * alone.  The journal keeps files open (sqlite's, the turn lock) as owned
 * FDs (ownfds.c); a hook that changes the FD table around them holds them
 * still first.
 */
#ifndef BPFLEAK_CONSUMER_H
#define BPFLEAK_CONSUMER_H

/* No journal file is opened or closed until consumer_release_files(). */
void consumer_hold_files(void);
void consumer_release_files(void);
/* The host dup2s onto one of the journal's FDs (files held): the number is the host's. */
void consumer_give_up_fd(int fd);

#endif
