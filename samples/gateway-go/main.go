// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

// gateway-go: the bpfleak sample gateway in Go, on cilium/ebpf.  It mirrors
// samples/gateway.c: it loads the same XDP datapath (bpf/gateway.bpf.c,
// embedded), pins its maps and programs under --pin-dir, fills the ACL maps,
// attaches to --ifname and then ticks: each tick it sends probe datagrams
// through the datapath and reads the per-source accounting back.
//
// It carries the same two eBPF FD leaks, on lines marked "LEAK:" (the tests
// find their line numbers with grep):
//
//	reload  aclReload re-opens the pinned ACL maps with ebpf.LoadPinnedMap on
//	        every SIGHUP (and --reloads N) and keeps the handles in a
//	        registry, never closed: one FD per map per reload.
//	lookup  statsPoll opens the delay map by kernel ID with ebpf.NewMapFromID
//	        on every tick, kept the same way: one FD per tick.
//
// --no-leak closes those handles.  --finalize drops them instead and forces
// a garbage collection after each reload and tick, so cilium/ebpf's
// finalizers close the FDs: a leak in the code that the GC happened to
// clean up (bpfleak's `finalized` class).  Everything else is released: on
// exit (after --ticks/--reloads, or on SIGINT/SIGTERM) the gateway detaches
// from the interface, removes its pins and closes the collection, so an
// exit snapshot sees exactly the leaked FDs still open.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// Set by the build: -ldflags "-X main.bpfleakVersion=..."
var bpfleakVersion = "0"

func msg(format string, a ...interface{}) {
	fmt.Fprintf(os.Stdout, "gateway-go: "+format+"\n", a...)
}

func errf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "gateway-go: "+format+"\n", a...)
}

// As strsignal(3) names them, like the C gateway's messages.
func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "Interrupt"
	case syscall.SIGTERM:
		return "Terminated"
	case syscall.SIGHUP:
		return "Hangup"
	}
	return s.String()
}

func main() {
	os.Exit(run(parseArgs(os.Args[1:])))
}

func run(o *options) int {
	g := &gateway{opts: o}
	// Loops run only this many ticks; 0 = until a signal.
	iterations := o.ticks
	if o.reloads > iterations {
		iterations = o.reloads
	}
	// Reloads run in the main loop, not in a handler.  Notify also undoes
	// a SIG_IGN inherited from the shell (background jobs, nohup).
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)

	rc := 1
	tick := uint(0)
	if err := g.setup(); err != nil {
		errf("%v", err)
		goto out
	}
	if o.probe {
		p, err := openProbe()
		if err != nil {
			errf("%v", err)
			goto out
		}
		g.probe = p
	}
	if iterations > 0 {
		msg("ready: %d tick(s) of %d ms, %d reload(s)", iterations, o.intervalMS, o.reloads)
	} else {
		msg("ready: a tick every %d ms until SIGINT/SIGTERM; SIGHUP reloads", o.intervalMS)
	}
	rc = g.loop(sigs, iterations, &tick)
	if p := g.probe; p != nil {
		msg("probes: %d sent, %d delivered on pass, %d dropped on drop, %d lost",
			p.sent, p.delivered, p.blocked, p.lost)
	}
out:
	attached := g.xdp != nil
	if err := g.teardown(); err != nil {
		rc = 1
	} else if attached {
		msg("detached from %s, pins removed; %d tick(s), %d reload(s)", o.ifname, tick,
			g.nReloads)
	}
	return rc
}

func (g *gateway) loop(sigs chan os.Signal, iterations uint, tick *uint) int {
	o := g.opts
	rc := 0
	ticker := time.NewTicker(time.Duration(o.intervalMS) * time.Millisecond)
	defer ticker.Stop()
	for iterations == 0 || *tick < iterations {
		select {
		case s := <-sigs:
			if s != syscall.SIGHUP {
				msg("%s: shutting down", signalName(s))
				return rc
			}
			g.aclReload("SIGHUP")
		case <-ticker.C:
			*tick++
			if *tick <= o.reloads && g.aclReload("timed") != nil {
				rc = 1
			}
			if g.probe != nil {
				g.probe.run()
			}
			if (iterations == 0 || *tick <= o.ticks) && g.statsPoll(int(*tick)) != nil {
				rc = 1
			}
		}
		if o.finalize {
			// The dropped handles are unreachable now that the reload
			// or tick returned: collect, and their finalizers close them.
			runtime.GC()
		}
	}
	return rc
}
