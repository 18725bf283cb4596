package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kura-rag/kura/internal/api"
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
	var ae *api.Error
	switch {
	case errors.As(err, &partial):
		return exitPartial
	case errors.Is(err, context.Canceled):
		return exitCanceled
	case errors.As(err, &usage), errors.Is(err, split.ErrOptions), errors.Is(err, store.ErrMismatch),
		strings.HasPrefix(err.Error(), "unknown command"):
		return exitUsage
	case errors.As(err, &ae):
		switch ae.Code {
		case api.CodeInvalidRequest, api.CodeConflict, api.CodeUnprocessable, api.CodeTooLarge, api.CodeUnsupportedMediaType:
			return exitUsage
		case api.CodeCanceled:
			return exitCanceled
		}
	}
	return exitFailure
}

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
	var oe *split.OptionsError
	if errors.As(err, &oe) {
		return flagText(oe.Option, oe.Error())
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return apiErrorText(ae)
	}
	return problemText(err)
}

// apiErrorText is an error of the application layer (or of a server) with
// the flag at fault, or the command that helps.
func apiErrorText(ae *api.Error) string {
	msg := ae.Message
	switch ae.Code {
	case api.CodeInvalidRequest, api.CodeUnprocessable, api.CodeConflict:
		return flagText(ae.Field, msg)
	case api.CodeNotFound:
		switch ae.Field {
		case "collection":
			return msg + "; create it with `kura ingest PATH` (--collection NAME) or see `kura collection list`"
		case "answer_id":
			return msg + "; `kura traces` lists the recent answers"
		case "conversation_id", "id":
			return msg + "; start a new one without --conversation-id"
		}
	case api.CodeUnauthorized:
		return msg + "; set KURA_API_KEY to the server's API key"
	}
	return msg
}

// fieldFlag is the flag that sets each request field (the JSON names of
// package api and the option names of the pipeline packages).
var fieldFlag = map[string]string{
	"collection":        "--collection",
	"k":                 "-k/--limit",
	"search_type":       "--search-type",
	"fetch_k":           "--fetch-k",
	"lambda":            "--lambda",
	"score_threshold":   "--score-threshold",
	"filter":            "--filter",
	"output_fields":     "--output-fields",
	"rerank":            "--rerank",
	"rerank_model":      "--rerank-model",
	"rrf_k":             "--rrf-k",
	"alpha":             "--alpha",
	"bm25_k1":           "--bm25-k1",
	"bm25_b":            "--bm25-b",
	"bm25_specificity":  "--bm25-specificity",
	"nprobe":            "--nprobe",
	"ef":                "--ef",
	"metric":            "--metric",
	"index":             "--index",
	"nlist":             "--nlist",
	"m":                 "--m",
	"ef_construction":   "--ef-construction",
	"sq8":               "--sq8",
	"text_max_bytes":    "--text-max-bytes",
	"analyzer":          "--analyzer",
	"context":           "--context",
	"set":               "--set",
	"splitter":          "--splitter",
	"chunk_size":        "--chunk-size",
	"chunk_overlap":     "--chunk-overlap",
	"text_field":        "--text-field",
	"dim":               "--dim",
	"embed_timeout":     "--embed-timeout",
	"embed_retries":     "--embed-retries",
	"embed_rps":         "--embed-rps",
	"max_tokens":        "--max-tokens",
	"temperature":       "--temperature",
	"top_k":             "--top-k",
	"top_p":             "--top-p",
	"frequency_penalty": "--frequency-penalty",
	"presence_penalty":  "--presence-penalty",
	"seed":              "--seed",
	"stop":              "--stop",
	"context_chars":     "--context-chars",
	"prompt":            "--prompt",
	"system_prompt":     "--system-prompt",
	"fallback":          "--fallback",
	"llm":               "--llm",
	"model":             "--llm-model",
	"conversation_id":   "--conversation-id",
	"comment":           "--comment",
	"kind":              "--kind",
}

// fieldWord matches the option names inside a message: snake_case words,
// and the one-word names that are never ordinary words of a message.
var fieldWord = regexp.MustCompile(`\b(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|temperature|seed|lambda|alpha|nprobe)\b`)

// flagText rewrites a message about field for the terminal: the option
// names in it (chunk_size) become the flags that set them (--chunk-size),
// and it starts with the flag at fault unless it already names it.
func flagText(field, msg string) string {
	msg = fieldWord.ReplaceAllStringFunc(msg, func(w string) string {
		if f, ok := fieldFlag[w]; ok {
			return f
		}
		return w
	})
	name, _, _ := strings.Cut(field, "[") // "stop[2]" is --stop
	flag, ok := fieldFlag[name]
	if !ok || strings.Contains(msg, flag) {
		return msg
	}
	return flag + ": " + msg
}

// flagError is a validation error about a request field as a usage error
// naming the flag.
func flagError(err error) error {
	return &usageError{errors.New(errorText(err))}
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
