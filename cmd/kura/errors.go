package main

import (
	"context"
	"errors"
	"strings"

	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
)

// Exit statuses. Scripts can tell "bad usage" from "ran, but skipped some
// input" from "failed".
const (
	exitOK       = 0
	exitFailure  = 1 // the command could not do its job
	exitUsage    = 2 // bad flags, arguments or configuration
	exitPartial  = 3 // done, but some files, lines or chunks were skipped
	exitCanceled = 130
)

// errReported means the command already printed what went wrong (a
// summary with its problems) and only the exit status is left to set.
var errReported = errors.New("reported")

// partialError marks a run that finished but skipped input.
type partialError struct{ msg string }

func (e *partialError) Error() string { return e.msg }
func (e *partialError) Is(target error) bool {
	return target == errReported
}

// usageError marks a mistake in the command line itself.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var partial *partialError
	var usage *usageError
	switch {
	case errors.As(err, &partial):
		return exitPartial
	case errors.Is(err, context.Canceled):
		return exitCanceled
	case errors.As(err, &usage), errors.Is(err, split.ErrOptions), errors.Is(err, store.ErrMismatch),
		strings.HasPrefix(err.Error(), "unknown command"):
		return exitUsage
	default:
		return exitFailure
	}
}

func errIsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
