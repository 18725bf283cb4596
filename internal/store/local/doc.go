// Package local is kura's embedded store, the default backend: the "store"
// step of collect → load → split → embed → store → search, with nothing to
// install or run. It implements [store.Store] and passes the conformance
// suite in package storetest.
//
// # On-disk layout
//
// A store is a directory (kura's --data, default ./kura-data):
//
//	DIR/collections/<name>/rows.db    one bbolt file per collection
//	DIR/collections/<name>/bm25.idx   its BM25 index snapshot (derived; see text.go)
//
// Collection names follow Milvus's rules ([store.ValidateName]) so that a
// collection can move to Milvus. Create builds the file in a temporary
// directory (collections/.create-*) and renames it into place; Drop renames
// the directory away (collections/.drop-*) while holding the lock, then
// removes it. Names starting with a dot are never collections.
//
// Each rows.db holds three buckets:
//
//	meta     "format"  = "kura-local/1" (checked on open; another value is refused)
//	         "schema"  = the store.Schema as JSON
//	         "rows", "sources" = uint64 big-endian counters
//	rows     id → row
//	sources  source + 0x00 + id → empty (the per-source index)
//
// An id key is the int64 as 8 bytes big-endian with the sign bit flipped,
// so the bucket order is numeric order. A row value is a version byte (1),
// the vector (uvarint length, float32 little-endian; L2-normalised when the
// metric is COSINE, a zero vector staying zero), the text and the source
// (each uvarint length + bytes), then the other dynamic fields as a JSON
// object. Fields are decoded with json.Number, so int64 values come back
// exact. Sources may not contain NUL, which keeps the index unambiguous.
//
// # Durability
//
// Every Upsert and Delete is one bbolt read-write transaction that updates
// the rows, the source index and the counters together; bbolt fsyncs on
// commit, so when the call returns nil the change survives a crash, and a
// crash during the call leaves none of it. TestCrash proves this by
// SIGKILLing a writing child process and checking [Collection.Verify]
// afterwards.
//
// # Locking
//
// bbolt takes an flock on the file for as long as it is open: exclusive for
// a read-write Store, shared for a read-only one (Options.ReadOnly, which
// search, describe and list use). So several searches can run together, but
// a writer excludes everyone, and an open waits up to Options.LockTimeout
// (2s by default) before failing with an error wrapping [store.ErrLocked]
// that names the collection and says what to do. Within one process, all
// handles a Store hands out on a collection share one file and one cache;
// two Stores on the same directory exclude each other like two processes.
//
// # Search and its caveat
//
// Search is exact: a brute-force top-k over every row, with COSINE (dot
// product of normalised vectors), IP (dot product) or L2 (squared Euclidean
// distance, lower first), split over GOMAXPROCS goroutines above a few
// thousand rows, ties broken by the smaller id. It scans an in-memory
// cache — ids, vectors in one contiguous []float32, and (from the first
// filtered search on) the decoded dynamic fields — that is derived from the
// rows bucket: it is rebuilt from the file by the first Search after each
// open (about 45 ms per 10,000 rows of 1,024 dimensions) and then kept in
// step by writes through the same Store. It costs 4 bytes per dimension per
// row of memory. Persisted ANN indexes (IVF_FLAT, HNSW) will replace the
// full scan and the rebuild in a later change; the kernels in kernel.go are
// the pure-Go reference for SIMD versions.
//
// A damaged or foreign file gives an error wrapping [ErrCorrupt] that names
// the file and suggests restoring or re-ingesting; bbolt's panics on bad
// pages are recovered into that error.
package local
