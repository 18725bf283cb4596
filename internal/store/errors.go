package store

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by every Store implementation. Callers test them
// with errors.Is; the CLI maps them to exit codes and next steps.
var (
	// ErrNotFound: the collection does not exist.
	ErrNotFound = errors.New("collection not found")
	// ErrExists: a collection of that name already exists.
	ErrExists = errors.New("collection already exists")
	// ErrInvalid: the request itself is wrong (bad filter, oversized text,
	// wrong dimension, bad name); retrying will not help.
	ErrInvalid = errors.New("invalid request")
	// ErrMismatch: the collection was built with another embedder or
	// dimension than the one in use.
	ErrMismatch = errors.New("embedder mismatch")
	// ErrLocked: another process kept the collection busy for longer than
	// the caller was willing to wait (the embedded store waits without a
	// limit unless one is configured).
	ErrLocked = errors.New("collection is locked by another process")
	// ErrUnsupported: the backend or collection cannot serve this kind of
	// request (say full-text search on a server without BM25).
	ErrUnsupported = errors.New("not supported by this store")
)

// Errorf formats an error that matches kind with errors.Is but whose text
// is only the formatted message. Used where the sentinel's own words would
// read as noise in front of a message that already says everything
// ("invalid request: collection name ..."). %w in format wraps as usual.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }
