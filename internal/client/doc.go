// Package client is a Go client of the HTTP API of `kura serve`
// (internal/server), for the command line's writing commands while a
// server owns the data directory: `kura ingest --server URL` uploads its
// files and follows the job; `kura collection drop` asks the server to
// drop. It speaks the wire types of internal/api; errors the server sends
// come back as [*api.Error] with their code.
//
// Where it sits: cmd/kura → internal/client → HTTP → internal/server →
// internal/app. A command that writes finds the server from --server
// (KURA_SERVER) or from DATA/serve.json (see app.ReadServerFile), checks
// it with [Client.Healthy], and then uploads with [Client.Ingest] and
// follows the job with [Client.WatchIngest], reading its Server-Sent
// Events. Files are streamed from disk, never held in memory.
package client
