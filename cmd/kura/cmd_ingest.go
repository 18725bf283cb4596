package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/app"
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
	f.StringVar(&o.Context, "context", app.DefaultContext, "document title carried by each chunk: both (into BM25 and the embedded text), bm25, embed or none")
	g.registerTraceFlag(f)
	return cmd
}

func runIngest(cmd *cobra.Command, g *globalOptions, o *ingestOptions, args []string) error {
	flags := cmd.Flags()
	o.embedder.resolve(flags)
	if err := o.embedder.validate(); err != nil {
		return err
	}
	splitOpts, err := o.splitter.options()
	if err != nil {
		return err
	}
	set, err := app.ParseSet(o.Set)
	if err != nil {
		return flagError(err)
	}
	req := app.IngestRequest{
		Collection:   g.Collection,
		Settings:     o.settings(flags),
		Explicit:     explicitSettings(flags),
		Splitter:     splitOpts,
		Set:          set,
		TextField:    o.TextField,
		Paths:        args,
		Prune:        o.Prune,
		Workers:      o.Workers,
		EmbedWorkers: o.EmbedWorkers,
		BatchSize:    o.embedder.BatchSize,
	}
	srv, err := g.writeServer()
	if err != nil {
		return err
	}
	if srv != nil {
		return ingestThroughServer(cmd, srv, o, req)
	}

	var rep *reporter
	a, err := g.openApp(cmd, appConfig{
		embedding: o.embedder.options(flags), providers: o.embedder.providers, trace: true, noHistory: true,
		notify: func(msg string) {
			if rep != nil {
				rep.problem(errors.New(msg))
			} else {
				fmt.Fprintln(cmd.ErrOrStderr(), msg)
			}
		},
	})
	if err != nil {
		return err
	}
	defer a.Close()

	rep = newReporter(cmd.ErrOrStderr(), o.JSON)
	req.Progress, req.OnProblem, req.OnFile = rep.progress, rep.problem, rep.file
	res, err := a.Ingest(cmd.Context(), req)
	rep.stop()
	sum := res.Summary
	if errors.Is(err, app.ErrNothingToIngest) {
		// Nothing to read: the problems said why; no collection was created.
		printUnsupported(cmd.ErrOrStderr(), res.Collected, o.Verbose)
		return &usageError{err}
	}
	if err != nil {
		if sum.Files+sum.Skipped == 0 {
			// Failed before touching any file (bad settings, mismatch,
			// locked collection): the error alone says it all.
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
		printUnsupported(cmd.ErrOrStderr(), res.Collected, o.Verbose)
	}
	printIngestSummary(cmd.OutOrStdout(), rep.out, sum, o.JSON)
	if sum.Failed() {
		return &partialError{fmt.Sprintf("%s and %s skipped", plural(sum.Skipped, "file"), plural(sum.Problems, "item"))}
	}
	return nil
}

// settings are the new-collection settings the user gave; the others are
// left to the application's defaults.
func (o *ingestOptions) settings(flags *pflag.FlagSet) app.CollectionSettings {
	var s app.CollectionSettings
	if flags.Changed("metric") {
		s.Metric = o.Metric
	}
	if flags.Changed("text-max-bytes") {
		s.TextMaxBytes = o.TextMaxBytes
		if s.TextMaxBytes == 0 {
			s.TextMaxBytes = -1 // an explicit 0 is out of range, not "the default"
		}
	}
	if flags.Changed("analyzer") {
		s.Analyzer = o.Analyzer
	}
	if flags.Changed("context") {
		s.Context = o.Context
	}
	o.index.apply(flags, &s)
	return s
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

func printIngestSummary(stdout, stderr io.Writer, sum ingest.Summary, asJSON bool) {
	if sum.Unsupported == nil {
		sum.Unsupported = []string{}
	}
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
