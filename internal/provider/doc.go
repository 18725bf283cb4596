// Package provider is the HTTP layer every call to a model provider goes
// through: the embedders (package embed), the reranker (package retrieve)
// and the chat clients (package llm). It sits between those clients and
// net/http (or the provider's official SDK) and gives all of them the same
// behaviour:
//
//   - [Retrier]: retries with full-jitter exponential backoff, honouring
//     Retry-After in both its forms (seconds and an HTTP date); a client-side
//     rate limit (golang.org/x/time/rate) shared by every goroutine; a pause
//     for every caller after a 429; a per-attempt timeout. Bad requests and
//     rejected credentials (400, 401, 403, 404) are never retried.
//   - [HTTPClient] and [Classify]: an observing transport that records the
//     status, Retry-After and the start of an error body of every exchange,
//     so failures from any SDK are classified the same way into an
//     [APIError] (Retryable or not, with the provider's own message and a
//     hint) or a [ResponseError].
//   - [Secret], [Redact] and [RedactError]: credentials never reach an
//     error, a log line or %v output.
//   - [SSEReader] and [LineReader]: the two streaming wire formats (Server-
//     Sent Events and newline-delimited JSON) chat providers answer in, and
//     [Watchdog], which cancels a stream that stops sending.
//   - [OCIConfig]: how OCI clients authenticate (an API-key profile of the
//     OCI config file, or the instance principal); [OCIConfig.GenAIClient]
//     builds the Generative AI client the OCI embedder and chat client
//     share, and [OCIServingMode] names a model or a dedicated endpoint.
//
// The package reads no environment variable and names no command-line flag;
// the callers' configuration says where each setting comes from.
package provider
