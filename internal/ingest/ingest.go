package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	// Aliases are other sources the same file may be stored under, e.g.
	// by an earlier kura that named files as they were typed. Rows stored
	// under an alias are taken over: they are replaced by rows under
	// Source, reusing their vectors where the embedded text is the same.
	Aliases []string
	Load    func() ([]document.Document, []error, error)
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
	// Schema settings used only when the collection is created. Those
	// named in Explicit must equal an existing collection's (Run fails
	// with a *SettingError otherwise); the others are ignored for an
	// existing collection.
	Explicit     []Setting
	Metric       string
	Index        store.IndexSpec
	TextMaxBytes int
	// Text is a new collection's full-text index: analyzer and the fields
	// indexed with the text (Schema.Text).
	Text store.TextSpec
	// EmbedTitle embeds "title\n" + chunk instead of the chunk alone, so a
	// chunk that never names its topic still lands near questions about
	// it. The stored text stays the chunk. A new collection records it
	// (store.EmbedderInfo.Input); an existing collection that recorded it
	// keeps its own setting.
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
	// Observer, if not nil, is told when each step of the run starts and
	// ends (for tracing; the package itself knows nothing of it).
	Observer *Observer
}

// Observer follows the steps of a run: loading each file, splitting its
// documents, and each write to the store. Every field is optional. Each
// start function gets the run's context and returns the context the step
// runs under (a tracer puts its span there) and the function to call when
// the step ends. Embedding calls are not among them: a caller wraps the
// embedder it passes to [Run]. Observers are called from several
// goroutines at once.
type Observer struct {
	Load  func(ctx context.Context, source string) (context.Context, func(documents int, bytes int64, problems int, err error))
	Split func(ctx context.Context, source, splitter string) func(chunks int)
	Write func(ctx context.Context, operation string, rows int) (context.Context, func(err error))
}

// load runs in.Load under the observer.
func (o *Observer) load(ctx context.Context, in Input) ([]document.Document, []error, error) {
	if o == nil || o.Load == nil {
		return in.Load()
	}
	_, done := o.Load(ctx, in.Source)
	docs, problems, err := in.Load()
	var n int64
	for _, d := range docs {
		n += int64(len(d.Text))
	}
	done(len(docs), n, len(problems), err)
	return docs, problems, err
}

// split starts the observation of splitting source.
func (o *Observer) split(ctx context.Context, source, splitter string) func(chunks int) {
	if o == nil || o.Split == nil {
		return func(int) {}
	}
	return o.Split(ctx, source, splitter)
}

// write starts the observation of a store write.
func (o *Observer) write(ctx context.Context, operation string, rows int) (context.Context, func(error)) {
	if o == nil || o.Write == nil {
		return ctx, func(error) {}
	}
	return o.Write(ctx, operation, rows)
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
	Updated   int // stored chunks whose metadata (or embedded title) changed
	Unchanged int
	Stale     int
}

// Summary is the outcome of a run.
type Summary struct {
	Collection string  `json:"collection"`
	Files      int     `json:"files"`      // files ingested
	Skipped    int     `json:"skipped"`    // files skipped entirely
	Problems   int     `json:"problems"`   // lines and chunks skipped inside ingested files
	Warnings   int     `json:"warnings"`   // notes on files that loaded (e.g. an uncertain encoding)
	Documents  int     `json:"documents"`  // documents loaded (JSONL lines count one each)
	Chunks     int     `json:"chunks"`     // distinct chunks in the ingested files
	Duplicates int     `json:"duplicates"` // repeated identical chunks stored once
	Added      int     `json:"added"`
	Updated    int     `json:"updated"` // stored chunks whose metadata changed; re-stored, embedded only if their embedded text changed
	Unchanged  int     `json:"unchanged"`
	Removed    int     `json:"removed"`
	Embedded   int     `json:"embedded"` // texts sent to the embedding provider
	Cached     int     `json:"cached"`   // texts served from the embedding cache instead
	Bytes      int64   `json:"bytes"`    // text bytes loaded
	Seconds    float64 `json:"seconds"`
	Created    bool    `json:"created"` // the collection was created by this run
	// Unsupported lists files a directory walk passed over because kura
	// does not read their type. The collect stage knows them, so the
	// caller fills it in; Run leaves it alone.
	Unsupported []string `json:"unsupported"`
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
// existing one must match the embedder's name, model and vector length and
// every setting in opts.Explicit (a *SettingError wrapping
// store.ErrMismatch otherwise). Nothing is deleted, not even a changed
// file's old chunks, until one batch has been embedded, so a rejected key
// or unknown model cannot lose data; the only writes that may come first
// are metadata updates of unchanged chunks, which need no embedder.
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
		opts:       opts,
		st:         st,
		existing:   existing,
		coll:       existing,
		emb:        emb,
		splitter:   splitter,
		limit:      opts.TextMaxBytes,
		batch:      embed.BatchSize(emb, opts.BatchSize),
		progress:   opts.Progress,
		pending:    map[string]*pendingSource{},
		updated:    map[int64]bool{},
		sum:        &sum,
		gate:       make(chan struct{}),
		embedTitle: opts.EmbedTitle,
	}
	if r.limit == 0 {
		r.limit = store.DefaultTextMaxBytes
	}
	if existing != nil {
		r.limit = existing.Schema().TextMaxBytes
		r.dim = existing.Schema().Dim
		if c, known := StoredContext(existing.Schema()); known {
			r.embedTitle = c.Embed
		}
		if err := r.loadStoredSources(ctx, inputs); err != nil {
			existing.Close()
			return sum, err
		}
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

// openExisting opens the collection if it exists and checks that emb and
// the explicit settings fit it; it returns nil if there is no such
// collection yet.
func openExisting(ctx context.Context, st store.Store, emb embed.Embedder, opts Options) (store.Collection, error) {
	coll, err := st.Open(ctx, opts.Collection)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := CheckEmbedder(coll.Name(), coll.Schema(), emb.Info()); err != nil {
		coll.Close()
		return nil, err
	}
	if err := checkSettings(coll, opts); err != nil {
		coll.Close()
		return nil, err
	}
	return coll, nil
}

// context is the title context this run asks for.
func (o Options) context() Context {
	return Context{BM25: slices.Contains(o.Text.Fields, "title"), Embed: o.EmbedTitle}
}

// create makes the collection for vectors of dim dimensions; the writer
// calls it before storing the first batch.
func (r *run) create(ctx context.Context, dim int) error {
	info := r.emb.Info()
	input := store.EmbedInputText
	if r.embedTitle {
		input = store.EmbedInputTitleText
	}
	schema := store.Schema{
		Dim:          dim,
		Metric:       r.opts.Metric,
		TextMaxBytes: r.limit,
		Embedder:     store.EmbedderInfo{Name: info.Name, Model: info.Model, Dim: dim, Input: input},
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

type run struct {
	opts       Options
	st         store.Store
	existing   store.Collection // the collection as it was at the start; nil if new
	coll       store.Collection // written only by the writer goroutine (create)
	emb        embed.Embedder
	splitter   split.Splitter
	limit      int
	batch      int
	progress   *Progress
	embedTitle bool // embed "title\n" + chunk: the collection's setting, or this run's for a new one
	// storedSources is the set of sources in the existing collection,
	// loaded only when some input has aliases; nil means "not loaded".
	storedSources map[string]bool

	mu      sync.Mutex
	pending map[string]*pendingSource
	updated map[int64]bool // ids of rows re-stored for a metadata change (under mu)
	sum     *Summary       // written by the planner before batches exist, then under mu
	dim     int            // vector length: the collection's, or the first batch's (under mu)
	batches int            // batches handed to the embedders (planner only)

	// gate is closed once deleting is known to be safe: a batch has been
	// embedded, or the run has nothing to embed. Until then the writer
	// holds back every delete of stale chunks.
	gate     chan struct{}
	gateOnce sync.Once
}

func (r *run) openGate() { r.gateOnce.Do(func() { close(r.gate) }) }

// pendingSource tracks a source whose rows are not all stored yet; its
// stale chunks are deleted only after they are.
type pendingSource struct {
	remaining int
	stale     []int64
}

// loaded is a file after loading and diffing against the store, both
// done by a loader worker so that files are read and compared in
// parallel; the planner consumes them in input order.
type loaded struct {
	in       Input
	docs     []document.Document
	problems []error // from loading
	err      error   // the file was skipped
	diff     fileDiff
	diffErr  error // reading the store failed: fatal
}

// writeItem is a batch of rows with their vectors to store, or (rows ==
// nil) a source with nothing to store whose stale chunks can go.
type writeItem struct {
	rows        []store.Row
	staleSource string
}

func (r *run) pipeline(ctx context.Context, inputs []Input) error {
	// The writer stops only when the caller cancels (Ctrl-C): batches that
	// were embedded before another batch failed are paid for and get stored.
	caller := ctx
	// loadWG lets the run return only once no loader touches it any more;
	// the loaders stop when ctx is cancelled, which the next defer does
	// first.
	var loadWG sync.WaitGroup
	defer loadWG.Wait()
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

	// Loaders (which also split and diff against the store): results come
	// back in input order through per-file channels, so logs and chunk
	// order are deterministic whatever the scheduling.
	order := make(chan chan loaded, workers*2)
	loadWG.Add(1)
	go func() {
		defer loadWG.Done()
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
			loadWG.Add(1)
			go func(in Input) {
				defer loadWG.Done()
				defer func() { <-sem }()
				l := loaded{in: in}
				l.docs, l.problems, l.err = r.opts.Observer.load(ctx, in)
				if l.err == nil {
					l.diff, l.diffErr = r.diff(ctx, l)
					l.docs = nil // the rows hold what is needed
				}
				res <- l
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
	go func() { writerDone <- r.writer(caller, writes, cancel) }()

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

func (r *run) problem(err error, fileSkipped bool) {
	var warning *document.Warning
	r.mu.Lock()
	switch {
	case errors.As(err, &warning):
		r.sum.Warnings++
	case fileSkipped:
		r.sum.Skipped++
	default:
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
		texts[i] = r.embedInput(row.Text, row.Fields)
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
				info := r.emb.Info()
				return &SettingError{Collection: r.opts.Collection, Setting: SettingDim,
					Stored:    describeEmbedder(r.existing.Schema().Embedder.Name, r.existing.Schema().Embedder.Model, dim),
					Requested: describeEmbedder(info.Name, info.Model, len(vecs[i]))}
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

// embedInput is the text embedded for a chunk: with its document's title
// in front when the collection embeds titles.
func (r *run) embedInput(text string, fields map[string]any) string {
	if title, _ := fields["title"].(string); r.embedTitle && title != "" {
		return title + "\n" + text
	}
	return text
}

// splitterName names the run's splitter for observers: "ja 200/20".
func (r *run) splitterName() string {
	kind := r.opts.Splitter.Kind
	if kind == "" {
		kind = split.KindJa
	}
	return fmt.Sprintf("%s %d/%d", kind, r.opts.Splitter.ChunkSize, r.opts.Splitter.ChunkOverlap)
}
