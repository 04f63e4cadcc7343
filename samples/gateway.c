// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * gateway: the bpfleak sample.  A small XDP gateway on libbpf: it loads
 * samples/gateway.bpf.c, pins its maps and programs under --pin-dir, fills
 * the ACL maps, attaches to --ifname and then ticks: each tick it sends
 * probe datagrams through the datapath and reads the per-source accounting
 * back (loader.h lists the files that do each part).
 *
 * This file carries the two eBPF FD leaks that gateway engineers really
 * write, on lines marked "LEAK:" (the tests find their line numbers with
 * grep):
 *
 *   reload  acl_reload() re-opens the pinned ACL maps with bpf_obj_get() on
 *           every SIGHUP (and --reloads N) and never closes them: one FD per
 *           map per reload.
 *   lookup  stats_poll() opens the delay map by kernel ID with
 *           bpf_map_get_fd_by_id() on every tick and never closes it: one FD
 *           per tick.
 *
 * --no-leak runs the same code and closes those FDs.  Everything else is
 * released properly: on exit (after --ticks/--reloads, or on SIGINT/SIGTERM)
 * the gateway detaches from the interface, removes its pins, closes the
 * object and returns from main, so an LD_PRELOAD recorder's exit snapshot
 * sees exactly the leaked FDs still open.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "loader.h"

/* The ACL maps a reload re-opens through their pins, in M_* order. */
static const char *const acl_map_names[M_N] = {
	"global_ep", "acl_progs", "delay", "delay_cidr",
};

/*
 * Reload: re-read the ACL and rewrite the pinned maps.  The reload reaches
 * the datapath by its pins, not through the skeleton's FDs, because that is
 * how a gateway's control plane finds a datapath it may not have loaded
 * itself (after an agent restart, or from a CLI).
 */
static int acl_reload(struct gw *gw, const struct options *o, const char *why)
{
	struct acl_conf *c;
	char path[PATH_MAX];
	int fd[M_N], rc = 0;

	c = malloc(sizeof(*c));
	if (!c) {
		err("reload: out of memory");
		return -ENOMEM;
	}
	if (acl_load_conf(o->acl_file, c)) {
		err("reload (%s): keeping the current ACL", why);
		free(c);
		return -EINVAL;
	}
	for (int i = 0; i < M_N; i++)
		fd[i] = -1;
	for (int i = 0; i < M_N; i++) {
		snprintf(path, sizeof(path), "%s/%s", gw->pin_dir, acl_map_names[i]);
		fd[i] = bpf_obj_get(path); /* LEAK: reload */
		if (fd[i] < 0) {
			rc = -errno;
			err("reload: cannot open pinned map %s: %s", path, strerror(errno));
			break;
		}
	}
	if (rc == 0)
		rc = acl_apply(gw, c, fd);
	if (rc == 0) {
		gw->n_reloads++;
		msg("reload %u (%s): %u endpoint(s), %u delay prefix(es)",
		    gw->n_reloads, why, c->n_ep, c->n_cidr);
	}
	/* The bug: without --no-leak these FDs are never closed. */
	if (o->no_leak)
		for (int i = 0; i < M_N; i++)
			if (fd[i] >= 0)
				close(fd[i]);
	free(c);
	return rc;
}

/*
 * The stats exporter: sum the per-source accounting.  Like many exporters
 * it keeps the map's kernel ID (what bpftool and the logs show, and what
 * survives the loader closing its FDs) and opens the map by ID every tick.
 */
static int stats_poll(struct gw *gw, const struct options *o, unsigned int tick)
{
	unsigned long long packets = 0, bytes = 0;
	unsigned int sources = 0;
	__u32 key, *prev = NULL;
	struct gw_delay d;
	int fd;

	fd = bpf_map_get_fd_by_id(gw->delay_map_id); /* LEAK: lookup */
	if (fd < 0) {
		err("tick %u: cannot open delay map id %u: %s", tick, gw->delay_map_id,
		    strerror(errno));
		return -errno;
	}
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		if (!bpf_map_lookup_elem(fd, &key, &d)) {
			sources++;
			packets += d.packets;
			bytes += d.bytes;
		}
		prev = &key;
	}
	if (gw->probe.tx >= 0)
		msg("tick %u: %u source(s), %llu packet(s), %llu byte(s) accounted;"
		    " probes: %u/%u delivered on pass, %u/%u dropped on drop",
		    tick, sources, packets, bytes, gw->probe.delivered, gw->probe.sent,
		    gw->probe.blocked, gw->probe.sent);
	else
		msg("tick %u: %u source(s), %llu packet(s), %llu byte(s) accounted",
		    tick, sources, packets, bytes);
	/* The bug: without --no-leak this FD is never closed. */
	if (o->no_leak)
		close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct gw gw = { .probe = { .tx = -1, .rx_pass = -1, .rx_drop = -1 } };
	struct itimerspec its = { 0 };
	unsigned int tick = 0, iterations;
	int sfd = -1, tfd = -1, rc;
	bool was_attached;
	sigset_t mask;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_libbpf(o.verbose);
	if (strlen(o.pin_dir) >= sizeof(gw.pin_dir)) {
		err("--pin-dir is too long");
		return 2;
	}
	strcpy(gw.pin_dir, o.pin_dir);
	/* Loops run only this many ticks; 0 = until a signal. */
	iterations = o.ticks > o.reloads ? o.ticks : o.reloads;

	/* Signals are read from a signalfd in the main loop, so a reload runs
	 * in normal context, not in a handler.  The gateway owns these three:
	 * a disposition of SIG_IGN inherited from the shell (background jobs,
	 * nohup) would discard them before the signalfd sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) ||
	    signal(SIGHUP, SIG_DFL) == SIG_ERR || signal(SIGINT, SIG_DFL) == SIG_ERR ||
	    signal(SIGTERM, SIG_DFL) == SIG_ERR ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    (tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0) {
		err("cannot set up signals and timer: %s", strerror(errno));
		rc = 1;
		goto out;
	}

	rc = 1;
	if (gw_setup(&gw, &o))
		goto out;
	if (o.probe && probe_open(&gw.probe))
		goto out;
	if (iterations)
		msg("ready: %u tick(s) of %u ms, %u reload(s)", iterations, o.interval_ms,
		    o.reloads);
	else
		msg("ready: a tick every %u ms until SIGINT/SIGTERM; SIGHUP reloads",
		    o.interval_ms);

	its.it_value.tv_sec = o.interval_ms / 1000;
	its.it_value.tv_nsec = (long)(o.interval_ms % 1000) * 1000000L;
	its.it_interval = its.it_value;
	if (timerfd_settime(tfd, 0, &its, NULL)) {
		err("timerfd_settime: %s", strerror(errno));
		goto out;
	}

	rc = 0;
	while (!iterations || tick < iterations) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = tfd, .events = POLLIN },
		};
		struct signalfd_siginfo si;
		uint64_t expirations;
		bool stop = false;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				acl_reload(&gw, &o, "SIGHUP");
			} else {
				msg("%s: shutting down", strsignal((int)si.ssi_signo));
				stop = true;
			}
		}
		if (stop)
			break;
		if (read(tfd, &expirations, sizeof(expirations)) != sizeof(expirations))
			continue;
		tick++;
		if (tick <= o.reloads && acl_reload(&gw, &o, "timed"))
			rc = 1;
		probe_run(&gw.probe);
		if ((!iterations || tick <= o.ticks) && stats_poll(&gw, &o, tick))
			rc = 1;
	}
	if (gw.probe.tx >= 0)
		msg("probes: %u sent, %u delivered on pass, %u dropped on drop, %u lost",
		    gw.probe.sent, gw.probe.delivered, gw.probe.blocked, gw.probe.lost);
out:
	was_attached = gw.attached;
	if (gw_teardown(&gw, &o))
		rc = 1;
	else if (was_attached)
		msg("detached from %s, pins removed; %u tick(s), %u reload(s)", o.ifname,
		    tick, gw.n_reloads);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
