package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	Verbose      bool
}

func newIngestCommand(g *globalOptions) *cobra.Command {
	var o ingestOptions
	cmd := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Load, split, embed and store files, directories and globs",
		Long: `Ingest files (` + strings.Join(document.Extensions(), " ") + `), directories (recursively) and
glob patterns into a collection. Re-running on unchanged files adds and embeds
nothing; a changed file has exactly its own chunks replaced, and changed
metadata (front matter, --set) is rewritten without embedding again.

A file is stored under its path relative to the directory holding the data
directory (for the default ./kura-data, the directory kura runs in), with
symbolic links resolved; files outside it under their absolute path. So the
same file is the same chunks however its path is typed.

--metric, --index (and its parameters), --text-max-bytes, --analyzer,
--context and --dim choose a new collection's settings; given for an
existing collection they must match it. The embedder defaults to the
collection's own.

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
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "list every file a directory walk passed over because kura does not read its type")
	f.StringVar(&o.Metric, "metric", "COSINE", "metric of a new collection: COSINE, IP or L2")
	f.IntVar(&o.TextMaxBytes, "text-max-bytes", store.DefaultTextMaxBytes, "byte limit of the text field of a new collection (Milvus VARCHAR max_length)")
	f.IntVar(&o.Workers, "workers", 0, "files loaded and split in parallel (default: number of CPUs)")
	f.IntVar(&o.EmbedWorkers, "embed-concurrency", 4, "embedding batches in flight")
	f.StringVar(&o.Analyzer, "analyzer", lexical.DefaultAnalyzer, "full-text (BM25) analyzer of a new collection: "+strings.Join(lexical.Analyzers, ", ")+", or none")
	f.StringVar(&o.Context, "context", defaultContext, "document title carried by each chunk: both (into BM25 and the embedded text), bm25, embed or none")
	return cmd
}

func runIngest(cmd *cobra.Command, g *globalOptions, o *ingestOptions, args []string) error {
	flags := cmd.Flags()
	o.embedder.resolve(flags)
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
	if g.Store == "milvus" && !flags.Changed("index") {
		o.index.Type = store.IndexIVFFlat // the notebook's index; Milvus users expect it
	}
	index, err := o.index.spec()
	if err != nil {
		return err
	}
	if _, err := lexical.New(o.Analyzer); err != nil && o.Analyzer != "none" {
		return &usageError{fmt.Errorf("--analyzer: %w (or none for no BM25 index)", err)}
	}
	titleContext, err := ingest.ParseContext(o.Context)
	if err != nil {
		return &usageError{fmt.Errorf("--context: %w", err)}
	}
	text := store.TextSpec{Analyzer: o.Analyzer}
	if titleContext.BM25 {
		text.Fields = []string{"title"}
	}

	collected := document.Collect(args)
	if len(collected.Files) == 0 {
		// Nothing to read: report why, and do not create an empty collection.
		for _, p := range collected.Problems {
			fmt.Fprintln(cmd.ErrOrStderr(), p)
		}
		printUnsupported(cmd.ErrOrStderr(), collected, o.Verbose)
		return &usageError{fmt.Errorf("nothing to ingest in %s", strings.Join(args, " "))}
	}
	namer, err := document.NewNamer(g.sourceRoot())
	if err != nil {
		return err
	}
	loadOpts := document.LoadOptions{TextField: o.TextField}
	inputs := make([]ingest.Input, len(collected.Files))
	for i, f := range collected.Files {
		source, err := namer.Source(f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		inputs[i] = ingest.Input{Source: source, Aliases: namer.Aliases(f), Load: func() ([]document.Document, []error, error) {
			return document.Load(f, loadOpts)
		}}
	}

	st, err := g.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()

	var rep *reporter
	note := func(msg string) {
		if rep != nil {
			rep.problem(errors.New(msg))
		} else {
			fmt.Fprintln(cmd.ErrOrStderr(), msg)
		}
	}
	emb, err := ingestEmbedder(cmd.Context(), g, st, &o.embedder, o.embedder.explicit(flags), note)
	if err != nil {
		return err
	}
	defer emb.close()

	rep = newReporter(cmd.ErrOrStderr(), o.JSON)
	for _, p := range collected.Problems {
		rep.problem(p)
	}
	sum, err := ingest.Run(cmd.Context(), st, emb.Embedder, inputs, ingest.Options{
		Collection:   g.Collection,
		Splitter:     splitOpts,
		BatchSize:    o.embedder.BatchSize,
		Workers:      o.Workers,
		EmbedWorkers: o.EmbedWorkers,
		Explicit:     explicitSettings(flags),
		Metric:       metric,
		Index:        index,
		TextMaxBytes: o.TextMaxBytes,
		Text:         text,
		EmbedTitle:   titleContext.Embed,
		Set:          set,
		Prune:        o.Prune,
		PruneSource:  pruneScope(args, namer),
		Progress:     rep.progress,
		OnProblem:    rep.problem,
		OnFile:       rep.file,
	})
	rep.stop()
	sum.Skipped += len(collected.Problems)
	sum.Unsupported = collected.Unsupported
	if sum.Unsupported == nil {
		sum.Unsupported = []string{}
	}
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
		if sum.Added == 0 && sum.Updated == 0 && sum.Removed == 0 && !sum.Created {
			if errors.Is(err, embed.ErrConfig) {
				return &usageError{err}
			}
			return fmt.Errorf("ingest stopped: %w (nothing was written)", err)
		}
		return fmt.Errorf("ingest stopped: %w (chunks stored so far are kept; run the same command again to resume)", err)
	}
	if !o.JSON {
		printUnsupported(cmd.ErrOrStderr(), collected, o.Verbose)
	}
	printIngestSummary(cmd.OutOrStdout(), rep.out, sum, o.JSON)
	if sum.Failed() {
		return &partialError{fmt.Sprintf("%s and %s skipped", plural(sum.Skipped, "file"), plural(sum.Problems, "item"))}
	}
	return nil
}

// explicitSettings are the new-collection settings the user gave on the
// command line; only those must match an existing collection.
func explicitSettings(flags *pflag.FlagSet) []ingest.Setting {
	var out []ingest.Setting
	for flag, set := range settingFlags {
		if flags.Changed(flag) {
			out = append(out, set)
		}
	}
	slices.Sort(out)
	return out
}

// settingFlags maps ingest flags to the collection settings they choose.
var settingFlags = map[string]ingest.Setting{
	"metric":          ingest.SettingMetric,
	"index":           ingest.SettingIndex,
	"nlist":           ingest.SettingNList,
	"m":               ingest.SettingM,
	"ef-construction": ingest.SettingEfConstruction,
	"sq8":             ingest.SettingSQ8,
	"text-max-bytes":  ingest.SettingTextMaxBytes,
	"analyzer":        ingest.SettingAnalyzer,
	"context":         ingest.SettingContext,
	"dim":             ingest.SettingDim,
}

// ingestEmbedder opens the embedder an ingest uses: the one the user
// named, else the existing collection's own (so a re-ingest needs no
// embedder flags), else the default.
func ingestEmbedder(ctx context.Context, g *globalOptions, st store.Store, o *embedderOptions, explicit bool, note func(string)) (*openedEmbedder, error) {
	cfg := o.config()
	if !explicit {
		coll, err := st.Open(ctx, g.Collection)
		switch {
		case err == nil:
			cfg = o.collectionConfig(coll.Schema())
			coll.Close()
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return o.open(g, cfg, true, note)
}

// defaultContext is what measured best on the JSQuAD dev set (README,
// "Evaluation").
const defaultContext = "both"

func printIngestSummary(stdout, stderr io.Writer, sum ingest.Summary, asJSON bool) {
	if asJSON {
		newJSONEncoder(stdout).Encode(sum)
		return
	}
	w := stdout
	fmt.Fprintf(w, "collection %s: %s ingested, %d skipped; %s: %d added, %d updated, %d unchanged, %d removed; %d embedded",
		sum.Collection, plural(sum.Files, "file"), sum.Skipped, plural(sum.Chunks, "chunk"), sum.Added, sum.Updated, sum.Unchanged, sum.Removed, sum.Embedded)
	if sum.Cached > 0 {
		fmt.Fprintf(w, ", %d from the embedding cache", sum.Cached)
	}
	if sum.Duplicates > 0 {
		fmt.Fprintf(w, "; %s stored once", plural(sum.Duplicates, "repeated chunk"))
	}
	if sum.Problems > 0 {
		fmt.Fprintf(w, "; %d skipped inside files (lines or chunks)", sum.Problems)
	}
	if sum.Warnings > 0 {
		fmt.Fprintf(w, "; %s", plural(sum.Warnings, "warning"))
	}
	mb := float64(sum.Bytes) / 1e6
	fmt.Fprintf(w, " (%.1f s, %.2f MB)\n", sum.Seconds, mb)
	if sum.Failed() {
		fmt.Fprintln(stderr, "some input was skipped; see the lines above")
	}
}

// printUnsupported says which files directory walks passed over because
// kura does not read their type: one line by extension, or every file
// with --verbose.
func printUnsupported(w io.Writer, c document.Collected, verbose bool) {
	if len(c.Unsupported) == 0 {
		return
	}
	if verbose {
		for _, p := range c.Unsupported {
			fmt.Fprintf(w, "%s: not read (kura reads %s)\n", p, strings.Join(document.Extensions(), " "))
		}
		return
	}
	var parts []string
	for _, e := range c.UnsupportedByExt() {
		ext := e.Ext
		if ext == "" {
			ext = "without extension"
		}
		parts = append(parts, fmt.Sprintf("%d %s (e.g. %s)", e.Count, ext, e.Example))
	}
	fmt.Fprintf(w, "passed over %s of types kura does not read: %s; --verbose lists them\n",
		plural(len(c.Unsupported), "file"), strings.Join(parts, ", "))
}

// pruneScope selects the stored sources --prune may delete: those
// [document.Scope] puts inside the paths given on the command line (what
// Collect would have collected) that no longer exist on disk. A file that
// still exists but was skipped this time (say it became unreadable) keeps
// its chunks.
func pruneScope(args []string, namer *document.Namer) func(string) bool {
	inScope := document.Scope(args)
	return func(source string) bool {
		p := namer.Path(source)
		if !inScope(p) {
			return false
		}
		_, err := os.Lstat(p)
		return errors.Is(err, os.ErrNotExist)
	}
}
