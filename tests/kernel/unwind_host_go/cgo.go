// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause

//go:build cgo

package main

// With cgo, link the cgo runtime for real (a dynamic binary with libc and
// a C-created main thread), as a cgo program would; without this import
// CGO_ENABLED=1 alone still gives a static binary here.
import _ "runtime/cgo"
