package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/embed"
)

func newCacheCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Inspect or clear the embedding cache",
		Long: `kura keeps every vector a remote embedder returned in DATA/cache/embeddings.db,
keyed by provider, model, dimension, truncation, input type and the text's
SHA-256. Re-ingesting with another chunking sends only the chunks whose text
changed. The offline hash embedder is not cached.`,
	}
	var statsJSON bool
	stats := &cobra.Command{
		Use:   "stats",
		Short: "Show the cached vectors per provider and model",
		Args:  args(cobra.NoArgs, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCacheStats(cmd, g, statsJSON)
		},
	}
	stats.Flags().BoolVar(&statsJSON, "json", false, "print one JSON object")
	var only string
	clear := &cobra.Command{
		Use:   "clear",
		Short: "Delete the cached vectors (all, or one provider's with --embedder)",
		Args:  args(cobra.NoArgs, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCacheClear(cmd, g, only)
		},
	}
	clear.Flags().StringVar(&only, "embedder", "", "clear only this provider's vectors (e.g. cohere)")
	groupCommand(cmd)
	cmd.AddCommand(stats, clear)
	return cmd
}

type cacheStats struct {
	Path      string             `json:"path"`
	FileBytes int64              `json:"file_bytes"`
	Entries   int                `json:"entries"`
	Spaces    []embed.SpaceStats `json:"spaces"`
}

func runCacheStats(cmd *cobra.Command, g *globalOptions, asJSON bool) error {
	path := cachePath(g)
	out := cmd.OutOrStdout()
	st := cacheStats{Path: path, Spaces: []embed.SpaceStats{}}
	c, err := embed.OpenCache(path, true)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if !asJSON {
			fmt.Fprintf(out, "no embedding cache at %s (the first ingest with a remote embedder creates it)\n", path)
			return nil
		}
	case err != nil:
		return err
	default:
		defer c.Close()
		if st.Spaces, err = c.Stats(); err != nil {
			return err
		}
		if fi, err := os.Stat(path); err == nil {
			st.FileBytes = fi.Size()
		}
	}
	for _, s := range st.Spaces {
		st.Entries += s.Entries
	}
	if asJSON {
		return newJSONEncoder(out).Encode(st)
	}
	fmt.Fprintf(out, "%s: %s, %s on disk\n", path, plural(st.Entries, "vector"), humanBytes(st.FileBytes))
	if len(st.Spaces) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tMODEL\tSETTINGS\tVECTORS\tDIM\tSIZE")
	for _, s := range st.Spaces {
		parts := strings.SplitN(s.Space, "|", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", parts[0], parts[1], strings.ReplaceAll(parts[2], "|", " "), s.Entries, s.Dim, humanBytes(s.Bytes))
	}
	return tw.Flush()
}

func runCacheClear(cmd *cobra.Command, g *globalOptions, only string) error {
	path := cachePath(g)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(cmd.OutOrStdout(), "no embedding cache at %s; nothing to clear\n", path)
		return nil
	}
	c, err := embed.OpenCache(path, false)
	if err != nil {
		return fmt.Errorf("%w; wait for the running ingest to finish", err)
	}
	prefix := ""
	if only != "" {
		prefix = strings.ToLower(only) + "|"
	}
	n, err := c.Clear(prefix)
	c.Close()
	if err != nil {
		return err
	}
	if only == "" {
		// Deleted buckets leave free pages behind; removing the file gives
		// the space back. Holding the lock above proved nobody uses it.
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "removed %s from %s\n", plural(n, "cached vector"), path)
	return nil
}
