// Package server is `kura serve`: kura's JSON API under /api/v1, an
// OpenAI-compatible chat endpoint under /v1, the operational endpoints
// (/healthz, /readyz, /metrics) and the embedded web chat UI, all over one
// [Backend] — the application layer that the command line uses too.
//
// The server is an adapter, like the command line: it decodes and
// validates requests into [api] types, calls the backend, and writes its
// results as JSON or as Server-Sent Events. Everything cross-cutting is
// middleware composed in one place (middleware.go): panic recovery,
// request ids, security headers, the access log, metrics, CORS, bearer
// authentication and body limits. Routes are one table (routes.go), from
// which the OpenAPI document is generated, so a route cannot go
// undocumented.
//
// Streams (streamed answers, ingest progress, streamed chat completions)
// flush every event, send a keep-alive comment while idle, disable proxy
// buffering, end when the client goes away, and are exempt from the
// server's write timeout (a per-write deadline replaces it). On shutdown
// the server stops accepting connections and lets running streams finish
// until a deadline, then cancels them.
package server
