package store

import "errors"

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
	// ErrLocked: another process holds the collection open for writing.
	ErrLocked = errors.New("collection is locked by another process")
)
