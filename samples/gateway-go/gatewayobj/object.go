// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

// Package gatewayobj embeds the sample gateway's compiled XDP datapath
// (bpf/gateway.bpf.c), so the Go gateway, like the C one with its bpftool
// skeleton, needs no file beside it at run time.
//
// The build (samples/gateway-go/build.mk) copies this file and
// build/bpf/gateway.bpf.o into a GOPATH package of the build directory,
// bpfleak.sample/gatewayobj: the source tree holds no build output, and the
// gateway's own files are compiled where they are, so their paths in the
// binary's DWARF (what bpfleak reports) are the real source paths.
package gatewayobj

import _ "embed"

// Object is the ELF object the gateway loads with cilium/ebpf.
//
//go:embed gateway.bpf.o
var Object []byte
