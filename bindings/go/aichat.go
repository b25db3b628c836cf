// Package aichat is the Go binding of the aichat native chat-completion library: stream a
// completion with a range loop, stop it with a context or a break.
//
//	for chunk, err := range aichat.Stream(ctx, aichat.Request{Messages: msgs, Stream: true}) {
//		if err != nil { return err }
//		fmt.Print(chunk)
//	}
//
// The package only translates: requests become the library's JSON, its status codes become
// *Error. The protocols, validation, retries and timeouts are the library's.
package aichat

/*
#include <stdlib.h>
#include "aichat.h"

extern int aichatGoChunk(char *chunk, size_t len, void *user_data);

static AichatChunkCallback aichat_go_chunk(void) { return (AichatChunkCallback)aichatGoChunk; }
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

// streamCall is what the C callback reaches through the cgo.Handle.
type streamCall struct {
	yield    func(string, error) bool
	stopped  bool // the loop body broke out
	panicked *any // the loop body panicked with this value
}

// Stream runs one completion and yields each chunk as it arrives. After a failure it yields one
// final ("", err). Breaking out of the loop stops the request at once. When ctx is cancelled or
// its deadline passes, the request stops within milliseconds, even while the server is silent,
// and the error matches ctx.Err() with errors.Is.
func (c *Client) Stream(ctx context.Context, req Request) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := c.stream(ctx, req, yield); err != nil {
			yield("", err)
		}
	}
}

func (c *Client) stream(ctx context.Context, req Request, yield func(string, error) bool) error {
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

	call := &streamCall{yield: yield}
	handle := cgo.NewHandle(call)
	defer handle.Delete()
	var cerr *C.AichatError
	status := C.aichat_client_create_completion(c.native, cjs, C.aichat_go_chunk(), unsafe.Pointer(&handle), cancel, &cerr)
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
