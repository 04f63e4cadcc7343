// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The gateway's command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include "loader.h"

#ifndef BPFLEAK_VERSION
#define BPFLEAK_VERSION "0"
#endif

int parse_uint(const char *s, unsigned long max, unsigned long *out)
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

int parse_args(int argc, char **argv, struct options *o)
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

