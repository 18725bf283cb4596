package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/tracing"
)

// DefaultContext is where a new collection's chunks carry their document's
// title: into BM25 and the embedded text, what measured best on JSQuAD.
const DefaultContext = "both"

// CollectionSettings are the settings a collection gets when it is
// created: the fields of [api.CreateCollectionRequest] other than its
// name, with their defaults applied by [CollectionSettings.schema].
type CollectionSettings = api.CreateCollectionRequest

// newCollection is what CollectionSettings choose, in the pipeline's
// terms.
type newCollection struct {
	metric       string
	index        store.IndexSpec
	textMaxBytes int
	text         store.TextSpec
	embedTitle   bool
}

// resolveSettings checks s and applies the defaults. An index left empty
// is IVF_FLAT on Milvus (the notebook's index) and FLAT on the embedded
// store.
func (a *App) resolveSettings(s CollectionSettings) (newCollection, error) {
	var n newCollection
	n.metric = strings.ToUpper(s.Metric)
	switch n.metric {
	case "":
		n.metric = store.MetricCosine
	case store.MetricCosine, store.MetricIP, store.MetricL2:
	default:
		return n, api.Invalid("metric", "unknown metric %q (use COSINE, IP or L2)", s.Metric)
	}
	n.textMaxBytes = s.TextMaxBytes
	switch {
	case n.textMaxBytes == 0:
		n.textMaxBytes = store.DefaultTextMaxBytes
	case n.textMaxBytes < 0 || n.textMaxBytes > 65535:
		return n, api.Invalid("text_max_bytes", "text_max_bytes %d is out of range 1..65535 (the Milvus VARCHAR limit)", s.TextMaxBytes)
	}
	kind := strings.ToUpper(s.Index)
	if kind == "" {
		kind = store.IndexFlat
		if a.opts.Store == StoreMilvus {
			kind = store.IndexIVFFlat
		}
	}
	n.index = store.IndexSpec{Type: kind, SQ8: s.SQ8}
	switch kind {
	case store.IndexFlat:
		if s.SQ8 {
			return n, api.Invalid("sq8", "SQ8 needs an hnsw or ivf_flat index; a flat index searches the float vectors exactly")
		}
	case store.IndexIVFFlat:
		nlist := s.NList
		if nlist == 0 {
			nlist = 128
		}
		if nlist < 1 || nlist > 65536 {
			return n, api.Invalid("nlist", "nlist %d is out of range 1..65536", s.NList)
		}
		n.index.Params = map[string]int{"nlist": nlist}
	case store.IndexHNSW:
		m, ef := s.M, s.EfConstruction
		if m == 0 {
			m = 16
		}
		if ef == 0 {
			ef = 200
		}
		if m < 2 || m > 2048 {
			return n, api.Invalid("m", "M %d is out of range 2..2048", s.M)
		}
		if ef < 1 {
			return n, api.Invalid("ef_construction", "efConstruction %d must be positive", s.EfConstruction)
		}
		n.index.Params = map[string]int{"M": m, "efConstruction": ef}
	default:
		return n, api.Invalid("index", "unknown index %q (use flat, ivf_flat or hnsw)", s.Index)
	}
	analyzer := s.Analyzer
	if analyzer == "" {
		analyzer = lexical.DefaultAnalyzer
	}
	if analyzer != "none" {
		if _, err := lexical.New(analyzer); err != nil {
			return n, api.Invalid("analyzer", "%v (or none for no BM25 index)", err)
		}
	}
	context := s.Context
	if context == "" {
		context = DefaultContext
	}
	c, err := ingest.ParseContext(context)
	if err != nil {
		return n, api.Invalid("context", "%v", err)
	}
	n.text = store.TextSpec{Analyzer: analyzer}
	if c.BM25 {
		n.text.Fields = []string{"title"}
	}
	n.embedTitle = c.Embed
	return n, nil
}

// IngestRequest is one ingest run.
type IngestRequest struct {
	// Collection receives the chunks (the default collection if empty);
	// it is created with Settings if it does not exist.
	Collection string
	Settings   CollectionSettings
	// Explicit names the settings the caller chose rather than left to
	// their defaults: only those must match an existing collection
	// (a conflict otherwise).
	Explicit []ingest.Setting
	// Embedding overrides the app's embedding options for this run;
	// nil keeps them.
	Embedding *EmbedOptions

	Splitter split.Options
	// Set is metadata added to every chunk.
	Set map[string]any
	// TextField is the JSONL field holding a document's text ("text").
	TextField string

	// Paths are files, directories (walked recursively) and globs.
	Paths []string
	// SourceRoot is the directory sources are named relative to (see
	// document.Namer): the directory holding the data directory if empty.
	SourceRoot string
	// Files are files given directly (uploads), each with the source its
	// chunks are stored under; they are not walked or renamed.
	Files []SourceFile
	// Inputs are sources the caller loads itself (documentation built
	// into the binary, crawled pages); they are not walked or renamed.
	Inputs []ingest.Input
	// Prune removes the chunks of stored sources inside Paths whose files
	// no longer exist.
	Prune bool
	// Gone are stored sources whose documents no longer exist (a crawl's
	// pages that are gone): their chunks are removed.
	Gone []string

	Workers, EmbedWorkers, BatchSize int

	Progress  *ingest.Progress
	OnProblem func(error)
	OnFile    func(ingest.FileReport)
}

// SourceFile is a file to ingest under a given source name.
type SourceFile struct {
	Path   string
	Source string
}

// IngestResult is the outcome of a run.
type IngestResult struct {
	ingest.Summary
	// Collected is what the paths named: files, problems with arguments
	// that named nothing readable, and files of types kura does not read.
	Collected document.Collected
}

// ErrNothingToIngest is returned when the paths name no readable file.
var ErrNothingToIngest = errors.New("nothing to ingest")

// Ingest loads, splits, embeds and stores files (see [IngestRequest]).
// Problems with single files, lines and chunks are reported to OnProblem
// and counted in the summary; the run goes on. An error ends the run; the
// summary then says what was done before it.
func (a *App) Ingest(ctx context.Context, req IngestRequest) (IngestResult, error) {
	var res IngestResult
	name, err := a.collectionName(req.Collection)
	if err != nil {
		return res, err
	}
	res.Summary.Collection = name
	settings, err := a.resolveSettings(req.Settings)
	if err != nil {
		return res, err
	}
	if _, err := split.New(req.Splitter); err != nil {
		return res, splitterError(err)
	}
	inputs, namer, err := a.ingestInputs(req, &res)
	if req.OnProblem != nil {
		// Arguments that named nothing readable are problems like any
		// other, reported first.
		for _, p := range res.Collected.Problems {
			req.OnProblem(p)
		}
	}
	if err != nil {
		return res, err
	}
	eo := a.opts.Embedding
	if req.Embedding != nil {
		eo = *req.Embedding
	}
	emb, err := a.ingestEmbedder(ctx, name, eo)
	if err != nil {
		return res, err
	}
	defer emb.close()
	var prune func(string) bool
	if req.Prune && len(req.Paths) > 0 {
		prune = pruneScope(req.Paths, namer)
	}
	if len(req.Gone) > 0 {
		gone := make(map[string]bool, len(req.Gone))
		for _, s := range req.Gone {
			gone[s] = true
		}
		inPaths := prune
		prune = func(source string) bool { return gone[source] || inPaths != nil && inPaths(source) }
	}

	info := emb.Info()
	ctx, span := a.opts.Tracing.StartIngest(ctx, tracing.Trace{Name: "ingest"}, tracing.Ingest{
		Collection: name, Embedder: info.Name, Model: info.Model, Inputs: len(inputs)})
	var embedder embed.Embedder = emb.Embedder
	var observer *ingest.Observer
	if span != nil {
		embedder = tracedEmbedder{emb.Embedder}
		observer = ingestObserver(a.opts.Store, name)
	}
	defer func() {
		s := res.Summary
		span.End(tracing.IngestTotals{Files: s.Files, Skipped: s.Skipped, Problems: s.Problems, Chunks: s.Chunks,
			Added: s.Added, Unchanged: s.Unchanged, Removed: s.Removed, Embedded: s.Embedded, Cached: s.Cached}, err)
	}()
	res.Summary, err = ingest.Run(ctx, a.store, embedder, inputs, ingest.Options{
		Collection:   name,
		Splitter:     req.Splitter,
		BatchSize:    req.BatchSize,
		Workers:      req.Workers,
		EmbedWorkers: req.EmbedWorkers,
		Explicit:     req.Explicit,
		Metric:       settings.metric,
		Index:        settings.index,
		TextMaxBytes: settings.textMaxBytes,
		Text:         settings.text,
		EmbedTitle:   settings.embedTitle,
		Set:          req.Set,
		Prune:        prune != nil,
		PruneSource:  prune,
		Progress:     req.Progress,
		OnProblem:    req.OnProblem,
		OnFile:       req.OnFile,
		Observer:     observer,
	})
	res.Summary.Collection = name
	res.Summary.Skipped += len(res.Collected.Problems)
	res.Summary.Unsupported = res.Collected.Unsupported
	if res.Summary.Unsupported == nil {
		res.Summary.Unsupported = []string{}
	}
	if res.Summary.Created || res.Summary.Removed > 0 {
		// A collection made or shrunk by this run: its cached state
		// (schema, query embedder) is stale.
		a.forget(name)
	}
	err = ingestError(err)
	return res, err
}

// splitterError is a splitter option error as an invalid_request about
// the option at fault.
func splitterError(err error) error {
	var oe *split.OptionsError
	if errors.As(err, &oe) {
		return api.Wrap(api.CodeInvalidRequest, oe.Option, err)
	}
	return api.Wrap(api.CodeInvalidRequest, "splitter", err)
}

// ValidateIngest checks what an ingest of req would refuse (collection
// name and settings, splitter, embedder configuration) without opening
// anything, so that a caller can check before long work (a crawl) and
// open the store only after it.
func ValidateIngest(o Options, req IngestRequest) error {
	a := &App{opts: o}
	if _, err := a.collectionName(req.Collection); err != nil {
		return err
	}
	if _, err := a.resolveSettings(req.Settings); err != nil {
		return err
	}
	if _, err := split.New(req.Splitter); err != nil {
		return splitterError(err)
	}
	eo := o.Embedding
	if req.Embedding != nil {
		eo = *req.Embedding
	}
	if err := eo.Validate(); err != nil {
		return err
	}
	if eo.Explicit {
		eo = eo.withDefaults()
		if _, err := embed.New(a.embedConfig(eo, eo.Embedder, eo.Model, eo.Dim)); err != nil {
			return invalidConfig("embedder", err)
		}
	}
	return nil
}

// ingestInputs turns the request's paths and files into inputs.
func (a *App) ingestInputs(req IngestRequest, res *IngestResult) ([]ingest.Input, *document.Namer, error) {
	loadOpts := document.LoadOptions{TextField: req.TextField}
	var inputs []ingest.Input
	var namer *document.Namer
	if len(req.Paths) > 0 {
		res.Collected = document.Collect(req.Paths)
		root := req.SourceRoot
		if root == "" {
			root = SourceRoot(a.opts.DataDir)
		}
		var err error
		if namer, err = document.NewNamer(root); err != nil {
			return nil, nil, err
		}
		for _, f := range res.Collected.Files {
			source, err := namer.Source(f)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f, err)
			}
			inputs = append(inputs, ingest.Input{Source: source, Aliases: namer.Aliases(f), Load: func() ([]document.Document, []error, error) {
				return document.Load(f, loadOpts)
			}})
		}
	}
	inputs = append(inputs, req.Inputs...)
	for _, f := range req.Files {
		inputs = append(inputs, ingest.Input{Source: f.Source, Load: func() ([]document.Document, []error, error) {
			data, err := os.ReadFile(f.Path)
			if err != nil {
				return nil, nil, err
			}
			return document.LoadBytes(f.Source, data, loadOpts)
		}})
	}
	if len(inputs) == 0 && len(req.Gone) == 0 {
		return nil, nil, fmt.Errorf("%w in %s", ErrNothingToIngest, strings.Join(req.Paths, " "))
	}
	return inputs, namer, nil
}

// SourceRoot is the directory sources are named relative to: the one
// holding the data directory, so that the same file has the same source
// from any working directory.
func SourceRoot(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "."
	}
	return filepath.Dir(abs)
}

// ingestEmbedder opens the embedder an ingest uses: the one the options
// name explicitly, else the existing collection's own (so a re-ingest
// needs no embedder settings), else the default.
func (a *App) ingestEmbedder(ctx context.Context, collection string, o EmbedOptions) (*openedEmbedder, error) {
	o = o.withDefaults()
	cfg := a.embedConfig(o, o.Embedder, o.Model, o.Dim)
	if !o.Explicit {
		coll, err := a.store.Open(ctx, collection)
		switch {
		case err == nil:
			cfg = a.collectionEmbedConfig(o, coll.Schema())
			coll.Close()
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return a.openEmbedder(o, cfg, true)
}

// pruneScope selects the stored sources a prune may delete: those
// document.Scope puts inside the paths (what Collect would have collected)
// that no longer exist on disk. A file that still exists but was skipped
// this time (say it became unreadable) keeps its chunks.
func pruneScope(paths []string, namer *document.Namer) func(string) bool {
	inScope := document.Scope(paths)
	return func(source string) bool {
		p := namer.Path(source)
		if !inScope(p) {
			return false
		}
		_, err := os.Lstat(p)
		return errors.Is(err, os.ErrNotExist)
	}
}

// ingestError classifies the errors a run can end with.
func ingestError(err error) error {
	var se *ingest.SettingError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return api.Wrap(api.CodeConflict, string(se.Setting), err)
	case errors.Is(err, embed.ErrConfig):
		return api.Wrap(api.CodeInvalidRequest, "embedder", err)
	}
	return err
}
