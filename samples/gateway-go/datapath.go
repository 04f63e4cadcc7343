// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"bpfleak.sample/gatewayobj"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

const progsSubdir = "progs"

// The ACL maps a reload re-opens through their pins, in this order.
var aclMapNames = [...]string{"global_ep", "acl_progs", "delay", "delay_cidr"}

// The programs, pinned under PIN_DIR/progs by name.
var progNames = [...]string{"xdp_gateway", "xdp_acl_pass", "xdp_acl_drop"}

type gateway struct {
	opts         *options
	ifindex      int
	coll         *ebpf.Collection
	xdp          link.Link
	madePinDir   bool
	madeProgsDir bool
	progsPinned  [len(progNames)]bool
	delayMapID   ebpf.MapID
	nReloads     int
	probe        *probe

	// The ACL module's registry of the map handles it opened, kept for its
	// debug endpoint and never pruned: the bug.  Every handle in it holds
	// an FD, and cilium/ebpf's finalizers never run for a reachable *Map.
	handles []*ebpf.Map
}

func (g *gateway) progPinPath(i int) string {
	return filepath.Join(g.opts.pinDir, progsSubdir, progNames[i])
}

func ensureDir(path string) (made bool, err error) {
	err = os.Mkdir(path, 0o700)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	return false, fmt.Errorf("cannot create %s: %w", path, err)
}

// setup loads the datapath, pins it, writes the ACL and attaches to the
// interface: the same steps as samples/gateway.c's gw_setup.
func (g *gateway) setup() error {
	o := g.opts
	iface, err := net.InterfaceByName(o.ifname)
	if err != nil {
		return fmt.Errorf("no interface %s: %w", o.ifname, err)
	}
	g.ifindex = iface.Index
	if g.madePinDir, err = ensureDir(o.pinDir); err != nil {
		return err
	}

	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(gatewayobj.Object))
	if err != nil {
		return fmt.Errorf("cannot open the BPF object: %w", err)
	}
	// Maps are pinned by name (LIBBPF_PIN_BY_NAME in the object): cilium/ebpf
	// reuses the pins of an earlier run, or creates the maps and pins them.
	copts := ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: o.pinDir}}
	if o.verbose {
		copts.Programs.LogLevel = 1
	}
	g.coll, err = ebpf.NewCollectionWithOptions(spec, copts)
	if err != nil {
		return fmt.Errorf("cannot load the BPF object: %+v (is %s on a bpffs? mount -t bpf bpf DIR)",
			err, o.pinDir)
	}

	if g.madeProgsDir, err = ensureDir(filepath.Join(o.pinDir, progsSubdir)); err != nil {
		return err
	}
	for i, name := range progNames {
		path := g.progPinPath(i)
		if os.Remove(path) == nil {
			msg("replaced a stale pin %s", path)
		}
		if err := g.coll.Programs[name].Pin(path); err != nil {
			return fmt.Errorf("cannot pin %s: %w", path, err)
		}
		g.progsPinned[i] = true
	}

	conf, err := aclLoad(o.aclFile)
	if err != nil {
		return err
	}
	var maps [len(aclMapNames)]*ebpf.Map
	for i, name := range aclMapNames {
		maps[i] = g.coll.Maps[name]
	}
	if err := g.aclApply(conf, maps); err != nil {
		return err
	}
	from := " (built in)"
	if o.aclFile != "" {
		from = " from " + o.aclFile
	}
	msg("ACL: %d endpoint(s), %d delay prefix(es)%s", len(conf.endpoints), len(conf.cidrs), from)

	info, err := g.coll.Maps["delay"].Info()
	if err != nil {
		return fmt.Errorf("cannot read the delay map's info: %w", err)
	}
	id, ok := info.ID()
	if !ok {
		return errors.New("the kernel does not tell the delay map's id")
	}
	g.delayMapID = id

	prog := g.coll.Programs["xdp_gateway"]
	g.xdp, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: g.ifindex, Flags: o.xdpMode})
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.EBUSY) {
			hint = " (another XDP program is attached there)"
		}
		return fmt.Errorf("cannot attach XDP to %s: %w%s", o.ifname, err, hint)
	}
	var progID ebpf.ProgramID
	if pi, err := prog.Info(); err == nil {
		progID, _ = pi.ID()
	}
	mode, leak := "generic", "leaky mode"
	if o.xdpMode == link.XDPDriverMode {
		mode = "native"
	}
	if o.noLeak {
		leak = "no-leak mode"
	} else if o.finalize {
		leak = "finalizer mode"
	}
	msg("xdp_gateway (prog id %d) attached to %s (ifindex %d, %s mode); pins in %s;"+
		" delay map id %d; %s", progID, o.ifname, g.ifindex, mode, o.pinDir, g.delayMapID, leak)
	return nil
}

// teardown undoes setup, whatever part of it was done.  The handles the
// ACL module leaked stay open: they are what a leak checker should find.
func (g *gateway) teardown() error {
	var failed error
	fail := func(err error) {
		errf("%v", err)
		failed = err
	}
	if g.xdp != nil {
		if err := g.xdp.Close(); err != nil {
			fail(fmt.Errorf("cannot detach XDP from %s: %w", g.opts.ifname, err))
		}
		g.xdp = nil
	}
	for i := range progNames {
		if !g.progsPinned[i] {
			continue
		}
		if err := os.Remove(g.progPinPath(i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			fail(fmt.Errorf("cannot remove %s: %w", g.progPinPath(i), err))
		}
		g.progsPinned[i] = false
	}
	if g.madeProgsDir {
		path := filepath.Join(g.opts.pinDir, progsSubdir)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			fail(fmt.Errorf("cannot remove %s: %w", path, err))
		}
	}
	if g.coll != nil {
		// Every map with a pin, whether this run or an earlier one made it.
		for name, m := range g.coll.Maps {
			if err := m.Unpin(); err != nil {
				fail(fmt.Errorf("cannot unpin %s: %w", name, err))
			}
		}
		g.coll.Close()
		g.coll = nil
	}
	if g.madePinDir {
		if err := os.Remove(g.opts.pinDir); err != nil && !errors.Is(err, os.ErrNotExist) {
			fail(fmt.Errorf("cannot remove %s: %w", g.opts.pinDir, err))
		}
	}
	if g.probe != nil {
		g.probe.close()
		g.probe = nil
	}
	return failed
}
