package local

import (
	"fmt"
	"io"
	"math"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/vector"
	"github.com/kura-rag/kura/internal/vector/hnsw"
	"github.com/kura-rag/kura/internal/vector/ivf"
	"github.com/kura-rag/kura/internal/vector/sq8"
)

// DefaultExactBelow is the number of live rows under which an IVF_FLAT or
// HNSW collection is searched exactly: a scan of a few thousand vectors
// takes well under a millisecond and is always right.
const DefaultExactBelow = 2048

// annIndex is the approximate index of an IVF_FLAT or HNSW collection and
// the map between its slots (dense, append-only numbers; a replaced or
// deleted row leaves a tombstone) and row ids. It is derived from the rows
// and persisted in index.snap (see snapshot.go).
//
// The index itself is safe for concurrent inserts and searches; mu guards
// the maps, which a search holds shared for its duration and a write
// exclusively only to publish new slots. A search that meets a slot not yet
// published skips it.
type annIndex struct {
	spec   store.IndexSpec
	metric vector.Metric
	dim    int
	h      *hnsw.Index
	f      *ivf.Index

	mu     sync.RWMutex
	ids    []int64          // slot → row id
	slot   map[int64]uint32 // live row id → slot
	fields []map[string]any // slot → dynamic fields; nil until a filter needs them

	trainedOn int    // rows the SQ8 quantiser was trained on
	gen       uint64 // bbolt transaction id the index reflects
	saved     uint64 // generation of the snapshot on disk, 0 if none
	stale     bool   // too many tombstones, or IVF outgrew its training: rebuild
}

func metricOf(s store.Schema) vector.Metric {
	m, _ := vector.ParseMetric(s.Metric)
	return m
}

// newANN returns an empty index for the schema, SQ8 codes trained on vecs.
func newANN(s store.Schema, vecs []float32) *annIndex {
	a := &annIndex{spec: s.Index, metric: metricOf(s), dim: s.Dim, slot: map[int64]uint32{}}
	var q *sq8.Quantizer
	if s.Index.SQ8 {
		q = sq8.Train(s.Dim, vecs)
	}
	p := s.Index.Params
	switch s.Index.Type {
	case store.IndexHNSW:
		a.h = hnsw.New(hnsw.Config{Dim: s.Dim, Metric: a.metric, M: p["M"], EfConstruction: p["efConstruction"], Quantizer: q})
	default:
		a.f = ivf.New(ivf.Config{Dim: s.Dim, Metric: a.metric, Nlist: p["nlist"], Quantizer: q})
	}
	return a
}

// buildANN builds the index from every row in tx, using all cores.
func buildANN(tx *bolt.Tx, s store.Schema) (*annIndex, error) {
	n := int(readCounters(tx.Bucket(bucketMeta)).rows)
	ids := make([]int64, 0, n)
	vecs := make([]float32, 0, n*s.Dim)
	cur := tx.Bucket(bucketRows).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		id := keyID(k)
		rv, err := decodeRow(v)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", id, err)
		}
		if rv.dim() != s.Dim {
			return nil, fmt.Errorf("row %d has %d dimensions, the schema %d", id, rv.dim(), s.Dim)
		}
		ids = append(ids, id)
		vecs = rv.vector(vecs)
	}
	a := newANN(s, vecs)
	a.trainedOn = len(ids)
	a.addLocked(ids, vecs)
	a.gen = uint64(tx.ID())
	return a, nil
}

func (a *annIndex) live() int {
	return len(a.slot)
}

// addLocked inserts rows as new slots (in parallel for a batch) and
// publishes them. It needs a.mu held exclusively only if searches can run,
// which the callers arrange.
func (a *annIndex) addLocked(ids []int64, vecs []float32) {
	if len(ids) == 0 {
		return
	}
	var base uint32
	if a.h != nil {
		base = a.h.Build(vecs, 0)
	} else {
		base = a.f.Build(vecs, 0)
	}
	for i, id := range ids {
		s := base + uint32(i)
		for len(a.ids) <= int(s) {
			a.ids = append(a.ids, 0)
			if a.fields != nil {
				a.fields = append(a.fields, nil)
			}
		}
		a.ids[s] = id
		a.slot[id] = s
	}
}

func (a *annIndex) deleteSlot(s uint32) {
	if a.h != nil {
		a.h.Delete(s)
	} else {
		a.f.Delete(s)
	}
	if a.fields != nil {
		a.fields[s] = nil
	}
}

// apply brings the index in step with committed writes: puts (with their
// encoded rows, for the fields) and deleted ids. The new vectors are linked
// into the index without a.mu, so searches keep running; the maps are then
// switched under a.mu in one step.
func (a *annIndex) apply(puts []prepared, deleted []int64, gen uint64) error {
	var ids []int64
	var vecs []float32
	for _, p := range puts {
		ids = append(ids, p.id)
		vecs = append(vecs, p.vec...)
	}
	var base uint32
	if len(ids) > 0 {
		if a.h != nil {
			base = a.h.Build(vecs, 0)
		} else {
			base = a.f.Build(vecs, 0)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range deleted {
		if s, ok := a.slot[id]; ok {
			a.deleteSlot(s)
			delete(a.slot, id)
		}
	}
	for i, p := range puts {
		if s, ok := a.slot[p.id]; ok {
			a.deleteSlot(s)
		}
		s := base + uint32(i)
		for len(a.ids) <= int(s) {
			a.ids = append(a.ids, 0)
			if a.fields != nil {
				a.fields = append(a.fields, nil)
			}
		}
		a.ids[s] = p.id
		a.slot[p.id] = s
		if a.fields != nil {
			rv, err := decodeRow(p.val)
			if err != nil {
				return err
			}
			if a.fields[s], err = rv.decodeFields(); err != nil {
				return err
			}
		}
	}
	a.gen = gen
	a.checkStale()
	return nil
}

// checkStale marks the index for a rebuild when a quarter of the HNSW
// slots are tombstones (they cost memory and search time) or when IVF holds
// several times what it was trained on.
//
// An SQ8 quantiser learns the value range of the rows it was trained on;
// values outside it are clamped, so it is retrained (by the rebuild) when
// the collection has grown to four times its training set.
func (a *annIndex) checkStale() {
	if a.h != nil {
		n := a.h.Len()
		a.stale = n >= DefaultExactBelow && 4*a.h.Deleted() >= n
	} else {
		a.stale = a.f.NeedsRetrain()
	}
	if a.spec.SQ8 && a.live() >= 4*max(a.trainedOn, DefaultExactBelow) {
		a.stale = true
	}
}

// replay applies the rows changed since the snapshot: present ones are
// (re)inserted, missing ones deleted.
func (a *annIndex) replay(tx *bolt.Tx, ids []int64) error {
	rows := tx.Bucket(bucketRows)
	var puts []prepared
	var dels []int64
	for _, id := range ids {
		v := rows.Get(idKey(id))
		if v == nil {
			dels = append(dels, id)
			continue
		}
		rv, err := decodeRow(v)
		if err != nil {
			return fmt.Errorf("row %d: %w", id, err)
		}
		puts = append(puts, prepared{id: id, vec: rv.vector(nil), val: append([]byte(nil), v...)})
	}
	return a.apply(puts, dels, uint64(tx.ID()))
}

// loadFields decodes every live slot's dynamic fields for filters.
func (a *annIndex) loadFields(tx *bolt.Tx) error {
	fields := make([]map[string]any, len(a.ids))
	rows := tx.Bucket(bucketRows)
	for id, s := range a.slot {
		v := rows.Get(idKey(id))
		if v == nil {
			return fmt.Errorf("row %d is indexed but not stored", id)
		}
		rv, err := decodeRow(v)
		if err != nil {
			return fmt.Errorf("row %d: %w", id, err)
		}
		if fields[s], err = rv.decodeFields(); err != nil {
			return fmt.Errorf("row %d: %w", id, err)
		}
	}
	a.fields = fields
	return nil
}

// isLive reports whether slot is published and not replaced or deleted.
// a.mu must be held.
func (a *annIndex) isLive(s uint32) bool {
	if int(s) >= len(a.ids) {
		return false
	}
	cur, ok := a.slot[a.ids[s]]
	return ok && cur == s
}

// floatOf returns slot's float vector: from the index, or, for SQ8, from
// the row in tx (nil if it cannot be read).
func (a *annIndex) floatOf(tx *bolt.Tx) func(s uint32) []float32 {
	if !a.spec.SQ8 {
		if a.h != nil {
			return a.h.Vector
		}
		return a.f.Vector
	}
	rows := tx.Bucket(bucketRows)
	return func(s uint32) []float32 {
		if int(s) >= len(a.ids) {
			return nil
		}
		v := rows.Get(idKey(a.ids[s]))
		if v == nil {
			return nil
		}
		rv, err := decodeRow(v)
		if err != nil || rv.dim() != a.dim {
			return nil
		}
		return rv.vector(make([]float32, 0, a.dim))
	}
}

// search returns up to k results for q. accept (nil for all) filters
// slots; a.mu must be held shared. Tiny collections (under exactBelow rows)
// and filters for which the cost model (exactIsCheaper) prefers it get an
// exact scan of the matching rows; otherwise the index is searched, with a
// candidate list widened by 1/√(estimated selectivity) so that enough
// matching rows are found. exactBelow 0 (tests) always uses the index.
func (a *annIndex) search(q []float32, k int, params map[string]int, accept func(uint32) bool, float func(uint32) []float32, exactBelow int) []vector.Result {
	live := a.live()
	ok := func(s uint32) bool { return a.isLive(s) && (accept == nil || accept(s)) }
	sel := 1.0
	if accept != nil && live > 0 {
		// Estimate the share of rows the filter keeps on up to 256 live
		// slots spread over the whole range.
		step := max(1, len(a.ids)/256)
		seen, kept := 0, 0
		for s := 0; s < len(a.ids) && seen < 256; s += step {
			if a.isLive(uint32(s)) {
				seen++
				if accept(uint32(s)) {
					kept++
				}
			}
		}
		if seen > 0 {
			sel = float64(kept) / float64(seen)
		}
	}
	widen := 1.0
	if sel < 1 {
		widen = min(8, 1/math.Sqrt(sel))
	}
	ef := params["ef"]
	if ef <= 0 {
		ef = hnsw.DefaultEf
	}
	ef = int(float64(max(ef, k)) * widen)
	np := params["nprobe"]
	if np <= 0 {
		np = ivf.DefaultNprobe
	}
	np = int(math.Ceil(float64(np) * widen))
	if sel == 0 || (exactBelow > 0 && (live < exactBelow || a.exactIsCheaper(live, sel, ef, np))) {
		return a.exact(q, k, ok, float)
	}
	if a.h != nil {
		o := hnsw.SearchOptions{Ef: ef}
		if accept != nil {
			o.Accept = ok
		} else {
			o.Accept = func(s uint32) bool { return int(s) < len(a.ids) }
		}
		if a.spec.SQ8 {
			o.Float = float
		}
		return a.h.Search(q, k, o)
	}
	o := ivf.SearchOptions{Nprobe: np, Accept: ok}
	if a.spec.SQ8 {
		o.Float = float
	}
	return a.f.Search(q, k, o)
}

// Cost model of a filtered search, calibrated on 100,000 × 1,024 rows on
// the 2-core benchmark machine (README, Benchmarks): evaluating a filter on
// a row's decoded fields costs about 0.05 µs, a distance to a vector read
// from memory about 0.4 µs per 1,024 dimensions, and a graph search visits
// about 35 nodes per unit of ef, divided by the share of rows the filter
// keeps (it must walk past the rejected ones). An exact scan evaluates the
// filter on every row and measures the distance of the matching ones. At
// 100,000 rows a filter keeping 12.5% is cheaper exactly (10.5 ms measured
// against 16.8 ms through the graph); at a million rows, or at 50%, the graph
// wins. IVF_FLAT scans whole lists and is costed like the graph.
const (
	evalMicros     = 0.05
	distMicros1024 = 0.4
	visitsPerEf    = 35
)

func (a *annIndex) exactIsCheaper(live int, sel float64, ef, nprobe int) bool {
	dist := distMicros1024 * float64(a.dim) / 1024
	exact := float64(live) * (evalMicros + sel*dist)
	graph := float64(ef) * visitsPerEf / sel * (evalMicros + dist)
	if a.f != nil {
		// nprobe lists of live/nlist rows each.
		c := a.f.Config()
		graph = float64(live) / float64(c.Nlist) * float64(nprobe) * (evalMicros + sel*dist)
	}
	return exact <= graph
}

// exact scans every live accepted slot with the float vectors.
func (a *annIndex) exact(q []float32, k int, ok func(uint32) bool, float func(uint32) []float32) []vector.Result {
	h := vector.MaxHeap{K: k}
	for s := range uint32(len(a.ids)) {
		if !ok(s) {
			continue
		}
		v := float(s)
		if v == nil {
			continue
		}
		h.Offer(vector.Result{Slot: s, Dist: a.metric.Dist(q, v)})
	}
	return h.Sorted()
}

// writeTo writes the snapshot payload: the slot → id map, then the index.
// Searches may run meanwhile; writes must not (the caller holds wmu).
func (a *annIndex) writeTo(w io.Writer) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	o := &vector.Writer{W: w}
	o.U64(uint64(a.trainedOn))
	o.U64(uint64(len(a.ids)))
	vector.Slice(o, a.ids)
	live := make([]uint32, 0, len(a.slot))
	for _, s := range a.slot {
		live = append(live, s)
	}
	vector.Slice(o, live)
	if o.Err != nil {
		return o.Err
	}
	var err error
	if a.h != nil {
		_, err = a.h.WriteTo(w)
	} else {
		_, err = a.f.WriteTo(w)
	}
	return err
}

// readANN reads a payload written by writeTo for schema s.
func readANN(r io.Reader, s store.Schema, gen uint64) (*annIndex, error) {
	in := &vector.Reader{R: r, Max: 1 << 32}
	trained := in.U64()
	n := in.U64()
	ids := vector.ReadSlice[int64](in)
	live := vector.ReadSlice[uint32](in)
	if in.Err != nil {
		return nil, in.Err
	}
	if uint64(len(ids)) != n {
		return nil, fmt.Errorf("%w: %d ids for %d slots", vector.ErrFormat, len(ids), n)
	}
	a := &annIndex{spec: s.Index, metric: metricOf(s), dim: s.Dim, ids: ids, slot: make(map[int64]uint32, len(live)), gen: gen, saved: gen, trainedOn: int(trained)}
	for _, sl := range live {
		if int(sl) >= len(ids) {
			return nil, fmt.Errorf("%w: live slot %d of %d", vector.ErrFormat, sl, len(ids))
		}
		a.slot[ids[sl]] = sl
	}
	var err error
	var slots int
	switch s.Index.Type {
	case store.IndexHNSW:
		if a.h, err = hnsw.Read(r); err == nil {
			slots = a.h.Len()
			c := a.h.Config()
			if c.Dim != s.Dim || c.Metric != a.metric || a.h.Quantized() != s.Index.SQ8 {
				err = fmt.Errorf("%w: the snapshot's HNSW does not match the schema", vector.ErrFormat)
			}
		}
	default:
		if a.f, err = ivf.Read(r); err == nil {
			slots = a.f.Len()
			c := a.f.Config()
			if c.Dim != s.Dim || c.Metric != a.metric || (c.Quantizer != nil) != s.Index.SQ8 {
				err = fmt.Errorf("%w: the snapshot's IVF index does not match the schema", vector.ErrFormat)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if slots != len(ids) {
		return nil, fmt.Errorf("%w: the index has %d slots, the map %d", vector.ErrFormat, slots, len(ids))
	}
	a.checkStale()
	return a, nil
}

// applyANN brings the ANN index, if loaded, in step with a committed write.
// sh.wmu must be held. The index is updated while searches run (see
// annIndex.apply); if that fails the index is dropped and rebuilt from the
// rows on the next search, the write itself being durable.
func (sh *shared) applyANN(puts []prepared, deleted []int64, gen uint64) {
	sh.mu.RLock()
	a := sh.ann
	sh.mu.RUnlock()
	if a == nil {
		return
	}
	if err := a.apply(puts, deleted, gen); err != nil {
		sh.mu.Lock()
		sh.ann = nil
		sh.mu.Unlock()
	}
}

// ensureANN makes sh.ann ready (with the fields if withFields): from
// index.snap plus the changes logged since, or built from the rows, which
// is then saved. An index marked stale is rebuilt.
func (sh *shared) ensureANN(withFields bool) error {
	return sh.ensureDerived(
		func() bool { return sh.ann != nil && !sh.ann.stale && (!withFields || sh.ann.fields != nil) },
		func(tx *bolt.Tx) (built bool, err error) {
			if sh.ann != nil && sh.ann.stale {
				sh.ann = nil
			} else if sh.ann == nil {
				sh.ann = sh.loadANNSnapshot(tx)
			}
			if sh.ann == nil {
				a, err := buildANN(tx, sh.schema)
				if err != nil {
					return false, corrupt(sh.name, sh.path, err)
				}
				sh.ann, built = a, true
				sh.stats.annBuilds++
			}
			if withFields && sh.ann.fields == nil {
				if err := sh.ann.loadFields(tx); err != nil {
					return built, corrupt(sh.name, sh.path, err)
				}
			}
			return built, nil
		},
		sh.saveANN)
}

// loadANNSnapshot returns the index saved in index.snap, brought up to
// date with the changes logged since, or nil if it must be rebuilt.
func (sh *shared) loadANNSnapshot(tx *bolt.Tx) *annIndex {
	var a *annIndex
	gen, err := readSnapshot(sh.snapPath(indexFile), snapIndex, func(r io.Reader, gen uint64) (err error) {
		a, err = readANN(r, sh.schema, gen)
		return err
	})
	if err != nil {
		return nil
	}
	ids, err := changedSince(tx, gen)
	if err != nil || a.replay(tx, ids) != nil {
		return nil
	}
	if uint64(a.live()) != readCounters(tx.Bucket(bucketMeta)).rows {
		return nil
	}
	sh.stats.annLoads++
	return a
}

// saveANN writes index.snap if the index changed since it was last saved;
// errors are ignored as in saveCache. sh.wmu must be held.
func (sh *shared) saveANN() {
	a := sh.ann
	if a == nil || a.gen == a.saved || a.stale || sh.noSnapshots {
		return
	}
	if writeSnapshot(sh.snapPath(indexFile), snapIndex, a.gen, a.writeTo) == nil {
		a.saved = a.gen
		sh.stats.saves++
	}
}
