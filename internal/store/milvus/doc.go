// Package milvus is the Milvus backend of the store contract: the same
// collections, rows, filters and hits as the embedded store, kept on a
// Milvus server (standalone or distributed) through the official Go SDK
// (github.com/milvus-io/milvus/client/v2).
//
// In the data flow it sits where store/local does: ingest upserts and
// deletes rows by chunk id and reads the chunk ids of each source; search
// sends top-k requests. The CLI opens it for --store milvus or when
// MILVUS_URI is set.
//
// # Layout
//
// A collection keeps the reference notebook's schema — id INT64 primary
// key with auto id, vector FLOAT_VECTOR(dim), text VARCHAR(max bytes),
// dynamic fields — so existing Milvus tooling reads it as before. kura adds
// chunk_id INT64 (its identity, derived from collection, source and text)
// and source VARCHAR, both with INVERTED indexes, because incremental
// ingest needs "the chunk ids of this source" and "delete these chunk
// ids". kura keeps the auto id rather than making chunk_id the primary key
// so that the schema stays the notebook's; the price is that a replacement
// is a delete followed by an insert instead of Milvus's upsert. Hits report
// chunk_id as their id, so ids agree across backends, and "id" in a filter
// or in the output fields means chunk_id. The kura schema (metric, embedder,
// index spec, layout version) is JSON in the collection description.
//
// # Caveats
//
// Milvus has no transactions: Upsert checks every row before sending
// anything, but a failure in the middle of a multi-batch insert is undone
// only best effort. kura's own reads run with Strong consistency so that an
// incremental ingest never misses rows it just wrote; searches use the
// configured level. Sources and Stats read the source of every row (Milvus
// has no DISTINCT), which costs a scan of the collection.
package milvus
