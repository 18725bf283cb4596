// Package client is a Go client of the HTTP API of `kura serve`
// (internal/server), for the command line's writing commands when the
// user sends them to a server: `kura ingest --server URL` uploads its
// files and follows the job; `kura collection drop --server URL` asks the
// server to drop. It speaks the wire types of internal/api; errors the
// server sends come back as [*api.Error] with their code.
//
// Where it sits: cmd/kura → internal/client → HTTP → internal/server →
// internal/app. The server is the one --server (KURA_SERVER) names, on
// this machine or another, with the key KURA_API_KEY; without --server the
// commands write to the store directly, even beside a local server. A
// command uploads with [Client.Ingest] and follows the job with
// [Client.WatchIngest], reading its Server-Sent Events; [Client.Healthy]
// checks that a server answers. Files are streamed from disk, never held
// in memory.
package client
