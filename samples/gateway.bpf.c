// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The sample gateway's datapath: an XDP program that checks IPv4 UDP/TCP
 * packets against an ACL kept in maps.
 *
 *   global_ep   hash       {daddr, dport, proto} -> {acl slot}
 *   acl_progs   prog array  acl slot -> policy program (tail call)
 *   delay_cidr  array      source prefixes whose traffic is accounted
 *   delay       hash       per-source accounting for those prefixes
 *
 * Every map is pinned by name under the loader's --pin-dir, the convention
 * of gateways that keep their datapath state across restarts.  The loader
 * (samples/acl_apply.c) fills the maps; this file only reads them.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "gateway.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GW_MAX_ENDPOINTS);
	__type(key, struct gw_ep_key);
	__type(value, struct gw_ep_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} global_ep SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, GW_ACL_MAX);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} acl_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GW_MAX_SOURCES);
	__type(key, __u32);
	__type(value, struct gw_delay);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} delay SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GW_MAX_CIDRS);
	__type(key, __u32);
	__type(value, struct gw_cidr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} delay_cidr SEC(".maps");

/* Account a packet from saddr if it falls in one of the delay prefixes. */
static __always_inline void account(__u32 saddr, __u64 len)
{
	for (__u32 i = 0; i < GW_MAX_CIDRS; i++) {
		__u32 k = i;
		struct gw_cidr *c = bpf_map_lookup_elem(&delay_cidr, &k);

		if (!c || !c->prefix_len || (saddr & c->mask) != c->addr)
			continue;

		__u64 now = bpf_ktime_get_ns();
		struct gw_delay *d = bpf_map_lookup_elem(&delay, &saddr);

		if (d) {
			__sync_fetch_and_add(&d->packets, 1);
			__sync_fetch_and_add(&d->bytes, len);
			d->last_ns = now;
		} else {
			struct gw_delay nd = {
				.packets = 1, .bytes = len, .last_ns = now,
				.cidr = i, .delay_us = c->delay_us,
			};
			/* A full table is not an error: the source is not
			 * accounted, the packet still goes through the ACL. */
			bpf_map_update_elem(&delay, &saddr, &nd, BPF_NOEXIST);
		}
		return;
	}
}

SEC("xdp")
int xdp_gateway(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct gw_ep_key key = {};
	struct gw_ep_val *ep;
	struct iphdr *ip;
	void *l4;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl < 5)
		return XDP_PASS;
	/* Non-first fragments carry no ports: leave them to the stack. */
	if (ip->frag_off & bpf_htons(0x1fff))
		return XDP_PASS;
	l4 = (void *)ip + ip->ihl * 4;

	key.addr = ip->daddr;
	key.proto = ip->protocol;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > end)
			return XDP_PASS;
		key.port = udp->dest;
	} else if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > end)
			return XDP_PASS;
		key.port = tcp->dest;
	} else {
		return XDP_PASS;
	}

	account(ip->saddr, (__u64)(end - data));

	ep = bpf_map_lookup_elem(&global_ep, &key);
	if (!ep)
		return XDP_PASS;
	bpf_tail_call(ctx, &acl_progs, ep->acl);
	/* Empty ACL slot: fail open, as the gateway does while it reloads. */
	return XDP_PASS;
}

/* ACL policies, reached by tail call from xdp_gateway through acl_progs. */
SEC("xdp")
int xdp_acl_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("xdp")
int xdp_acl_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
