package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/history"
)

type tracesOptions struct {
	Limit  int
	UserID string
	JSON   bool
}

func newTracesCommand(g *globalOptions) *cobra.Command {
	var o tracesOptions
	cmd := &cobra.Command{
		Use:   "traces",
		Short: "List recent answers (question, model, latency, tokens, feedback); show one",
		Long: `Every answer of kura ask, kura chat and kura serve is recorded in the data
directory (DATA/app/history.db, with a retention limit): the question, the
rewritten question, the sources, the answer, the model, timings, tokens and
feedback. kura traces lists the recent ones, newest first; kura traces show
ANSWER_ID shows one in detail. Both take --json. This is the local view for
a team without Langfuse; with Langfuse, trace_id is the trace it shows.`,
		Example: `  kura traces
  kura traces --limit 100 --json
  kura traces show ans_3f2a9c1d0b7e4a51`,
		Args: args(cobra.NoArgs, "no arguments (kura traces show ANSWER_ID shows one)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTraces(cmd, g, &o)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.Limit, "limit", "n", 20, "number of answers listed (at most 1000)")
	f.StringVar(&o.UserID, "user-id", "", "only this user's answers (default: everyone's)")
	f.BoolVar(&o.JSON, "json", false, "print {\"traces\": [...]} as one JSON object")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show ANSWER_ID",
		Short: "Show one answer's record in detail",
		Args:  args(cobra.ExactArgs(1), "one ANSWER_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTraceShow(cmd, g, args[0], showJSON)
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print the answer as one JSON object (the kura ask --json shape, with its feedback)")
	cmd.AddCommand(show)
	return cmd
}

func runTraces(cmd *cobra.Command, g *globalOptions, o *tracesOptions) error {
	if o.Limit < 1 || o.Limit > 1000 {
		return &usageError{fmt.Errorf("--limit %d is out of range 1..1000", o.Limit)}
	}
	a, err := g.openApp(cmd, appConfig{readOnly: true})
	if err != nil {
		return err
	}
	defer a.Close()
	q := history.AnswerQuery{User: o.UserID, AllUsers: o.UserID == "", Limit: o.Limit}
	list, err := a.TracesQuery(cmd.Context(), q)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.JSON {
		return newJSONEncoder(out).Encode(list)
	}
	if len(list.Traces) == 0 {
		fmt.Fprintf(out, "no answers recorded in %s yet; ask one with `kura ask QUESTION`\n", g.absData())
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tANSWER\tLLM\tFIRST\tTOTAL\tTOKENS\tFEEDBACK\tQUESTION")
	for _, t := range list.Traces {
		who := t.LLM
		if t.Model != "" {
			who += "/" + t.Model
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n",
			t.Created.Local().Format("01-02 15:04:05"), t.AnswerID, who,
			millis(t.Timings.FirstTokenMS), millis(t.Timings.TotalMS),
			t.Usage.InputTokens, t.Usage.OutputTokens, feedbackText(t.Feedback), short(oneLine(t.Question), 50))
	}
	return tw.Flush()
}

func runTraceShow(cmd *cobra.Command, g *globalOptions, id string, asJSON bool) error {
	a, err := g.openApp(cmd, appConfig{readOnly: true})
	if err != nil {
		return err
	}
	defer a.Close()
	ans, err := a.TraceAny(cmd.Context(), id)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return newJSONEncoder(out).Encode(ans)
	}
	printTrace(out, ans)
	return nil
}

func printTrace(w io.Writer, ans api.Answer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("answer", ans.ID)
	row("trace", ans.TraceID)
	row("conversation", ans.ConversationID)
	row("created", ans.Created.Local().Format(time.RFC3339))
	row("collection", ans.Collection)
	row("question", oneLine(ans.Question))
	row("rewritten", oneLine(ans.RewrittenQuestion))
	who := ans.LLM
	if ans.Model != "" {
		who += " " + ans.Model
	}
	if ans.Extractive {
		who += " " + extractedLabel
	}
	row("llm", who)
	tm := ans.Timings
	row("timings", fmt.Sprintf("rewrite %s, retrieve %s, first token %s, total %s", millis(tm.RewriteMS), millis(tm.RetrieveMS), millis(tm.FirstTokenMS), millis(tm.TotalMS)))
	row("tokens", fmt.Sprintf("%d in, %d out", ans.Usage.InputTokens, ans.Usage.OutputTokens))
	if ans.NotFound {
		row("not found", "retrieval found no sources; no model was asked")
	}
	row("feedback", feedbackText(ans.Feedback))
	if ans.Feedback != nil && ans.Feedback.Comment != "" {
		row("comment", oneLine(ans.Feedback.Comment))
	}
	for _, n := range ans.Notices {
		row("notice", n.Code+": "+oneLine(n.Message))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(terminalText(ans.Answer)))
	printSources(w, ans.Sources, ans.Citations)
}

func millis(ms float64) string {
	if ms == 0 {
		return "-"
	}
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func feedbackText(fb *api.Feedback) string {
	if fb == nil {
		return "-"
	}
	s := fmt.Sprintf("%g", fb.Value)
	if fb.Kind != "" {
		s += " " + string(fb.Kind)
	}
	return s
}
