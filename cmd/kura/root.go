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

	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
	"github.com/kura-rag/kura/internal/store/milvus"
)

// globalOptions are the flags every command shares. Each has an
// environment variable; precedence is flag > environment (.env included) >
// default.
type globalOptions struct {
	DataDir    string
	Collection string
	Store      string
	milvus     milvusOptions
	ctx        context.Context // the command's, for connecting to a server
}

const (
	defaultDataDir    = "kura-data"
	defaultCollection = "kura"
)

func newRootCommand() *cobra.Command {
	var g globalOptions
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
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
	})

	root.AddCommand(
		newIngestCommand(&g),
		newSplitCommand(),
		newSearchCommand(&g),
		newEvalCommand(&g),
		newCollectionCommand(&g),
		newQuickstartCommand(&g),
		newCacheCommand(&g),
		newVersionCommand(),
		newServeCommand(&g),
		newCrawlCommand(&g),
		newHealthcheckCommand(),
	)
	setVersion(root)
	groupCommand(root)
	return root
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

// openStore opens the selected backend. Read-only opens let searches run
// beside each other.
func (g *globalOptions) openStore(readOnly bool) (store.Store, error) {
	switch g.Store {
	case "local":
		return local.Open(g.DataDir, local.Options{ReadOnly: readOnly})
	default:
		ctx := g.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		return milvus.Open(ctx, g.milvus.options())
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

func (o *indexOptions) spec() (store.IndexSpec, error) {
	spec := store.IndexSpec{Type: strings.ToUpper(o.Type), SQ8: o.SQ8}
	switch spec.Type {
	case store.IndexFlat:
	case store.IndexIVFFlat:
		if o.NList < 1 || o.NList > 65536 {
			return spec, &usageError{fmt.Errorf("--nlist %d is out of range 1..65536", o.NList)}
		}
		spec.Params = map[string]int{"nlist": o.NList}
	case store.IndexHNSW:
		if o.M < 2 || o.M > 2048 {
			return spec, &usageError{fmt.Errorf("--m %d is out of range 2..2048", o.M)}
		}
		if o.EfConstruction < 1 {
			return spec, &usageError{fmt.Errorf("--ef-construction %d must be positive", o.EfConstruction)}
		}
		spec.Params = map[string]int{"M": o.M, "efConstruction": o.EfConstruction}
	default:
		return spec, &usageError{fmt.Errorf("unknown --index %q (use flat, ivf_flat or hnsw)", o.Type)}
	}
	if spec.SQ8 && spec.Type == store.IndexFlat {
		return spec, &usageError{fmt.Errorf("--sq8 needs --index hnsw or ivf_flat")}
	}
	return spec, nil
}

// searchParams are per-query index parameters (search).
type searchParams struct {
	NProbe int
	Ef     int
}

func (o *searchParams) register(fs *pflag.FlagSet) {
	fs.IntVar(&o.NProbe, "nprobe", 0, "IVF_FLAT: clusters searched per query (default: the index's)")
	fs.IntVar(&o.Ef, "ef", 0, "HNSW: candidate list size per query (default: the index's)")
}

func (o *searchParams) params() map[string]int {
	p := map[string]int{}
	if o.NProbe > 0 {
		p["nprobe"] = o.NProbe
	}
	if o.Ef > 0 {
		p["ef"] = o.Ef
	}
	if len(p) == 0 {
		return nil
	}
	return p
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
		return opts, &usageError{err}
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

// parseSet turns --set key=value flags into metadata. Values that read as
// JSON numbers or booleans are stored as such, so filters like
// `year > 2020` work; everything else is a string.
func parseSet(pairs []string) (map[string]any, error) {
	out := make(map[string]any, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &usageError{fmt.Errorf("--set %q: want key=value", p)}
		}
		if !validFieldName(k) {
			return nil, &usageError{fmt.Errorf("--set %q: field names are letters, digits and _, starting with a letter or _", p)}
		}
		if k == "id" || k == "text" || k == "vector" || k == "source" || k == "chunk_index" {
			return nil, &usageError{fmt.Errorf("--set %q: %s is set by kura itself", p, k)}
		}
		out[k] = scalar(v)
	}
	return out, nil
}

func scalar(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXnN") {
		return f
	}
	return v
}

func validFieldName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// sourceRoot is the directory sources are named relative to (see
// document.Namer): the one holding the data directory.
func (g *globalOptions) sourceRoot() string {
	abs, err := filepath.Abs(g.DataDir)
	if err != nil {
		return "."
	}
	return filepath.Dir(abs)
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

// openCollection opens an existing collection, with a next step when it
// does not exist.
func (g *globalOptions) openCollection(ctx context.Context, st store.Store, name string) (store.Collection, error) {
	coll, err := st.Open(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("collection %q does not exist in %s; create it with `kura ingest PATH --collection %s` or see `kura collection list`", name, g.absData(), name)
	}
	return coll, err
}
