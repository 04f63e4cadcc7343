// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The process-wide unwinder behind unwind_user_stack() and friends
 * (unwind.h): one struct unwinder, made on first use, behind a mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include "unwind.h"

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
