// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

package main

// The datapath's map keys and values, as bpf/gateway.h lays them out.
// Addresses and ports are byte arrays in network order, so cilium/ebpf's
// host-endian encoding of structs leaves them exactly as the XDP program
// reads them.

const (
	aclPass = 0 // GW_ACL_PASS: slot of the pass policy in acl_progs
	aclDrop = 1 // GW_ACL_DROP

	maxEndpoints = 1024 // GW_MAX_ENDPOINTS
	maxSources   = 4096 // GW_MAX_SOURCES
	maxCIDRs     = 8    // GW_MAX_CIDRS
)

// global_ep key: a destination endpoint.
type epKey struct {
	Addr  [4]byte
	Port  [2]byte
	Proto uint8
	Pad   uint8
}

// global_ep value.
type epVal struct {
	ACL   uint32 // slot in acl_progs
	Flags uint32
}

// delay_cidr value; PrefixLen 0 marks an unused slot.
type cidr struct {
	Addr      [4]byte
	Mask      [4]byte
	PrefixLen uint32
	DelayUs   uint32
}

// delay value: per-source accounting.  The key is the source address,
// [4]byte in network order.
type delayStat struct {
	Packets uint64
	Bytes   uint64
	LastNs  uint64
	CIDR    uint32
	DelayUs uint32
}
