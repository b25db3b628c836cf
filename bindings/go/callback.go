package aichat

// This file holds the Go functions C calls. Its preamble may only declare (cgo rule for
// files with //export), so the function pointer is taken in aichat.go.

/*
#include <stddef.h>
#include "aichat.h"
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
func aichatGoChunk(chunk *C.char, n C.size_t, userData unsafe.Pointer) C.int {
	call := (*(*cgo.Handle)(userData)).Value().(*streamCall[string])
	return deliver(call, C.GoStringN(chunk, C.int(n)))
}

// aichatGoEvent receives every event of a call made by (*Client).Events, as aichatGoChunk does.
//
//export aichatGoEvent
func aichatGoEvent(e *C.AichatEvent, userData unsafe.Pointer) C.int {
	call := (*(*cgo.Handle)(userData)).Value().(*streamCall[Event])
	return deliver(call, eventFromC(e))
}

// deliver runs the loop body with v: 1 (stop) when it broke out or panicked, keeping the panic
// for the caller to re-raise once the C call has returned.
func deliver[T any](call *streamCall[T], v T) (stop C.int) {
	defer func() {
		if r := recover(); r != nil {
			call.panicked = &r
			stop = 1
		}
	}()
	if !call.yield(v, nil) {
		call.stopped = true
		return 1
	}
	return 0
}
