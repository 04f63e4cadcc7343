// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cilium/ebpf/link"
)

const defaultPinDir = "/sys/fs/bpf/bpfleak-gateway-go"

type options struct {
	ifname, pinDir, aclFile string
	reloads, ticks          uint
	intervalMS              uint
	xdpMode                 link.XDPAttachFlags
	probe                   bool
	noLeak, finalize        bool
	verbose                 bool
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: %s [OPTION]...
The bpfleak sample XDP gateway in Go, on cilium/ebpf: loads an ACL datapath,
pins it under a bpffs directory, attaches it to an interface and ticks until
told to stop.  It leaks eBPF FDs on purpose (see --no-leak).

  -i, --ifname IF      interface to attach to (default: lo)
  -p, --pin-dir DIR    bpffs directory for the pins (default: %s);
                       created if missing, removed on exit if created
  -a, --acl FILE       ACL to load and re-read on reload; lines are
                       'ep ADDR udp|tcp PORT pass|drop' and
                       'delay ADDR/LEN [DELAY_US]' (default: 127.0.0.1 udp
                       %d pass, 127.0.0.1 udp %d drop, delay 127.0.0.0/8)
  -r, --reloads N      reload the ACL on each of the first N ticks
  -t, --ticks N        exit after N ticks (default: run until SIGINT/SIGTERM,
                       or until the --reloads are done)
  -I, --interval MS    tick interval in milliseconds (default: 1000)
  -m, --mode MODE      XDP mode: generic (skb, the default) or native (drv)
      --probe          send probe datagrams over lo each tick (default on lo)
      --no-probe       do not send probes
      --no-leak        close the map handles that reloads and ticks open
      --finalize       drop those handles instead and force a garbage
                       collection, so cilium/ebpf's finalizers close them
  -v, --verbose        show the verifier's log when loading fails
  -h, --help           show this help and exit
  -V, --version        show the version and exit

Signals: SIGHUP reloads the ACL; SIGINT and SIGTERM detach, unpin and exit 0.
Each tick reads the per-source accounting (delay map) by map ID.
Exit status: 0 on a clean run, 1 on a runtime error, 2 on bad usage.
`, os.Args[0], defaultPinDir, probePassPort, probeDropPort)
}

func badUsage(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s: %s\nTry '%s --help'.\n", os.Args[0], fmt.Sprintf(format, a...),
		os.Args[0])
	os.Exit(2)
}

// parseArgs parses the same options as samples/gateway.c, with Go's flag
// package (which takes -x and --x alike); exits on --help, --version and
// bad usage.
func parseArgs(args []string) *options {
	o := &options{}
	fs := flag.NewFlagSet(os.Args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(p *string, short, long, def string) {
		fs.StringVar(p, short, def, "")
		fs.StringVar(p, long, def, "")
	}
	num := func(p *uint, short, long string, def uint) {
		fs.UintVar(p, short, def, "")
		fs.UintVar(p, long, def, "")
	}
	var mode string
	var probe, noProbe, help, version bool
	str(&o.ifname, "i", "ifname", "lo")
	str(&o.pinDir, "p", "pin-dir", defaultPinDir)
	str(&o.aclFile, "a", "acl", "")
	num(&o.reloads, "r", "reloads", 0)
	num(&o.ticks, "t", "ticks", 0)
	num(&o.intervalMS, "I", "interval", 1000)
	str(&mode, "m", "mode", "generic")
	fs.BoolVar(&probe, "probe", false, "")
	fs.BoolVar(&noProbe, "no-probe", false, "")
	fs.BoolVar(&o.noLeak, "no-leak", false, "")
	fs.BoolVar(&o.finalize, "finalize", false, "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.BoolVar(&o.verbose, "verbose", false, "")
	fs.BoolVar(&help, "h", false, "")
	fs.BoolVar(&help, "help", false, "")
	fs.BoolVar(&version, "V", false, "")
	fs.BoolVar(&version, "version", false, "")
	if err := fs.Parse(args); err != nil {
		badUsage("%v", err)
	}
	if help {
		usage(os.Stdout)
		os.Exit(0)
	}
	if version {
		fmt.Printf("gateway-go (bpfleak sample) %s\n", bpfleakVersion)
		os.Exit(0)
	}
	if fs.NArg() > 0 {
		badUsage("unexpected argument '%s'", fs.Arg(0))
	}
	if o.intervalMS == 0 || o.intervalMS > 1000000000 || o.reloads > 1000000000 ||
		o.ticks > 1000000000 {
		badUsage("--interval is 1..1000000000, --reloads and --ticks 0..1000000000")
	}
	switch mode {
	case "generic", "skb":
		o.xdpMode = link.XDPGenericMode
	case "native", "drv":
		o.xdpMode = link.XDPDriverMode
	default:
		badUsage("--mode is generic or native, not '%s'", mode)
	}
	if o.noLeak && o.finalize {
		badUsage("--no-leak and --finalize exclude each other")
	}
	o.probe = o.ifname == "lo"
	if probe {
		o.probe = true
	}
	if noProbe {
		o.probe = false
	}
	return o
}
