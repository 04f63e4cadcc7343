/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Types shared by the sample gateway's XDP program (samples/gateway.bpf.c) and
 * its loader (samples/loader.h).  Everything is fixed-width and padded by
 * hand so the BPF and the host compiler agree on the layout.
 */
#ifndef BPFLEAK_SAMPLE_GATEWAY_H
#define BPFLEAK_SAMPLE_GATEWAY_H

#include <linux/types.h>

/* Slots of the acl_progs prog array: what to do with a known endpoint. */
enum gw_acl {
	GW_ACL_PASS = 0,
	GW_ACL_DROP = 1,
	GW_ACL_MAX = 4,
};

#define GW_MAX_ENDPOINTS 1024
#define GW_MAX_SOURCES   4096
#define GW_MAX_CIDRS     8

/* global_ep key: a destination endpoint, network byte order. */
struct gw_ep_key {
	__u32 addr;   /* IPv4 destination address */
	__u16 port;   /* destination port */
	__u8 proto;   /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 pad;
};

/* global_ep value. */
struct gw_ep_val {
	__u32 acl;    /* index into acl_progs (enum gw_acl) */
	__u32 flags;
};

/* delay_cidr value: sources in this prefix are accounted in `delay`.
 * An entry with prefix_len == 0 and addr == 0 is unused. */
struct gw_cidr {
	__u32 addr;        /* network byte order, already masked */
	__u32 mask;        /* network byte order */
	__u32 prefix_len;  /* 1..32; 0 = unused slot */
	__u32 delay_us;    /* the delay this class of sources is owed */
};

/* delay value: per-source accounting for sources that match a delay_cidr
 * entry (candidates for shaping by the slow path). */
struct gw_delay {
	__u64 packets;
	__u64 bytes;
	__u64 last_ns;     /* bpf_ktime_get_ns() of the last packet */
	__u32 cidr;        /* index of the delay_cidr entry that matched */
	__u32 delay_us;
};

#endif
