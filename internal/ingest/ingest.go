package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
)

// Input is one file to ingest. Load is called once, from a worker
// goroutine; it returns the file's documents, problems with single items
// (a bad JSONL line) and a fatal error when the whole file is skipped.
type Input struct {
	Source string
	Load   func() ([]document.Document, []error, error)
}

// Options configures a run. Zero values mean the documented defaults.
type Options struct {
	Collection string
	Splitter   split.Options
	// BatchSize is the number of texts per embedder call
	// (embed.DefaultBatchSize if 0, capped by the embedder's maximum).
	BatchSize int
	// Workers load and split files (GOMAXPROCS if 0).
	Workers int
	// EmbedWorkers is the number of batches in flight (GOMAXPROCS if 0).
	EmbedWorkers int
	// Schema settings used only when the collection is created.
	Metric       string
	Index        store.IndexSpec
	TextMaxBytes int
	// Text is a new collection's full-text index: analyzer and the fields
	// indexed with the text (Schema.Text).
	Text store.TextSpec
	// EmbedTitle embeds "title\n" + chunk instead of the chunk alone, so a
	// chunk that never names its topic still lands near questions about
	// it. The stored text stays the chunk. It applies to the chunks this
	// run embeds, so keep it the same for a collection's whole life.
	EmbedTitle bool
	// Set is metadata added to every chunk (--set key=value).
	Set map[string]any
	// Prune deletes the chunks of every stored source for which
	// PruneSource returns true (the CLI passes "inside the given paths and
	// no longer on disk").
	Prune       bool
	PruneSource func(source string) bool
	// Progress, if not nil, is updated while the run goes; a UI may read it
	// at any time.
	Progress *Progress
	// OnProblem is called for every skipped file, line or chunk.
	OnProblem func(error)
	// OnFile is called when a file's chunks are planned.
	OnFile func(FileReport)
}

// Progress holds live counters of a run.
type Progress struct {
	FilesTotal atomic.Int64
	FilesDone  atomic.Int64
	Chunks     atomic.Int64
	Embedded   atomic.Int64
	Stored     atomic.Int64
	Bytes      atomic.Int64
}

// FileReport is what happened to one file.
type FileReport struct {
	Source    string
	Documents int
	Chunks    int
	New       int
	Unchanged int
	Stale     int
}

// Summary is the outcome of a run.
type Summary struct {
	Collection string  `json:"collection"`
	Files      int     `json:"files"`      // files ingested
	Skipped    int     `json:"skipped"`    // files skipped entirely
	Problems   int     `json:"problems"`   // lines and chunks skipped inside ingested files
	Documents  int     `json:"documents"`  // documents loaded (JSONL lines count one each)
	Chunks     int     `json:"chunks"`     // distinct chunks in the ingested files
	Duplicates int     `json:"duplicates"` // repeated identical chunks stored once
	Added      int     `json:"added"`
	Unchanged  int     `json:"unchanged"`
	Removed    int     `json:"removed"`
	Embedded   int     `json:"embedded"` // texts sent to the embedding provider
	Cached     int     `json:"cached"`   // texts served from the embedding cache instead
	Bytes      int64   `json:"bytes"`    // text bytes loaded
	Seconds    float64 `json:"seconds"`
	Created    bool    `json:"created"` // the collection was created by this run
}

// Failed reports whether anything was skipped, which the CLI turns into a
// non-zero exit status.
func (s Summary) Failed() bool { return s.Skipped > 0 || s.Problems > 0 }

// ChunkError is a chunk that cannot be stored.
type ChunkError struct {
	Source string
	Doc    string // JSONL document id, if any
	Index  int    // chunk_index within its document (0-based)
	Total  int    // chunks in the document
	Err    error
}

func (e *ChunkError) Error() string {
	where := e.Source
	if e.Doc != "" {
		where += " (document " + e.Doc + ")"
	}
	return fmt.Sprintf("%s: chunk %d of %d skipped: %v", where, e.Index+1, e.Total, e.Err)
}

func (e *ChunkError) Unwrap() error { return e.Err }

// Run ingests inputs into the collection opts.Collection of st. It returns
// the summary of what was done even when it fails part-way; the error is
// then the first fatal one (embedder or store failure, cancellation).
// Skipped items are not errors: they are reported through OnProblem and
// counted in the summary.
//
// A new collection is created from the first embedded batch, because a
// provider may learn its dimension only from its first answer; an
// existing one must match the embedder's name, model and vector length
// (store.ErrMismatch otherwise). Nothing is written, not even the removal
// of a changed file's old chunks, until one batch has been embedded, so a
// rejected key or unknown model leaves the collection exactly as it was.
func Run(ctx context.Context, st store.Store, emb embed.Embedder, inputs []Input, opts Options) (sum Summary, err error) {
	start := time.Now()
	defer func() { sum.Seconds = time.Since(start).Seconds() }()
	sum.Collection = opts.Collection

	splitter, err := split.New(opts.Splitter)
	if err != nil {
		return sum, err
	}
	existing, err := openExisting(ctx, st, emb, opts)
	if err != nil {
		return sum, err
	}

	r := &run{
		opts:     opts,
		st:       st,
		existing: existing,
		coll:     existing,
		emb:      emb,
		splitter: splitter,
		limit:    opts.TextMaxBytes,
		batch:    embed.BatchSize(emb, opts.BatchSize),
		progress: opts.Progress,
		pending:  map[string]*pendingSource{},
		sum:      &sum,
		gate:     make(chan struct{}),
	}
	if r.limit == 0 {
		r.limit = store.DefaultTextMaxBytes
	}
	if existing != nil {
		r.limit = existing.Schema().TextMaxBytes
		r.dim = existing.Schema().Dim
	}
	defer func() {
		if r.coll != nil {
			r.coll.Close()
		}
	}()
	if r.progress == nil {
		r.progress = &Progress{}
	}
	var hits0 int64
	counter, _ := emb.(embed.CacheCounter)
	if counter != nil {
		hits0 = counter.CacheHits()
	}
	defer func() {
		if counter != nil {
			sum.Cached = int(counter.CacheHits() - hits0)
			sum.Embedded -= sum.Cached
		}
	}()
	r.progress.FilesTotal.Store(int64(len(inputs)))
	err = r.pipeline(ctx, inputs)
	if err == nil && opts.Prune && r.coll != nil {
		err = r.prune(ctx, inputs)
	}
	return sum, err
}

// openExisting opens the collection if it exists and checks that emb can
// write to it; it returns nil if there is no such collection yet.
func openExisting(ctx context.Context, st store.Store, emb embed.Embedder, opts Options) (store.Collection, error) {
	coll, err := st.Open(ctx, opts.Collection)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := CheckEmbedder(coll.Schema(), emb.Info()); err != nil {
		coll.Close()
		return nil, err
	}
	return coll, nil
}

// create makes the collection for vectors of dim dimensions; the writer
// calls it before storing the first batch.
func (r *run) create(ctx context.Context, dim int) error {
	info := r.emb.Info()
	schema := store.Schema{
		Dim:          dim,
		Metric:       r.opts.Metric,
		TextMaxBytes: r.limit,
		Embedder:     store.EmbedderInfo{Name: info.Name, Model: info.Model, Dim: dim},
		Index:        r.opts.Index,
		Text:         r.opts.Text,
	}
	if schema.Metric == "" {
		schema.Metric = store.MetricCosine
	}
	coll, err := r.st.Create(ctx, r.opts.Collection, schema)
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("collection %s was created by another process during this run; run the command again: %w", r.opts.Collection, err)
	}
	if err != nil {
		return err
	}
	r.coll = coll
	r.sum.Created = true
	return nil
}

// CheckEmbedder refuses an embedder whose vectors would not be comparable
// with the collection's. A dimension of 0 (not known before the first
// call) is checked later, against the vectors themselves.
func CheckEmbedder(s store.Schema, info embed.Info) error {
	want := s.Embedder
	if want.Name != info.Name || want.Model != info.Model || (info.Dim > 0 && want.Dim != info.Dim) {
		return fmt.Errorf("%w: the collection was built with embedder %s (model %s, %d dimensions) but this run uses %s (model %s, %d dimensions); use the same --embedder/--embed-model/--dim, or ingest into another --collection",
			store.ErrMismatch, want.Name, orNone(want.Model), want.Dim, info.Name, orNone(info.Model), info.Dim)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

type run struct {
	opts     Options
	st       store.Store
	existing store.Collection // the collection as it was at the start; nil if new
	coll     store.Collection // written only by the writer goroutine (create)
	emb      embed.Embedder
	splitter split.Splitter
	limit    int
	batch    int
	progress *Progress

	mu      sync.Mutex
	pending map[string]*pendingSource
	sum     *Summary // written by the planner before batches exist, then under mu
	dim     int      // vector length: the collection's, or the first batch's (under mu)
	batches int      // batches handed to the embedders (planner only)

	// gate is closed once writing is known to be safe: a batch has been
	// embedded, or the run has nothing to embed. Until then the writer
	// holds every write, including deletes of stale chunks.
	gate     chan struct{}
	gateOnce sync.Once
}

func (r *run) openGate() { r.gateOnce.Do(func() { close(r.gate) }) }

// pendingSource tracks a source whose new chunks are not all stored yet;
// its stale chunks are deleted only after they are.
type pendingSource struct {
	remaining int
	stale     []int64
}

type loaded struct {
	in       Input
	docs     []document.Document
	problems []error
	err      error
}

// writeItem is a batch to store, or (rows == nil) a source with nothing
// new whose stale chunks can go at once.
type writeItem struct {
	rows        []store.Row
	staleSource string
}

func (r *run) pipeline(ctx context.Context, inputs []Input) error {
	// The writer stops only when the caller cancels (Ctrl-C): batches that
	// were embedded before another batch failed are paid for and get stored.
	caller := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	workers := r.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	embedWorkers := r.opts.EmbedWorkers
	if embedWorkers <= 0 {
		embedWorkers = runtime.GOMAXPROCS(0)
	}

	// Loaders: results come back in input order through per-file channels,
	// so logs and chunk order are deterministic whatever the scheduling.
	order := make(chan chan loaded, workers*2)
	go func() {
		defer close(order)
		sem := make(chan struct{}, workers)
		for _, in := range inputs {
			res := make(chan loaded, 1)
			select {
			case order <- res:
			case <-ctx.Done():
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func(in Input) {
				defer func() { <-sem }()
				docs, problems, err := in.Load()
				res <- loaded{in: in, docs: docs, problems: problems, err: err}
			}(in)
		}
	}()

	batches := make(chan []store.Row, embedWorkers)
	writes := make(chan writeItem, embedWorkers)

	var embedWG sync.WaitGroup
	for range embedWorkers {
		embedWG.Add(1)
		go func() {
			defer embedWG.Done()
			for rows := range batches {
				if err := r.embedBatch(ctx, rows); err != nil {
					cancel(err)
					return
				}
				r.openGate()
				// The writer drains writes until it is closed, so this
				// send cannot block forever.
				writes <- writeItem{rows: rows}
			}
		}()
	}

	writerDone := make(chan error, 1)
	go func() {
		var err error
		held, ok := r.awaitGate(ctx, writes)
		if !ok {
			for range writes {
			}
			writerDone <- context.Cause(ctx)
			return
		}
		if len(held) > 0 {
			if err = r.write(ctx, held); err != nil {
				cancel(err)
			}
		}
		for item := range writes {
			if err != nil {
				continue // drain so senders never block
			}
			// Group commit: everything already embedded goes into one
			// transaction, so the fsync cost is paid per burst, not per batch.
			group := []writeItem{item}
			for n := len(item.rows); n < maxGroupRows; {
				more, ok := tryRecv(writes)
				if !ok {
					break
				}
				group = append(group, more)
				n += len(more.rows)
			}
			if err = r.write(caller, group); err != nil {
				cancel(err)
			}
		}
		writerDone <- err
	}()

	// The planner runs here; a deferred close keeps shutdown in one place.
	planErr := r.plan(ctx, order, batches, writes)
	if planErr == nil && r.batches == 0 {
		r.openGate() // nothing to embed: deletes of stale chunks may go
	}
	close(batches)
	embedWG.Wait()
	close(writes)
	writeErr := <-writerDone

	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if planErr != nil {
		return planErr
	}
	if writeErr != nil {
		return writeErr
	}
	return context.Cause(ctx)
}

// plan consumes loaded files in order, diffs their chunks against the
// store and feeds the embedders.
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
		rows, report := r.chunk(l)
		var existing []int64
		if r.existing != nil {
			var err error
			if existing, err = r.existing.SourceIDs(ctx, l.in.Source); err != nil {
				return fmt.Errorf("cannot read the stored chunks of %s: %w", l.in.Source, err)
			}
		}
		have := make(map[int64]bool, len(existing))
		for _, id := range existing {
			have[id] = true
		}
		var fresh []store.Row
		for _, row := range rows {
			if have[row.ID] {
				delete(have, row.ID)
				report.Unchanged++
			} else {
				fresh = append(fresh, row)
			}
		}
		report.New = len(fresh)
		stale := make([]int64, 0, len(have))
		for id := range have {
			stale = append(stale, id)
		}
		report.Stale = len(stale)

		r.mu.Lock()
		r.sum.Files++
		r.sum.Unchanged += report.Unchanged
		if len(stale) > 0 || len(fresh) > 0 {
			r.pending[l.in.Source] = &pendingSource{remaining: len(fresh), stale: stale}
		}
		r.mu.Unlock()
		if r.opts.OnFile != nil {
			r.opts.OnFile(report)
		}

		if len(fresh) == 0 {
			if len(stale) > 0 {
				select {
				case writes <- writeItem{staleSource: l.in.Source}:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
			continue
		}
		for _, row := range fresh {
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

// chunk splits a loaded file into rows without vectors, one per distinct
// chunk, and reports oversized chunks.
func (r *run) chunk(l loaded) ([]store.Row, FileReport) {
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
				r.problem(&ChunkError{Source: l.in.Source, Doc: docID, Index: i, Total: len(chunks),
					Err: fmt.Errorf("it is %d bytes (%d characters) and the collection's text field allows %d bytes; use --splitter ja or a smaller --chunk-size", len(text), utf8.RuneCountInString(text), r.limit)}, false)
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
	return rows, report
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

func (r *run) problem(err error, fileSkipped bool) {
	r.mu.Lock()
	if fileSkipped {
		r.sum.Skipped++
	} else {
		r.sum.Problems++
	}
	r.mu.Unlock()
	if r.opts.OnProblem != nil {
		r.opts.OnProblem(err)
	}
}

func (r *run) embedBatch(ctx context.Context, rows []store.Row) error {
	texts := make([]string, len(rows))
	for i, row := range rows {
		texts[i] = row.Text
		if title, _ := row.Fields["title"].(string); r.opts.EmbedTitle && title != "" {
			texts[i] = title + "\n" + row.Text
		}
	}
	vecs, err := r.emb.Embed(ctx, texts, embed.ModeDocument)
	if err != nil {
		return fmt.Errorf("embedding a batch of %d chunks (first from %s): %w", len(rows), rows[0].Source(), err)
	}
	if len(vecs) != len(rows) {
		return fmt.Errorf("embedder %s returned %d vectors for %d texts; refusing to store misaligned vectors", r.emb.Info().Name, len(vecs), len(rows))
	}
	r.mu.Lock()
	if r.dim == 0 && len(vecs) > 0 {
		r.dim = len(vecs[0])
	}
	dim := r.dim
	r.mu.Unlock()
	for i := range rows {
		if len(vecs[i]) != dim {
			if r.existing != nil {
				return store.Errorf(store.ErrMismatch, "embedder %s (model %s) returned %d-dimensional vectors but collection %s has %d dimensions; use the embedder settings the collection was built with (see `kura collection describe`), or another --collection",
					r.emb.Info().Name, orNone(r.emb.Info().Model), len(vecs[i]), r.opts.Collection, dim)
			}
			return fmt.Errorf("embedder %s returned vectors of %d and %d dimensions in one run; refusing to store them", r.emb.Info().Name, len(vecs[i]), dim)
		}
		rows[i].Vector = vecs[i]
	}
	r.mu.Lock()
	r.sum.Embedded += len(rows)
	r.mu.Unlock()
	r.progress.Embedded.Add(int64(len(rows)))
	return nil
}

// maxGroupRows bounds one group commit (about 4 MiB of 1024-dim vectors).
const maxGroupRows = 1024

// awaitGate holds the writes that arrive before the gate opens (only
// stale-chunk deletes can: stores need an embedded batch). It reports
// false if the run ends or fails before the gate opens; the held writes
// are then dropped, which is the point.
func (r *run) awaitGate(ctx context.Context, writes <-chan writeItem) ([]writeItem, bool) {
	var held []writeItem
	for {
		select {
		case <-r.gate:
			return held, true
		case item, ok := <-writes:
			if !ok {
				select {
				case <-r.gate:
					return held, true
				default:
					return nil, false
				}
			}
			held = append(held, item)
		case <-ctx.Done():
			return nil, false
		}
	}
}

func tryRecv(ch <-chan writeItem) (writeItem, bool) {
	select {
	case item, ok := <-ch:
		return item, ok
	default:
		return writeItem{}, false
	}
}

// write stores a group of batches in one transaction, then deletes the
// stale chunks of every source whose new chunks are now all stored.
func (r *run) write(ctx context.Context, group []writeItem) error {
	var rows []store.Row
	var done []string
	for _, item := range group {
		rows = append(rows, item.rows...)
		if item.rows == nil {
			done = append(done, item.staleSource)
		}
	}
	if len(rows) > 0 {
		if r.coll == nil {
			r.mu.Lock()
			dim := r.dim
			r.mu.Unlock()
			if err := r.create(ctx, dim); err != nil {
				return err
			}
		}
		if err := r.coll.Upsert(ctx, rows); err != nil {
			return fmt.Errorf("storing %d chunks: %w", len(rows), err)
		}
		r.progress.Stored.Add(int64(len(rows)))
		r.mu.Lock()
		r.sum.Added += len(rows)
		for _, row := range rows {
			p := r.pending[row.Source()]
			p.remaining--
			if p.remaining == 0 {
				done = append(done, row.Source())
			}
		}
		r.mu.Unlock()
	}
	var stale []int64
	r.mu.Lock()
	for _, source := range done {
		stale = append(stale, r.pending[source].stale...)
		delete(r.pending, source)
	}
	r.mu.Unlock()
	if len(stale) == 0 {
		return nil
	}
	if err := r.coll.Delete(ctx, stale); err != nil {
		return fmt.Errorf("removing %d old chunks of %d changed files: %w", len(stale), len(done), err)
	}
	r.mu.Lock()
	r.sum.Removed += len(stale)
	r.mu.Unlock()
	return nil
}

// prune deletes the chunks of stored sources that PruneSource selects and
// that were not among this run's inputs.
func (r *run) prune(ctx context.Context, inputs []Input) error {
	if r.opts.PruneSource == nil {
		return nil
	}
	seen := make(map[string]bool, len(inputs))
	for _, in := range inputs {
		seen[in.Source] = true
	}
	sources, err := r.coll.Sources(ctx)
	if err != nil {
		return fmt.Errorf("listing stored sources for --prune: %w", err)
	}
	for _, source := range sources {
		if seen[source] || !r.opts.PruneSource(source) {
			continue
		}
		ids, err := r.coll.SourceIDs(ctx, source)
		if err != nil {
			return err
		}
		if err := r.coll.Delete(ctx, ids); err != nil {
			return fmt.Errorf("pruning %s: %w", source, err)
		}
		r.mu.Lock()
		r.sum.Removed += len(ids)
		r.mu.Unlock()
	}
	return nil
}
