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

extern int aichatGoChunk(char *chunk, size_t len, void *user_data);
extern int aichatGoEvent(AichatEvent *event, void *user_data);

static AichatChunkCallback aichat_go_chunk(void) { return (AichatChunkCallback)aichatGoChunk; }
static AichatEventCallback aichat_go_event(void) { return (AichatEventCallback)aichatGoEvent; }
*/
import "C"

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"runtime/cgo"
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

// streamCall is what a C callback reaches through the cgo.Handle: the loop body of a range
// over Stream (T string) or Events (T Event).
type streamCall[T any] struct {
	yield    func(T, error) bool
	stopped  bool // the loop body broke out
	panicked *any // the loop body panicked with this value
}

// Stream runs one completion and yields each chunk as it arrives. After a failure it yields one
// final ("", err). Breaking out of the loop stops the request at once. When ctx is cancelled or
// its deadline passes, the request stops within milliseconds, even while the server is silent,
// and the error matches ctx.Err() with errors.Is.
func (c *Client) Stream(ctx context.Context, req Request) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		err := run(c, ctx, req, yield, func(native *C.AichatClient, js *C.char, h unsafe.Pointer, cancel *C.AichatCancel, cerr **C.AichatError) C.AichatStatus {
			return C.AichatStatus(C.aichat_client_create_completion(native, js, C.aichat_go_chunk(), h, cancel, cerr))
		})
		if err != nil {
			yield("", err)
		}
	}
}

// Events runs one completion and yields every event of the answer as it arrives: EventResponse
// first, EventMessage last. Failures, break and ctx behave as in Stream.
func (c *Client) Events(ctx context.Context, req Request) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		err := run(c, ctx, req, yield, func(native *C.AichatClient, js *C.char, h unsafe.Pointer, cancel *C.AichatCancel, cerr **C.AichatError) C.AichatStatus {
			return C.AichatStatus(C.aichat_client_create_completion_events(native, js, C.aichat_go_event(), h, cancel, cerr))
		})
		if err != nil {
			yield(Event{}, err)
		}
	}
}

// startFunc starts one C call with the request JSON, the callback's handle, the cancel token and
// the error out-parameter.
type startFunc func(*C.AichatClient, *C.char, unsafe.Pointer, *C.AichatCancel, **C.AichatError) C.AichatStatus

// run makes one C call on c that feeds yield: the request JSON, the cancel token fired by ctx,
// the handle the callback reaches, a panic in the loop body re-raised, the status as an error.
func run[T any](c *Client, ctx context.Context, req Request, yield func(T, error) bool, start startFunc) error {
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
	cjs := C.CString(string(js))
	defer C.free(unsafe.Pointer(cjs))
	cancel := C.aichat_cancel_new()
	defer C.aichat_cancel_free(cancel)
	// The token fires when ctx ends; the trigger must have finished before the token is freed.
	triggered := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() {
		C.aichat_cancel_trigger(cancel)
		close(triggered)
	})

	call := &streamCall[T]{yield: yield}
	handle := cgo.NewHandle(call)
	defer handle.Delete()
	var cerr *C.AichatError
	status := start(c.native, cjs, unsafe.Pointer(&handle), cancel, &cerr)
	if !stopWatch() {
		<-triggered
	}
	if call.panicked != nil {
		C.aichat_error_free(cerr)
		panic(*call.panicked)
	}
	if status == C.AICHAT_OK || call.stopped {
		C.aichat_error_free(cerr)
		return nil
	}
	e := takeError(cerr)
	if ctxErr := ctx.Err(); ctxErr != nil && e.Code == CodeCancelled {
		return contextError(ctxErr)
	}
	return e
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
