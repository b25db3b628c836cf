// Package aichat is the Go binding of the aichat native chat-completion library: stream a
// completion with a range loop, stop it with a context or a break.
//
//	req := aichat.Request{Messages: msgs, Options: aichat.Options{Stream: true}}
//	for chunk, err := range aichat.Stream(ctx, req) {
//		if err != nil { return err }
//		fmt.Print(chunk)
//	}
//
// Events gives every piece of the answer (reasoning, tool calls, finish reason, usage, the
// assembled message) and Run gathers them into a Result.
//
// The package only translates: requests become the library's JSON, its status codes become
// *Error. The protocols, validation, retries and timeouts are the library's.
package aichat

/*
#include <stdlib.h>
#include "aichat.h"
*/
import "C"

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Client holds defaults and a connection pool shared by its calls. It is safe for concurrent
// use by many goroutines.
type Client struct {
	mu     sync.RWMutex // held shared by running calls, exclusively by Close
	native *C.AichatClient
}

// NewClient makes a client whose calls take unset fields from opts.
func NewClient(opts Options) (*Client, error) {
	js, err := opts.json()
	if err != nil {
		return nil, &Error{Code: CodeInvalidRequest, Message: err.Error()}
	}
	cjs := C.CString(string(js))
	defer C.free(unsafe.Pointer(cjs))
	var cerr *C.AichatError
	native := C.aichat_client_new(cjs, &cerr)
	if native == nil {
		return nil, takeError(cerr)
	}
	c := &Client{native: native}
	// A safety net only: Close is how a client should end.
	runtime.SetFinalizer(c, func(c *Client) { c.Close() })
	return c, nil
}

// Close releases the client once its running calls have returned (so it must not be called
// from inside a range loop over one of this client's streams). It is idempotent; calls made
// after it fail with ErrInvalidArgument.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.native != nil {
		C.aichat_client_free(c.native)
		c.native = nil
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

// Stream runs one completion and yields each chunk as it arrives. After a failure it yields one
// final ("", err). Breaking out of the loop stops the request at once. When ctx is cancelled or
// its deadline passes, the request stops within milliseconds, even while the server is silent,
// and the error matches ctx.Err() with errors.Is.
//
// The loop body runs on the calling goroutine in Go frames only: chunks are pulled from the
// library in batches (aichat_stream_next, which never blocks), so a panic, runtime.Goexit
// (t.FailNow) or break in it unwinds nothing of the library's, and the request is freed on the
// way out. Between batches the goroutine waits on Go's network poller for the stream's
// descriptor, holding no OS thread.
func (c *Client) Stream(ctx context.Context, req Request) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := pull(c, ctx, req, textStream, yield); err != nil {
			yield("", err)
		}
	}
}

// Events runs one completion and yields every event of the answer as it arrives: EventResponse
// first, EventMessage last. Failures, break, ctx and the loop body behave as in Stream.
func (c *Client) Events(ctx context.Context, req Request) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if err := pull(c, ctx, req, eventStream, yield); err != nil {
			yield(Event{}, err)
		}
	}
}

// cgoSlots bounds how many goroutines are inside the library's stream calls at once. None of
// those calls waits for the network, but a goroutine in a cgo call holds an OS thread, and
// thousands of goroutines entering together make Go start a thread for each one that arrives
// while the others are inside. Waiting for a slot parks the goroutine instead, holding no
// thread; GOMAXPROCS slots still let that many pulls decode in parallel.
var cgoSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// inC runs f (a call into the library) in one of the cgoSlots.
func inC[T any](f func() T) T {
	cgoSlots <- struct{}{}
	defer func() { <-cgoSlots }()
	return f()
}

// streamKind opens a stream and pulls one batch of it as Go values. A batch's C memory is
// valid until the next pull, so it is copied out before any user code runs.
type streamKind[T any] struct {
	open func(*C.AichatClient, *C.char, *C.AichatCancel, **C.AichatError) *C.AichatStream
	// next takes what is there without waiting (wait_ms 0).
	next func(*C.AichatStream, []T) ([]T, bool, *C.AichatError)
}

var textStream = streamKind[string]{
	open: func(c *C.AichatClient, js *C.char, cancel *C.AichatCancel, cerr **C.AichatError) *C.AichatStream {
		return C.aichat_client_stream_open(c, js, cancel, cerr)
	},
	next: func(s *C.AichatStream, out []string) ([]string, bool, *C.AichatError) {
		var b C.AichatChunks
		var cerr *C.AichatError
		if C.aichat_stream_next(s, 0, &b, &cerr) != C.AICHAT_OK {
			return out, false, cerr
		}
		if b.count > 0 {
			// One copy of the batch; the chunks are substrings of it.
			all := C.GoStringN(b.text, C.int(b.text_len))
			start := 0
			for _, end := range unsafe.Slice(b.ends, b.count) {
				out = append(out, all[start:int(end)])
				start = int(end)
			}
		}
		return out, bool(b.finished), nil
	},
}

var eventStream = streamKind[Event]{
	open: func(c *C.AichatClient, js *C.char, cancel *C.AichatCancel, cerr **C.AichatError) *C.AichatStream {
		return C.aichat_client_stream_open_events(c, js, cancel, cerr)
	},
	next: func(s *C.AichatStream, out []Event) ([]Event, bool, *C.AichatError) {
		var b C.AichatEvents
		var cerr *C.AichatError
		if C.aichat_stream_next_events(s, 0, &b, &cerr) != C.AICHAT_OK {
			return out, false, cerr
		}
		if b.count > 0 {
			items := unsafe.Slice(b.items, b.count)
			for i := range items {
				out = append(out, eventFromC(&items[i]))
			}
		}
		return out, bool(b.finished), nil
	},
}

// pull opens a stream of kind on c and feeds yield batch by batch, in Go frames only: the
// request JSON, the cancel token fired by ctx, the stream freed however the loop is left, the
// failure as an error.
func pull[T any](c *Client, ctx context.Context, req Request, kind streamKind[T], yield func(T, error) bool) error {
	if err := ctx.Err(); err != nil {
		return contextError(err)
	}
	js, err := req.json()
	if err != nil {
		return &Error{Code: CodeInvalidRequest, Message: err.Error()}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.native == nil {
		return &Error{Code: CodeInvalidArgument, Message: "the client is closed"}
	}
	// Every call into C below runs in a slot (see cgoSlots), so that thousands of goroutines
	// opening streams at once do not each pin an OS thread.
	cancel := inC(func() *C.AichatCancel { return C.aichat_cancel_new() })
	defer inC(func() bool { C.aichat_cancel_free(cancel); return true })
	// The token fires when ctx ends; the trigger must have finished before the token is freed
	// (deferred calls run last-in first-out: this one before the free above).
	triggered := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() {
		inC(func() bool { C.aichat_cancel_trigger(cancel); return true })
		close(triggered)
	})
	defer func() {
		if !stopWatch() {
			<-triggered
		}
	}()
	var cerr *C.AichatError
	var fd C.int
	stream := inC(func() *C.AichatStream {
		cjs := C.CString(string(js))
		defer C.free(unsafe.Pointer(cjs))
		s := kind.open(c.native, cjs, cancel, &cerr)
		if s != nil {
			fd = C.aichat_stream_fd(s, &cerr)
		}
		return s
	})
	if stream == nil {
		return takeError(cerr)
	}
	// Runs on return, panic and runtime.Goexit alike: the request stops, its connection goes.
	defer inC(func() bool { C.aichat_stream_free(stream); return true })
	if fd < 0 {
		return takeError(cerr)
	}
	var waiter *readyWaiter
	inC(func() bool { waiter, err = newReadyWaiter(int(fd)); return true })
	if err != nil {
		return &Error{Code: CodeIO, Message: "cannot watch the stream's descriptor: " + err.Error()}
	}
	defer inC(func() bool { waiter.close(); return true })
	var batch []T
	for {
		var finished bool
		inC(func() bool {
			batch, finished, cerr = kind.next(stream, batch[:0])
			return true
		})
		if len(batch) == 0 && cerr == nil && !finished {
			// Nothing yet: park on Go's poller until the descriptor says more arrived, not in
			// a blocking cgo call (which would hold an OS thread per waiting goroutine).
			if err := waiter.wait(); err != nil {
				return &Error{Code: CodeIO, Message: "cannot watch the stream's descriptor: " + err.Error()}
			}
			continue
		}
		for _, v := range batch {
			if !yield(v, nil) {
				return nil
			}
		}
		if cerr != nil {
			e := takeError(cerr)
			if ctxErr := ctx.Err(); ctxErr != nil && e.Code == CodeCancelled {
				return contextError(ctxErr)
			}
			return e
		}
		if finished {
			return nil
		}
	}
}

// Complete runs one completion and returns its whole text.
func (c *Client) Complete(ctx context.Context, req Request) (string, error) {
	var text strings.Builder
	for chunk, err := range c.Stream(ctx, req) {
		if err != nil {
			return text.String(), err
		}
		text.WriteString(chunk)
	}
	return text.String(), nil
}

var defaultClient = sync.OnceValues(func() (*Client, error) { return NewClient(Options{}) })

// Stream is (*Client).Stream on a process-wide client with library defaults.
func Stream(ctx context.Context, req Request) iter.Seq2[string, error] {
	c, err := defaultClient()
	if err != nil {
		return func(yield func(string, error) bool) { yield("", err) }
	}
	return c.Stream(ctx, req)
}

// Events is (*Client).Events on a process-wide client with library defaults.
func Events(ctx context.Context, req Request) iter.Seq2[Event, error] {
	c, err := defaultClient()
	if err != nil {
		return func(yield func(Event, error) bool) { yield(Event{}, err) }
	}
	return c.Events(ctx, req)
}

// Run is (*Client).Run on a process-wide client with library defaults.
func Run(ctx context.Context, req Request) (*Result, error) {
	c, err := defaultClient()
	if err != nil {
		return nil, err
	}
	return c.Run(ctx, req)
}

// Complete is (*Client).Complete on a process-wide client with library defaults.
func Complete(ctx context.Context, req Request) (string, error) {
	c, err := defaultClient()
	if err != nil {
		return "", err
	}
	return c.Complete(ctx, req)
}

// takeError converts and frees a C error.
func takeError(cerr *C.AichatError) *Error {
	if cerr == nil {
		return &Error{Code: CodeInternal, Message: "the library reported a failure without an error"}
	}
	defer C.aichat_error_free(cerr)
	return &Error{
		Code:       Code(C.aichat_error_code(cerr)),
		Message:    C.GoString(C.aichat_error_message(cerr)),
		HTTPStatus: int(C.aichat_error_http_status(cerr)),
	}
}

// contextError is the error of a call stopped by its context: cancelled or timed out, and
// matching ctx.Err() with errors.Is.
func contextError(ctxErr error) *Error {
	code := CodeCancelled
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		code = CodeTimeout
	}
	return &Error{Code: code, Message: ctxErr.Error(), cause: ctxErr}
}
