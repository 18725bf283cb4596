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
// Crash detection: the snapshot's header records the bbolt transaction id
// of the last commit it reflects. bbolt increments that id on every write
// commit and stores it in its meta page, so a snapshot whose id differs
// from the file's current one missed a write (the process died before
// saving, or another kura wrote without the index) and is rebuilt from the
// rows. A damaged snapshot fails its checksum and is rebuilt the same way.
type textIndex struct {
	an     lexical.Analyzer
	fields []string
	idx    *lexical.Index
	txid   int    // the commit the index reflects
	dirty  bool   // changed since loaded or saved
	path   string // the snapshot file
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
// from the rows) unless it is loaded already.
func (sh *shared) ensureText() (err error) {
	defer sh.guard(&err)
	sh.mu.RLock()
	ok, closed := sh.text != nil, sh.closed
	sh.mu.RUnlock()
	if closed {
		return sh.errClosed()
	}
	if ok {
		return nil
	}
	an, err := analyzerFor(sh.schema.Text)
	if err != nil {
		return corrupt(sh.name, sh.path, fmt.Errorf("schema: %v", err))
	}
	if an == nil {
		return nil
	}
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	if sh.isClosed() {
		return sh.errClosed()
	}
	sh.mu.RLock()
	ok = sh.text != nil
	sh.mu.RUnlock()
	if ok {
		return nil
	}
	// Writers are excluded by wmu, so the rows cannot change under the
	// (possibly long) rebuild, and searches go on meanwhile.
	ti := &textIndex{an: an, fields: sh.schema.Text.Fields, path: filepath.Join(filepath.Dir(sh.path), textFile)}
	err = sh.db.View(func(tx *bolt.Tx) error {
		ti.txid = tx.ID()
		if idx := ti.load(); idx != nil {
			ti.idx = idx
			return nil
		}
		return ti.rebuild(tx)
	})
	if err != nil {
		return corrupt(sh.name, sh.path, err)
	}
	if ti.dirty && ti.idx.Len() > 0 {
		// Best effort: a read-only directory or a full disk only means the
		// next process rebuilds too. An empty index (a new collection) is
		// not worth a file and an fsync; the first writer saves it.
		_ = ti.save()
	}
	sh.mu.Lock()
	sh.text = ti
	sh.mu.Unlock()
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
	return idx
}

func (ti *textIndex) matches(h textHeader) bool {
	if h.Analyzer != ti.an.Name() || h.Version != ti.an.Version() || h.TxID != ti.txid || len(h.Fields) != len(ti.fields) {
		return false
	}
	for i := range h.Fields {
		if h.Fields[i] != ti.fields[i] {
			return false
		}
	}
	return true
}

// rebuild analyzes every row in batches.
func (ti *textIndex) rebuild(tx *bolt.Tx) error {
	ti.idx = lexical.NewIndex()
	ti.dirty = true
	const batch = 1024
	ids := make([]int64, 0, batch)
	texts := make([]string, 0, batch)
	flush := func() {
		for i, terms := range analyzeAll(ti.an, texts) {
			ti.idx.Add(ids[i], terms)
		}
		ids, texts = ids[:0], texts[:0]
	}
	cur := tx.Bucket(bucketRows).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(k) != 8 {
			return fmt.Errorf("bad row key %x", k)
		}
		id := keyID(k)
		rv, err := decodeRow(v)
		if err != nil {
			return fmt.Errorf("row %d: %w", id, err)
		}
		var fields map[string]any
		if len(ti.fields) > 0 {
			if fields, err = rv.decodeFields(); err != nil {
				return fmt.Errorf("row %d: %w", id, err)
			}
		}
		ids = append(ids, id)
		texts = append(texts, indexText(string(rv.text), fields, ti.fields))
		if len(ids) == batch {
			flush()
		}
	}
	flush()
	return nil
}

// save writes the snapshot to a temporary file and renames it into place,
// so readers see the old or the new one, never half of one.
func (ti *textIndex) save() error {
	h, _ := json.Marshal(textHeader{Analyzer: ti.an.Name(), Version: ti.an.Version(), Fields: ti.fields, TxID: ti.txid})
	tmp, err := os.CreateTemp(filepath.Dir(ti.path), ".bm25-*")
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
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), ti.path); err != nil {
		return err
	}
	ti.dirty = false
	return nil
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

// applyText brings a loaded text index up to a committed write. sh.mu must
// be held exclusively.
func (sh *shared) applyText(txid int, upserts []prepared, terms [][]string, deletes []int64) {
	ti := sh.text
	if ti == nil {
		return // the snapshot is now stale by txid and will be rebuilt
	}
	for i, p := range upserts {
		ti.idx.Add(p.id, terms[i])
	}
	for _, id := range deletes {
		ti.idx.Remove(id)
	}
	ti.txid = txid
	ti.dirty = true
}

// saveText persists a changed text index; shared.close calls it.
func (sh *shared) saveText() error {
	if sh.text == nil || !sh.text.dirty {
		return nil
	}
	if err := sh.text.save(); err != nil && !errors.Is(err, fs.ErrPermission) {
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
		if err := sh.ensureCache(true); err != nil {
			return nil, err
		}
	}
	if sh.schema.Text.Analyzer == noTextIndex {
		return nil, store.Errorf(store.ErrUnsupported, "collection %s was created without a text index (--analyzer none); use --search-type dense, or ingest into a new collection with an analyzer", sh.name)
	}
	if err := sh.ensureText(); err != nil {
		return nil, err
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		return nil, sh.errClosed()
	}
	ti := sh.text
	if ti == nil {
		return nil, fmt.Errorf("collection %s: the BM25 index was dropped by a failed write; search again", sh.name)
	}
	var tx *bolt.Tx
	if needText || len(req.OutputFields) > 0 {
		if tx, err = sh.db.Begin(false); err != nil {
			return nil, err
		}
		defer tx.Rollback()
	}
	var accept func(id int64) bool
	if expr != nil {
		cache := sh.cache
		if cache == nil || cache.fields == nil {
			return nil, fmt.Errorf("collection %s: the field cache was dropped by a concurrent write; search again", sh.name)
		}
		accept = func(id int64) bool {
			i, ok := cache.pos[id]
			if !ok {
				return false
			}
			return expr.Eval(func(field string) (any, bool) {
				switch field {
				case "id":
					return id, true
				case "text":
					rv, err := decodeRow(tx.Bucket(bucketRows).Get(idKey(id)))
					if err != nil {
						return nil, false
					}
					return string(rv.text), true
				}
				v, ok := cache.fields[i][field]
				return v, ok
			})
		}
	}
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
			return nil, fmt.Errorf("row %d is in the BM25 index but not stored in collection %s", s.ID, sh.name)
		}
		if hits[i].Entity, err = entity(s.ID, v, req.OutputFields); err != nil {
			return nil, corrupt(sh.name, sh.path, err)
		}
	}
	return hits, nil
}

var _ store.TextSearcher = (*Collection)(nil)
