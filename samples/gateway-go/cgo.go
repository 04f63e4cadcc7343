// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

//go:build cgo

package main

// The CGO_ENABLED=1 build is a cgo program for certain (dynamically
// linked, a C-created main thread, libc's resolver), whether or not the
// packages it uses happen to need cgo.
import _ "runtime/cgo"
