package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/filter"
)

// textFile is the BM25 index snapshot, beside rows.db.
const textFile = "bm25.idx"

// textIndex is the derived full-text index of a collection: an inverted
// index over the analyzed text (and Schema.Text.Fields) of every row. Like
// the vector cache it is derived from the rows bucket; unlike it, it is
// persisted, because re-analyzing Japanese with kagome costs far more than
// reading vectors back.
//
// Like the other derived state it records the generation (bbolt
// transaction id) of the last commit it reflects, in the snapshot's header
// too, and catches up with later commits by replaying the change log
// (derived.go): a snapshot older than the file — the process died before
// saving, or another process wrote — costs only the analysis of the rows
// changed since. A damaged snapshot fails its checksum and is rebuilt.
type textIndex struct {
	mu     sync.RWMutex // searches shared; changes exclusively
	an     lexical.Analyzer
	fields []string
	idx    *lexical.Index
	txid   int  // the commit the index reflects
	saved  int  // the commit of the snapshot on disk, 0 if none
	dirty  bool // changed since loaded or saved
	// unsaved counts rows changed since the snapshot was written; see
	// saveTextNow.
	unsaved int
	path    string // the snapshot file
}

// textHeader is the snapshot's caller header.
type textHeader struct {
	Analyzer string   `json:"analyzer"`
	Version  int      `json:"version"`
	Fields   []string `json:"fields,omitempty"`
	TxID     int      `json:"txid"`
}

// noTextIndex is the analyzer name of a collection without a BM25 index.
const noTextIndex = "none"

// analyzerFor resolves a schema's analyzer, empty meaning the default; it
// returns nil for a collection without a text index.
func analyzerFor(spec store.TextSpec) (lexical.Analyzer, error) {
	name := spec.Analyzer
	switch name {
	case "":
		name = lexical.DefaultAnalyzer
	case noTextIndex:
		return nil, nil
	}
	return lexical.New(name)
}

// indexText is what the text index analyzes for a row: the values of the
// schema's text fields, then the text.
func indexText(text string, fields map[string]any, names []string) string {
	if len(names) == 0 {
		return text
	}
	var b strings.Builder
	for _, n := range names {
		if s, ok := fields[n].(string); ok && s != "" {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	b.WriteString(text)
	return b.String()
}

// analyzeAll analyzes texts, spread over GOMAXPROCS goroutines when there
// are enough of them to pay for it (kagome takes about 1 ms per chunk).
func analyzeAll(an lexical.Analyzer, texts []string) [][]string {
	out := make([][]string, len(texts))
	workers := min(runtime.GOMAXPROCS(0), len(texts)/64)
	if workers <= 1 {
		for i, t := range texts {
			out[i] = an.Analyze(nil, t)
		}
		return out
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(texts); i += workers {
				out[i] = an.Analyze(nil, texts[i])
			}
		})
	}
	wg.Wait()
	return out
}

// ensureText loads the text index (from its snapshot, or by rebuilding it
// from the rows, aside) unless it is loaded already, brings it up to date
// and returns it; nil for a collection without one. An index the catch-up
// had to drop (another process pruned the log past it) is loaded again.
func (sh *shared) ensureText(ctx context.Context) (_ *textIndex, err error) {
	defer sh.guard(&err)
	current := func() (*textIndex, bool) {
		sh.mu.RLock()
		defer sh.mu.RUnlock()
		return sh.text, sh.closed
	}
	an, err := analyzerFor(sh.schema.Text)
	if err != nil {
		return nil, corrupt(sh.name, sh.path, fmt.Errorf("schema: %v", err))
	}
	if an == nil {
		return nil, nil
	}
	for {
		ti, closed := current()
		if closed {
			return nil, sh.errClosed()
		}
		if ti == nil {
			err := func() error {
				sh.buildMu.Lock()
				defer sh.buildMu.Unlock()
				if ti, _ := current(); ti == nil {
					return sh.loadText(ctx, an)
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
		if ti, _ := current(); ti != nil {
			return ti, nil
		}
	}
}

// loadText loads the snapshot or rebuilds the index, catches it up and
// publishes it; sh.buildMu is held.
func (sh *shared) loadText(ctx context.Context, an lexical.Analyzer) error {
	fresh := func() *textIndex {
		return &textIndex{an: an, fields: sh.schema.Text.Fields, path: sh.snapPath(textFile)}
	}
	var ti *textIndex
	_, err := sh.loadDerived(ctx, loadSteps{
		snapshot: func() derived {
			ti := fresh()
			if ti.idx = ti.load(); ti.idx == nil {
				return nil
			}
			return ti
		},
		build: func(ctx context.Context) (derived, error) {
			ti := fresh()
			if err := sh.rebuildText(ctx, ti); err != nil {
				return nil, err
			}
			return ti, nil
		},
		publish: func(d derived) {
			ti = d.(*textIndex)
			sh.text = ti
		},
	})
	if err != nil {
		return err
	}
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	if ti.dirty && ti.idx.Len() > 0 {
		// Best effort: a read-only directory or a full disk only means the
		// next process rebuilds too. An empty index (a new collection) is
		// not worth a file and an fsync; the first writer saves it.
		_ = sh.saveText()
	}
	return nil
}

func (ti *textIndex) generation() uint64 {
	ti.mu.RLock()
	defer ti.mu.RUnlock()
	return uint64(ti.txid)
}

// applyChanges implements derived; rows are analyzed before the lock is
// taken, unless the writer analyzed them already.
func (ti *textIndex) applyChanges(chs []change, upto uint64) error {
	g := ti.generation()
	var todo []int
	var texts []string
	for i := range chs {
		ch := &chs[i]
		if ch.gen <= g || ch.val == nil || ch.hasTerms {
			continue
		}
		rv, err := decodeRow(ch.val)
		if err != nil {
			return fmt.Errorf("row %d: %w", ch.id, err)
		}
		var fields map[string]any
		if len(ti.fields) > 0 {
			if fields, err = rv.decodeFields(); err != nil {
				return fmt.Errorf("row %d: %w", ch.id, err)
			}
		}
		todo = append(todo, i)
		texts = append(texts, indexText(string(rv.text), fields, ti.fields))
	}
	terms := analyzeAll(ti.an, texts)
	for j, i := range todo {
		chs[i].terms, chs[i].hasTerms = terms[j], true
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	for i := range chs {
		ch := &chs[i]
		if ch.gen <= uint64(ti.txid) {
			continue
		}
		if ch.val == nil {
			ti.idx.Remove(ch.id)
		} else {
			ti.idx.Add(ch.id, ch.terms)
		}
		ti.dirty = true
		ti.unsaved++
	}
	if int(upto) > ti.txid {
		ti.txid, ti.dirty = int(upto), true
	}
	return nil
}

// load returns the snapshot's index if it matches the analyzer, the
// fields and the current commit, else nil.
func (ti *textIndex) load() *lexical.Index {
	f, err := os.Open(ti.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	idx, raw, err := lexical.ReadIndex(f)
	if err != nil {
		return nil
	}
	var h textHeader
	if json.Unmarshal(raw, &h) != nil || !ti.matches(h) {
		return nil
	}
	ti.txid, ti.saved = h.TxID, h.TxID
	return idx
}

// textSnapshotGen returns the generation in bm25.idx's header, 0 if there
// is no readable one.
func textSnapshotGen(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	raw, err := lexical.ReadHeader(f)
	if err != nil {
		return 0
	}
	var h textHeader
	if json.Unmarshal(raw, &h) != nil || h.TxID < 0 {
		return 0
	}
	return uint64(h.TxID)
}

func (ti *textIndex) matches(h textHeader) bool {
	if h.Analyzer != ti.an.Name() || h.Version != ti.an.Version() || len(h.Fields) != len(ti.fields) {
		return false
	}
	for i := range h.Fields {
		if h.Fields[i] != ti.fields[i] {
			return false
		}
	}
	return true
}

// rebuildText analyzes every row, chunk by chunk (see scanRows), outside
// any lock.
func (sh *shared) rebuildText(ctx context.Context, ti *textIndex) error {
	ti.idx = lexical.NewIndex()
	ti.dirty = true
	var ids []int64
	var texts []string
	gen, err := sh.scanRows(ctx, func(id int64, rv rowView) error {
		var fields map[string]any
		if len(ti.fields) > 0 {
			var err error
			if fields, err = rv.decodeFields(); err != nil {
				return fmt.Errorf("row %d: %w", id, err)
			}
		}
		ids = append(ids, id)
		texts = append(texts, indexText(string(rv.text), fields, ti.fields))
		return nil
	}, func() error {
		for i, terms := range analyzeAll(ti.an, texts) {
			ti.idx.Add(ids[i], terms)
		}
		ids, texts = ids[:0], texts[:0]
		return ctx.Err()
	})
	if err != nil {
		return corruptIfBad(sh, err)
	}
	ti.txid = int(gen)
	return nil
}

// save writes the snapshot to a temporary file and renames it into place,
// so readers see the old or the new one, never half of one.
func (ti *textIndex) save() error {
	h, _ := json.Marshal(textHeader{Analyzer: ti.an.Name(), Version: ti.an.Version(), Fields: ti.fields, TxID: ti.txid})
	tmp, err := createTemp(filepath.Dir(ti.path), ".bm25-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := ti.idx.WriteTo(tmp, h); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	// Renamed while open and locked; see removeLeftovers.
	if err := os.Rename(tmp.Name(), ti.path); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	ti.dirty, ti.saved, ti.unsaved = false, ti.txid, 0
	return nil
}

// saveTextNow is called by a writer (holding sh.wmu) after each write: it
// saves the BM25 index once a tenth of it (and at least 2,000 rows) has
// changed since the last save. Other processes load the snapshot and
// analyze only the rows changed since, so a search beside a long ingest
// analyzes at most about a tenth of the collection, while the ingest
// spends about 5% more (writing costs far less per row than analysing).
func (sh *shared) saveTextNow() {
	sh.mu.RLock()
	ti := sh.text
	sh.mu.RUnlock()
	if ti == nil {
		return
	}
	ti.mu.RLock()
	due := ti.unsaved >= max(2000, ti.idx.Len()/10)
	ti.mu.RUnlock()
	if due {
		_ = sh.saveText()
	}
}

// textTerms analyzes rows about to be written into terms, without locks.
func (sh *shared) textTerms(terms [][]string, rows []store.Row) error {
	an, err := analyzerFor(sh.schema.Text)
	if err != nil {
		return corrupt(sh.name, sh.path, fmt.Errorf("schema: %v", err))
	}
	if an == nil {
		return nil
	}
	texts := make([]string, len(rows))
	for i, r := range rows {
		texts[i] = indexText(r.Text, r.Fields, sh.schema.Text.Fields)
	}
	copy(terms, analyzeAll(an, texts))
	return nil
}

// saveText persists a changed text index if it is newer than the snapshot
// on disk; shared.close calls it. It holds the index exclusively (writing
// compacts it). sh.wmu must be held.
func (sh *shared) saveText() error {
	sh.mu.RLock()
	ti := sh.text
	sh.mu.RUnlock()
	if ti == nil || sh.noSnapshots {
		return nil
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if !ti.dirty || uint64(ti.txid) <= textSnapshotGen(ti.path) {
		return nil
	}
	if err := ti.save(); err != nil && !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("collection %s: cannot save the BM25 index (it will be rebuilt on next use): %w", sh.name, err)
	}
	return nil
}

// TextSearch ranks rows by BM25 relevance to req.Query; it implements
// [store.TextSearcher]. The first call after opening loads the index
// snapshot, or rebuilds it from the rows if it is missing or stale.
func (c *Collection) TextSearch(ctx context.Context, req store.TextSearchRequest) (_ []store.Hit, err error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	sh := c.sh
	defer sh.guard(&err)
	if req.Limit <= 0 {
		return nil, store.Errorf(store.ErrInvalid, "search limit is %d; it must be at least 1", req.Limit)
	}
	if req.K1 < 0 || req.B < 0 || req.B > 1 {
		return nil, store.Errorf(store.ErrInvalid, "BM25 k1 %v and b %v: k1 must be positive and b within 0..1", req.K1, req.B)
	}
	var expr *filter.Expr
	needText := false
	if strings.TrimSpace(req.Filter) != "" {
		if expr, err = filter.Parse(req.Filter); err != nil {
			return nil, store.Errorf(store.ErrInvalid, "%w", err)
		}
		for _, f := range expr.Fields() {
			needText = needText || f == "text"
		}
	}
	if sh.schema.Text.Analyzer == noTextIndex {
		return nil, store.Errorf(store.ErrUnsupported, "collection %s was created without a text index (analyzer none); use search type dense, or ingest into a new collection with an analyzer", sh.name)
	}
	// As in Search, the index ensured is searched even if dropped meanwhile.
	ti, err := sh.ensureText(ctx)
	if err != nil {
		return nil, err
	}
	var tx *bolt.Tx
	if expr != nil || len(req.OutputFields) > 0 {
		var end func()
		if tx, end, err = sh.readTx(ctx); err != nil {
			return nil, err
		}
		defer end()
	}
	var accept func(id int64) bool
	if expr != nil {
		// The filter reads each candidate's fields from its row: BM25
		// meets far fewer rows than a vector scan, and this way a filtered
		// text search needs no vector cache.
		rows := tx.Bucket(bucketRows)
		accept = func(id int64) bool {
			v := rows.Get(idKey(id))
			if v == nil {
				return false
			}
			rv, err := decodeRow(v)
			if err != nil {
				return false
			}
			var fields map[string]any
			return expr.Eval(func(field string) (any, bool) {
				switch field {
				case "id":
					return id, true
				case "text":
					return string(rv.text), true
				}
				if fields == nil {
					if fields, err = rv.decodeFields(); err != nil {
						return nil, false
					}
				}
				v, ok := fields[field]
				return v, ok
			})
		}
	}
	ti.mu.RLock()
	defer ti.mu.RUnlock()
	terms := lexical.AnalyzeQuery(ti.an, req.Query)
	params := lexical.Params{K1: req.K1, B: req.B, Specificity: req.Specificity, NoSpecificity: req.Specificity < 0}
	top, err := ti.idx.Search(ctx, terms, req.Limit, params, accept)
	if err != nil {
		return nil, err
	}
	hits := make([]store.Hit, len(top))
	for i, s := range top {
		hits[i] = store.Hit{ID: s.ID, Score: s.Score, Entity: map[string]any{}}
		if len(req.OutputFields) == 0 {
			continue
		}
		v := tx.Bucket(bucketRows).Get(idKey(s.ID))
		if v == nil {
			continue // deleted by a commit not caught up with yet; see hits
		}
		if hits[i].Entity, err = entity(s.ID, v, req.OutputFields); err != nil {
			return nil, corrupt(sh.name, sh.path, err)
		}
	}
	return hits, nil
}

var _ store.TextSearcher = (*Collection)(nil)
