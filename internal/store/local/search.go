package local

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/filter"
)

// parallelMin is the row count from which a scan is split across
// GOMAXPROCS goroutines; below it the goroutines cost more than they save.
const parallelMin = 4096

// Search is an exact (brute-force) top-k scan of the vector cache.
func (c *Collection) Search(ctx context.Context, req store.SearchRequest) (_ []store.Hit, err error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	sh := c.sh
	defer sh.guard(&err)
	if req.Limit <= 0 {
		return nil, store.Errorf(store.ErrInvalid, "search limit is %d; it must be at least 1", req.Limit)
	}
	if len(req.Vector) != sh.schema.Dim {
		return nil, store.Errorf(store.ErrInvalid, "query vector has %d dimensions, collection %s has %d", len(req.Vector), sh.name, sh.schema.Dim)
	}
	for i, v := range req.Vector {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, store.Errorf(store.ErrInvalid, "query vector[%d] is %v", i, v)
		}
	}
	var expr *filter.Expr
	needFields, needText := false, false
	if strings.TrimSpace(req.Filter) != "" {
		if expr, err = filter.Parse(req.Filter); err != nil {
			return nil, store.Errorf(store.ErrInvalid, "%w", err)
		}
		for _, f := range expr.Fields() {
			switch f {
			case "id":
			case "text":
				needText = true
			default:
				needFields = true
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := req.Vector
	if sh.schema.Metric == store.MetricCosine {
		q = normalize(q)
	}
	if sh.schema.Index.Type != store.IndexFlat {
		return sh.searchANN(ctx, q, req, expr, needFields, needText)
	}
	// The cache ensured is searched even if a concurrent change drops it
	// meanwhile: it still reflects a committed state.
	cache, err := sh.ensureCache(ctx, needFields)
	if err != nil {
		return nil, err
	}
	var tx *bolt.Tx
	var txs txSet
	defer txs.end()
	if needText || len(req.OutputFields) > 0 {
		if tx, txs.release, err = sh.readTx(ctx); err != nil {
			return nil, err
		}
		txs.db = tx.DB()
	}
	cache.mu.RLock()
	defer cache.mu.RUnlock()
	if needFields && cache.fields == nil {
		return nil, fmt.Errorf("collection %s: the field cache was dropped by a concurrent change; search again", sh.name)
	}

	var newAccept func() func(i int) bool
	if expr != nil {
		newAccept = func() func(i int) bool {
			return matcher(expr, txs.next(tx), needText, func(i int) int64 { return cache.ids[i] }, func(i int) map[string]any {
				if cache.fields == nil {
					return nil
				}
				return cache.fields[i]
			})
		}
	}
	workers := 1
	if cache.len() >= parallelMin {
		workers = sh.scanWorkers
	}
	top, err := cache.topK(ctx, q, req.Limit, sh.schema.Metric, newAccept, workers)
	if err != nil {
		return nil, err
	}
	return sh.hits(tx, top, req.OutputFields)
}

// txSet hands each goroutine of a parallel scan its own read transaction
// on the handle a search holds (a bbolt transaction is not safe for
// concurrent use); the first one gets the search's own.
type txSet struct {
	db      *bolt.DB
	release func() // ends the search's own transaction and releases the file
	mu      sync.Mutex
	used    bool
	txs     []*bolt.Tx
}

func (t *txSet) next(own *bolt.Tx) *bolt.Tx {
	if own == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.used {
		t.used = true
		return own
	}
	tx, err := t.db.Begin(false)
	if err != nil {
		return own // cannot happen on an open handle; fall back to sharing
	}
	t.txs = append(t.txs, tx)
	return tx
}

func (t *txSet) end() {
	for _, tx := range t.txs {
		tx.Rollback()
	}
	if t.release != nil {
		t.release()
	}
}

// matcher returns a row filter for expr over rows numbered i: idOf and
// fieldsOf give a row's id and dynamic fields; the text is read from tx
// when the expression needs it. One getter closure reads the row it is told,
// so evaluating a row allocates nothing; each goroutine needs its own.
func matcher(expr *filter.Expr, tx *bolt.Tx, needText bool, idOf func(int) int64, fieldsOf func(int) map[string]any) func(i int) bool {
	var rows *bolt.Bucket
	if needText {
		rows = tx.Bucket(bucketRows)
	}
	cur := 0
	get := func(field string) (any, bool) {
		switch field {
		case "id":
			return idOf(cur), true
		case "text":
			v := rows.Get(idKey(idOf(cur)))
			if v == nil {
				return nil, false
			}
			rv, err := decodeRow(v)
			if err != nil {
				return nil, false
			}
			return string(rv.text), true
		}
		f := fieldsOf(cur)
		if f == nil {
			return nil, false
		}
		v, ok := f[field]
		return v, ok
	}
	return func(i int) bool {
		cur = i
		return expr.Eval(get)
	}
}

// hits turns ranked rows into hits with their output fields read from tx.
// A row missing from tx was deleted by a commit the derived state has not
// caught up with yet (another process's, a moment ago): it is left out.
func (sh *shared) hits(tx *bolt.Tx, top []scored, outputFields []string) ([]store.Hit, error) {
	hits := make([]store.Hit, 0, len(top))
	for _, s := range top {
		h := store.Hit{ID: s.id, Score: s.score, Entity: map[string]any{}}
		if len(outputFields) > 0 {
			v := tx.Bucket(bucketRows).Get(idKey(s.id))
			if v == nil {
				continue
			}
			var err error
			if h.Entity, err = entity(s.id, v, outputFields); err != nil {
				return nil, corrupt(sh.name, sh.path, err)
			}
		}
		hits = append(hits, h)
	}
	return hits, nil
}

// searchANN answers a search of an IVF_FLAT or HNSW collection from its
// index (see annIndex.search for when it scans exactly instead).
func (sh *shared) searchANN(ctx context.Context, q []float32, req store.SearchRequest, expr *filter.Expr, needFields, needText bool) (_ []store.Hit, err error) {
	// As in Search, the index ensured is searched even if dropped meanwhile.
	a, err := sh.ensureANN(ctx, needFields)
	if err != nil {
		return nil, err
	}
	var tx *bolt.Tx
	var txs txSet
	defer txs.end()
	if needText || len(req.OutputFields) > 0 || a.spec.SQ8 {
		if tx, txs.release, err = sh.readTx(ctx); err != nil {
			return nil, err
		}
		txs.db = tx.DB()
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if needFields && a.fields == nil {
		return nil, fmt.Errorf("collection %s: the field cache was dropped by a concurrent change; search again", sh.name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var newAccept func() func(uint32) bool
	if expr != nil {
		newAccept = func() func(uint32) bool {
			m := matcher(expr, txs.next(tx), needText, func(i int) int64 { return a.ids[i] }, func(i int) map[string]any {
				if a.fields == nil {
					return nil
				}
				return a.fields[i]
			})
			return func(s uint32) bool { return int(s) < len(a.ids) && m(int(s)) }
		}
	}
	newFloat := func() func(uint32) []float32 { return a.floatOf(txs.next(tx)) }
	res, err := a.search(ctx, q, req.Limit, req.Params, newAccept, newFloat, sh.exactBelow, sh.scanWorkers)
	if err != nil {
		return nil, err
	}
	// The index ranks by 1 − similarity; report the similarity itself,
	// computed as the exact search does, so scores do not depend on the
	// index type.
	float := a.floatOf(tx)
	top := make([]scored, 0, len(res))
	for _, r := range res {
		if int(r.Slot) >= len(a.ids) {
			continue
		}
		sc := scored{id: a.ids[r.Slot], score: a.metric.Score(r.Dist)}
		if sh.schema.Metric != store.MetricL2 {
			if v := float(r.Slot); v != nil {
				sc.score = dot(q, v)
			}
		}
		top = append(top, sc)
	}
	r := ranker{lowerFirst: sh.schema.Metric == store.MetricL2}
	slices.SortFunc(top, func(x, y scored) int {
		switch {
		case r.better(x, y):
			return -1
		case r.better(y, x):
			return 1
		}
		return 0
	})
	return sh.hits(tx, top, req.OutputFields)
}

type scored struct {
	id    int64
	score float32
}

// ranker orders scored rows: better reports whether a ranks before b. Ties
// go to the smaller id, so results do not depend on the cache order.
type ranker struct{ lowerFirst bool }

func (r ranker) better(a, b scored) bool {
	if a.score != b.score {
		return (a.score < b.score) == r.lowerFirst
	}
	return a.id < b.id
}

// topHeap keeps the k best rows seen, the worst of them at the root.
type topHeap struct {
	r ranker
	k int
	h []scored
}

func (t *topHeap) offer(s scored) {
	if len(t.h) < t.k {
		t.h = append(t.h, s)
		t.up(len(t.h) - 1)
		return
	}
	if !t.r.better(s, t.h[0]) {
		return
	}
	t.h[0] = s
	t.down(0)
}

// worse is the heap order: the root is the row every other one beats.
func (t *topHeap) worse(i, j int) bool { return t.r.better(t.h[j], t.h[i]) }

func (t *topHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.worse(i, p) {
			return
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *topHeap) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.worse(r, l) {
			m = r
		}
		if !t.worse(m, i) {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// topK scans the cache with the given number of workers, each over a
// contiguous range with its own heap, and merges their results. newAccept,
// if not nil, makes each worker's row filter.
func (c *vcache) topK(ctx context.Context, q []float32, k int, metric string, newAccept func() func(int) bool, workers int) ([]scored, error) {
	n := c.len()
	k = min(k, n)
	if k == 0 {
		return []scored{}, nil
	}
	r := ranker{lowerFirst: metric == store.MetricL2}
	dist := dot
	if metric == store.MetricL2 {
		dist = sqL2
	}
	workers = max(1, min(workers, n/1024))
	heaps := make([]topHeap, workers)
	errs := make([]error, workers)
	scan := func(w, lo, hi int) {
		t := &heaps[w]
		*t = topHeap{r: r, k: k, h: make([]scored, 0, k)}
		var accept func(int) bool
		if newAccept != nil {
			accept = newAccept()
		}
		for i := lo; i < hi; i++ {
			if (i-lo)&4095 == 4095 {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
			}
			if accept != nil && !accept(i) {
				continue
			}
			t.offer(scored{id: c.ids[i], score: dist(q, c.vec(i))})
		}
	}
	if workers == 1 {
		scan(0, 0, n)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := n*w/workers, n*(w+1)/workers
			wg.Go(func() { scan(w, lo, hi) })
		}
		wg.Wait()
	}
	var all []scored
	for w := range workers {
		if errs[w] != nil {
			return nil, errs[w]
		}
		all = append(all, heaps[w].h...)
	}
	slices.SortFunc(all, func(a, b scored) int {
		switch {
		case r.better(a, b):
			return -1
		case r.better(b, a):
			return 1
		}
		return 0
	})
	return all[:min(k, len(all))], nil
}
