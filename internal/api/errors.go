package api

import (
	"fmt"
	"net/http"
)

// Code is a machine-readable error code. Each code has one HTTP status
// ([Code.Status]); clients switch on the code, people read the message.
type Code string

// Error codes.
const (
	CodeInvalidRequest       Code = "invalid_request"        // 400: a field is missing, malformed or out of range
	CodeUnauthorized         Code = "unauthorized"           // 401: no or wrong API key
	CodeForbidden            Code = "forbidden"              // 403: the key is valid but may not do this
	CodeNotFound             Code = "not_found"              // 404: no such collection, answer, conversation, job, source
	CodeMethodNotAllowed     Code = "method_not_allowed"     // 405
	CodeConflict             Code = "conflict"               // 409: exists already, or options that contradict the collection's
	CodeTooLarge             Code = "too_large"              // 413: body, upload or question over the server's limit
	CodeUnsupportedMediaType Code = "unsupported_media_type" // 415
	CodeUnprocessable        Code = "unprocessable"          // 422: well-formed but meaningless, e.g. a filter that does not parse
	CodeRateLimited          Code = "rate_limited"           // 429: too many requests
	CodeTooManyStreams       Code = "too_many_streams"       // 429: too many answers streaming at once
	CodeCanceled             Code = "canceled"               // 499: the client went away (logged, never seen by it)
	CodeInternal             Code = "internal"               // 500
	CodeUpstream             Code = "upstream"               // 502: the language model or embedder failed
	CodeUnavailable          Code = "unavailable"            // 503: not ready, store locked, model unreachable
	CodeTimeout              Code = "timeout"                // 504: an upstream call ran out of time
)

// Status is the HTTP status that goes with c (500 for an unknown code).
func (c Code) Status() int {
	switch c {
	case CodeInvalidRequest:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeConflict:
		return http.StatusConflict
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case CodeUnprocessable:
		return http.StatusUnprocessableEntity
	case CodeRateLimited, CodeTooManyStreams:
		return http.StatusTooManyRequests
	case CodeCanceled:
		return 499 // nginx's "client closed request"
	case CodeUpstream:
		return http.StatusBadGateway
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// Codes lists every code, for documentation.
var Codes = []Code{
	CodeInvalidRequest, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeMethodNotAllowed,
	CodeConflict, CodeTooLarge, CodeUnsupportedMediaType, CodeUnprocessable, CodeRateLimited,
	CodeTooManyStreams, CodeCanceled, CodeInternal, CodeUpstream, CodeUnavailable, CodeTimeout,
}

// Error is an error a client can act on. It is both a Go error (returned
// by validation helpers and by the application layer) and the JSON inside
// [ErrorBody].
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Field is the JSON name of the request field at fault, when there is
	// one ("k", "value", "files[2]").
	Field string `json:"field,omitempty"`
	// cause is the error e classifies, kept for errors.Is and errors.As
	// in Go callers; it is never serialised.
	cause error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the error e classifies, if any.
func (e *Error) Unwrap() error { return e.cause }

// Wrap classifies err with code (and the request field at fault, if any),
// keeping err for errors.Is and errors.As; the message is err's.
func Wrap(code Code, field string, err error) *Error {
	return &Error{Code: code, Field: field, Message: err.Error(), cause: err}
}

// Status is the HTTP status of e.
func (e *Error) Status() int { return e.Code.Status() }

// Errorf returns an [*Error] with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid_request [*Error] about field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorBody is every error response of /api/v1 and the payload of a
// stream's `error` event: {"error": {"code": "...", "message": "..."}}.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// EventName implements [Event]: an error ends a stream.
func (ErrorBody) EventName() string { return "error" }
