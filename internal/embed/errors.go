package embed

import (
	"errors"
	"fmt"

	"github.com/kura-rag/kura/internal/provider"
)

// APIError is a failed call to an embedding provider: see
// [provider.APIError]. Retryable tells [WithRetry] whether trying again can
// help: rate limits (429), server errors (5xx), timeouts and dropped
// connections can; a bad request, a rejected key or an unknown model (400,
// 401, 403, 404) cannot, and ingest stops before writing anything.
type APIError = provider.APIError

// IsRetryable reports whether err is worth retrying: an [APIError] marked
// Retryable. Other errors (a malformed response, a cancelled context) are
// not.
func IsRetryable(err error) bool { return provider.IsRetryable(err) }

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
type ResponseError = provider.ResponseError
