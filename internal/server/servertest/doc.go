// Package servertest is a fake [server.Backend] for tests, the browser
// tests, the load harness (bench/serve) and trying the UI before the
// application layer is wired in. It is a real implementation of the
// contract on a toy engine: documents are split into sentences-sized
// chunks and searched by shared words and character bigrams; answers are
// the best sentences of the top chunks, cited, streamed piece by piece
// with an optional delay (a slow "LLM"); conversations, answer records and
// feedback are kept per user and, with a directory, persisted across
// restarts.
package servertest
