package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
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

func runCollectionList(cmd *cobra.Command, g *globalOptions, asJSON bool) error {
	a, err := g.openApp(cmd, appConfig{readOnly: true, noHistory: true})
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := a.ListCollections(cmd.Context())
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		enc := newJSONEncoder(out)
		for _, d := range list.Collections {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		return nil
	}
	if len(list.Collections) == 0 {
		fmt.Fprintf(out, "no collections in %s; create one with `kura ingest PATH`\n", a.Where())
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROWS\tSOURCES\tDIM\tEMBEDDER\tANALYZER\tCONTEXT\tSEARCH\tSIZE")
	for _, d := range list.Collections {
		ctx, _, _ := strings.Cut(d.Context, " ")
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Rows, d.Sources, d.Dim, d.Embedder, d.Analyzer, ctx, d.SearchType, humanBytes(d.DiskBytes))
	}
	return tw.Flush()
}

func runCollectionDescribe(cmd *cobra.Command, g *globalOptions, name string, asJSON bool) error {
	a, err := g.openApp(cmd, appConfig{readOnly: true, noHistory: true})
	if err != nil {
		return err
	}
	defer a.Close()
	d, err := a.DescribeCollection(cmd.Context(), name)
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

func printDescription(w io.Writer, d api.CollectionInfo) {
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
	srv, err := g.writeServer()
	if err != nil {
		return err
	}
	if srv != nil {
		err = srv.DropCollection(ctx, name)
	} else {
		var a *app.App
		if a, err = g.openApp(cmd, appConfig{noHistory: true}); err != nil {
			return err
		}
		defer a.Close()
		err = a.DropCollection(ctx, name)
	}
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
		return fmt.Errorf("%s (see `kura collection list`)", ae.Message)
	}
	if err != nil {
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
func indexSummary(ix api.Index) string {
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
