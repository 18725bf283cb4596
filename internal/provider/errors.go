package provider

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// APIError is a failed call to a provider. Retryable tells a [Retrier]
// whether trying again can help: rate limits (429), server errors (5xx
// except 501), timeouts and dropped connections can; a bad request, a
// rejected key or an unknown model (400, 401, 403, 404) cannot.
//
// Msg is the provider's own explanation, shortened and with secrets
// removed; Hint says what the user can do about it.
type APIError struct {
	Provider   string
	Status     int // HTTP status; 0 when no response arrived
	Retryable  bool
	RetryAfter time.Duration // the server's Retry-After, if it sent one
	Msg        string
	Hint       string
	Err        error // the underlying error, already redacted
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	if e.Status > 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// Rejected reports whether the provider refused the credentials (401 or
// 403): trying again with the same key cannot help.
func (e *APIError) Rejected() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// IsRetryable reports whether err is worth retrying: an [APIError] marked
// Retryable, not wrapped by [Final]. Other errors (a malformed response, a
// cancelled context) are not.
func IsRetryable(err error) bool {
	var f *finalError
	if errors.As(err, &f) {
		return false
	}
	var ae *APIError
	return errors.As(err, &ae) && ae.Retryable
}

// Final marks err as not to be retried even if it wraps a retryable
// [APIError]: a stream that failed after part of the answer was shown
// cannot be restarted without showing it twice. The error text and chain
// are err's own.
func Final(err error) error {
	if err == nil {
		return nil
	}
	return &finalError{err}
}

type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// ResponseError is a response that arrived but cannot be used: malformed
// JSON, the wrong number of vectors, an event stream that breaks its own
// format. It is never retried: a server that answers nonsense once will
// usually do it again.
type ResponseError struct {
	Provider string
	Msg      string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s returned an unusable response: %s", e.Provider, e.Msg)
}
