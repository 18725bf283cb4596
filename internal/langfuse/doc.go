// Package langfuse is kura's client for Langfuse's public API: scores
// (user feedback on an answer, sent as the score "user-feedback" on the
// answer's trace and generation) and prompt management (text and chat
// prompts by label or version, with a TTL cache and fallbacks).
//
// Traces do not go through this package: they are OpenTelemetry spans
// exported over OTLP by package tracing, whose trace and span ids are the
// ids Langfuse shows, so a score here names a trace by the OTel trace id
// recorded with the answer.
//
// Every request uses Basic auth with the project's key pair; the secret key
// never appears in an error. Requests that fail with 429, 5xx or a network
// error are retried with jittered backoff (honouring Retry-After); a score
// carries a stable id, which Langfuse treats as an idempotency key, so a
// retried or repeated score updates one score instead of adding another.
// Langfuse matches a score by id, name and calendar day, so a retry that
// crosses midnight UTC after a lost response could still leave two; kura's
// retries are seconds apart.
//
// [PromptStore] serves prompts from memory for a TTL, then asks Langfuse;
// when Langfuse is unreachable it falls back to the copy in memory, then to
// the last good copy saved in the data directory, then (GetOr) to the
// caller's built-in prompt — each time with a warning for the user. An
// unknown prompt or rejected keys are errors, never silently replaced.
package langfuse
