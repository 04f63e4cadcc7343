// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* sigclose: close() in a signal handler while main is inside a create. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "host_hostile.h"

static _Atomic int stop_flag;

#define SIGQ 4096
static int sig_fds[SIGQ];
static volatile sig_atomic_t sig_head, sig_tail;   /* main pushes, handler pops */
static volatile sig_atomic_t in_create;
static volatile long sig_closed, sig_closed_in_create, sig_close_errors, sig_calls;

static void on_sigusr1(int sig)
{
	(void)sig;
	int saved = errno;
	sig_calls++;
	if (sig_tail != sig_head) {
		int fd = sig_fds[sig_tail % SIGQ];
		sig_tail++;
		if (close(fd) != 0)
			sig_close_errors++;
		sig_closed++;
		if (in_create)
			sig_closed_in_create++;
	}
	errno = saved;
}

static pthread_t main_thread;

static void *signaller_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_flag)) {
		pthread_kill(main_thread, SIGUSR1);
		for (volatile int i = 0; i < 300; i++)
			;
	}
	return NULL;
}

static int mode_sigclose(long n, long min_in_create)
{
	raise_nofile(SIGQ + 256);
	int anchor = make_map("hl_sig_anchor");
	if (anchor < 0)
		die("anchor");
	uint32_t anchor_id = map_id_of(anchor);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	pthread_t sig_th;
	if (pthread_create(&sig_th, NULL, signaller_main, NULL))
		die("pthread_create");

	long main_closed = 0, made = 0;
	/*
	 * At least n creates, and on until min_in_create handler closes have
	 * landed inside a create (the scheduler decides how often the
	 * signaller runs), within 50 * n creates.
	 */
	for (long i = 0; i < n || (sig_closed_in_create < min_in_create && i < 50 * n); i++) {
		made++;
		in_create = 1;
		int fd = (i % 4 == 0) ? make_map("hl_sig") : bpf_map_get_fd_by_id(anchor_id);
		in_create = 0;
		if (fd < 0) {
			CHECK(0, "create: %s", strerror(errno));
			continue;
		}
		if (sig_head - sig_tail < SIGQ - 1) {
			sig_fds[sig_head % SIGQ] = fd;
			sig_head++;
		} else {
			CHECK(close(fd) == 0, "main close: %s", strerror(errno));
			main_closed++;
		}
	}
	atomic_store(&stop_flag, 1);
	pthread_join(sig_th, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* What the handler did not get to: close all but three. */
	struct belief b[4];
	int nb = 0;
	b[nb++] = (struct belief){ anchor, anchor_id };
	while (sig_tail != sig_head) {
		int fd = sig_fds[sig_tail % SIGQ];
		sig_tail++;
		if (nb < 4) {
			b[nb++] = (struct belief){ fd, map_id_of(fd) };
			continue;
		}
		CHECK(close(fd) == 0, "main close: %s", strerror(errno));
		main_closed++;
	}
	CHECK(sig_close_errors == 0, "%ld closes in the handler failed", sig_close_errors);
	CHECK(sig_closed_in_create >= min_in_create, "only %ld handler closes inside a create in %ld"
	      " creates (wanted %ld)", (long)sig_closed_in_create, made, min_in_create);
	report_open(b, (size_t)nb);
	out("creates %ld", made);
	out("signals %ld", sig_calls);
	out("handler_closes %ld", sig_closed);
	out("handler_closes_in_create %ld", sig_closed_in_create);
	out("main_closes %ld", main_closed);
	out("errors %ld", atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

static int run(int argc, char **argv)
{
	return mode_sigclose(atol(argv[0]), argc > 1 ? atol(argv[1]) : 200);
}

const struct hostile_mode sigclose_mode = { "sigclose", 1, "N [MIN_CLOSES_IN_CREATE]", run };
