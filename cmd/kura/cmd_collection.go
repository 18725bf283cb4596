package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/milvus"
)

func newCollectionCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "collection",
		Aliases: []string{"collections"},
		Short:   "List, describe and drop collections",
	}
	var listJSON, describeJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List collections with their row counts",
		Args:  args(cobra.NoArgs, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCollectionList(cmd, g, listJSON)
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print one JSON object per collection per line")
	describe := &cobra.Command{
		Use:   "describe [NAME]",
		Short: "Show a collection's schema, embedder, rows and size on disk",
		Args:  args(cobra.MaximumNArgs(1), "at most one collection NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := g.Collection
			if len(args) == 1 {
				name = args[0]
			}
			return runCollectionDescribe(cmd, g, name, describeJSON)
		},
	}
	describe.Flags().BoolVar(&describeJSON, "json", false, "print the description as one JSON object")
	drop := &cobra.Command{
		Use:   "drop NAME",
		Short: "Delete a collection and all its rows",
		Args:  args(cobra.ExactArgs(1), "the NAME of the collection to drop"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCollectionDrop(cmd, g, args[0])
		},
	}
	groupCommand(cmd)
	cmd.AddCommand(list, describe, drop)
	return cmd
}

// description is what describe prints; its JSON form is part of the
// command-line contract (name, rows, dim, embedder at least).
type description struct {
	Name         string          `json:"name"`
	Store        string          `json:"store"`
	Rows         int64           `json:"rows"`
	Sources      int64           `json:"sources"`
	Dim          int             `json:"dim"`
	Metric       string          `json:"metric"`
	Index        store.IndexSpec `json:"index"`
	Embedder     string          `json:"embedder"`
	EmbedModel   string          `json:"embed_model"`
	TextMaxBytes int             `json:"text_max_bytes"`
	Analyzer     string          `json:"analyzer"`            // full-text analyzer, "none" without a text index
	Context      string          `json:"context"`             // where chunks carry their title: both, bm25, embed, none
	SearchType   string          `json:"default_search_type"` // what search and eval use without --search-type
	DiskBytes    int64           `json:"disk_bytes"`
	Fields       []schemaField   `json:"fields"`
}

// contextOf is a collection's title context as describe shows it.
func contextOf(s store.Schema) string {
	c, known := ingest.StoredContext(s)
	if !known {
		return c.String() + " (whether titles were embedded is not recorded)"
	}
	return c.String()
}

type schemaField struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Note string `json:"note,omitempty"`
}

func describeCollection(ctx context.Context, g *globalOptions, coll store.Collection) (description, error) {
	stats, err := coll.Stats(ctx)
	if err != nil {
		return description{}, err
	}
	s := coll.Schema()
	if mc, ok := coll.(*milvus.Collection); ok {
		d := description{Name: coll.Name(), Store: g.Store, Rows: stats.Rows, Sources: stats.Sources, Dim: s.Dim, Metric: s.Metric,
			Embedder: s.Embedder.Name, EmbedModel: s.Embedder.Model, TextMaxBytes: s.TextMaxBytes, DiskBytes: -1,
			Analyzer: ingest.StoredAnalyzer(coll), Context: contextOf(s), SearchType: defaultSearchType(coll)}
		for _, f := range mc.Fields() {
			d.Fields = append(d.Fields, schemaField{f.Name, f.Type, f.Note})
		}
		return d, nil
	}
	return description{
		Name:         coll.Name(),
		Store:        g.Store,
		Rows:         stats.Rows,
		Sources:      stats.Sources,
		Dim:          s.Dim,
		Metric:       s.Metric,
		Index:        s.Index,
		Embedder:     s.Embedder.Name,
		EmbedModel:   s.Embedder.Model,
		TextMaxBytes: s.TextMaxBytes,
		Analyzer:     ingest.StoredAnalyzer(coll),
		Context:      contextOf(s),
		SearchType:   defaultSearchType(coll),
		DiskBytes:    stats.DiskBytes,
		Fields: []schemaField{
			{"id", "INT64", "primary key, derived from collection, source and text"},
			{"vector", fmt.Sprintf("FLOAT_VECTOR(%d)", s.Dim), s.Metric},
			{"text", fmt.Sprintf("VARCHAR(%d)", s.TextMaxBytes), "max length in bytes"},
			{"source", "dynamic", "file the chunk came from"},
			{"chunk_index", "dynamic", "position of the chunk in its document"},
			{"title", "dynamic", "document title, when known"},
			{"*", "dynamic", "JSONL fields and --set key=value metadata"},
		},
	}, nil
}

func runCollectionList(cmd *cobra.Command, g *globalOptions, asJSON bool) error {
	ctx := cmd.Context()
	st, err := g.openStore(true)
	if err != nil {
		return err
	}
	defer st.Close()
	names, err := st.List(ctx)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if len(names) == 0 && !asJSON {
		fmt.Fprintf(out, "no collections in %s; create one with `kura ingest PATH`\n", g.absData())
		return nil
	}
	var descs []description
	for _, name := range names {
		coll, err := st.Open(ctx, name)
		if err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
		d, err := describeCollection(ctx, g, coll)
		coll.Close()
		if err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
		descs = append(descs, d)
	}
	if asJSON {
		enc := newJSONEncoder(out)
		for _, d := range descs {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROWS\tSOURCES\tDIM\tEMBEDDER\tANALYZER\tCONTEXT\tSEARCH\tSIZE")
	for _, d := range descs {
		ctx, _, _ := strings.Cut(d.Context, " ")
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Rows, d.Sources, d.Dim, d.Embedder, d.Analyzer, ctx, d.SearchType, humanBytes(d.DiskBytes))
	}
	return tw.Flush()
}

func runCollectionDescribe(cmd *cobra.Command, g *globalOptions, name string, asJSON bool) error {
	ctx := cmd.Context()
	st, err := g.openStore(true)
	if err != nil {
		return err
	}
	defer st.Close()
	coll, err := g.openCollection(ctx, st, name)
	if err != nil {
		return err
	}
	defer coll.Close()
	d, err := describeCollection(ctx, g, coll)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return newJSONEncoder(out).Encode(d)
	}
	printDescription(out, d)
	return nil
}

func printDescription(w io.Writer, d description) {
	fmt.Fprintf(w, "collection  %s (%s store)\n", d.Name, d.Store)
	fmt.Fprintf(w, "rows        %s from %s\n", plural(int(d.Rows), "chunk"), plural(int(d.Sources), "source"))
	model := d.EmbedModel
	if model == "" {
		model = "default model"
	}
	fmt.Fprintf(w, "embedder    %s, %s, %d dimensions\n", d.Embedder, model, d.Dim)
	fmt.Fprintf(w, "metric      %s\n", d.Metric)
	fmt.Fprintf(w, "index       %s\n", indexSummary(d.Index))
	fmt.Fprintf(w, "full text   %s analyzer\n", d.Analyzer)
	fmt.Fprintf(w, "context     %s\n", d.Context)
	fmt.Fprintf(w, "search      %s by default\n", d.SearchType)
	if d.DiskBytes >= 0 {
		fmt.Fprintf(w, "on disk     %s\n", humanBytes(d.DiskBytes))
	} else {
		fmt.Fprintf(w, "on disk     not reported by %s\n", d.Store)
	}
	fmt.Fprintln(w, "schema")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range d.Fields {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Name, f.Type, f.Note)
	}
	tw.Flush()
}

func runCollectionDrop(cmd *cobra.Command, g *globalOptions, name string) error {
	ctx := cmd.Context()
	st, err := g.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Drop(ctx, name); err != nil {
		if errIsNotFound(err) {
			return fmt.Errorf("collection %q does not exist in %s (see `kura collection list`)", name, g.absData())
		}
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "dropped collection %s\n", name)
	return nil
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < 0 {
		return "-" // unknown (Milvus does not report it)
	}
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// indexSummary is the index line of describe: "HNSW M=16 efConstruction=200 +SQ8".
func indexSummary(ix store.IndexSpec) string {
	s := ix.Type
	for _, k := range []string{"nlist", "M", "efConstruction"} {
		if v, ok := ix.Params[k]; ok {
			s += fmt.Sprintf(" %s=%d", k, v)
		}
	}
	if ix.SQ8 {
		s += " +SQ8"
	}
	return s
}
