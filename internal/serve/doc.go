// Package serve runs `kura serve` as a process: it opens the application
// layer (internal/app) with tracing and Langfuse from the environment,
// puts the HTTP server (internal/server) in front of it, and looks after
// what a long-running process needs around them:
//
//   - the discovery file DATA/serve.json ([Record]), written while the
//     server listens and removed when it stops, through which tools on the
//     same machine find it ([Discover]: health checks, bench/serve). Other
//     kura commands do not go through the server: they open the embedded
//     store beside it, whose per-operation locking lets processes take
//     turns, and the server sees what they commit (a collection they drop
//     or replace is opened again on the next request);
//   - feedback delivery to Langfuse in the background, after each rating
//     and on a ticker, so that a slow Langfuse never holds a user's click;
//   - an orderly shutdown: stop accepting connections, let running
//     answers and ingest jobs finish within the deadline (then cancel
//     them), deliver the feedback still waiting, close the store, flush
//     the traces.
//
// The flow of a request:
//
//	cmd/kura (flags → Options) → serve.Run → server.Server (HTTP) → Backend → app.App
//
// The HTTP layer itself — routes, middleware, SSE, the OpenAI-compatible
// endpoint, the web UI — is internal/server; this package holds no
// request handling.
package serve
