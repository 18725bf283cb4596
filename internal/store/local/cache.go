package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/vector"
)

// vcache is the in-memory copy of a collection that exact search scans: the
// ids, their vectors in one contiguous slice, and (once a filter needs them)
// the decoded dynamic fields. It is derived from the rows bucket, built on
// the first Search and kept in step by writes through the same Store.
type vcache struct {
	// mu guards everything below: searches hold it shared for their scan,
	// catch-ups exclusively to apply a committed change.
	mu     sync.RWMutex
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

func (c *vcache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *vcache) hasFields() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.fields != nil
}

// applyChanges implements derived.
func (c *vcache) applyChanges(chs []change, upto uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range chs {
		ch := &chs[i]
		if ch.gen <= c.gen {
			continue
		}
		if ch.val == nil {
			c.remove(ch.id)
			continue
		}
		vec, err := ch.vector()
		if err != nil {
			return err
		}
		if len(vec) != c.dim {
			return fmt.Errorf("row %d has %d dimensions, the schema %d", ch.id, len(vec), c.dim)
		}
		if err := c.put(prepared{id: ch.id, vec: vec, val: ch.val}); err != nil {
			return err
		}
	}
	c.gen = max(c.gen, upto)
	return nil
}

// ensureCache makes the vector cache ready (with the fields if
// withFields) and up to date, and returns it: loaded from vectors.snap,
// else built from the rows (and then saved), aside while searches go on,
// then published. A cache the catch-up had to drop (another process
// pruned the log past it) is loaded again.
func (sh *shared) ensureCache(ctx context.Context, withFields bool) (_ *vcache, err error) {
	defer sh.guard(&err)
	ready := func() *vcache {
		sh.mu.RLock()
		c := sh.cache
		sh.mu.RUnlock()
		if c != nil && (!withFields || c.hasFields()) {
			return c
		}
		return nil
	}
	for {
		if ready() == nil {
			err := func() error {
				sh.buildMu.Lock()
				defer sh.buildMu.Unlock()
				if ready() == nil {
					return sh.loadCache(ctx, withFields)
				}
				return nil
			}()
			if err != nil {
				return nil, err
			}
		}
		if err := sh.catchUp(ctx); err != nil {
			return nil, err
		}
		if c := ready(); c != nil {
			return c, nil
		}
		if sh.isClosed() {
			return nil, sh.errClosed()
		}
	}
}

// loadCache publishes the cache, with the fields if withFields;
// sh.buildMu is held.
func (sh *shared) loadCache(ctx context.Context, withFields bool) error {
	sh.mu.RLock()
	c := sh.cache
	sh.mu.RUnlock()
	if c == nil {
		built, err := sh.loadDerived(ctx, loadSteps{
			snapshot: func() derived {
				if c := sh.loadCacheSnapshot(); c != nil {
					return c
				}
				return nil
			},
			build: func(ctx context.Context) (derived, error) {
				c, err := sh.buildCache(ctx, withFields)
				if err != nil {
					return nil, err
				}
				return c, nil
			},
			prepare: func(ctx context.Context, d derived) error {
				c := d.(*vcache)
				if !withFields || c.fields != nil {
					return nil
				}
				f, err := sh.scanFields(ctx, func(yield func(int64, int)) {
					for i, id := range c.ids {
						yield(id, i)
					}
				})
				c.fields = f
				return err
			},
			publish: func(d derived) { sh.cache = d.(*vcache) },
		})
		if err != nil {
			return err
		}
		if built {
			sh.wmu.Lock()
			sh.saveCache()
			sh.wmu.Unlock()
		} else {
			sh.stats.cacheLoads++
		}
		sh.mu.RLock()
		c = sh.cache
		sh.mu.RUnlock()
		if !withFields || c == nil || c.hasFields() {
			return nil
		}
		// Reloaded pinned, which does not decode the fields: add them.
	}
	// Published but without fields: decode them aside, under the writer
	// lock so that no write of this process changes the cache meanwhile;
	// searches go on.
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	f, err := sh.scanFields(ctx, func(yield func(int64, int)) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		for i, id := range c.ids {
			yield(id, i)
		}
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	if len(f) == len(c.ids) {
		c.fields = f
	}
	c.mu.Unlock()
	return nil
}

// corruptIfBad wraps errors from decoding rows or the change log as
// ErrCorrupt.
func corruptIfBad(sh *shared, err error) error {
	if errors.Is(err, errBadRow) || errors.Is(err, errBadLog) {
		return corrupt(sh.name, sh.path, err)
	}
	return err
}

// buildCache reads every row's vector (and fields) chunk by chunk.
func (sh *shared) buildCache(ctx context.Context, withFields bool) (*vcache, error) {
	dim := sh.schema.Dim
	c := &vcache{dim: dim, pos: map[int64]int{}}
	if withFields {
		c.fields = []map[string]any{}
	}
	gen, err := sh.scanRows(ctx, func(id int64, rv rowView) error {
		if rv.dim() != dim {
			return fmt.Errorf("row %d has %d dimensions, the schema %d", id, rv.dim(), dim)
		}
		c.pos[id] = len(c.ids)
		c.ids = append(c.ids, id)
		c.vecs = rv.vector(c.vecs)
		if withFields {
			f, err := rv.decodeFields()
			if err != nil {
				return fmt.Errorf("row %d: %w", id, err)
			}
			c.fields = append(c.fields, f)
		}
		return nil
	}, nil)
	if err != nil {
		return nil, corruptIfBad(sh, err)
	}
	c.gen = gen
	return c, nil
}

// scanFields decodes the dynamic fields of the rows that each gives (id
// and position), chunk by chunk. A row another process deleted meanwhile
// gets nil fields until the catch-up removes it.
func (sh *shared) scanFields(ctx context.Context, each func(yield func(id int64, i int))) ([]map[string]any, error) {
	type at struct {
		id int64
		i  int
	}
	var all []at
	n := 0
	each(func(id int64, i int) {
		all = append(all, at{id, i})
		n = max(n, i+1)
	})
	fields := make([]map[string]any, n)
	for lo := 0; lo < len(all); lo += scanChunk {
		part := all[lo:min(lo+scanChunk, len(all))]
		err := sh.view(ctx, func(tx *bolt.Tx) error {
			rows := tx.Bucket(bucketRows)
			for _, a := range part {
				v := rows.Get(idKey(a.id))
				if v == nil {
					continue
				}
				rv, err := decodeRow(v)
				if err != nil {
					return fmt.Errorf("row %d: %w", a.id, err)
				}
				if fields[a.i], err = rv.decodeFields(); err != nil {
					return fmt.Errorf("row %d: %w", a.id, err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, corruptIfBad(sh, err)
		}
	}
	return fields, nil
}

// loadCacheSnapshot returns the cache saved in vectors.snap (to be brought
// up to date by settle), or nil if there is none usable.
func (sh *shared) loadCacheSnapshot() *vcache {
	var c *vcache
	gen, err := readSnapshot(sh.snapPath(vectorsFile), snapVectors, func(r io.Reader, gen uint64) (err error) {
		c, err = readCache(r, sh.schema.Dim)
		return err
	})
	if err != nil {
		return nil
	}
	c.gen, c.saved = gen, gen
	return c
}

// saveCache writes vectors.snap if the cache is newer than the snapshot on
// disk (which another process may have saved). Failing to save costs only
// time (the cache is rebuilt on the next open), so errors are ignored: a
// read-only data directory is fine. sh.wmu must be held.
func (sh *shared) saveCache() {
	sh.mu.RLock()
	c := sh.cache
	sh.mu.RUnlock()
	if c == nil || sh.noSnapshots {
		return
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	path := sh.snapPath(vectorsFile)
	if c.gen == c.saved || c.gen <= snapshotGen(path, snapVectors) {
		return
	}
	if writeSnapshot(path, snapVectors, c.gen, c.writeTo) == nil {
		c.saved = c.gen
		sh.stats.saves++
	}
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
