// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* How daemons end: pthread_exit from main, _exit on SIGTERM, exit with a
 * busy thread, SIGKILL after a start-up burst, stderr reopened. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host_trust.h"

static void *worker(void *arg)
{
	int fd = trust_map("tr_worker");
	if (fd < 0)
		trust_die("worker map");
	trust_sleep_ms((long)(intptr_t)arg);
	return NULL;   /* the map stays open: it is in the exit snapshot */
}

/* main() leaves with pthread_exit while two workers still run. */
static int pthread_exit_mode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (trust_map("tr_main") < 0)
		trust_die("map");
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)(150 + 50 * i)))
			trust_die("pthread_create");
	out("pid %d", (int)getpid());
	pthread_exit(NULL);
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

/* SIGTERM's handler calls _exit while main is deep in malloc. */
static int sigterm_exit_mode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	if (trust_map("tr_term") < 0)
		trust_die("map");
	out("ready %d", (int)getpid());
	for (unsigned long i = 0;; i++) {
		void *p[16];
		for (int k = 0; k < 16; k++)
			p[k] = malloc(16 + (i * 7 + (unsigned long)k * 131) % 8192);
		for (int k = 0; k < 16; k++)
			free(p[k]);
		if (i % 512 == 0)
			close(trust_map("tr_term_churn"));
	}
}

static _Atomic int stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int fd = trust_map("tr_churn");
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* exit() in main while another thread creates and closes as fast as it can. */
static int exit_churn_mode(int argc, char **argv)
{
	long ms = argc > 0 ? atol(argv[0]) : 30;
	int a = trust_map("tr_keep_a"), b = trust_map("tr_keep_b");
	if (a < 0 || b < 0)
		trust_die("map");
	pthread_t t;
	if (pthread_create(&t, NULL, churn, NULL))
		trust_die("pthread_create");
	trust_sleep_ms(ms);
	out("exit");
	exit(0);
}

/* Three maps at once, then nothing until SIGKILL (runqlat-like). */
static int burst_idle_mode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < 3; i++)
		if (trust_map("tr_burst") < 0)
			trust_die("map");
	out("ready %d", (int)getpid());
	for (;;)
		pause();
}

/* stderr closed, a data file opened in its place (it gets fd 2). */
static int stderr_reuse_mode(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	int a = trust_map("tr_stderr");
	if (a < 0)
		trust_die("map");
	close(2);
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd != 2) {
		out("data_fd %d", fd);
		return 1;
	}
	if (write(fd, "data\n", 5) != 5)
		return 1;
	close(trust_map("tr_stderr2"));
	out("data_fd %d", fd);
	exit(0);   /* the shim's closing line would come now */
}

const struct trust_mode trust_exit_modes[] = {
	{ "pthread-exit", "", pthread_exit_mode },
	{ "sigterm-exit", "", sigterm_exit_mode },
	{ "exit-churn", "[MS]", exit_churn_mode },
	{ "burst-idle", "", burst_idle_mode },
	{ "stderr-reuse", "DATAFILE", stderr_reuse_mode },
	{ NULL, NULL, NULL },
};
