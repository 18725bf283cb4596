package local

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/vector"
)

// vcache is the in-memory copy of a collection that exact search scans: the
// ids, their vectors in one contiguous slice, and (once a filter needs them)
// the decoded dynamic fields. It is derived from the rows bucket, built on
// the first Search and kept in step by writes through the same Store.
type vcache struct {
	dim    int
	gen    uint64 // bbolt transaction id the cache reflects
	saved  uint64 // generation of vectors.snap, 0 if none
	ids    []int64
	vecs   []float32 // len(ids)*dim
	pos    map[int64]int
	fields []map[string]any // nil until a filter needs them; else len(ids)
}

func (c *vcache) len() int { return len(c.ids) }

func (c *vcache) vec(i int) []float32 {
	return c.vecs[i*c.dim : (i+1)*c.dim : (i+1)*c.dim]
}

// put inserts or replaces a committed row.
func (c *vcache) put(p prepared) error {
	var f map[string]any
	if c.fields != nil {
		rv, err := decodeRow(p.val)
		if err != nil {
			return err
		}
		if f, err = rv.decodeFields(); err != nil {
			return err
		}
	}
	if i, ok := c.pos[p.id]; ok {
		copy(c.vec(i), p.vec)
		if c.fields != nil {
			c.fields[i] = f
		}
		return nil
	}
	c.pos[p.id] = len(c.ids)
	c.ids = append(c.ids, p.id)
	c.vecs = append(c.vecs, p.vec...)
	if c.fields != nil {
		c.fields = append(c.fields, f)
	}
	return nil
}

// remove deletes a row by moving the last one into its place; search breaks
// ties by id, so the order of rows does not matter.
func (c *vcache) remove(id int64) {
	i, ok := c.pos[id]
	if !ok {
		return
	}
	last := len(c.ids) - 1
	if i != last {
		c.ids[i] = c.ids[last]
		copy(c.vec(i), c.vec(last))
		c.pos[c.ids[i]] = i
		if c.fields != nil {
			c.fields[i] = c.fields[last]
		}
	}
	c.ids = c.ids[:last]
	c.vecs = c.vecs[:last*c.dim]
	if c.fields != nil {
		c.fields[last] = nil
		c.fields = c.fields[:last]
	}
	delete(c.pos, id)
}

// ensureCache builds the cache, with the fields if withFields, unless it is
// there already.
func (sh *shared) ensureCache(withFields bool) error {
	return sh.ensureDerived(
		func() bool { return sh.cache != nil && (!withFields || sh.cache.fields != nil) },
		func(tx *bolt.Tx) (built bool, err error) {
			if sh.cache == nil {
				if c := sh.loadCacheSnapshot(tx); c != nil {
					sh.cache = c
				} else {
					c, err := loadCache(tx, sh.schema.Dim, false)
					if err != nil {
						return false, corrupt(sh.name, sh.path, err)
					}
					c.gen = uint64(tx.ID())
					sh.cache, built = c, true
				}
			}
			if withFields && sh.cache.fields == nil {
				if err := sh.cache.loadFields(tx); err != nil {
					return built, corrupt(sh.name, sh.path, err)
				}
			}
			return built, nil
		},
		sh.saveCache)
}

// ensureDerived makes derived state (the vector cache, an ANN index) ready:
// a cheap check under the read lock, then, holding the writer lock (so no
// write lands half-applied) and the state lock, a second check and load,
// which runs in a read transaction. load reports whether it built the
// state from the rows, in which case save writes a snapshot so the next
// process loads instead of rebuilding.
func (sh *shared) ensureDerived(ready func() bool, load func(tx *bolt.Tx) (built bool, err error), save func()) (err error) {
	defer sh.guard(&err)
	sh.mu.RLock()
	ok, closed := ready(), sh.closed
	sh.mu.RUnlock()
	if closed {
		return sh.errClosed()
	}
	if ok {
		return nil
	}
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return sh.errClosed()
	}
	if ready() {
		return nil
	}
	built := false
	err = sh.db.View(func(tx *bolt.Tx) error {
		var err error
		built, err = load(tx)
		return err
	})
	if err == nil && built {
		save()
	}
	return err
}

// loadCacheSnapshot returns the cache saved in vectors.snap, brought up to
// date with the changes logged since, or nil if it must be rebuilt.
func (sh *shared) loadCacheSnapshot(tx *bolt.Tx) *vcache {
	var c *vcache
	gen, err := readSnapshot(sh.snapPath(vectorsFile), snapVectors, func(r io.Reader, gen uint64) (err error) {
		c, err = readCache(r, sh.schema.Dim)
		return err
	})
	if err != nil {
		return nil
	}
	c.gen, c.saved = gen, gen
	ids, err := changedSince(tx, gen)
	if err != nil || c.replay(tx, ids) != nil {
		return nil
	}
	c.gen = uint64(tx.ID())
	// A row written by something that did not log it (an older kura)
	// would go unnoticed by the replay; the row count catches most.
	if uint64(c.len()) != readCounters(tx.Bucket(bucketMeta)).rows {
		return nil
	}
	sh.stats.cacheLoads++
	return c
}

// saveCache writes vectors.snap if the cache has changed since it was
// last saved. Failing to save costs only time (the cache is rebuilt on the
// next open), so errors are ignored: a read-only data directory is fine.
// sh.wmu and sh.mu (shared at least) must be held.
func (sh *shared) saveCache() {
	c := sh.cache
	if c == nil || c.gen == c.saved || sh.noSnapshots {
		return
	}
	if writeSnapshot(sh.snapPath(vectorsFile), snapVectors, c.gen, c.writeTo) == nil {
		c.saved = c.gen
		sh.stats.saves++
	}
}

func loadCache(tx *bolt.Tx, dim int, withFields bool) (*vcache, error) {
	n := int(readCounters(tx.Bucket(bucketMeta)).rows)
	c := &vcache{
		dim:  dim,
		ids:  make([]int64, 0, n),
		vecs: make([]float32, 0, n*dim),
		pos:  make(map[int64]int, n),
	}
	if withFields {
		c.fields = make([]map[string]any, 0, n)
	}
	cur := tx.Bucket(bucketRows).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(k) != 8 {
			return nil, fmt.Errorf("bad row key %x", k)
		}
		id := keyID(k)
		rv, err := decodeRow(v)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", id, err)
		}
		if rv.dim() != dim {
			return nil, fmt.Errorf("row %d has %d dimensions, the schema %d", id, rv.dim(), dim)
		}
		c.pos[id] = len(c.ids)
		c.ids = append(c.ids, id)
		c.vecs = rv.vector(c.vecs)
		if withFields {
			f, err := rv.decodeFields()
			if err != nil {
				return nil, fmt.Errorf("row %d: %w", id, err)
			}
			c.fields = append(c.fields, f)
		}
	}
	return c, nil
}

func (c *vcache) loadFields(tx *bolt.Tx) error {
	fields := make([]map[string]any, len(c.ids))
	for i, id := range c.ids {
		v := tx.Bucket(bucketRows).Get(idKey(id))
		if v == nil {
			return fmt.Errorf("row %d is cached but not stored", id)
		}
		rv, err := decodeRow(v)
		if err != nil {
			return fmt.Errorf("row %d: %w", id, err)
		}
		if fields[i], err = rv.decodeFields(); err != nil {
			return fmt.Errorf("row %d: %w", id, err)
		}
	}
	c.fields = fields
	return nil
}

// writeTo writes the cache's snapshot payload: ids then vectors. The
// fields are not saved; they are decoded from the rows when a filter first
// needs them.
func (c *vcache) writeTo(w io.Writer) error {
	o := &vector.Writer{W: w}
	o.U64(uint64(c.dim))
	vector.Slice(o, c.ids)
	vector.Slice(o, c.vecs)
	return o.Err
}

func readCache(r io.Reader, dim int) (*vcache, error) {
	in := &vector.Reader{R: r, Max: 1 << 36}
	d := int(in.U64())
	ids := vector.ReadSlice[int64](in)
	vecs := vector.ReadSlice[float32](in)
	if in.Err != nil {
		return nil, in.Err
	}
	if d != dim || len(vecs) != len(ids)*dim {
		return nil, fmt.Errorf("%w: %d ids, %d floats of %d dimensions (schema %d)", vector.ErrFormat, len(ids), len(vecs), d, dim)
	}
	c := &vcache{dim: dim, ids: ids, vecs: vecs, pos: make(map[int64]int, len(ids))}
	for i, id := range ids {
		if _, dup := c.pos[id]; dup {
			return nil, fmt.Errorf("%w: id %d twice", vector.ErrFormat, id)
		}
		c.pos[id] = i
	}
	return c, nil
}

// replay applies the rows changed since the snapshot the cache was read
// from.
func (c *vcache) replay(tx *bolt.Tx, ids []int64) error {
	rows := tx.Bucket(bucketRows)
	for _, id := range ids {
		v := rows.Get(idKey(id))
		if v == nil {
			c.remove(id)
			continue
		}
		rv, err := decodeRow(v)
		if err != nil {
			return fmt.Errorf("row %d: %w", id, err)
		}
		if rv.dim() != c.dim {
			return fmt.Errorf("row %d has %d dimensions, the schema %d", id, rv.dim(), c.dim)
		}
		if err := c.put(prepared{id: id, vec: rv.vector(nil), val: v}); err != nil {
			return err
		}
	}
	return nil
}
