package aichat

/*
#include "aichat.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Code is a status code of the C library: the numbers are the C header's own (AICHAT_*), and
// never change.
type Code int

const (
	CodeOK              Code = C.AICHAT_OK
	CodeInvalidArgument Code = C.AICHAT_ERROR_INVALID_ARGUMENT
	CodeInvalidRequest  Code = C.AICHAT_ERROR_INVALID_REQUEST
	CodeConnect         Code = C.AICHAT_ERROR_CONNECT
	CodeTimeout         Code = C.AICHAT_ERROR_TIMEOUT
	CodeHTTPStatus      Code = C.AICHAT_ERROR_HTTP_STATUS
	CodeProtocol        Code = C.AICHAT_ERROR_PROTOCOL
	CodeServer          Code = C.AICHAT_ERROR_SERVER
	CodeCancelled       Code = C.AICHAT_ERROR_CANCELLED
	CodeIO              Code = C.AICHAT_ERROR_IO
	CodeTooLarge        Code = C.AICHAT_ERROR_TOO_LARGE
	CodeInternal        Code = C.AICHAT_ERROR_INTERNAL
)

// String gives the C name, e.g. "AICHAT_ERROR_TIMEOUT"; "AICHAT_UNKNOWN" for other values.
func (c Code) String() string {
	return C.GoString(C.aichat_status_name(C.int(c)))
}

// Error is what a failed call returns. Use errors.As to read it, or errors.Is with a sentinel
// (ErrTimeout, ...) to test its code. A call stopped by its context also matches ctx.Err().
type Error struct {
	Code       Code
	Message    string
	HTTPStatus int // 0 when no HTTP answer arrived
	cause      error
	sentinel   bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("aichat: %s: %s", e.Code, e.Message)
}

// Is matches the sentinel of the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.sentinel && t.Code == e.Code
}

// Unwrap gives the context's error when the call was stopped by its context.
func (e *Error) Unwrap() error { return e.cause }

func sentinel(c Code) *Error { return &Error{Code: c, Message: c.String(), sentinel: true} }

// Sentinels for errors.Is, one per code.
var (
	ErrInvalidArgument = sentinel(CodeInvalidArgument)
	ErrInvalidRequest  = sentinel(CodeInvalidRequest)
	ErrConnect         = sentinel(CodeConnect)
	ErrTimeout         = sentinel(CodeTimeout)
	ErrHTTPStatus      = sentinel(CodeHTTPStatus)
	ErrProtocol        = sentinel(CodeProtocol)
	ErrServer          = sentinel(CodeServer)
	ErrCancelled       = sentinel(CodeCancelled)
	ErrIO              = sentinel(CodeIO)
	ErrTooLarge        = sentinel(CodeTooLarge)
	ErrInternal        = sentinel(CodeInternal)
)
