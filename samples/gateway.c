// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * gateway: the bpfleak sample.  A small XDP gateway on libbpf: it loads
 * samples/gateway.bpf.c (embedded as a bpftool skeleton), pins its maps and
 * programs under --pin-dir, fills the ACL maps, attaches to --ifname and
 * then ticks: each tick it sends probe datagrams through the datapath and
 * reads the per-source accounting back.
 *
 * It carries the two eBPF FD leaks that gateway engineers really write, on
 * lines marked "LEAK:" (the tests find their line numbers with grep):
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
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gateway.h"
#include "gateway.skel.h"

#ifndef BPFLEAK_VERSION
#define BPFLEAK_VERSION "0"
#endif

#define PROGS_SUBDIR "progs"
#define DEFAULT_PIN_DIR "/sys/fs/bpf/bpfleak-gateway"
#define PROBE_PASS_PORT 9009
#define PROBE_DROP_PORT 9007
#define PROBE_WAIT_MS 200

/* The ACL maps a reload re-opens through their pins, in this order. */
enum { M_GLOBAL_EP, M_ACL_PROGS, M_DELAY, M_DELAY_CIDR, M_N };
static const char *const acl_map_names[M_N] = {
	"global_ep", "acl_progs", "delay", "delay_cidr",
};

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

static bool verbose;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	fputs("gateway: ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("gateway: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------------------------------ ACL */

static void acl_default(struct acl_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->ep[0].key.addr = htonl(INADDR_LOOPBACK);
	c->ep[0].key.port = htons(PROBE_PASS_PORT);
	c->ep[0].key.proto = IPPROTO_UDP;
	c->ep[0].val.acl = GW_ACL_PASS;
	c->ep[1].key = c->ep[0].key;
	c->ep[1].key.port = htons(PROBE_DROP_PORT);
	c->ep[1].val.acl = GW_ACL_DROP;
	c->n_ep = 2;
	c->cidr[0].addr = htonl(0x7f000000);
	c->cidr[0].mask = htonl(0xff000000);
	c->cidr[0].prefix_len = 8;
	c->cidr[0].delay_us = 500;
	c->n_cidr = 1;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * The ACL file, one rule a line, '#' starts a comment:
 *   ep ADDR udp|tcp PORT pass|drop     an endpoint and its policy
 *   delay ADDR/LEN [DELAY_US]          account sources in this prefix
 */
static int acl_parse_line(struct acl_conf *c, char *line, const char *where)
{
	char *save, *w[6];
	unsigned long v;
	int n = 0;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (*t == '#')
			break;
		if (n == 6) {
			err("%s: too many words", where);
			return -1;
		}
		w[n++] = t;
	}
	if (n == 0)
		return 0;

	if (!strcmp(w[0], "ep")) {
		struct acl_ep *e;

		if (n != 5) {
			err("%s: expected: ep ADDR udp|tcp PORT pass|drop", where);
			return -1;
		}
		if (c->n_ep == GW_MAX_ENDPOINTS) {
			err("%s: more than %d endpoints", where, GW_MAX_ENDPOINTS);
			return -1;
		}
		e = &c->ep[c->n_ep];
		memset(e, 0, sizeof(*e));
		if (inet_pton(AF_INET, w[1], &e->key.addr) != 1) {
			err("%s: bad IPv4 address '%s'", where, w[1]);
			return -1;
		}
		if (!strcmp(w[2], "udp"))
			e->key.proto = IPPROTO_UDP;
		else if (!strcmp(w[2], "tcp"))
			e->key.proto = IPPROTO_TCP;
		else {
			err("%s: protocol must be udp or tcp, not '%s'", where, w[2]);
			return -1;
		}
		if (parse_uint(w[3], 65535, &v) || v == 0) {
			err("%s: bad port '%s'", where, w[3]);
			return -1;
		}
		e->key.port = htons((uint16_t)v);
		if (!strcmp(w[4], "pass"))
			e->val.acl = GW_ACL_PASS;
		else if (!strcmp(w[4], "drop"))
			e->val.acl = GW_ACL_DROP;
		else {
			err("%s: policy must be pass or drop, not '%s'", where, w[4]);
			return -1;
		}
		c->n_ep++;
		return 0;
	}
	if (!strcmp(w[0], "delay")) {
		struct gw_cidr *d;
		char *slash;
		uint32_t mask;

		if (n != 2 && n != 3) {
			err("%s: expected: delay ADDR/LEN [DELAY_US]", where);
			return -1;
		}
		if (c->n_cidr == GW_MAX_CIDRS) {
			err("%s: more than %d delay prefixes", where, GW_MAX_CIDRS);
			return -1;
		}
		d = &c->cidr[c->n_cidr];
		memset(d, 0, sizeof(*d));
		slash = strchr(w[1], '/');
		if (!slash || parse_uint(slash + 1, 32, &v) || v == 0) {
			err("%s: expected ADDR/LEN with LEN 1..32, not '%s'", where, w[1]);
			return -1;
		}
		*slash = '\0';
		if (inet_pton(AF_INET, w[1], &d->addr) != 1) {
			err("%s: bad IPv4 address '%s'", where, w[1]);
			return -1;
		}
		d->prefix_len = (uint32_t)v;
		mask = v == 32 ? 0xffffffffu : ~(0xffffffffu >> v);
		d->mask = htonl(mask);
		d->addr &= d->mask;
		if (n == 3) {
			if (parse_uint(w[2], UINT32_MAX, &v)) {
				err("%s: bad delay '%s'", where, w[2]);
				return -1;
			}
			d->delay_us = (uint32_t)v;
		}
		c->n_cidr++;
		return 0;
	}
	err("%s: unknown rule '%s' (ep or delay)", where, w[0]);
	return -1;
}

static int acl_load_conf(const char *file, struct acl_conf *c)
{
	char line[512], where[PATH_MAX + 32];
	unsigned int lineno = 0;
	int rc = 0;
	FILE *f;

	if (!file) {
		acl_default(c);
		return 0;
	}
	memset(c, 0, sizeof(*c));
	f = fopen(file, "re");
	if (!f) {
		err("cannot open ACL %s: %s", file, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", file, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			err("%s: line too long", where);
			rc = -1;
			break;
		}
		rc = acl_parse_line(c, line, where);
	}
	if (rc == 0 && ferror(f)) {
		err("cannot read ACL %s", file);
		rc = -1;
	}
	fclose(f);
	return rc;
}

static bool acl_has_ep(const struct acl_conf *c, const struct gw_ep_key *k)
{
	for (unsigned int i = 0; i < c->n_ep; i++)
		if (!memcmp(&c->ep[i].key, k, sizeof(*k)))
			return true;
	return false;
}

static bool acl_covers(const struct acl_conf *c, __u32 saddr)
{
	for (unsigned int i = 0; i < c->n_cidr; i++)
		if ((saddr & c->cidr[i].mask) == c->cidr[i].addr)
			return true;
	return false;
}

static int map_fail(const char *what, const char *map)
{
	int e = errno;

	err("%s %s: %s", what, map, strerror(e));
	return -e;
}

/*
 * Write an ACL into the datapath through the given map FDs (fd[] indexed
 * by M_*).  Policies first, so that no endpoint ever names an empty slot;
 * then endpoints are added before stale ones are removed, so a reload never
 * opens a window in which a known endpoint falls through.
 */
static int acl_apply(struct gw *gw, const struct acl_conf *c, const int fd[M_N])
{
	static union {
		struct gw_ep_key ep[GW_MAX_ENDPOINTS];
		__u32 src[GW_MAX_SOURCES];
	} stale;
	const struct {
		__u32 slot;
		const struct bpf_program *prog;
	} policies[] = {
		{ GW_ACL_PASS, gw->skel->progs.xdp_acl_pass },
		{ GW_ACL_DROP, gw->skel->progs.xdp_acl_drop },
	};
	unsigned int n;

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		int pfd = bpf_program__fd(policies[i].prog);

		if (bpf_map_update_elem(fd[M_ACL_PROGS], &policies[i].slot, &pfd, BPF_ANY))
			return map_fail("update", "acl_progs");
	}

	for (unsigned int i = 0; i < c->n_ep; i++)
		if (bpf_map_update_elem(fd[M_GLOBAL_EP], &c->ep[i].key, &c->ep[i].val, BPF_ANY))
			return map_fail("update", "global_ep");
	n = 0;
	{
		struct gw_ep_key k, *prev = NULL;

		while (n < GW_MAX_ENDPOINTS && !bpf_map_get_next_key(fd[M_GLOBAL_EP], prev, &k)) {
			if (!acl_has_ep(c, &k))
				stale.ep[n++] = k;
			prev = &k;
		}
	}
	for (unsigned int i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd[M_GLOBAL_EP], &stale.ep[i]) && errno != ENOENT)
			return map_fail("delete from", "global_ep");

	for (__u32 i = 0; i < GW_MAX_CIDRS; i++) {
		struct gw_cidr v = {0};

		if (i < c->n_cidr)
			v = c->cidr[i];
		if (bpf_map_update_elem(fd[M_DELAY_CIDR], &i, &v, BPF_ANY))
			return map_fail("update", "delay_cidr");
	}

	/* Forget the accounting of sources that no prefix covers any more. */
	n = 0;
	{
		__u32 k, *prev = NULL;

		while (n < GW_MAX_SOURCES && !bpf_map_get_next_key(fd[M_DELAY], prev, &k)) {
			if (!acl_covers(c, k))
				stale.src[n++] = k;
			prev = &k;
		}
	}
	for (unsigned int i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd[M_DELAY], &stale.src[i]) && errno != ENOENT)
			return map_fail("delete from", "delay");
	return 0;
}

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

/* ---------------------------------------------------------------- stats */

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

/* ---------------------------------------------------------------- probe */

static int udp_socket(uint16_t bind_port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons(bind_port),
	};
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind_port && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void probe_close(struct probe *p)
{
	if (p->tx >= 0)
		close(p->tx);
	if (p->rx_pass >= 0)
		close(p->rx_pass);
	if (p->rx_drop >= 0)
		close(p->rx_drop);
	p->tx = p->rx_pass = p->rx_drop = -1;
}

static int probe_open(struct probe *p)
{
	p->rx_pass = udp_socket(PROBE_PASS_PORT);
	p->rx_drop = p->rx_pass < 0 ? -1 : udp_socket(PROBE_DROP_PORT);
	p->tx = p->rx_drop < 0 ? -1 : udp_socket(0);
	if (p->tx < 0) {
		err("probe: cannot bind 127.0.0.1:%d/%d: %s", PROBE_PASS_PORT,
		    PROBE_DROP_PORT, strerror(errno));
		probe_close(p);
		return -1;
	}
	return 0;
}

static bool drain(int fd)
{
	char buf[64];
	bool got = false;

	while (recv(fd, buf, sizeof(buf), 0) >= 0)
		got = true;
	return got;
}

/*
 * Send one datagram to the drop endpoint, then one to the pass endpoint,
 * over lo.  Loopback delivers in order, so once the second has arrived the
 * first has either arrived too or been dropped by the ACL.
 */
static void probe_run(struct probe *p)
{
	static const char payload[] = "bpfleak gateway probe";
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct pollfd pfd = { .fd = p->rx_pass, .events = POLLIN };

	if (p->tx < 0)
		return;
	drain(p->rx_pass);
	drain(p->rx_drop);
	to.sin_port = htons(PROBE_DROP_PORT);
	if (sendto(p->tx, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		goto fail;
	to.sin_port = htons(PROBE_PASS_PORT);
	if (sendto(p->tx, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		goto fail;
	p->sent++;
	if (poll(&pfd, 1, PROBE_WAIT_MS) == 1 && drain(p->rx_pass)) {
		p->delivered++;
		if (!drain(p->rx_drop))
			p->blocked++;
	} else {
		p->lost++;
	}
	return;
fail:
	err("probe: sendto: %s", strerror(errno));
}

/* --------------------------------------------------------------- set-up */

static int ensure_dir(const char *path, bool *made)
{
	if (mkdir(path, 0700) == 0) {
		*made = true;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	err("cannot create %s: %s", path, strerror(errno));
	return -1;
}

static struct bpf_program *gw_prog(struct gw *gw, int i)
{
	struct bpf_program *p[] = {
		gw->skel->progs.xdp_gateway,
		gw->skel->progs.xdp_acl_pass,
		gw->skel->progs.xdp_acl_drop,
	};
	return p[i];
}

static void prog_pin_path(struct gw *gw, int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s", gw->pin_dir, PROGS_SUBDIR,
		 bpf_program__name(gw_prog(gw, i)));
}

static int gw_setup(struct gw *gw, const struct options *o)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = gw->pin_dir);
	struct bpf_map_info info;
	__u32 info_len = sizeof(info);
	struct acl_conf *c;
	char path[PATH_MAX];
	int fd[M_N], rc;

	gw->ifindex = (int)if_nametoindex(o->ifname);
	if (!gw->ifindex) {
		err("no interface %s: %s", o->ifname, strerror(errno));
		return -1;
	}
	if (ensure_dir(gw->pin_dir, &gw->made_pin_dir))
		return -1;

	gw->skel = gateway__open_opts(&oo);
	if (!gw->skel) {
		err("cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	/* Maps are pinned by name (LIBBPF_PIN_BY_NAME): libbpf reuses the
	 * pins of an earlier run, or creates the maps and pins them. */
	if (gateway__load(gw->skel)) {
		err("cannot load the BPF object: %s (is %s on a bpffs? mount -t bpf bpf DIR)",
		    strerror(errno), gw->pin_dir);
		return -1;
	}
	gw->loaded = true;

	snprintf(path, sizeof(path), "%s/%s", gw->pin_dir, PROGS_SUBDIR);
	if (ensure_dir(path, &gw->made_progs_dir))
		return -1;
	for (int i = 0; i < 3; i++) {
		prog_pin_path(gw, i, path, sizeof(path));
		if (unlink(path) == 0)
			msg("replaced a stale pin %s", path);
		if (bpf_program__pin(gw_prog(gw, i), path)) {
			err("cannot pin %s: %s", path, strerror(errno));
			return -1;
		}
		gw->progs_pinned[i] = true;
	}

	c = malloc(sizeof(*c));
	if (!c) {
		err("out of memory");
		return -1;
	}
	rc = acl_load_conf(o->acl_file, c);
	if (rc == 0) {
		fd[M_GLOBAL_EP] = bpf_map__fd(gw->skel->maps.global_ep);
		fd[M_ACL_PROGS] = bpf_map__fd(gw->skel->maps.acl_progs);
		fd[M_DELAY] = bpf_map__fd(gw->skel->maps.delay);
		fd[M_DELAY_CIDR] = bpf_map__fd(gw->skel->maps.delay_cidr);
		rc = acl_apply(gw, c, fd);
	}
	if (rc == 0)
		msg("ACL: %u endpoint(s), %u delay prefix(es)%s%s", c->n_ep, c->n_cidr,
		    o->acl_file ? " from " : " (built in)", o->acl_file ? o->acl_file : "");
	free(c);
	if (rc)
		return -1;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_map__fd(gw->skel->maps.delay), &info, &info_len)) {
		err("cannot read the delay map's info: %s", strerror(errno));
		return -1;
	}
	gw->delay_map_id = info.id;

	if (bpf_xdp_attach(gw->ifindex, bpf_program__fd(gw->skel->progs.xdp_gateway),
			   o->xdp_mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL)) {
		err("cannot attach XDP to %s: %s%s", o->ifname, strerror(errno),
		    errno == EBUSY || errno == EEXIST ?
		    " (another XDP program is attached there)" : "");
		return -1;
	}
	gw->attached = true;
	{
		struct bpf_prog_info pi;
		__u32 pi_len = sizeof(pi);

		memset(&pi, 0, sizeof(pi));
		bpf_obj_get_info_by_fd(bpf_program__fd(gw->skel->progs.xdp_gateway), &pi, &pi_len);
		msg("xdp_gateway (prog id %u) attached to %s (ifindex %d, %s mode);"
		    " pins in %s; delay map id %u; %s",
		    pi.id, o->ifname, gw->ifindex,
		    o->xdp_mode == XDP_FLAGS_SKB_MODE ? "generic" : "native",
		    gw->pin_dir, gw->delay_map_id, o->no_leak ? "no-leak mode" : "leaky mode");
	}
	return 0;
}

/* Undo gw_setup, whatever part of it was done.  Returns 0 if all went. */
static int gw_teardown(struct gw *gw, const struct options *o)
{
	char path[PATH_MAX];
	int rc = 0;

	if (gw->attached) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, xo,
			    .old_prog_fd = bpf_program__fd(gw->skel->progs.xdp_gateway));

		/* XDP_FLAGS_REPLACE: detach only if it is still our program. */
		if (bpf_xdp_detach(gw->ifindex, o->xdp_mode | XDP_FLAGS_REPLACE, &xo)) {
			err("cannot detach XDP from %s: %s", o->ifname, strerror(errno));
			rc = -1;
		}
		gw->attached = false;
	}
	for (int i = 0; i < 3; i++) {
		if (!gw->progs_pinned[i])
			continue;
		prog_pin_path(gw, i, path, sizeof(path));
		if (unlink(path) && errno != ENOENT) {
			err("cannot remove %s: %s", path, strerror(errno));
			rc = -1;
		}
		gw->progs_pinned[i] = false;
	}
	if (gw->made_progs_dir) {
		snprintf(path, sizeof(path), "%s/%s", gw->pin_dir, PROGS_SUBDIR);
		if (rmdir(path) && errno != ENOENT) {
			err("cannot remove %s: %s", path, strerror(errno));
			rc = -1;
		}
	}
	if (gw->skel) {
		/* Unpins every map that has a pin path, whether this run or an
		 * earlier one created the pin. */
		if (gw->loaded && bpf_object__unpin_maps(gw->skel->obj, NULL) &&
		    errno != ENOENT) {
			err("cannot unpin the maps: %s", strerror(errno));
			rc = -1;
		}
		gateway__destroy(gw->skel);
		gw->skel = NULL;
	}
	if (gw->made_pin_dir && rmdir(gw->pin_dir) && errno != ENOENT) {
		err("cannot remove %s: %s", gw->pin_dir, strerror(errno));
		rc = -1;
	}
	probe_close(&gw->probe);
	return rc;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
"Usage: %s [OPTION]...\n"
"The bpfleak sample XDP gateway: loads an ACL datapath, pins it under a\n"
"bpffs directory, attaches it to an interface and ticks until told to stop.\n"
"It leaks eBPF FDs on purpose (see --no-leak).\n"
"\n"
"  -i, --ifname IF      interface to attach to (default: lo)\n"
"  -p, --pin-dir DIR    bpffs directory for the pins (default: %s);\n"
"                       created if missing, removed on exit if created\n"
"  -a, --acl FILE       ACL to load and re-read on reload; lines are\n"
"                       'ep ADDR udp|tcp PORT pass|drop' and\n"
"                       'delay ADDR/LEN [DELAY_US]' (default: 127.0.0.1 udp\n"
"                       %d pass, 127.0.0.1 udp %d drop, delay 127.0.0.0/8)\n"
"  -r, --reloads N      reload the ACL on each of the first N ticks\n"
"  -t, --ticks N        exit after N ticks (default: run until SIGINT/SIGTERM,\n"
"                       or until the --reloads are done)\n"
"  -I, --interval MS    tick interval in milliseconds (default: 1000)\n"
"  -m, --mode MODE      XDP mode: generic (skb, the default) or native (drv)\n"
"      --probe          send probe datagrams over lo each tick (default on lo)\n"
"      --no-probe       do not send probes\n"
"      --no-leak        close the FDs that the reload and stats paths leak\n"
"  -v, --verbose        show libbpf's debug messages\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"Signals: SIGHUP reloads the ACL; SIGINT and SIGTERM detach, unpin and exit 0.\n"
"Each tick reads the per-source accounting (delay map) by map ID.\n"
"Exit status: 0 on a clean run, 1 on a runtime error, 2 on bad usage.\n",
		argv0, DEFAULT_PIN_DIR, PROBE_PASS_PORT, PROBE_DROP_PORT);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_PROBE = 256, OPT_NO_PROBE, OPT_NO_LEAK };
	static const struct option longopts[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "acl", required_argument, NULL, 'a' },
		{ "reloads", required_argument, NULL, 'r' },
		{ "ticks", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'I' },
		{ "mode", required_argument, NULL, 'm' },
		{ "probe", no_argument, NULL, OPT_PROBE },
		{ "no-probe", no_argument, NULL, OPT_NO_PROBE },
		{ "no-leak", no_argument, NULL, OPT_NO_LEAK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	*o = (struct options){
		.ifname = "lo",
		.pin_dir = DEFAULT_PIN_DIR,
		.interval_ms = 1000,
		.xdp_mode = XDP_FLAGS_SKB_MODE,
		.probe = -1,
	};
	while ((c = getopt_long(argc, argv, "i:p:a:r:t:I:m:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'p':
			o->pin_dir = optarg;
			break;
		case 'a':
			o->acl_file = optarg;
			break;
		case 'r':
		case 't':
		case 'I':
			if (parse_uint(optarg, 1000000000, &v) || (c == 'I' && v == 0)) {
				fprintf(stderr, "%s: bad number '%s'\n", argv[0], optarg);
				return 2;
			}
			if (c == 'r')
				o->reloads = (unsigned int)v;
			else if (c == 't')
				o->ticks = (unsigned int)v;
			else
				o->interval_ms = (unsigned int)v;
			break;
		case 'm':
			if (!strcmp(optarg, "generic") || !strcmp(optarg, "skb"))
				o->xdp_mode = XDP_FLAGS_SKB_MODE;
			else if (!strcmp(optarg, "native") || !strcmp(optarg, "drv"))
				o->xdp_mode = XDP_FLAGS_DRV_MODE;
			else {
				fprintf(stderr, "%s: --mode is generic or native, not '%s'\n",
					argv[0], optarg);
				return 2;
			}
			break;
		case OPT_PROBE:
			o->probe = 1;
			break;
		case OPT_NO_PROBE:
			o->probe = 0;
			break;
		case OPT_NO_LEAK:
			o->no_leak = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		case 'V':
			printf("gateway (bpfleak sample) %s\n", BPFLEAK_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try '%s --help'.\n", argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help'.\n",
			argv[0], argv[optind], argv[0]);
		return 2;
	}
	if (o->probe < 0)
		o->probe = !strcmp(o->ifname, "lo");
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
	verbose = o.verbose;
	libbpf_set_print(libbpf_print);
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
