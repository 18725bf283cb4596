package local

import (
	"context"
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
	alive  []uint64         // bit per slot: published and neither replaced nor deleted
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

// trainSample bounds the vectors an IVF_FLAT or SQ8 index is trained on
// (IVF samples nlist·256 of them itself, as FAISS does).
const trainSample = 65536

// buildANN builds the index from the rows, read chunk by chunk so that no
// lock is held for long, and returns it with the generation to catch up
// from. An HNSW graph without SQ8 links each chunk as it is read, so only
// the index holds the vectors; IVF_FLAT and SQ8 need their training set
// first, so they read every vector and build once.
func (sh *shared) buildANN(ctx context.Context) (*annIndex, error) {
	s := sh.schema
	streaming := s.Index.Type == store.IndexHNSW && !s.Index.SQ8
	var a *annIndex
	if streaming {
		a = newANN(s, nil)
	}
	var ids []int64
	var vecs []float32
	gen, err := sh.scanRows(ctx, func(id int64, rv rowView) error {
		if rv.dim() != s.Dim {
			return fmt.Errorf("row %d has %d dimensions, the schema %d", id, rv.dim(), s.Dim)
		}
		ids = append(ids, id)
		vecs = rv.vector(vecs)
		return nil
	}, func() error {
		if streaming {
			a.addLocked(ids, vecs)
			a.trainedOn += len(ids)
			ids, vecs = ids[:0], vecs[:0]
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, corruptIfBad(sh, err)
	}
	if !streaming {
		a = newANN(s, vecs)
		a.trainedOn = len(ids)
		a.addLocked(ids, vecs)
	}
	a.gen = gen
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
		a.publish(base+uint32(i), id)
	}
}

// publish maps slot s to row id. a.mu must be held exclusively if
// searches can run.
func (a *annIndex) publish(s uint32, id int64) {
	for len(a.ids) <= int(s) {
		a.ids = append(a.ids, 0)
		if a.fields != nil {
			a.fields = append(a.fields, nil)
		}
	}
	for len(a.alive)*64 <= int(s) {
		a.alive = append(a.alive, 0)
	}
	a.ids[s] = id
	a.slot[id] = s
	a.alive[s/64] |= 1 << (s % 64)
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
	a.alive[s/64] &^= 1 << (s % 64)
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
		a.publish(s, p.id)
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

func (a *annIndex) generation() uint64 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.gen
}

func (a *annIndex) hasFields() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.fields != nil
}

// applyChanges implements derived: present rows are (re)inserted, missing
// ones deleted.
func (a *annIndex) applyChanges(chs []change, upto uint64) error {
	g := a.generation()
	var puts []prepared
	var dels []int64
	for i := range chs {
		ch := &chs[i]
		if ch.gen <= g {
			continue
		}
		if ch.val == nil {
			dels = append(dels, ch.id)
			continue
		}
		vec, err := ch.vector()
		if err != nil {
			return err
		}
		if len(vec) != a.dim {
			return fmt.Errorf("row %d has %d dimensions, the schema %d", ch.id, len(vec), a.dim)
		}
		puts = append(puts, prepared{id: ch.id, vec: vec, val: ch.val})
	}
	return a.apply(puts, dels, max(g, upto))
}

// isLive reports whether slot is published and not replaced or deleted.
// a.mu must be held.
func (a *annIndex) isLive(s uint32) bool {
	return int(s) < len(a.ids) && a.alive[s/64]&(1<<(s%64)) != 0
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
func (a *annIndex) search(ctx context.Context, q []float32, k int, params map[string]int, newAccept func() func(uint32) bool, newFloat func() func(uint32) []float32, exactBelow, workers int) ([]vector.Result, error) {
	var accept func(uint32) bool
	if newAccept != nil {
		accept = newAccept()
	}
	float := newFloat()
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
		newOK := func() func(uint32) bool {
			acc := accept
			if newAccept != nil {
				acc = newAccept()
			}
			return func(s uint32) bool { return a.isLive(s) && (acc == nil || acc(s)) }
		}
		if live < parallelMin {
			workers = 1
		}
		return a.exact(ctx, q, k, newOK, newFloat, workers)
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
		return a.h.Search(q, k, o), nil
	}
	o := ivf.SearchOptions{Nprobe: np, Accept: ok}
	if a.spec.SQ8 {
		o.Float = float
	}
	return a.f.Search(q, k, o), nil
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

// exact scans every live accepted slot with the float vectors, split over
// GOMAXPROCS goroutines for large collections like the FLAT scan. ok
// and float come from newOK and newFloat, called once per goroutine: a
// filter's getter and an SQ8 collection's bbolt reads are not shared
// between goroutines.
func (a *annIndex) exact(ctx context.Context, q []float32, k int, newOK func() func(uint32) bool, newFloat func() func(uint32) []float32, workers int) ([]vector.Result, error) {
	n := len(a.ids)
	workers = max(1, min(workers, n/1024))
	heaps := make([]vector.MaxHeap, workers)
	errs := make([]error, workers)
	scan := func(w, lo, hi int) {
		h := vector.MaxHeap{K: k}
		ok := newOK()
		run := func(float func(uint32) []float32) {
			for s := lo; s < hi; s++ {
				if (s-lo)&4095 == 4095 && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				if !ok(uint32(s)) {
					continue
				}
				v := float(uint32(s))
				if v == nil {
					continue
				}
				h.Offer(vector.Result{Slot: uint32(s), Dist: a.metric.Dist(q, v)})
			}
		}
		if a.h != nil && !a.spec.SQ8 {
			// One lock for the whole range, not one per vector.
			a.h.ReadVectors(run)
		} else {
			run(newFloat())
		}
		heaps[w] = h
	}
	if workers == 1 {
		scan(0, 0, n)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { scan(w, n*w/workers, n*(w+1)/workers) })
		}
		wg.Wait()
	}
	all := vector.MaxHeap{K: k}
	for w := range workers {
		if errs[w] != nil {
			return nil, errs[w]
		}
		for _, r := range heaps[w].Sorted() {
			all.Offer(r)
		}
	}
	return all.Sorted(), nil
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
	a.alive = make([]uint64, (len(ids)+63)/64)
	for _, sl := range live {
		a.alive[sl/64] |= 1 << (sl % 64)
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

// ensureANN makes the index ready (with the fields if withFields) and up
// to date, and returns it: from index.snap plus the changes logged since,
// or built from the rows (then saved). An index marked stale is rebuilt
// aside while the stale one keeps serving, and swapped in when it has
// caught up. An index the catch-up had to drop (another process pruned
// the log past it) is loaded again.
func (sh *shared) ensureANN(ctx context.Context, withFields bool) (_ *annIndex, err error) {
	defer sh.guard(&err)
	current := func() *annIndex {
		sh.mu.RLock()
		defer sh.mu.RUnlock()
		return sh.ann
	}
	usable := func(a *annIndex) bool { return a != nil && (!withFields || a.hasFields()) }
	for {
		if a := current(); !usable(a) || a.isStale() {
			if a != nil && usable(a) {
				// Stale but usable: rebuild without making this search wait.
				if sh.buildMu.TryLock() {
					go func() {
						defer sh.buildMu.Unlock()
						sh.loadANN(context.WithoutCancel(ctx), withFields)
					}()
				}
			} else {
				sh.buildMu.Lock()
				err := func() error {
					defer sh.buildMu.Unlock()
					if a := current(); !usable(a) || a.isStale() {
						return sh.loadANN(ctx, withFields)
					}
					return nil
				}()
				if err != nil {
					return nil, err
				}
			}
		}
		if err := sh.catchUp(ctx); err != nil {
			return nil, err
		}
		if a := current(); usable(a) {
			return a, nil
		}
		if sh.isClosed() {
			return nil, sh.errClosed()
		}
	}
}

// loadANN loads or builds the index (see ensureANN); sh.buildMu is held.
func (sh *shared) loadANN(ctx context.Context, withFields bool) (err error) {
	defer sh.guard(&err)
	sh.mu.RLock()
	cur := sh.ann
	sh.mu.RUnlock()
	if cur == nil || cur.isStale() || !withFields {
		built, err := sh.loadDerived(ctx, loadSteps{
			snapshot: func() derived {
				if a := sh.loadANNSnapshot(); a != nil {
					return a
				}
				return nil
			},
			build: func(ctx context.Context) (derived, error) {
				a, err := sh.buildANN(ctx)
				if err != nil {
					return nil, err
				}
				return a, nil
			},
			rebuild: cur != nil,
			prepare: func(ctx context.Context, d derived) error {
				if !withFields {
					return nil
				}
				a := d.(*annIndex)
				f, err := sh.scanFields(ctx, a.liveSlots)
				a.fields = append(f, make([]map[string]any, len(a.ids)-len(f))...)
				return err
			},
			publish: func(d derived) { sh.ann = d.(*annIndex) },
		})
		if err != nil {
			return err
		}
		if built {
			sh.stats.annBuilds++
			sh.wmu.Lock()
			sh.saveANN()
			sh.wmu.Unlock()
		} else {
			sh.stats.annLoads++
		}
		sh.mu.RLock()
		cur = sh.ann
		sh.mu.RUnlock()
		if !withFields || cur == nil || cur.hasFields() {
			return nil
		}
		// Reloaded pinned, which does not decode the fields: add them.
	}
	// Add the fields to the published index, aside; see loadCache.
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	f, err := sh.scanFields(ctx, cur.liveSlots)
	if err != nil {
		return err
	}
	cur.mu.Lock()
	if len(f) <= len(cur.ids) {
		cur.fields = append(f, make([]map[string]any, len(cur.ids)-len(f))...)
	}
	cur.mu.Unlock()
	return nil
}

func (a *annIndex) isStale() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.stale
}

// liveSlots yields every live row id with its slot.
func (a *annIndex) liveSlots(yield func(id int64, slot int)) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for id, s := range a.slot {
		yield(id, int(s))
	}
}

// loadANNSnapshot returns the index saved in index.snap (to be brought up
// to date by settle), or nil if there is none usable.
func (sh *shared) loadANNSnapshot() *annIndex {
	var a *annIndex
	_, err := readSnapshot(sh.snapPath(indexFile), snapIndex, func(r io.Reader, gen uint64) (err error) {
		a, err = readANN(r, sh.schema, gen)
		return err
	})
	if err != nil {
		return nil
	}
	return a
}

// saveANN writes index.snap if the index is newer than the snapshot on
// disk; errors are ignored as in saveCache. sh.wmu must be held (inserts
// must not run while the graph is written).
func (sh *shared) saveANN() {
	sh.mu.RLock()
	a := sh.ann
	sh.mu.RUnlock()
	if a == nil || sh.noSnapshots {
		return
	}
	a.mu.RLock()
	gen, saved, stale := a.gen, a.saved, a.stale
	a.mu.RUnlock()
	path := sh.snapPath(indexFile)
	if gen == saved || stale || gen <= snapshotGen(path, snapIndex) {
		return
	}
	if writeSnapshot(path, snapIndex, gen, a.writeTo) == nil {
		a.mu.Lock()
		a.saved = gen
		a.mu.Unlock()
		sh.stats.saves++
	}
}
