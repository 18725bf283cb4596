package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/split"
)

type splitOptions struct {
	splitter  splitterOptions
	JSON      bool
	TextField string
}

func newSplitCommand() *cobra.Command {
	var o splitOptions
	cmd := &cobra.Command{
		Use:   "split FILE",
		Short: "Preview the chunks a splitter configuration produces",
		Long: `Load FILE exactly as ingest would (encoding detection, HTML extraction,
JSONL documents) and print its chunks. Nothing is stored.`,
		Example: `  kura split notes.md
  kura split page.txt --splitter character --separator '\n' --chunk-size 200 --chunk-overlap 20 --json`,
		Args: args(cobra.ExactArgs(1), "exactly one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := o.splitter.options()
			if err != nil {
				return err
			}
			return runSplit(cmd, opts, args[0], &o)
		},
	}
	o.splitter.register(cmd.Flags())
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print a JSON array of the chunk strings")
	cmd.Flags().StringVar(&o.TextField, "text-field", "text", "JSONL field holding the document text")
	return cmd
}

func runSplit(cmd *cobra.Command, opts split.Options, file string, o *splitOptions) error {
	splitter, err := split.New(opts)
	if err != nil {
		return &usageError{err}
	}
	docs, problems, err := document.Load(file, document.LoadOptions{TextField: o.TextField})
	if errors.Is(err, document.ErrEmpty) {
		// An empty file is a skip for ingest, but its preview is simply
		// "no chunks", which is also what LangChain returns.
		var skip *document.SkipError
		if errors.As(err, &skip) {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s: 0 chunks\n", skip.Path, skip.Reason)
		}
		err, docs = nil, nil
	}
	if err != nil {
		return err
	}
	skipped := 0
	for _, p := range problems {
		fmt.Fprintln(cmd.ErrOrStderr(), problemText(p))
		var w *document.Warning
		if !errors.As(p, &w) {
			skipped++
		}
	}
	chunks := []string{}
	w := cmd.OutOrStdout()
	for _, doc := range docs {
		for _, c := range splitter.Split(doc.Text) {
			if !o.JSON {
				fmt.Fprintf(w, "--- chunk %d · %d characters · %d bytes", len(chunks)+1, utf8.RuneCountInString(c), len(c))
				if id := doc.DocID(); id != "" {
					fmt.Fprintf(w, " · document %s", id)
				}
				fmt.Fprintf(w, "\n%s\n", c)
			}
			chunks = append(chunks, c)
		}
	}
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(chunks); err != nil {
			return err
		}
	}
	if skipped > 0 {
		return &partialError{fmt.Sprintf("%s skipped", plural(skipped, "item"))}
	}
	return nil
}
