package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/client"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/ingest"
)

// Uploads are split into jobs of at most this many files and bytes, well
// under a server's default limits (1000 files, 256 MiB).
const (
	uploadMaxFiles = 500
	uploadMaxBytes = 64 << 20
)

// serverOnlyFlags are ingest flags the upload API does not take: a
// collection's settings and the embedder are the server's, and the
// server does the work with its own workers.
var serverOnlyFlags = []string{
	"embedder", "embed-model", "dim", "embed-endpoint", "truncate", "embed-timeout", "embed-retries", "embed-rps",
	"no-cache", "oci-auth", "batch-size", "embed-concurrency", "workers", "metric", "text-max-bytes", "analyzer",
	"context", "index", "nlist", "m", "ef-construction", "sq8", "separator", "separators", "prune",
}

// ingestThroughServer ingests the files req names through the `kura
// serve` that --server names (kura ingest --server URL): they are uploaded
// (POST /api/v1/ingest) and the job is followed (GET
// /api/v1/ingest/{id}/events), with the same problem lines, summary and
// exit status as a direct ingest. The server stores each file's chunks
// under the source "upload/<file name>".
func ingestThroughServer(cmd *cobra.Command, srv *client.Client, o *ingestOptions, req app.IngestRequest) error {
	flags := cmd.Flags()
	var refused []string
	for _, name := range serverOnlyFlags {
		if flags.Changed(name) {
			refused = append(refused, "--"+name)
		}
	}
	if len(refused) > 0 {
		return &usageError{fmt.Errorf("%s cannot be applied through kura serve at %s: the server uses the collection's settings and its own embedder; leave them out, or ingest directly on the server's machine (without --server)",
			strings.Join(refused, ", "), srv.URL())}
	}
	stderr := cmd.ErrOrStderr()
	collected := document.Collect(req.Paths)
	for _, p := range collected.Problems {
		fmt.Fprintln(stderr, problemText(p))
	}
	if len(collected.Files) == 0 {
		printUnsupported(stderr, collected, o.Verbose)
		return &usageError{fmt.Errorf("nothing to ingest in %s", strings.Join(req.Paths, " "))}
	}
	// The server names sources by file name alone: two files of one name
	// would overwrite each other's chunks.
	seen := map[string]string{}
	for _, f := range collected.Files {
		base := filepath.Base(f)
		if other, ok := seen[base]; ok {
			return &usageError{fmt.Errorf("%s and %s have the same file name, and kura serve stores uploads by file name (%s); ingest them in separate runs into different collections, or ingest directly on the server's machine (without --server)",
				other, f, app.UploadSource(base))}
		}
		seen[base] = f
	}
	opts := api.IngestOptions{
		Collection: req.Collection, Set: o.Set, Splitter: req.Splitter.Kind,
		ChunkSize: req.Splitter.ChunkSize, ChunkOverlap: req.Splitter.ChunkOverlap, TextField: o.TextField,
	}
	if !flags.Changed("text-field") {
		opts.TextField = ""
	}

	ctx := cmd.Context()
	sum := ingest.Summary{Collection: req.Collection, Unsupported: collected.Unsupported}
	sum.Skipped = len(collected.Problems)
	for _, part := range uploadParts(collected.Files) {
		job, err := srv.Ingest(ctx, opts, part)
		if err != nil {
			return serverIngestError(srv, sum, err)
		}
		final, err := srv.WatchIngest(ctx, job.JobID, func(ev api.Event) {
			if p, ok := ev.(api.Problem); ok {
				fmt.Fprintln(stderr, p.Message)
			}
		})
		if err != nil {
			return serverIngestError(srv, sum, err)
		}
		if final.Summary != nil {
			addSummary(&sum, ingest.Summary(*final.Summary))
		}
		if final.State != api.JobDone {
			printIngestSummary(cmd.OutOrStdout(), stderr, sum, o.JSON)
			if final.Error != nil {
				return fmt.Errorf("ingest through %s stopped: %w (chunks stored so far are kept; run the same command again to resume)", srv.URL(), final.Error)
			}
			return fmt.Errorf("ingest through %s ended %s", srv.URL(), final.State)
		}
	}
	if !o.JSON {
		printUnsupported(stderr, collected, o.Verbose)
	}
	printIngestSummary(cmd.OutOrStdout(), stderr, sum, o.JSON)
	if sum.Failed() {
		return &partialError{fmt.Sprintf("%s and %s skipped", plural(sum.Skipped, "file"), plural(sum.Problems, "item"))}
	}
	return nil
}

func serverIngestError(srv *client.Client, sum ingest.Summary, err error) error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return err
	}
	if sum.Files > 0 {
		return fmt.Errorf("ingest through %s stopped: %w (files ingested so far are kept)", srv.URL(), err)
	}
	return fmt.Errorf("ingest through %s: %w", srv.URL(), err)
}

// uploadParts splits files into uploads of bounded count and size.
func uploadParts(files []string) [][]string {
	var parts [][]string
	var cur []string
	var size int64
	for _, f := range files {
		var n int64
		if fi, err := os.Stat(f); err == nil {
			n = fi.Size()
		}
		if len(cur) > 0 && (len(cur) == uploadMaxFiles || size+n > uploadMaxBytes) {
			parts = append(parts, cur)
			cur, size = nil, 0
		}
		cur = append(cur, f)
		size += n
	}
	if len(cur) > 0 {
		parts = append(parts, cur)
	}
	return parts
}

// addSummary adds the counts of one job's summary to a run's.
func addSummary(dst *ingest.Summary, s ingest.Summary) {
	if s.Collection != "" {
		dst.Collection = s.Collection
	}
	dst.Files += s.Files
	dst.Skipped += s.Skipped
	dst.Problems += s.Problems
	dst.Warnings += s.Warnings
	dst.Documents += s.Documents
	dst.Chunks += s.Chunks
	dst.Duplicates += s.Duplicates
	dst.Added += s.Added
	dst.Updated += s.Updated
	dst.Unchanged += s.Unchanged
	dst.Removed += s.Removed
	dst.Embedded += s.Embedded
	dst.Cached += s.Cached
	dst.Bytes += s.Bytes
	dst.Seconds += s.Seconds
	dst.Created = dst.Created || s.Created
	for _, u := range s.Unsupported {
		if !slices.Contains(dst.Unsupported, u) {
			dst.Unsupported = append(dst.Unsupported, u)
		}
	}
}
