// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/cilium/ebpf"
)

// Map indices in aclMapNames order.
const (
	mGlobalEP = iota
	mACLProgs
	mDelay
	mDelayCIDR
)

func mapFail(what, name string, err error) error {
	return fmt.Errorf("%s %s: %w", what, name, err)
}

// aclApply writes an ACL into the datapath through the given maps.
// Policies first, so that no endpoint ever names an empty slot; then
// endpoints are added before stale ones are removed, so a reload never
// opens a window in which a known endpoint falls through.
func (g *gateway) aclApply(c *aclConf, m [len(aclMapNames)]*ebpf.Map) error {
	policies := []struct {
		slot uint32
		prog *ebpf.Program
	}{
		{aclPass, g.coll.Programs["xdp_acl_pass"]},
		{aclDrop, g.coll.Programs["xdp_acl_drop"]},
	}
	for _, p := range policies {
		if err := m[mACLProgs].Put(p.slot, p.prog); err != nil {
			return mapFail("update", "acl_progs", err)
		}
	}

	for _, e := range c.endpoints {
		if err := m[mGlobalEP].Put(e.key, e.val); err != nil {
			return mapFail("update", "global_ep", err)
		}
	}
	var stale []epKey
	var k epKey
	var v epVal
	for it := m[mGlobalEP].Iterate(); it.Next(&k, &v); {
		if !c.hasEndpoint(k) {
			stale = append(stale, k)
		}
	}
	for _, k := range stale {
		if err := m[mGlobalEP].Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return mapFail("delete from", "global_ep", err)
		}
	}

	for i := uint32(0); i < maxCIDRs; i++ {
		var d cidr
		if int(i) < len(c.cidrs) {
			d = c.cidrs[i]
		}
		if err := m[mDelayCIDR].Put(i, d); err != nil {
			return mapFail("update", "delay_cidr", err)
		}
	}

	// Forget the accounting of sources that no prefix covers any more.
	var staleSrc [][4]byte
	var src [4]byte
	var st delayStat
	for it := m[mDelay].Iterate(); it.Next(&src, &st); {
		if !c.covers(src) {
			staleSrc = append(staleSrc, src)
		}
	}
	for _, s := range staleSrc {
		if err := m[mDelay].Delete(s); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return mapFail("delete from", "delay", err)
		}
	}
	return nil
}

// aclReload re-reads the ACL and rewrites the pinned maps.  The reload
// reaches the datapath by its pins, not through the collection's maps,
// because that is how a gateway's control plane finds a datapath it may
// not have loaded itself (after an agent restart, or from a CLI).
func (g *gateway) aclReload(why string) error {
	c, err := aclLoad(g.opts.aclFile)
	if err != nil {
		errf("%v", err)
		errf("reload (%s): keeping the current ACL", why)
		return err
	}
	var m [len(aclMapNames)]*ebpf.Map
	for i, name := range aclMapNames {
		path := filepath.Join(g.opts.pinDir, name)
		m[i], err = ebpf.LoadPinnedMap(path, nil) // LEAK: reload
		if err != nil {
			err = fmt.Errorf("reload: cannot open pinned map %s: %w", path, err)
			break
		}
	}
	if err == nil {
		err = g.aclApply(c, m)
	}
	if err == nil {
		g.nReloads++
		msg("reload %d (%s): %d endpoint(s), %d delay prefix(es)", g.nReloads, why,
			len(c.endpoints), len(c.cidrs))
	} else {
		errf("%v", err)
	}
	g.release(m[:]...)
	return err
}

// release is where the bug lives: what the reload and the stats paths
// opened is kept in the handle registry and never closed (the default),
// closed (--no-leak), or dropped for the garbage collector to find
// (--finalize: cilium/ebpf closes an unreachable map's FD from a finalizer;
// the main loop forces a collection once these frames are gone).
func (g *gateway) release(maps ...*ebpf.Map) {
	for _, m := range maps {
		if m == nil {
			continue
		}
		switch {
		case g.opts.noLeak:
			m.Close()
		case g.opts.finalize:
		default:
			g.handles = append(g.handles, m)
		}
	}
}
