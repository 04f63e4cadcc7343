// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

package main

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"time"
)

const probeWait = 200 * time.Millisecond

// probe sends datagrams through the datapath over lo each tick and counts
// what the ACL did with them (the pass endpoint must get them, the drop
// endpoint must not).
type probe struct {
	tx, rxPass, rxDrop             *net.UDPConn
	sent, delivered, blocked, lost int
}

var probePayload = []byte("bpfleak gateway probe\x00")

func listenUDP(port int) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

func openProbe() (*probe, error) {
	p := &probe{}
	var err error
	if p.rxPass, err = listenUDP(probePassPort); err == nil {
		if p.rxDrop, err = listenUDP(probeDropPort); err == nil {
			p.tx, err = listenUDP(0)
		}
	}
	if err != nil {
		p.close()
		return nil, fmt.Errorf("probe: cannot bind 127.0.0.1:%d/%d: %w", probePassPort,
			probeDropPort, err)
	}
	return p, nil
}

func (p *probe) close() {
	for _, c := range []*net.UDPConn{p.tx, p.rxPass, p.rxDrop} {
		if c != nil {
			c.Close()
		}
	}
	p.tx, p.rxPass, p.rxDrop = nil, nil, nil
}

// drain reads what is queued without waiting (a read deadline in the past
// would fail before even trying), and says whether there was anything.
func drain(c *net.UDPConn) bool {
	got := false
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	buf := make([]byte, 64)
	rc.Read(func(fd uintptr) bool {
		for {
			if _, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT); err != nil {
				return true
			}
			got = true
		}
	})
	return got
}

// run sends one datagram to the drop endpoint, then one to the pass
// endpoint.  Loopback delivers in order, so once the second has arrived the
// first has either arrived too or been dropped by the ACL.
func (p *probe) run() {
	drain(p.rxPass)
	drain(p.rxDrop)
	for _, port := range []int{probeDropPort, probePassPort} {
		to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
		if _, err := p.tx.WriteToUDP(probePayload, to); err != nil {
			errf("probe: sendto: %v", err)
			return
		}
	}
	p.sent++
	buf := make([]byte, 64)
	p.rxPass.SetReadDeadline(time.Now().Add(probeWait))
	if _, _, err := p.rxPass.ReadFromUDP(buf); err == nil {
		drain(p.rxPass)
		p.delivered++
		if !drain(p.rxDrop) {
			p.blocked++
		}
	} else {
		p.lost++
	}
}
