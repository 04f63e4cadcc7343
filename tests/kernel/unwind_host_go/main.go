// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

// The Go program test_unwind stops at its bpf() system call and unwinds,
// built static (CGO_ENABLED=0) and with cgo: main.main -> main.hostMid ->
// main.hostLeaf -> syscall.Syscall -> the runtime's syscall instruction.
// The map id does not exist: the call fails with ENOENT, creates nothing.
package main

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

const (
	sysBPF          = 321 // x86_64
	bpfMapGetFDByID = 14
)

// The main goroutine stays on the main thread, the one test_unwind traces.
func init() { runtime.LockOSThread() }

//go:noinline
func hostLeaf() uintptr {
	var attr [16]uint32
	attr[0] = 0xffffffff // map_id: no such map
	fd, _, _ := syscall.Syscall(sysBPF, bpfMapGetFDByID, uintptr(unsafe.Pointer(&attr[0])),
		unsafe.Sizeof(attr))
	return fd
}

//go:noinline
func hostMid() uintptr {
	return hostLeaf() + 1
}

func main() {
	if hostMid() == 12345 {
		os.Exit(3)
	}
}
