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
//	DIR/collections/<name>/gate.lock     lock files of the protocol below
//	DIR/collections/<name>/wait.lock
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
// # Locking: several processes, one file
//
// bbolt locks its file for as long as it is open — shared for a read-only
// handle, exclusive for a read-write one — and a read-write handle cannot
// share the file with any other process, not even a reader. So kura opens
// a collection's file per operation (conn.go), and processes take turns
// at the grain of one transaction instead of one run:
//
//   - In a process, the first operation (a search's read transaction, a
//     write transaction, a chunk of an index build) opens the file,
//     operations that arrive while it is open share the handle — a read
//     shares a read-write handle too, since bbolt runs read transactions
//     beside the write one, so a search in kura serve never waits for an
//     ingest of the same process — and the last one closes it.
//   - Between processes, gate.lock orders entry (flock, so a lock dies with
//     its process). To open the file a process takes the gate exclusively,
//     then locks rows.db (shared to read, exclusive to write) and, for a
//     read, releases the gate at once; a writer keeps it until it closes
//     the file, so no new reader slips in while it waits for the running
//     ones to end (writer priority).
//   - A process that cannot get a lock at once announces itself by holding
//     wait.lock shared while it retries (every 0.1–2 ms, cancellable).
//     A process that holds the file checks wait.lock (one non-blocking
//     flock) before letting another operation share its handle: if someone
//     waits, new operations queue instead, the file is closed when the
//     running ones end, and this process lets the waiter in (it waits until
//     wait.lock is free, at most 50 ms) before it competes again. Nobody
//     starves: a steady ingest and a steady stream of searches alternate,
//     one write transaction, then the reads that queued meanwhile.
//   - A wait of more than Options.WaitNotice calls Options.OnWait once (the
//     CLI prints "waiting for another kura process ..."); there is no
//     timeout unless Options.LockTimeout is set, after which the operation
//     fails with store.ErrLocked.
//
// So a reader waits at most for the write transaction in progress (one
// ingest batch: milliseconds to tens of milliseconds), and a writer for the
// reads in progress. A read transaction sees the last committed state.
// Opening and closing the file costs about 0.26 ms of CPU (mmap, munmap,
// flock; a read-write handle also reads bbolt's freelist), so an idle
// handle stays open for 5 ms for the next operation of its process; see
// BenchmarkHandle and docs/benchmarks.md. Older kura binaries do not know the lock files: they
// hold rows.db for their whole run, and this protocol waits for them.
//
// A directory of rows.db, gate.lock and wait.lock is a collection's
// identity: each operation that opens the file first checks that the gate
// it locked is still the one in the directory (an open descriptor keeps
// its inode, so inode reuse cannot fool it). A collection dropped or
// restored by another process is reported as not found, never mixed up
// with its successor.
//
// A read-only data directory where the lock files cannot be created falls
// back to bbolt's own locking (readers only, then).
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
// The cache and the indexes are derived from the rows: loaded from their
// snapshot beside rows.db (vectors.snap, index.snap, bm25.idx) or built from
// the rows by the first search of a process, kept in step by writes of the
// process, and saved after a build and on close, when they are newer than
// the snapshot on disk. Every write transaction logs the ids it touched in a
// "changes" bucket (transaction id + row id). Each derived state records the
// transaction id of the last commit it reflects (its generation), so it
// catches up with whatever committed since — another process, a commit that
// landed while it was built, the rows a killed process wrote after its last
// save — by replaying the log from there (derived.go). A search checks the
// file's last transaction id (read from bbolt's meta pages, no lock) and, if
// another process has written, catches up first, reading the changed rows
// in one short read transaction and applying them after it. A search that
// finds a write or catch-up of its own process in progress does not wait:
// it searches what is published, which that write brings up to date before
// it returns. The log is pruned up to the oldest snapshot on disk, so a
// state the log no longer reaches back to — another process saved newer
// snapshots and wrote again, while this one loaded, built or held its
// state — is not damage: it is loaded again from the newest snapshot,
// pinned: the snapshot and the changes logged since are read in one read
// transaction, during which no process can commit and so prune (writers
// wait for that read); without a usable snapshot it is built from the
// rows again. Every such retry starts from a newer generation than the
// one before; only one that does not (a log and snapshots that disagree)
// is reported as damage (loadDerived in derived.go).
//
// Builds happen aside: the rows are read in chunks of 4,096, each in its own
// read transaction (so other processes keep writing), the new state catches
// up from the generation of its first chunk, and is swapped in under the
// writer lock; searches meanwhile use the state already published (a stale
// HNSW is rebuilt in the background). An HNSW graph without SQ8 links each
// chunk as it is read, so a build holds the vectors once.
//
// A damaged or foreign file gives an error wrapping [ErrCorrupt] that names
// the file and suggests restoring or re-ingesting. Before bbolt reads a file
// kura checks its meta pages, freelist and root page (validate.go), since
// bbolt panics on those after it has mapped and locked the file and then
// never releases them; damage deeper in the file surfaces in a transaction,
// where bbolt's panics are recovered (and memory faults turned into panics)
// and the handle is closed normally, so no lock outlives the error. A
// collection of a newer format is refused with [ErrNewerFormat].
//
// # Temporary files and backups
//
// Snapshots are written to .snap-* or .bm25-* files that their writer holds
// locked until it renames them; opening a collection for writing removes
// those whose lock can be taken (their writer died), and Store.Open removes
// temporary directories of Create and Drop untouched for ten minutes.
// Stats.DiskBytes counts every file of the collection. Backup and Restore
// (backup.go) copy and restore a whole data directory consistently while
// other processes work.
package local
