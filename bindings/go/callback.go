package aichat

// This file holds the one Go function C calls. Its preamble may only declare (cgo rule for
// files with //export), so the function pointer is taken in aichat.go.

/*
#include <stddef.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// aichatGoChunk receives every chunk of a call made by (*Client).Stream, on the goroutine that
// made the call. userData points at the call's cgo.Handle. A panic in the user's loop body is
// recovered here (it must not unwind through the library's frames) and re-raised by Stream
// after the C call returns.
//
//export aichatGoChunk
func aichatGoChunk(chunk *C.char, n C.size_t, userData unsafe.Pointer) (stop C.int) {
	call := (*(*cgo.Handle)(userData)).Value().(*streamCall)
	defer func() {
		if r := recover(); r != nil {
			call.panicked = &r
			stop = 1
		}
	}()
	if !call.yield(C.GoStringN(chunk, C.int(n)), nil) {
		call.stopped = true
		return 1
	}
	return 0
}
