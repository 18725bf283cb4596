// Package ingest runs the pipeline load → split → identify → embed → upsert
// for a set of input files, concurrently and incrementally.
//
// Each chunk's id is derived from collection, source, document and text
// ([ChunkID]). Before embedding, ingest compares a source's new chunk ids
// with the ids already stored for that source: chunks already present are
// left alone (not embedded again), new ones are embedded in batches and
// upserted, and the source's stale chunks are deleted once all its new
// chunks are stored. A run that is interrupted (Ctrl-C, kill -9, an API
// failure) leaves every stored batch in place, and the next run finishes the
// job: the state always converges to "exactly the chunks of the current
// files".
//
// Stages and their concurrency:
//
//	loaders (Workers)  → ordered per-file results
//	planner (1)        → diff against the store, batches of new chunks
//	embedders (EmbedWorkers) → vectors
//	writer (1)         → one store transaction per batch, then stale deletes
//
// Memory is bounded by the channel depths, not by the corpus size.
package ingest
