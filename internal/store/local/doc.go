// Package local is kura's embedded store, the default backend: the "store"
// step of collect → load → split → embed → store → search, with nothing to
// install or run. It implements [store.Store] and passes the conformance
// suite in package storetest.
//
// # On-disk layout
//
// A store is a directory (kura's --data, default ./kura-data):
//
//	DIR/collections/<name>/rows.db       one bbolt file per collection
//	DIR/collections/<name>/vectors.snap  FLAT: the saved vector cache
//	DIR/collections/<name>/index.snap    IVF_FLAT, HNSW: the saved index
//	DIR/collections/<name>/bm25.idx      the BM25 index snapshot (derived; see text.go)
//
// Collection names follow Milvus's rules ([store.ValidateName]) so that a
// collection can move to Milvus. Create builds the file in a temporary
// directory (collections/.create-*) and renames it into place; Drop renames
// the directory away (collections/.drop-*) while holding the lock, then
// removes it. Names starting with a dot are never collections.
//
// Each rows.db holds three buckets (and "changes", see below):
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
// # Search
//
// A FLAT collection is searched exactly: a brute-force top-k over every row,
// with COSINE (dot product of normalised vectors), IP (dot product) or L2
// (squared Euclidean distance, lower first), split over GOMAXPROCS
// goroutines above a few thousand rows, ties broken by the smaller id, with
// the SIMD kernels of package vector. It scans an in-memory cache — ids,
// vectors in one contiguous []float32, and (from the first filtered search
// on) the decoded dynamic fields — that costs 4 bytes per dimension per row.
//
// An IVF_FLAT or HNSW collection is searched through its index (ann.go),
// except below [DefaultExactBelow] rows and for filters so selective that
// scanning the matching rows is cheaper; see annIndex.search.
//
// # Derived state: snapshots and the change log
//
// The cache and the indexes are derived from the rows: built from the rows
// bucket by the first Search of a process when there is nothing better,
// kept in step by writes through the same Store, and saved beside rows.db
// (vectors.snap, index.snap) after a build and on close, so that the next
// process loads them. Every write transaction also logs the ids it touched
// in a "changes" bucket (transaction id + row id), which lets a snapshot
// older than the file — the process died before saving — be replayed up to
// date; a missing, damaged or unreplayable snapshot is rebuilt. The format
// and the rules are in snapshot.go. Older kura binaries ignore the extra
// bucket and files; rows they write without logging are caught by the row
// count check after a replay, which then rebuilds.
//
// A damaged or foreign file gives an error wrapping [ErrCorrupt] that names
// the file and suggests restoring or re-ingesting; bbolt's panics on bad
// pages are recovered into that error.
package local
