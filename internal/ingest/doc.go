// Package ingest runs the pipeline load → split → identify → embed → upsert
// for a set of input files, concurrently and incrementally.
//
// Each chunk's id is derived from collection, source, document and text
// ([ChunkID]). Before embedding, ingest compares a source's new chunk ids
// with the ids already stored for that source:
//
//   - a chunk already stored with the same metadata is left alone;
//   - a chunk already stored whose metadata changed (front matter, --set
//     values, its position chunk_index, its title) is stored again with
//     its stored vector, which re-indexes its BM25 terms; it is embedded
//     again only if the text it was embedded from changed (the title, when
//     the collection embeds titles) or the store cannot return vectors;
//   - new chunks are embedded in batches and upserted;
//   - the source's stale chunks are deleted once all its rows are stored.
//
// An [Input] may name aliases, other sources the same file was stored
// under (an earlier kura named files as they were typed): their rows are
// taken over, and a new chunk whose embedded text equals a stale row's
// reuses that row's vector.
//
// A run that is interrupted (Ctrl-C, kill -9, an API failure) leaves every
// stored batch in place, and the next run finishes the job: the state
// always converges to "exactly the chunks of the current files, with
// their current metadata".
//
// An existing collection keeps the settings it was created with; a run
// that names a different one in [Options].Explicit fails with a
// [*SettingError] before writing anything.
//
// Stages and their concurrency:
//
//	loaders (Workers)  → load, split and diff each file against the store
//	planner (1)        → ordered per-file results; batches to embed, rows to store
//	embedders (EmbedWorkers) → vectors
//	writer (1)         → one store transaction per burst, then stale deletes
//
// Memory is bounded by the channel depths, not by the corpus size.
package ingest
