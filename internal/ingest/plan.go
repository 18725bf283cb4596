package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/store"
)

// getBatch bounds the ids of one Get or Vectors call (a Milvus filter
// expression grows with it).
const getBatch = 1000

// plan consumes loaded files in order, diffs their chunks against the
// store and feeds the embedders (new text) and the writer (rows whose
// vector is already stored).
func (r *run) plan(ctx context.Context, order <-chan chan loaded, batches chan<- []store.Row, writes chan<- writeItem) error {
	var buf []store.Row
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		select {
		case batches <- buf:
			buf = nil
			r.batches++
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	send := func(item writeItem) error {
		select {
		case writes <- item:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	for res := range order {
		var l loaded
		select {
		case l = <-res:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		r.progress.FilesDone.Add(1)
		for _, p := range l.problems {
			r.problem(p, false)
		}
		if l.err != nil {
			r.problem(l.err, true)
			continue
		}
		if l.diffErr != nil {
			return l.diffErr
		}
		d := l.diff
		for _, p := range d.problems {
			r.problem(p, false)
		}

		r.mu.Lock()
		r.sum.Files++
		r.sum.Unchanged += d.report.Unchanged
		if len(d.stale) > 0 || len(d.direct) > 0 || len(d.embed) > 0 {
			r.pending[l.in.Source] = &pendingSource{remaining: len(d.direct) + len(d.embed), stale: d.stale}
		}
		for _, id := range d.updated {
			r.updated[id] = true
		}
		r.mu.Unlock()
		if r.opts.OnFile != nil {
			r.opts.OnFile(d.report)
		}

		if len(d.direct) == 0 && len(d.embed) == 0 {
			if len(d.stale) > 0 {
				if err := send(writeItem{staleSource: l.in.Source}); err != nil {
					return err
				}
			}
			continue
		}
		for part := range slices.Chunk(d.direct, maxGroupRows) {
			if err := send(writeItem{rows: part}); err != nil {
				return err
			}
		}
		for _, row := range d.embed {
			buf = append(buf, row)
			if len(buf) == r.batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// fileDiff is what a file's chunks need.
type fileDiff struct {
	report   FileReport
	problems []error     // chunks that cannot be stored
	direct   []store.Row // rows to store with a vector already known
	embed    []store.Row // rows to embed first
	updated  []int64     // ids of stored rows re-stored for a metadata change
	stale    []int64     // stored rows the file no longer has
}

// diff compares a loaded file's chunks with the rows stored for its
// source (and aliases). A chunk already stored under its id is left alone
// if its metadata is the same, and re-stored otherwise: with its stored
// vector, or embedded again when the text it was embedded with (its
// title) changed or the store cannot return vectors. A new chunk whose
// embedded text equals a stale row's (a file taken over from an alias)
// reuses that row's vector.
func (r *run) diff(ctx context.Context, l loaded) (fileDiff, error) {
	splitDone := r.opts.Observer.split(ctx, l.in.Source, r.splitterName())
	rows, report, problems := r.chunk(l)
	splitDone(len(rows))
	d := fileDiff{report: report, problems: problems}
	have := map[int64]bool{}
	if r.existing != nil {
		ids, err := r.storedIDs(ctx, l.in)
		if err != nil {
			return d, fmt.Errorf("cannot read the stored chunks of %s: %w", l.in.Source, err)
		}
		for _, id := range ids {
			have[id] = true
		}
	}
	var kept, fresh []store.Row
	for _, row := range rows {
		if have[row.ID] {
			delete(have, row.ID)
			kept = append(kept, row)
		} else {
			fresh = append(fresh, row)
		}
	}
	for id := range have {
		d.stale = append(d.stale, id)
	}
	slices.Sort(d.stale)

	updates, reembed, err := r.compareStored(ctx, kept)
	if err != nil {
		return d, fmt.Errorf("cannot read the stored chunks of %s: %w", l.in.Source, err)
	}
	reused, err := r.reuseVectors(ctx, fresh, d.stale)
	if err != nil {
		return d, fmt.Errorf("cannot read the stored chunks of %s: %w", l.in.Source, err)
	}
	d.direct = append(updates, reused...)
	d.embed = reembed
	for _, row := range fresh {
		if row.Vector == nil {
			d.embed = append(d.embed, row)
		}
	}
	for _, row := range append(slices.Clip(updates), reembed...) {
		d.updated = append(d.updated, row.ID)
	}
	d.report.New = len(fresh)
	d.report.Updated = len(d.updated)
	d.report.Unchanged = len(kept) - len(d.updated)
	d.report.Stale = len(d.stale)
	return d, nil
}

// loadStoredSources reads the collection's sources once when some input
// has aliases, so each alias costs a map lookup, not a store query.
func (r *run) loadStoredSources(ctx context.Context, inputs []Input) error {
	if !slices.ContainsFunc(inputs, func(in Input) bool { return len(in.Aliases) > 0 }) {
		return nil
	}
	sources, err := r.existing.Sources(ctx)
	if err != nil {
		return fmt.Errorf("cannot list the sources of collection %s: %w", r.opts.Collection, err)
	}
	r.storedSources = make(map[string]bool, len(sources))
	for _, s := range sources {
		r.storedSources[s] = true
	}
	return nil
}

// storedIDs returns the ids stored for an input's source and aliases.
func (r *run) storedIDs(ctx context.Context, in Input) ([]int64, error) {
	var ids []int64
	for _, source := range append([]string{in.Source}, in.Aliases...) {
		if r.storedSources != nil && !r.storedSources[source] {
			continue
		}
		got, err := r.existing.SourceIDs(ctx, source)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// compareStored returns the kept rows whose stored metadata differs from
// this run's: updates carry their stored vector, reembed must be embedded
// again.
func (r *run) compareStored(ctx context.Context, kept []store.Row) (updates, reembed []store.Row, err error) {
	if len(kept) == 0 {
		return nil, nil, nil
	}
	stored := make(map[int64]map[string]any, len(kept))
	ids := make([]int64, len(kept))
	for i, row := range kept {
		ids[i] = row.ID
	}
	for part := range slices.Chunk(ids, getBatch) {
		hits, err := r.existing.Get(ctx, part, []string{"*"})
		if err != nil {
			return nil, nil, err
		}
		for _, h := range hits {
			stored[h.ID] = h.Entity
		}
	}
	var changed []store.Row
	for _, row := range kept {
		old, ok := stored[row.ID]
		switch {
		case ok && sameFields(row.Fields, old):
		case ok && r.embedInput(row.Text, row.Fields) == r.embedInput(row.Text, old):
			changed = append(changed, row)
		default:
			// The embedded title changed, or the row went away meanwhile.
			reembed = append(reembed, row)
		}
	}
	found, missing, err := r.storedVectors(ctx, changed)
	if err != nil {
		return nil, nil, err
	}
	return found, append(reembed, missing...), nil
}

// storedVectors fills in the stored vectors of rows. Rows whose vector
// cannot be read (a store without store.VectorGetter, a row deleted
// meanwhile) come back in missing, to be embedded.
func (r *run) storedVectors(ctx context.Context, rows []store.Row) (found, missing []store.Row, err error) {
	vg, ok := r.existing.(store.VectorGetter)
	if !ok || len(rows) == 0 {
		return nil, rows, nil
	}
	for part := range slices.Chunk(rows, getBatch) {
		ids := make([]int64, len(part))
		for i, row := range part {
			ids[i] = row.ID
		}
		vecs, err := vg.Vectors(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		for i, row := range part {
			if vecs[i] == nil {
				missing = append(missing, row)
				continue
			}
			row.Vector = vecs[i]
			found = append(found, row)
		}
	}
	return found, missing, nil
}

// reuseVectors gives fresh rows the vector of a stale row that was
// embedded from the same text (same chunk and, if titles are embedded,
// same title), and returns those rows. It is what keeps a file taken over
// from an alias, or a document whose id changed, from being embedded
// again.
func (r *run) reuseVectors(ctx context.Context, fresh []store.Row, stale []int64) ([]store.Row, error) {
	vg, ok := r.existing.(store.VectorGetter)
	if !ok || len(fresh) == 0 || len(stale) == 0 {
		return nil, nil
	}
	byInput := make(map[string]int64, len(stale))
	for part := range slices.Chunk(stale, getBatch) {
		hits, err := r.existing.Get(ctx, part, []string{"text", "title"})
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			text, _ := h.Entity["text"].(string)
			byInput[r.embedInput(text, h.Entity)] = h.ID
		}
	}
	var match []int
	var ids []int64
	for i, row := range fresh {
		if id, ok := byInput[r.embedInput(row.Text, row.Fields)]; ok {
			match = append(match, i)
			ids = append(ids, id)
		}
	}
	var reused []store.Row
	for start := 0; start < len(ids); start += getBatch {
		end := min(start+getBatch, len(ids))
		vecs, err := vg.Vectors(ctx, ids[start:end])
		if err != nil {
			return nil, err
		}
		for k, v := range vecs {
			if v != nil {
				i := match[start+k]
				fresh[i].Vector = v
				reused = append(reused, fresh[i])
			}
		}
	}
	return reused, nil
}

// sameFields reports whether a row's metadata equals a stored entity's
// (whose "text" is not metadata). Values are compared as JSON, which is
// how stores keep them: an int64 from --set and the json.Number read back
// are the same value.
func sameFields(fields, entity map[string]any) bool {
	n := len(entity)
	if _, ok := entity["text"]; ok {
		n--
	}
	if n != len(fields) {
		return false
	}
	for k, v := range fields {
		old, ok := entity[k]
		if !ok || !sameJSON(v, old) {
			return false
		}
	}
	return true
}

// sameJSON compares a value about to be stored with one read back from a
// store. The common scalars are compared directly; anything else (nested
// JSONL values) through its JSON encoding.
func sameJSON(v, stored any) bool {
	switch v := v.(type) {
	case string:
		s, ok := stored.(string)
		return ok && s == v
	case bool:
		b, ok := stored.(bool)
		return ok && b == v
	case nil:
		return stored == nil
	case int:
		n, ok := stored.(json.Number)
		return ok && string(n) == strconv.Itoa(v)
	case int64:
		n, ok := stored.(json.Number)
		return ok && string(n) == strconv.FormatInt(v, 10)
	case json.Number:
		n, ok := stored.(json.Number)
		if ok && n == v {
			return true
		}
	}
	a, err1 := json.Marshal(v)
	b, err2 := json.Marshal(stored)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// chunk splits a loaded file into rows without vectors, one per distinct
// chunk, and returns the oversized chunks as problems.
func (r *run) chunk(l loaded) ([]store.Row, FileReport, []error) {
	var problems []error
	report := FileReport{Source: l.in.Source, Documents: len(l.docs)}
	seen := map[int64]bool{}
	var rows []store.Row
	var nbytes int64
	for _, doc := range l.docs {
		nbytes += int64(len(doc.Text))
		docID := doc.DocID()
		chunks := r.splitter.Split(doc.Text)
		for i, text := range chunks {
			if len(text) > r.limit {
				problems = append(problems, &ChunkError{Source: l.in.Source, Doc: docID, Index: i, Total: len(chunks),
					Err: fmt.Errorf("it is %d bytes (%d characters) and the collection's text field allows %d bytes; it needs smaller chunks", len(text), utf8.RuneCountInString(text), r.limit)})
				continue
			}
			id := ChunkID(r.opts.Collection, l.in.Source, docID, text)
			if seen[id] {
				r.mu.Lock()
				r.sum.Duplicates++
				r.mu.Unlock()
				continue
			}
			seen[id] = true
			rows = append(rows, store.Row{ID: id, Text: text, Fields: r.fields(l.in.Source, doc, i)})
		}
	}
	report.Chunks = len(rows)
	r.mu.Lock()
	r.sum.Documents += len(l.docs)
	r.sum.Chunks += len(rows)
	r.sum.Bytes += nbytes
	r.mu.Unlock()
	r.progress.Chunks.Add(int64(len(rows)))
	r.progress.Bytes.Add(nbytes)
	return rows, report, problems
}

// reservedFields are the schema's fixed fields; metadata may not shadow them.
var reservedFields = map[string]bool{"id": true, "text": true, "vector": true}

func (r *run) fields(source string, doc document.Document, index int) map[string]any {
	f := make(map[string]any, len(doc.Meta)+len(r.opts.Set)+3)
	for k, v := range doc.Meta {
		if !reservedFields[k] {
			f[k] = v
		}
	}
	if doc.Title != "" {
		f["title"] = doc.Title
	}
	for k, v := range r.opts.Set {
		f[k] = v
	}
	f["source"] = source
	f["chunk_index"] = index
	return f
}
