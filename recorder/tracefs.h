/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
#ifndef BPFLEAK_RECORDER_TRACEFS_H
#define BPFLEAK_RECORDER_TRACEFS_H
#include <stddef.h>
/* Make sure tracefs is mounted (at /sys/kernel/tracing when it is not). 0 or -1 + err. */
int tracefs_ensure(char *err, size_t errcap);
#endif
