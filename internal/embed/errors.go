package embed

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// APIError is a failed call to an embedding provider. Retryable tells the
// retry wrapper ([WithRetry]) whether trying again can help: rate limits
// (429), server errors (5xx), timeouts and dropped connections can; a bad
// request, a rejected key or an unknown model (400, 401, 403, 404) cannot,
// and ingest stops before writing anything.
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

// IsRetryable reports whether err is worth retrying: an [APIError] marked
// Retryable. Other errors (a malformed response, a cancelled context) are
// not.
func IsRetryable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Retryable
}

// ErrConfig marks a provider configuration that cannot work (missing key,
// compartment or endpoint); the CLI reports it as a usage error.
var ErrConfig = errors.New("embedder configuration")

func configErrorf(format string, args ...any) error {
	return &configError{fmt.Errorf(format, args...)}
}

type configError struct{ err error }

func (e *configError) Error() string   { return e.err.Error() }
func (e *configError) Unwrap() []error { return []error{ErrConfig, e.err} }

// ResponseError is a response that arrived but cannot be used: malformed
// JSON, the wrong number of vectors, vectors of different lengths. It is
// never retried and never stored: misaligned vectors would silently attach
// the wrong meaning to a chunk.
type ResponseError struct {
	Provider string
	Msg      string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s returned an unusable response: %s", e.Provider, e.Msg)
}
