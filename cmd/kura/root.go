package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/tracing"
)

// globalOptions are the flags every command shares. Each has an
// environment variable; precedence is flag > environment (.env included) >
// default. They also hold what a command sets up for the whole run and
// tears down at its end: tracing.
type globalOptions struct {
	DataDir    string
	Collection string
	Store      string
	milvus     milvusOptions
	ctx        context.Context // the command's, for connecting to a server

	// Server is the URL of a `kura serve` that ingest and collection drop
	// go through (--server, KURA_SERVER); empty: they write directly.
	Server string

	// TraceContent is --trace-content of the commands that trace.
	TraceContent bool
	tracer       *tracing.Provider
}

const (
	defaultDataDir    = "kura-data"
	defaultCollection = "kura"
)

// newRootCommand builds the command tree. The caller ends the run with
// g.finish, which flushes the traces.
func newRootCommand() (*cobra.Command, *globalOptions) {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "kura",
		Short: "Turn documents into a searchable knowledge base",
		Long: `kura turns a folder of documents (Japanese and English) into a searchable,
question-answerable knowledge base: collect → load → split → embed → store → search.
It runs offline on an embedded store by default.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			g.ctx = cmd.Context()
			return g.resolve(cmd.Flags())
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.DataDir, "data", defaultDataDir, "data directory of the embedded store (env KURA_DATA)")
	pf.StringVar(&g.Collection, "collection", defaultCollection, "collection name (env COLLECTION_NAME)")
	pf.StringVar(&g.Store, "store", "local", "store backend: local or milvus (env KURA_STORE; MILVUS_URI selects milvus)")
	g.milvus.register(pf)
	pf.StringVar(&g.Server, "server", "", "`URL` of a kura serve (on this machine or another) that ingest and collection drop upload to, with the key in KURA_API_KEY (env KURA_SERVER); without it they write to the store directly, also while a local kura serve runs")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
	})

	root.AddCommand(
		newIngestCommand(g),
		newSplitCommand(),
		newSearchCommand(g),
		newAskCommand(g),
		newChatCommand(g),
		newEvalCommand(g),
		newFeedbackCommand(g),
		newTracesCommand(g),
		newCollectionCommand(g),
		newQuickstartCommand(g),
		newCacheCommand(g),
		newVersionCommand(),
		newServeCommand(g),
		newCrawlCommand(g),
		newBackupCommand(g),
		newRestoreCommand(g),
		newHealthcheckCommand(),
	)
	root.SetHelpCommand(newHelpCommand())
	setVersion(root)
	groupCommand(root)
	return root, g
}

// groupCommand makes a command that only holds subcommands refuse an
// unknown one with a usage error (exit 2) and a suggestion, instead of
// printing its help and succeeding; without arguments it prints its help.
func groupCommand(cmd *cobra.Command) {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() && c.Name() != "completion" {
				names = append(names, c.Name())
			}
		}
		msg := fmt.Sprintf("unknown command %q for '%s'", args[0], cmd.CommandPath())
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean '%s %s'?", cmd.CommandPath(), s[0])
		} else {
			msg += fmt.Sprintf(" (its commands: %s; see '%s --help')", strings.Join(names, ", "), cmd.CommandPath())
		}
		return &usageError{errors.New(msg)}
	}
}

// resolve applies environment variables to flags the user did not set.
func (g *globalOptions) resolve(fs *pflag.FlagSet) error {
	fromEnv(fs, "data", &g.DataDir, "KURA_DATA")
	fromEnv(fs, "collection", &g.Collection, "COLLECTION_NAME")
	fromEnv(fs, "store", &g.Store, "KURA_STORE")
	fromEnv(fs, "server", &g.Server, "KURA_SERVER")
	if !fs.Changed("store") && os.Getenv("KURA_STORE") == "" && (os.Getenv("MILVUS_URI") != "" || fs.Changed("milvus-uri")) {
		g.Store = "milvus"
	}
	if err := g.milvus.resolve(fs); err != nil {
		return err
	}
	if g.Store != "local" && g.Store != "milvus" {
		return &usageError{fmt.Errorf("unknown --store %q (use local or milvus)", g.Store)}
	}
	if err := store.ValidateName(g.Collection); err != nil {
		return &usageError{fmt.Errorf("--collection: %w", err)}
	}
	return nil
}

// args wraps a cobra argument check so that a wrong number of arguments
// is a usage error (exit 2) that says what the command takes.
func args(check cobra.PositionalArgs, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return &usageError{fmt.Errorf("'%s' takes %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())}
		}
		return nil
	}
}

func fromEnv(fs *pflag.FlagSet, flag string, dst *string, env string) {
	if fs.Changed(flag) {
		return
	}
	if v, ok := os.LookupEnv(env); ok && v != "" {
		*dst = v
	}
}

// indexOptions choose a new collection's vector index (ingest) with
// Milvus's names and defaults.
type indexOptions struct {
	Type           string
	NList          int
	M              int
	EfConstruction int
	SQ8            bool
}

func (o *indexOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.Type, "index", "flat", "vector index of a new collection: flat (exact), ivf_flat or hnsw")
	fs.IntVar(&o.NList, "nlist", 128, "IVF_FLAT: number of clusters")
	fs.IntVar(&o.M, "m", 16, "HNSW: links per node (M)")
	fs.IntVar(&o.EfConstruction, "ef-construction", 200, "HNSW: candidate list size while building (efConstruction)")
	fs.BoolVar(&o.SQ8, "sq8", false, "store 8-bit quantised vectors in the index, re-rank with floats (embedded store)")
}

// apply sets the index settings the user gave on the command line; the
// others keep the application's defaults (IVF_FLAT on Milvus, FLAT on the
// embedded store, and the parameters' usual values).
func (o *indexOptions) apply(fs *pflag.FlagSet, s *app.CollectionSettings) {
	if fs.Changed("index") {
		s.Index = o.Type
	}
	if fs.Changed("nlist") {
		s.NList = o.NList
	}
	if fs.Changed("m") {
		s.M = o.M
	}
	if fs.Changed("ef-construction") {
		s.EfConstruction = o.EfConstruction
	}
	s.SQ8 = o.SQ8
}

// splitterOptions select and configure the splitter (ingest, split).
type splitterOptions struct {
	Kind       string
	Size       int
	Overlap    int
	Separator  string
	Separators string
}

func (o *splitterOptions) register(fs *pflag.FlagSet) {
	d := split.DefaultOptions()
	fs.StringVar(&o.Kind, "splitter", d.Kind, "splitter: ja (Japanese-aware, bounded), recursive or character (LangChain-exact)")
	fs.IntVar(&o.Size, "chunk-size", d.ChunkSize, "maximum chunk length in characters (Unicode code points)")
	fs.IntVar(&o.Overlap, "chunk-overlap", d.ChunkOverlap, "characters shared by neighbouring chunks")
	fs.StringVar(&o.Separator, "separator", d.Separator, `separator of the character splitter (escapes like "\n" are understood)`)
	fs.StringVar(&o.Separators, "separators", "", `separators of the recursive splitter, a JSON array (default ["\n\n","\n"," ",""])`)
}

func (o *splitterOptions) options() (split.Options, error) {
	opts := split.Options{
		Kind:         o.Kind,
		ChunkSize:    o.Size,
		ChunkOverlap: o.Overlap,
		Separator:    unescape(o.Separator),
	}
	if o.Separators != "" {
		if err := json.Unmarshal([]byte(o.Separators), &opts.Separators); err != nil {
			return opts, &usageError{fmt.Errorf(`--separators must be a JSON array of strings such as ["\n\n","\n","。",""]: %v`, err)}
		}
	}
	if _, err := split.New(opts); err != nil {
		return opts, flagError(err)
	}
	return opts, nil
}

// unescape turns the two-character sequences a shell passes through
// literally ("\n", "\t") into the characters users mean. A string that is
// not a valid Go-quoted body is used as is.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	if u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`); err == nil {
		return u
	}
	return s
}

// absData is the data directory as an absolute path, for messages; on
// Milvus, the server and database.
func (g *globalOptions) absData() string {
	if g.Store == "milvus" {
		return g.milvus.where()
	}
	if abs, err := filepath.Abs(g.DataDir); err == nil {
		return abs
	}
	return g.DataDir
}
