// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

package main

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// statsPoll sums the per-source accounting.  Like many exporters it keeps
// the map's kernel ID (what bpftool and the logs show, and what survives
// the loader closing its FDs) and opens the map by ID every tick.
func (g *gateway) statsPoll(tick int) error {
	m, err := ebpf.NewMapFromID(g.delayMapID) // LEAK: lookup
	if err != nil {
		err = fmt.Errorf("tick %d: cannot open delay map id %d: %w", tick, g.delayMapID, err)
		errf("%v", err)
		return err
	}
	var sources int
	var packets, bytes uint64
	var src [4]byte
	var st delayStat
	it := m.Iterate()
	for it.Next(&src, &st) {
		sources++
		packets += st.Packets
		bytes += st.Bytes
	}
	if p := g.probe; p != nil {
		msg("tick %d: %d source(s), %d packet(s), %d byte(s) accounted;"+
			" probes: %d/%d delivered on pass, %d/%d dropped on drop",
			tick, sources, packets, bytes, p.delivered, p.sent, p.blocked, p.sent)
	} else {
		msg("tick %d: %d source(s), %d packet(s), %d byte(s) accounted",
			tick, sources, packets, bytes)
	}
	err = it.Err()
	g.release(m)
	if err != nil {
		return fmt.Errorf("tick %d: reading the delay map: %w", tick, err)
	}
	return nil
}
