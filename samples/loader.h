/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The sample gateway's user space, one job a file:
 *
 *   gateway.c     main loop, the ACL reload and the stats poll (the leaks)
 *   options.c     command line
 *   acl.c         the ACL file: parse it, or the built-in default
 *   acl_apply.c   write an ACL into the datapath's maps
 *   datapath.c    load, pin and attach the XDP program; undo it all
 *   probe.c       probe datagrams through the datapath over lo
 *   log.c         messages
 *
 * The types the XDP program shares with it are in gateway.h.
 */
#ifndef BPFLEAK_SAMPLE_LOADER_H
#define BPFLEAK_SAMPLE_LOADER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include "gateway.h"

#define PROGS_SUBDIR "progs"
#define DEFAULT_PIN_DIR "/sys/fs/bpf/bpfleak-gateway"
#define PROBE_PASS_PORT 9009
#define PROBE_DROP_PORT 9007
#define PROBE_WAIT_MS 200

/* The ACL maps, as indexes of the FD arrays acl_apply takes. */
enum { M_GLOBAL_EP, M_ACL_PROGS, M_DELAY, M_DELAY_CIDR, M_N };

struct acl_ep {
	struct gw_ep_key key;
	struct gw_ep_val val;
};

struct acl_conf {
	struct acl_ep ep[GW_MAX_ENDPOINTS];
	unsigned int n_ep;
	struct gw_cidr cidr[GW_MAX_CIDRS];
	unsigned int n_cidr;
};

struct options {
	const char *ifname;
	const char *pin_dir;
	const char *acl_file;
	unsigned int reloads;     /* timed reloads before exiting */
	unsigned int ticks;       /* ticks before exiting; 0 = until signalled */
	unsigned int interval_ms;
	__u32 xdp_mode;           /* XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE */
	int probe;                /* -1 = default (on for lo) */
	bool no_leak;
	bool verbose;
};

struct probe {
	int tx, rx_pass, rx_drop;
	unsigned int sent, delivered, blocked, lost;
};

struct gateway;   /* the bpftool skeleton (gateway.skel.h) */

struct gw {
	struct gateway *skel;
	int ifindex;
	bool loaded, attached;
	bool made_pin_dir, made_progs_dir;
	bool progs_pinned[3];
	char pin_dir[PATH_MAX - 128];   /* room for /progs/NAME in PATH_MAX */
	__u32 delay_map_id;
	unsigned int n_reloads;
	struct probe probe;
};

/* log.c: "gateway: ..." lines on stdout (msg) and stderr (err). */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* libbpf's messages on stderr, its debug ones only when verbose. */
void log_libbpf(bool verbose);

/* options.c: 0, or the exit status (2) after saying what is wrong. */
int parse_args(int argc, char **argv, struct options *o);
/* A decimal number in 0..max into out: 0, or -1 when s is not one. */
int parse_uint(const char *s, unsigned long max, unsigned long *out);

/* acl.c: the ACL in file, or the built-in one when file is NULL; 0 or -1. */
int acl_load_conf(const char *file, struct acl_conf *c);

/* acl_apply.c: write c into the datapath through the map FDs fd[M_*]. */
int acl_apply(struct gw *gw, const struct acl_conf *c, const int fd[M_N]);

/* datapath.c */
int gw_setup(struct gw *gw, const struct options *o);
/* Undo gw_setup, whatever part of it was done.  Returns 0 if all went. */
int gw_teardown(struct gw *gw, const struct options *o);

/* probe.c */
int probe_open(struct probe *p);
void probe_close(struct probe *p);
void probe_run(struct probe *p);

#endif
