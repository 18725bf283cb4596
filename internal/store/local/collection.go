package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
)

// shared is one open collection, shared by every handle a Store has on
// it: its file access (conn) and its derived state.
type shared struct {
	name     string
	path     string
	dir      string // holds rows.db, the lock files and the snapshots
	conn     *conn
	schema   store.Schema
	readOnly bool
	refs     int // guarded by Store.mu

	// wmu orders changes to the derived state: a write holds it from
	// before its transaction until the derived state reflects it, and so
	// do catch-ups and the publication of a new index. Searches never take
	// it (they try, to catch up, and go on without).
	wmu sync.Mutex
	// buildMu lets one goroutine at a time load or build derived state;
	// searches meanwhile use what is published.
	buildMu sync.Mutex
	// mu guards closed and the pointers below; each derived state has its
	// own lock for its contents.
	mu     sync.RWMutex
	closed bool
	cache  *vcache   // FLAT: nil until the first Search
	ann    *annIndex // IVF_FLAT, HNSW: nil until the first Search
	// text is the BM25 index (text.go): nil until the first TextSearch or
	// write, then kept in step by writes and saved when the file closes.
	text *textIndex

	exactBelow  int // see Options.ExactBelow
	scanWorkers int // goroutines of an exact scan
	noSnapshots bool
	stats       derivedStats
	// beforeSettle, if set (by tests), runs when a loaded or built state
	// is about to be caught up, outside any lock: another store can then
	// write, save snapshots and prune the log under it.
	beforeSettle func()
}

// derivedStats count how the derived state came about, for tests.
type derivedStats struct {
	cacheLoads, annLoads, annBuilds, saves int
	// pinnedLoads counts reloads after the log was pruned (reloadPinned).
	pinnedLoads int
}

func (sh *shared) snapPath(name string) string { return filepath.Join(sh.dir, name) }

// pruneGen is the generation up to which the change log is no longer
// needed: the oldest generation among the snapshots on disk (whichever
// process saved them), since a loader replays the log from there; 0 (keep
// everything) if there is none yet. A missing snapshot does not count: it
// is rebuilt from the rows, not replayed.
func (sh *shared) pruneGen() uint64 {
	var gens []uint64
	if sh.schema.Index.Type == store.IndexFlat {
		gens = append(gens, snapshotGen(sh.snapPath(vectorsFile), snapVectors))
	} else {
		gens = append(gens, snapshotGen(sh.snapPath(indexFile), snapIndex))
	}
	if sh.schema.Text.Analyzer != noTextIndex {
		gens = append(gens, textSnapshotGen(sh.snapPath(textFile)))
	}
	g := uint64(0)
	for _, x := range gens {
		if x != 0 && (g == 0 || x < g) {
			g = x
		}
	}
	return g
}

func (sh *shared) close() error {
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return nil
	}
	sh.closed = true
	sh.mu.Unlock()
	// Save what changed since the snapshots were written, so that the next
	// process loads instead of replaying or rebuilding.
	sh.saveCache()
	sh.saveANN()
	terr := sh.saveText()
	sh.mu.Lock()
	sh.cache, sh.ann, sh.text = nil, nil, nil
	sh.mu.Unlock()
	sh.conn.close()
	return terr
}

// guard turns a panic of bbolt, which trusts its file, into an error
// wrapping ErrCorrupt. Use it as the first deferred call, with a named
// error result. Memory faults in the mapped file (a page number past its
// end) become panics too, instead of crashing the process.
func (sh *shared) guard(err *error) {
	if r := recover(); r != nil {
		*err = corrupt(sh.name, sh.path, fmt.Errorf("%v", r))
	}
}

// view runs fn in a read transaction.
func (sh *shared) view(ctx context.Context, fn func(tx *bolt.Tx) error) (err error) {
	defer sh.guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return sh.viewNoGuard(ctx, fn)
}

func (sh *shared) viewNoGuard(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	db, err := sh.conn.acquire(ctx, false)
	if err != nil {
		return err
	}
	defer sh.conn.release()
	return db.View(fn)
}

// readTx begins a read transaction for a search that keeps it open while
// it ranks; end rolls it back and releases the file.
func (sh *shared) readTx(ctx context.Context) (tx *bolt.Tx, end func(), err error) {
	db, err := sh.conn.acquire(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	tx, err = db.Begin(false)
	if err != nil {
		sh.conn.release()
		return nil, nil, err
	}
	return tx, func() { tx.Rollback(); sh.conn.release() }, nil
}

func (sh *shared) errClosed() error {
	return fmt.Errorf("collection %s is closed", sh.name)
}

// Collection is a handle on one collection of a [Store].
type Collection struct {
	sh     *shared
	store  *Store
	closed atomic.Bool
}

var _ store.Collection = (*Collection)(nil)

// Name returns the collection's name.
func (c *Collection) Name() string { return c.sh.name }

// Schema returns the schema the collection was created with.
func (c *Collection) Schema() store.Schema { return c.sh.schema }

// Path returns the collection's bbolt file.
func (c *Collection) Path() string { return c.sh.path }

func (c *Collection) usable() error {
	if c.closed.Load() {
		return c.sh.errClosed()
	}
	return nil
}

func (c *Collection) writable(op string) error {
	if err := c.usable(); err != nil {
		return err
	}
	if c.sh.readOnly {
		return c.store.errReadOnly(op, c.sh.name)
	}
	return nil
}

// Close releases the handle; the file is closed with the Store's last
// handle on it.
func (c *Collection) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	return c.store.release(c.sh)
}

// prepared is a validated row, encoded for bbolt.
type prepared struct {
	id     int64
	source string
	vec    []float32 // as stored: normalised for COSINE
	val    []byte
}

// counters are meta/rows and meta/sources, read at the start of a write
// transaction and written back at its end.
type counters struct{ rows, sources uint64 }

func readCounters(meta *bolt.Bucket) counters {
	return counters{rows: getUint64(meta.Get(keyRows)), sources: getUint64(meta.Get(keySources))}
}

func (n counters) write(meta *bolt.Bucket) error {
	if err := meta.Put(keyRows, putUint64(make([]byte, 8), n.rows)); err != nil {
		return err
	}
	return meta.Put(keySources, putUint64(make([]byte, 8), n.sources))
}

// Upsert validates every row first, then writes them all in one bbolt
// transaction, which is fsynced before it returns.
func (c *Collection) Upsert(ctx context.Context, rows []store.Row) (err error) {
	if err := c.writable("write to"); err != nil {
		return err
	}
	sh := c.sh
	prep := make([]prepared, len(rows))
	for i, r := range rows {
		if err := sh.schema.CheckRow(r); err != nil {
			return fmt.Errorf("cannot upsert into %s: %w", sh.name, err)
		}
		vec := r.Vector
		if sh.schema.Metric == store.MetricCosine {
			vec = normalize(vec)
		} else {
			vec = append([]float32(nil), vec...)
		}
		val, err := encodeRow(vec, r.Text, r.Source(), r.Fields)
		if err != nil {
			return store.Errorf(store.ErrInvalid, "cannot upsert into %s: row %d: %v", sh.name, r.ID, err)
		}
		prep[i] = prepared{id: r.ID, source: r.Source(), vec: vec, val: val}
	}
	if len(prep) == 0 {
		return ctx.Err()
	}
	// Keep the BM25 index in step: load it before the write (so this write
	// updates it instead of making it stale), and analyze the rows while
	// the transaction runs and fsyncs, so analysis costs no extra latency
	// unless it is the slower of the two.
	if _, err := sh.ensureText(ctx); err != nil {
		return err
	}
	// terms is written by the analysis goroutine only, and read after it
	// has finished.
	terms := make([][]string, len(rows))
	analyzed := make(chan error, 1)
	go func() { analyzed <- sh.textTerms(terms, rows) }()
	defer func() {
		if aerr := <-analyzed; aerr != nil && err == nil {
			err = aerr
		}
	}()

	ids := make([]int64, len(prep))
	for i, p := range prep {
		ids[i] = p.id
	}
	var own []change
	err = sh.write(ctx, "upsert into", ids, func(tx *bolt.Tx, b txBuckets, n *counters) error {
		for i, p := range prep {
			if i%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := b.upsert(p, n); err != nil {
				return err
			}
		}
		return nil
	}, func() ([]change, error) {
		aerr := <-analyzed
		analyzed <- nil
		if aerr != nil {
			return nil, aerr
		}
		own = make([]change, len(prep))
		for i, p := range prep {
			own[i] = change{id: p.id, val: p.val, vec: p.vec, terms: terms[i], hasTerms: true}
		}
		return own, nil
	})
	return err
}

// write runs one write transaction — fn changes rows; the ids it touches
// are logged — and then brings the derived state up to date: first with
// what other processes committed since it was last in step (read in the
// same transaction, before fn's changes), then with this write's own
// changes, which done returns once the transaction has committed.
func (sh *shared) write(ctx context.Context, op string, ids []int64, fn func(tx *bolt.Tx, b txBuckets, n *counters) error, done func() ([]change, error)) (err error) {
	defer sh.guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	if sh.isClosed() {
		return sh.errClosed()
	}
	ds := sh.loaded()
	db, err := sh.conn.acquire(ctx, true)
	if err != nil {
		return err
	}
	var gen uint64
	var external []change
	stale := false
	err = func() error {
		// Released even if bbolt panics on a damaged page (sh.guard
		// recovers), so that the file can still be closed.
		defer sh.conn.release()
		return db.Update(func(tx *bolt.Tx) error {
			gen = uint64(tx.ID())
			if len(ds) > 0 && minGen(ds) < gen-1 {
				var err error
				if external, err = changesSince(tx, minGen(ds)); errors.Is(err, errStale) {
					stale = true
				} else if err != nil {
					return err
				}
			}
			b := buckets(tx)
			n := readCounters(b.meta)
			if err := fn(tx, b, &n); err != nil {
				return err
			}
			if err := recordChanges(tx, ids, sh.pruneGen()); err != nil {
				return err
			}
			return n.write(b.meta)
		})
	}()
	if err != nil {
		return sh.writeErr(op, err)
	}
	own, err := done()
	if err != nil {
		// Cannot happen once the schema was checked at open; the derived
		// state misses this write and is loaded again.
		sh.dropDerived(ds)
		return err
	}
	if stale {
		sh.dropDerived(ds)
		return nil
	}
	for _, d := range ds {
		if len(external) > 0 {
			if err := d.applyChanges(external, gen-1); err != nil {
				sh.dropDerived([]derived{d})
				continue
			}
		}
		for i := range own {
			own[i].gen = gen
		}
		if err := d.applyChanges(own, gen); err != nil {
			sh.dropDerived([]derived{d})
		}
	}
	sh.saveTextNow()
	return nil
}

func (sh *shared) isClosed() bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.closed
}

func (sh *shared) writeErr(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("cannot %s collection %s: %w", op, sh.name, err)
}

// txBuckets holds one transaction's buckets.
type txBuckets struct {
	meta, rows, sources *bolt.Bucket
}

func buckets(tx *bolt.Tx) txBuckets {
	return txBuckets{meta: tx.Bucket(bucketMeta), rows: tx.Bucket(bucketRows), sources: tx.Bucket(bucketSources)}
}

func (b txBuckets) upsert(p prepared, n *counters) error {
	key := idKey(p.id)
	if old := b.rows.Get(key); old != nil {
		ov, err := decodeRow(old)
		if err != nil {
			return fmt.Errorf("row %d: %w", p.id, err)
		}
		if string(ov.source) != p.source {
			if err := b.removeSource(string(ov.source), p.id, n); err != nil {
				return err
			}
			if err := b.addSource(p.source, p.id, n); err != nil {
				return err
			}
		}
	} else {
		n.rows++
		if err := b.addSource(p.source, p.id, n); err != nil {
			return err
		}
	}
	return b.rows.Put(key, p.val)
}

func (b txBuckets) hasSource(source string) bool {
	prefix := sourcePrefix(source)
	k, _ := b.sources.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

func (b txBuckets) addSource(source string, id int64, n *counters) error {
	if !b.hasSource(source) {
		n.sources++
	}
	return b.sources.Put(sourceKey(source, id), []byte{})
}

func (b txBuckets) removeSource(source string, id int64, n *counters) error {
	if err := b.sources.Delete(sourceKey(source, id)); err != nil {
		return err
	}
	if !b.hasSource(source) && n.sources > 0 {
		n.sources--
	}
	return nil
}

// Delete removes rows in one transaction; unknown ids are ignored.
func (c *Collection) Delete(ctx context.Context, ids []int64) (err error) {
	if err := c.writable("delete from"); err != nil {
		return err
	}
	if len(ids) == 0 {
		return ctx.Err()
	}
	sh := c.sh
	if _, err := sh.ensureText(ctx); err != nil {
		return err
	}
	var deleted []int64
	return sh.write(ctx, "delete from", nil, func(tx *bolt.Tx, b txBuckets, n *counters) error {
		deleted = deleted[:0]
		for i, id := range ids {
			if i%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			key := idKey(id)
			old := b.rows.Get(key)
			if old == nil {
				continue
			}
			ov, err := decodeRow(old)
			if err != nil {
				return fmt.Errorf("row %d: %w", id, err)
			}
			if err := b.removeSource(string(ov.source), id, n); err != nil {
				return err
			}
			if err := b.rows.Delete(key); err != nil {
				return err
			}
			n.rows--
			deleted = append(deleted, id)
		}
		return recordChanges(tx, deleted, 0)
	}, func() ([]change, error) {
		own := make([]change, len(deleted))
		for i, id := range deleted {
			own[i] = change{id: id, hasTerms: true}
		}
		return own, nil
	})
}

// SourceIDs returns the ids of source's rows in ascending order.
func (c *Collection) SourceIDs(ctx context.Context, source string) ([]int64, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := []int64{}
	err := c.sh.view(ctx, func(tx *bolt.Tx) error {
		prefix := sourcePrefix(source)
		cur := tx.Bucket(bucketSources).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if len(k) == len(prefix)+8 {
				ids = append(ids, keyID(k[len(prefix):]))
			}
		}
		return nil
	})
	return ids, err
}

// Sources returns the distinct sources in lexical (byte) order. It seeks
// past each source's rows, so it costs one lookup per source.
func (c *Collection) Sources(ctx context.Context) ([]string, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	srcs := []string{}
	err := c.sh.view(ctx, func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketSources).Cursor()
		for k, _ := cur.First(); k != nil; {
			src, _, ok := splitSourceKey(k)
			if !ok {
				return fmt.Errorf("%w: bad source index key %q", errBadRow, k)
			}
			srcs = append(srcs, src)
			// Everything of src sorts before src + 0x01.
			k, _ = cur.Seek(append([]byte(src), 1))
		}
		return nil
	})
	return srcs, err
}

// Get returns the rows with these ids in the order asked, each once.
func (c *Collection) Get(ctx context.Context, ids []int64, outputFields []string) ([]store.Hit, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hits := []store.Hit{}
	seen := make(map[int64]bool, len(ids))
	err := c.sh.view(ctx, func(tx *bolt.Tx) error {
		rows := tx.Bucket(bucketRows)
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			v := rows.Get(idKey(id))
			if v == nil {
				continue
			}
			e, err := entity(id, v, outputFields)
			if err != nil {
				return err
			}
			hits = append(hits, store.Hit{ID: id, Entity: e})
		}
		return nil
	})
	return hits, err
}

// entity decodes a stored row into a hit's entity.
func entity(id int64, val []byte, outputFields []string) (map[string]any, error) {
	if len(outputFields) == 0 {
		return map[string]any{}, nil
	}
	rv, err := decodeRow(val)
	if err != nil {
		return nil, fmt.Errorf("row %d: %w", id, err)
	}
	row, err := rv.row(id)
	if err != nil {
		return nil, fmt.Errorf("row %d: %w", id, err)
	}
	return row.Entity(outputFields), nil
}

// Stats reads the counters kept in meta; DiskBytes is the size of every
// file of the collection (rows, snapshots, lock files).
func (c *Collection) Stats(ctx context.Context) (store.Stats, error) {
	if err := c.usable(); err != nil {
		return store.Stats{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Stats{}, err
	}
	var st store.Stats
	err := c.sh.view(ctx, func(tx *bolt.Tx) error {
		n := readCounters(tx.Bucket(bucketMeta))
		st.Rows, st.Sources = int64(n.rows), int64(n.sources)
		return nil
	})
	if err != nil {
		return st, err
	}
	st.DiskBytes = dirSize(c.sh.dir)
	return st, nil
}
