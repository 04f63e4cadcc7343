// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Writing an ACL into the datapath's maps. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "gateway.skel.h"

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
int acl_apply(struct gw *gw, const struct acl_conf *c, const int fd[M_N])
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

