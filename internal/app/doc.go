// Package app is kura's application layer: the one API through which every
// front end — the command line (cmd/kura), the HTTP server (kura serve) and
// library users — searches, ingests, answers, evaluates and manages
// collections.
//
// It owns what would otherwise be repeated in each front end: the opened
// store, each collection's query embedder and retriever, the default search
// type, the mapping of request options (named like the command-line flags
// and the JSON fields of internal/api) onto the pipeline packages, the
// answer stage with its language model, the history of conversations,
// answers and feedback, and tracing.
//
//	front ends:  cmd/kura  ·  internal/server  ·  library
//	                     \        |        /
//	application:            internal/app
//	                /    |      |      |     \
//	pipeline:   ingest retrieve answer  llm  history, tracing, langfuse
//	                \    |      |
//	storage:           internal/store (local, milvus)
//
// Requests and results are the wire types of internal/api, so that `kura
// search --json`, `kura ask --json` and the HTTP API print the same shapes.
// Errors that a caller can act on are [*api.Error] values with a code
// (invalid_request, not_found, conflict, ...); a front end maps the code to
// an HTTP status or an exit status. No error text of this package names a
// command-line flag: the CLI adds those hints itself.
//
// An [App] is safe for concurrent use. A long-running server keeps one open
// for its lifetime; a command opens one, does its job and closes it.
package app
