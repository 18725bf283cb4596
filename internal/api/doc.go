// Package api holds kura's wire types: the JSON that the HTTP server
// (`kura serve`) reads and writes, that the command line prints with
// --json, and that the application layer takes and returns, so that every
// front end speaks exactly the same shapes.
//
// The types are plain structs with JSON tags and nothing else: no
// callbacks, readers or other Go-only fields, so a value can always be
// marshalled, stored (conversations, answer records) and read back. Names
// are snake_case and follow the command-line flags (`k`, `search_type`,
// `fetch_k`, `score_threshold`, `max_tokens`, ...). The HTTP contract that
// uses them is docs/reference/http-api.md; the OpenAPI document served at
// /api/v1/openapi.json is generated from the same structs.
//
// Optional numbers whose zero is a meaningful value (a temperature of 0, a
// score threshold of 0, an MMR lambda of 0) are pointers: nil means "not
// set, use the server's default", and nothing is sent upstream for it.
//
// Validation helpers ([SearchRequest.Validate], [AskRequest.Validate],
// [FeedbackRequest.Validate], ...) check what can be checked without a
// store: ranges, required fields, mutually exclusive fields. They return an
// [*Error] with a [Code] and the JSON name of the offending field, never a
// command-line flag name, because an HTTP client reads them too.
package api
