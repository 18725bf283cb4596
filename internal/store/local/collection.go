package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
)

// shared is one open collection file, shared by every handle a Store has
// on it.
type shared struct {
	name     string
	path     string
	db       *bolt.DB
	schema   store.Schema
	readOnly bool
	refs     int // guarded by Store.mu

	// wmu serialises writes and cache loads, so the cache sees the commits
	// in the order bbolt applied them.
	wmu sync.Mutex
	// mu guards closed and cache: searches hold it shared for their scan,
	// writers exclusively to apply a committed change.
	mu     sync.RWMutex
	closed bool
	cache  *vcache   // FLAT: nil until the first Search
	ann    *annIndex // IVF_FLAT, HNSW: nil until the first Search
	// text is the BM25 index (text.go): nil until the first TextSearch or
	// write, then kept in step by writes and saved when the file closes.
	text *textIndex

	dir         string // holds rows.db and the snapshots
	exactBelow  int    // see Options.ExactBelow
	noSnapshots bool
	stats       derivedStats
}

// derivedStats count how the derived state came about, for tests.
type derivedStats struct {
	cacheLoads, annLoads, annBuilds, saves int
}

func (sh *shared) snapPath(name string) string { return filepath.Join(sh.dir, name) }

// pruneGen is the generation up to which the change log is no longer
// needed: that of the snapshot on disk (0 if none, which keeps the log).
// A process that never searched (an ingest) reads it from the snapshot's
// trailer; should that snapshot be damaged it is rebuilt, not replayed, so
// trusting the trailer alone is safe.
func (sh *shared) pruneGen() uint64 {
	switch {
	case sh.cache != nil:
		return sh.cache.saved
	case sh.ann != nil:
		return sh.ann.saved
	case sh.schema.Index.Type == store.IndexFlat:
		return snapshotGen(sh.snapPath(vectorsFile), snapVectors)
	}
	return snapshotGen(sh.snapPath(indexFile), snapIndex)
}

func (sh *shared) close() error {
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return nil
	}
	sh.closed = true
	// Save what changed since the snapshots were written, so that the next
	// process loads instead of replaying or rebuilding.
	sh.saveCache()
	sh.saveANN()
	terr := sh.saveText()
	sh.cache, sh.ann, sh.text = nil, nil, nil
	return errors.Join(terr, sh.db.Close())
}

// guard turns a panic of bbolt, which trusts its file, into an error
// wrapping ErrCorrupt. Use it as the first deferred call, with a named
// error result.
func (sh *shared) guard(err *error) {
	if r := recover(); r != nil {
		*err = corrupt(sh.name, sh.path, fmt.Errorf("%v", r))
	}
}

// view runs fn in a read transaction unless the collection is closed.
func (sh *shared) view(fn func(tx *bolt.Tx) error) (err error) {
	defer sh.guard(&err)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		return sh.errClosed()
	}
	return sh.db.View(fn)
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
	if err := sh.ensureText(); err != nil {
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

	defer sh.guard(&err)
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	if sh.isClosed() {
		return sh.errClosed()
	}
	var txid int
	var gen uint64
	ids := make([]int64, len(prep))
	for i, p := range prep {
		ids[i] = p.id
	}
	err = sh.db.Update(func(tx *bolt.Tx) error {
		txid = tx.ID()
		b := buckets(tx)
		n := readCounters(b.meta)
		for i, p := range prep {
			if i%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := b.upsert(p, &n); err != nil {
				return err
			}
		}
		gen = uint64(tx.ID())
		if err := recordChanges(tx, ids, sh.pruneGen()); err != nil {
			return err
		}
		return n.write(b.meta)
	})
	if err != nil {
		return sh.writeErr("upsert into", err)
	}
	if aerr := <-analyzed; aerr != nil {
		// Cannot happen once the schema was checked at open; the index is
		// now stale by txid and will be rebuilt.
		analyzed <- nil
		return aerr
	}
	analyzed <- nil
	sh.applyANN(prep, nil, gen)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.applyText(txid, prep, terms, nil)
	if sh.cache != nil {
		sh.cache.gen = gen
		for _, p := range prep {
			if err := sh.cache.put(p); err != nil {
				// The write is durable; only the derived cache is off, so
				// rebuild it on the next search.
				sh.cache = nil
				break
			}
		}
	}
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
	if err := sh.ensureText(); err != nil {
		return err
	}
	defer sh.guard(&err)
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	if sh.isClosed() {
		return sh.errClosed()
	}
	var deleted []int64
	var txid int
	var gen uint64
	err = sh.db.Update(func(tx *bolt.Tx) error {
		txid = tx.ID()
		deleted = deleted[:0]
		b := buckets(tx)
		n := readCounters(b.meta)
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
			if err := b.removeSource(string(ov.source), id, &n); err != nil {
				return err
			}
			if err := b.rows.Delete(key); err != nil {
				return err
			}
			n.rows--
			deleted = append(deleted, id)
		}
		gen = uint64(tx.ID())
		if err := recordChanges(tx, deleted, sh.pruneGen()); err != nil {
			return err
		}
		return n.write(b.meta)
	})
	if err != nil {
		return sh.writeErr("delete from", err)
	}
	sh.applyANN(nil, deleted, gen)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.applyText(txid, nil, nil, deleted)
	if sh.cache != nil {
		sh.cache.gen = gen
		for _, id := range deleted {
			sh.cache.remove(id)
		}
	}
	return nil
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
	err := c.sh.view(func(tx *bolt.Tx) error {
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
	err := c.sh.view(func(tx *bolt.Tx) error {
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
	err := c.sh.view(func(tx *bolt.Tx) error {
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

// Stats reads the counters kept in meta and the file size.
func (c *Collection) Stats(ctx context.Context) (store.Stats, error) {
	if err := c.usable(); err != nil {
		return store.Stats{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Stats{}, err
	}
	var st store.Stats
	err := c.sh.view(func(tx *bolt.Tx) error {
		n := readCounters(tx.Bucket(bucketMeta))
		st.Rows, st.Sources = int64(n.rows), int64(n.sources)
		return nil
	})
	if err != nil {
		return st, err
	}
	if fi, err := os.Stat(c.sh.path); err == nil {
		st.DiskBytes = fi.Size()
	}
	return st, nil
}
