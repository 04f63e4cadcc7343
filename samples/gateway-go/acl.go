// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

const (
	probePassPort = 9009
	probeDropPort = 9007
)

type aclEndpoint struct {
	key epKey
	val epVal
}

// An ACL as read from --acl (or the built-in one).
type aclConf struct {
	endpoints []aclEndpoint
	cidrs     []cidr
}

func port16(p uint16) [2]byte { return [2]byte{byte(p >> 8), byte(p)} }

var loopback = [4]byte{127, 0, 0, 1}

// The built-in ACL: the probe's pass and drop endpoints on 127.0.0.1, and
// accounting for 127.0.0.0/8 (the same as samples/gateway.c).
func aclDefault() *aclConf {
	return &aclConf{
		endpoints: []aclEndpoint{
			{epKey{Addr: loopback, Port: port16(probePassPort), Proto: protoUDP}, epVal{ACL: aclPass}},
			{epKey{Addr: loopback, Port: port16(probeDropPort), Proto: protoUDP}, epVal{ACL: aclDrop}},
		},
		cidrs: []cidr{{Addr: [4]byte{127}, Mask: [4]byte{255}, PrefixLen: 8, DelayUs: 500}},
	}
}

const (
	protoTCP = 6
	protoUDP = 17
)

func parseIPv4(s string) ([4]byte, bool) {
	var a [4]byte
	ip := net.ParseIP(s).To4()
	if ip == nil || strings.Contains(s, ":") {
		return a, false
	}
	copy(a[:], ip)
	return a, true
}

// One rule a line, '#' starts a comment:
//
//	ep ADDR udp|tcp PORT pass|drop     an endpoint and its policy
//	delay ADDR/LEN [DELAY_US]          account sources in this prefix
func (c *aclConf) parseLine(line, where string) error {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	w := strings.Fields(line)
	if len(w) == 0 {
		return nil
	}
	switch w[0] {
	case "ep":
		if len(w) != 5 {
			return fmt.Errorf("%s: expected: ep ADDR udp|tcp PORT pass|drop", where)
		}
		if len(c.endpoints) == maxEndpoints {
			return fmt.Errorf("%s: more than %d endpoints", where, maxEndpoints)
		}
		var e aclEndpoint
		var ok bool
		if e.key.Addr, ok = parseIPv4(w[1]); !ok {
			return fmt.Errorf("%s: bad IPv4 address '%s'", where, w[1])
		}
		switch w[2] {
		case "udp":
			e.key.Proto = protoUDP
		case "tcp":
			e.key.Proto = protoTCP
		default:
			return fmt.Errorf("%s: protocol must be udp or tcp, not '%s'", where, w[2])
		}
		p, err := strconv.ParseUint(w[3], 10, 16)
		if err != nil || p == 0 {
			return fmt.Errorf("%s: bad port '%s'", where, w[3])
		}
		e.key.Port = port16(uint16(p))
		switch w[4] {
		case "pass":
			e.val.ACL = aclPass
		case "drop":
			e.val.ACL = aclDrop
		default:
			return fmt.Errorf("%s: policy must be pass or drop, not '%s'", where, w[4])
		}
		c.endpoints = append(c.endpoints, e)
	case "delay":
		if len(w) != 2 && len(w) != 3 {
			return fmt.Errorf("%s: expected: delay ADDR/LEN [DELAY_US]", where)
		}
		if len(c.cidrs) == maxCIDRs {
			return fmt.Errorf("%s: more than %d delay prefixes", where, maxCIDRs)
		}
		addr, lenStr, found := strings.Cut(w[1], "/")
		plen, err := strconv.ParseUint(lenStr, 10, 8)
		if !found || err != nil || plen == 0 || plen > 32 {
			return fmt.Errorf("%s: expected ADDR/LEN with LEN 1..32, not '%s'", where, w[1])
		}
		a, ok := parseIPv4(addr)
		if !ok {
			return fmt.Errorf("%s: bad IPv4 address '%s'", where, addr)
		}
		d := cidr{PrefixLen: uint32(plen)}
		copy(d.Mask[:], net.CIDRMask(int(plen), 32))
		for i := range a {
			d.Addr[i] = a[i] & d.Mask[i]
		}
		if len(w) == 3 {
			us, err := strconv.ParseUint(w[2], 10, 32)
			if err != nil {
				return fmt.Errorf("%s: bad delay '%s'", where, w[2])
			}
			d.DelayUs = uint32(us)
		}
		c.cidrs = append(c.cidrs, d)
	default:
		return fmt.Errorf("%s: unknown rule '%s' (ep or delay)", where, w[0])
	}
	return nil
}

// aclLoad reads file, or returns the built-in ACL when file is "".
func aclLoad(file string) (*aclConf, error) {
	if file == "" {
		return aclDefault(), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("cannot open ACL %s: %w", file, err)
	}
	defer f.Close()
	c := &aclConf{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if err := c.parseLine(sc.Text(), fmt.Sprintf("%s:%d", file, n)); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read ACL %s: %w", file, err)
	}
	return c, nil
}

func (c *aclConf) hasEndpoint(k epKey) bool {
	for _, e := range c.endpoints {
		if e.key == k {
			return true
		}
	}
	return false
}

func (c *aclConf) covers(src [4]byte) bool {
	for _, d := range c.cidrs {
		match := true
		for i := range src {
			if src[i]&d.Mask[i] != d.Addr[i] {
				match = false
			}
		}
		if match {
			return true
		}
	}
	return false
}
