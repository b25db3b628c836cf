package aichat

import (
	"errors"
	"fmt"
)

// Code is a status code of the C library. The numbers are the C ones and never change.
type Code int

const (
	CodeOK              Code = 0
	CodeInvalidArgument Code = 1
	CodeInvalidRequest  Code = 2
	CodeConnect         Code = 3
	CodeTimeout         Code = 4
	CodeHTTPStatus      Code = 5
	CodeProtocol        Code = 6
	CodeServer          Code = 7
	CodeCancelled       Code = 8
	CodeIO              Code = 9
	CodeTooLarge        Code = 10
	CodeInternal        Code = 11
)

var codeNames = [...]string{
	"AICHAT_OK", "AICHAT_ERROR_INVALID_ARGUMENT", "AICHAT_ERROR_INVALID_REQUEST", "AICHAT_ERROR_CONNECT",
	"AICHAT_ERROR_TIMEOUT", "AICHAT_ERROR_HTTP_STATUS", "AICHAT_ERROR_PROTOCOL", "AICHAT_ERROR_SERVER",
	"AICHAT_ERROR_CANCELLED", "AICHAT_ERROR_IO", "AICHAT_ERROR_TOO_LARGE", "AICHAT_ERROR_INTERNAL",
}

// String gives the C name, e.g. "AICHAT_ERROR_TIMEOUT"; "AICHAT_UNKNOWN" for other values.
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "AICHAT_UNKNOWN"
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
