package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/store"
)

type ingestOptions struct {
	embedder     embedderOptions
	splitter     splitterOptions
	index        indexOptions
	Set          []string
	TextField    string
	Prune        bool
	JSON         bool
	Metric       string
	TextMaxBytes int
	Workers      int
	EmbedWorkers int
	Analyzer     string
	Context      string
}

func newIngestCommand(g *globalOptions) *cobra.Command {
	var o ingestOptions
	cmd := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Load, split, embed and store files, directories and globs",
		Long: `Ingest files (.txt .md .html .htm .jsonl), directories (recursively) and
glob patterns into a collection. Re-running on unchanged files adds and embeds
nothing; a changed file has exactly its own chunks replaced.

Exit status: 0 all good, 3 finished but some files, lines or chunks were
skipped (each is listed), 1 failed, 2 bad usage.`,
		Example: `  kura ingest docs/
  kura ingest 'notes/**/*.md' --set team=platform --prune
  kura ingest corpus.jsonl --text-field body --splitter character --chunk-size 200`,
		Args: args(cobra.MinimumNArgs(1), "one or more files, directories or globs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIngest(cmd, g, &o, args)
		},
	}
	f := cmd.Flags()
	o.embedder.register(f)
	o.splitter.register(f)
	o.index.register(f)
	f.StringArrayVar(&o.Set, "set", nil, "metadata key=value added to every chunk (repeatable)")
	f.StringVar(&o.TextField, "text-field", "text", "JSONL field holding the document text")
	f.BoolVar(&o.Prune, "prune", false, "remove chunks of files under the given paths that no longer exist")
	f.BoolVar(&o.JSON, "json", false, "print the summary as one JSON object")
	f.StringVar(&o.Metric, "metric", "COSINE", "metric of a new collection: COSINE, IP or L2")
	f.IntVar(&o.TextMaxBytes, "text-max-bytes", store.DefaultTextMaxBytes, "byte limit of the text field of a new collection (Milvus VARCHAR max_length)")
	f.IntVar(&o.Workers, "workers", 0, "files loaded and split in parallel (default: number of CPUs)")
	f.IntVar(&o.EmbedWorkers, "embed-concurrency", 4, "embedding batches in flight")
	f.StringVar(&o.Analyzer, "analyzer", lexical.DefaultAnalyzer, "full-text (BM25) analyzer of a new collection: "+strings.Join(lexical.Analyzers, ", ")+", or none")
	f.StringVar(&o.Context, "context", defaultContext, "document title carried by each chunk: both (into BM25 and the embedded text), bm25, embed or none")
	return cmd
}

func runIngest(cmd *cobra.Command, g *globalOptions, o *ingestOptions, args []string) error {
	o.embedder.resolve(cmd.Flags())
	splitOpts, err := o.splitter.options()
	if err != nil {
		return err
	}
	set, err := parseSet(o.Set)
	if err != nil {
		return err
	}
	metric := strings.ToUpper(o.Metric)
	if metric != store.MetricCosine && metric != store.MetricIP && metric != store.MetricL2 {
		return &usageError{fmt.Errorf("unknown --metric %q (use COSINE, IP or L2)", o.Metric)}
	}
	if o.TextMaxBytes <= 0 || o.TextMaxBytes > 65535 {
		return &usageError{fmt.Errorf("--text-max-bytes %d is out of range 1..65535 (Milvus VARCHAR limit)", o.TextMaxBytes)}
	}
	if g.Store == "milvus" && !cmd.Flags().Changed("index") {
		o.index.Type = store.IndexIVFFlat // the notebook's index; Milvus users expect it
	}
	index, err := o.index.spec()
	if err != nil {
		return err
	}
	var rep *reporter
	emb, err := o.embedder.open(g, o.embedder.config(), true, func(msg string) {
		if rep != nil {
			rep.problem(errors.New(msg))
		} else {
			fmt.Fprintln(cmd.ErrOrStderr(), msg)
		}
	})
	if err != nil {
		return err
	}
	defer emb.close()
	if _, err := lexical.New(o.Analyzer); err != nil && o.Analyzer != "none" {
		return &usageError{fmt.Errorf("--analyzer: %w (or none for no BM25 index)", err)}
	}
	text := store.TextSpec{Analyzer: o.Analyzer}
	embedTitle := false
	switch o.Context {
	case "both":
		text.Fields, embedTitle = []string{"title"}, true
	case "bm25":
		text.Fields = []string{"title"}
	case "embed":
		embedTitle = true
	case "none":
	default:
		return &usageError{fmt.Errorf("unknown --context %q (use both, bm25, embed or none)", o.Context)}
	}

	files, problems := document.Collect(args)
	if len(files) == 0 {
		// Nothing to read: report why, and do not create an empty collection.
		for _, p := range problems {
			fmt.Fprintln(cmd.ErrOrStderr(), p)
		}
		return &usageError{fmt.Errorf("nothing to ingest in %s", strings.Join(args, " "))}
	}
	loadOpts := document.LoadOptions{TextField: o.TextField}
	inputs := make([]ingest.Input, len(files))
	for i, f := range files {
		inputs[i] = ingest.Input{Source: f, Load: func() ([]document.Document, []error, error) {
			return document.Load(f, loadOpts)
		}}
	}

	st, err := g.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()

	rep = newReporter(cmd.ErrOrStderr(), o.JSON)
	for _, p := range problems {
		rep.problem(p)
	}
	sum, err := ingest.Run(cmd.Context(), st, emb.Embedder, inputs, ingest.Options{
		Collection:   g.Collection,
		Splitter:     splitOpts,
		BatchSize:    o.embedder.BatchSize,
		Workers:      o.Workers,
		EmbedWorkers: o.EmbedWorkers,
		Metric:       metric,
		Index:        index,
		TextMaxBytes: o.TextMaxBytes,
		Text:         text,
		EmbedTitle:   embedTitle,
		Set:          set,
		Prune:        o.Prune,
		PruneSource:  pruneScope(args),
		Progress:     rep.progress,
		OnProblem:    rep.problem,
		OnFile:       rep.file,
	})
	rep.stop()
	sum.Skipped += len(problems)
	if err != nil {
		if sum.Files+sum.Skipped == 0 {
			// Failed before touching any file (bad schema, mismatch, locked
			// collection): the error alone says it all.
			if errors.Is(err, store.ErrInvalid) {
				return &usageError{err}
			}
			return err
		}
		printIngestSummary(cmd.OutOrStdout(), rep.out, sum, o.JSON)
		if sum.Added == 0 && sum.Removed == 0 && !sum.Created {
			if errors.Is(err, embed.ErrConfig) {
				return &usageError{err}
			}
			return fmt.Errorf("ingest stopped: %w (nothing was written)", err)
		}
		return fmt.Errorf("ingest stopped: %w (chunks stored so far are kept; run the same command again to resume)", err)
	}
	printIngestSummary(cmd.OutOrStdout(), rep.out, sum, o.JSON)
	if sum.Failed() {
		return &partialError{fmt.Sprintf("%d files and %d items skipped", sum.Skipped, sum.Problems)}
	}
	return nil
}

// defaultContext is what measured best on the JSQuAD dev set (README,
// "Evaluation").
const defaultContext = "both"

func printIngestSummary(stdout, stderr io.Writer, sum ingest.Summary, asJSON bool) {
	if asJSON {
		json.NewEncoder(stdout).Encode(sum)
		return
	}
	w := stdout
	fmt.Fprintf(w, "collection %s: %d files ingested, %d skipped; %d chunks: %d added, %d unchanged, %d removed; %d embedded",
		sum.Collection, sum.Files, sum.Skipped, sum.Chunks, sum.Added, sum.Unchanged, sum.Removed, sum.Embedded)
	if sum.Cached > 0 {
		fmt.Fprintf(w, ", %d from the embedding cache", sum.Cached)
	}
	if sum.Duplicates > 0 {
		fmt.Fprintf(w, "; %d repeated chunks stored once", sum.Duplicates)
	}
	if sum.Problems > 0 {
		fmt.Fprintf(w, "; %d skipped inside files (lines or chunks)", sum.Problems)
	}
	mb := float64(sum.Bytes) / 1e6
	fmt.Fprintf(w, " (%.1f s, %.2f MB)\n", sum.Seconds, mb)
	if sum.Failed() {
		fmt.Fprintln(stderr, "some input was skipped; see the lines above")
	}
}

// pruneScope selects the stored sources --prune may delete: those inside
// the paths given on the command line (a directory, a glob or a file) that
// no longer exist on disk. A file that still exists but was skipped this
// time (say it became unreadable) keeps its chunks.
func pruneScope(args []string) func(string) bool {
	type scope struct {
		dir, glob, file string
	}
	var scopes []scope
	for _, a := range args {
		clean := filepath.ToSlash(filepath.Clean(a))
		switch fi, err := os.Stat(a); {
		case err == nil && fi.IsDir():
			scopes = append(scopes, scope{dir: clean})
		case strings.ContainsAny(a, "*?["):
			scopes = append(scopes, scope{glob: clean})
		default:
			scopes = append(scopes, scope{file: clean})
		}
	}
	return func(source string) bool {
		inScope := false
		for _, s := range scopes {
			switch {
			case s.dir == ".":
				inScope = !strings.HasPrefix(source, "/") && !strings.HasPrefix(source, "../")
			case s.dir != "":
				inScope = strings.HasPrefix(source, s.dir+"/")
			case s.glob != "":
				inScope, _ = path.Match(s.glob, source)
				inScope = inScope || globDoubleStar(s.glob, source)
			default:
				inScope = source == s.file
			}
			if inScope {
				break
			}
		}
		if !inScope {
			return false
		}
		_, err := os.Lstat(filepath.FromSlash(source))
		return errors.Is(err, os.ErrNotExist)
	}
}

// globDoubleStar treats a pattern with "**" as "anything under the part
// before it", which is what users mean by it.
func globDoubleStar(pattern, source string) bool {
	before, _, ok := strings.Cut(pattern, "**")
	return ok && strings.HasPrefix(source, before)
}
