// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The datapath: load samples/gateway.bpf.c (embedded as a bpftool
 * skeleton), pin its maps and programs under --pin-dir, fill the ACL maps,
 * attach to --ifname; and undo all of it on the way out.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "gateway.skel.h"

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

int gw_setup(struct gw *gw, const struct options *o)
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

int gw_teardown(struct gw *gw, const struct options *o)
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
