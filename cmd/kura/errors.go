package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/filter"
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

// plural says "1 file", "2 files", "3 queries".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// settingFlag is the flag that chooses each collection setting.
var settingFlag = map[ingest.Setting]string{
	ingest.SettingEmbedder:       "--embedder/--embed-model",
	ingest.SettingDim:            "--dim",
	ingest.SettingMetric:         "--metric",
	ingest.SettingIndex:          "--index",
	ingest.SettingNList:          "--nlist",
	ingest.SettingM:              "--m",
	ingest.SettingEfConstruction: "--ef-construction",
	ingest.SettingSQ8:            "--sq8",
	ingest.SettingTextMaxBytes:   "--text-max-bytes",
	ingest.SettingAnalyzer:       "--analyzer",
	ingest.SettingContext:        "--context",
}

// errorText renders an error for the terminal. Internal packages never
// name flags (a server shows their errors too), so the flags and the
// commands that fix the problem are added here.
func errorText(err error) string {
	var se *ingest.SettingError
	if errors.As(err, &se) {
		flag := settingFlag[se.Setting]
		if se.Setting == ingest.SettingEmbedder || se.Setting == ingest.SettingDim {
			return fmt.Sprintf("collection %s was built with embedder %s, and this command uses %s; vectors of different embedders or dimensions cannot be compared: leave --embedder, --embed-model and --dim out to use the collection's own, or ingest into a new collection (--collection NEW_NAME)",
				se.Collection, se.Stored, se.Requested)
		}
		return fmt.Sprintf("%s %s: collection %s was created with %s %s, and a collection's %s is fixed when it is created; to get %s, ingest into a new collection (--collection NEW_NAME), or drop this one (kura collection drop %s) and ingest again; or leave %s out",
			flag, se.Requested, se.Collection, se.Setting, se.Stored, se.Setting, se.Requested, se.Collection, flag)
	}
	var syntax *filter.SyntaxError
	if errors.As(err, &syntax) {
		return err.Error() + "\n" + filterHelp
	}
	return problemText(err)
}

// filterHelp follows a filter syntax error.
const filterHelp = `--filter takes a Milvus boolean expression, e.g. 'year > 2020 and team == "beta"' or 'source like "docs/%"'; strings in double quotes, and, or, not, in [...], like, is null (see 'kura search --help')`

// problemText is a skipped item's message with the flag that helps, when
// one does.
func problemText(err error) string {
	var chunk *ingest.ChunkError
	switch {
	case errors.As(err, &chunk) && strings.Contains(chunk.Err.Error(), "text field allows"):
		return err.Error() + ": use --splitter ja or a smaller --chunk-size"
	case errors.Is(err, document.ErrNoTextField):
		return err.Error() + "; choose the field that holds the text with --text-field"
	}
	return err.Error()
}
