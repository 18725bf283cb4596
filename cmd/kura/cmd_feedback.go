package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/api"
)

type feedbackOptions struct {
	Comment string
	Kind    string
	UserID  string
	JSON    bool
}

func newFeedbackCommand(g *globalOptions) *cobra.Command {
	var o feedbackOptions
	cmd := &cobra.Command{
		Use:   "feedback ANSWER_ID VALUE",
		Short: "Rate an answer (thumbs 1/0, or faces 1/0.75/0.5/0.25/0)",
		Long: `Store a rating of an answer (its id is printed by kura ask, and listed by
kura traces): thumbs 1 or 0 (also up or down), or one of five faces 1, 0.75,
0.5, 0.25, 0, with an optional --comment. Rating an answer again replaces the
earlier rating.

With Langfuse configured (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY,
LANGFUSE_HOST), the rating is also sent as the score "user-feedback" on the
answer's trace; a rating that cannot be sent now is kept and sent by a later
kura command.`,
		Example: `  kura feedback ans_3f2a9c1d0b7e4a51 1
  kura feedback ans_3f2a9c1d0b7e4a51 0.25 --kind faces --comment "the second source is outdated"`,
		Args: args(cobra.ExactArgs(2), "an ANSWER_ID and a VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFeedback(cmd, g, &o, args[0], args[1])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Comment, "comment", "", "a comment with the rating")
	f.StringVar(&o.Kind, "kind", "", "the scale: thumbs (1, 0) or faces (1, 0.75, 0.5, 0.25, 0); default: any of those values")
	f.StringVar(&o.UserID, "user-id", "", "the user the answer was recorded for (default \"default\")")
	f.BoolVar(&o.JSON, "json", false, "print the stored rating as one JSON object")
	return cmd
}

// parseRating reads a VALUE: a number, or up/down for thumbs.
func parseRating(s string) (float64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "up", "+1", "👍":
		return 1, nil
	case "down", "👎":
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, &usageError{fmt.Errorf("VALUE %q is not a rating: give 1 or 0 (thumbs, also up or down), or 1, 0.75, 0.5, 0.25 or 0 (faces)", s)}
	}
	return v, nil
}

func runFeedback(cmd *cobra.Command, g *globalOptions, o *feedbackOptions, answerID, value string) error {
	v, err := parseRating(value)
	if err != nil {
		return err
	}
	req := api.FeedbackRequest{AnswerID: answerID, Value: &v, Comment: o.Comment, Kind: api.FeedbackKind(o.Kind)}
	if err := req.Validate(); err != nil {
		return flagError(err)
	}
	warned := false
	stderr := cmd.ErrOrStderr()
	a, err := g.openApp(cmd, appConfig{readOnly: true, notify: func(msg string) {
		warned = true
		fmt.Fprintln(stderr, msg)
	}})
	if err != nil {
		return err
	}
	defer a.Close()
	fb, err := a.Feedback(cmd.Context(), o.UserID, req)
	if err != nil {
		return err
	}
	if o.JSON {
		return newJSONEncoder(cmd.OutOrStdout()).Encode(fb)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "rated answer %s: %g", fb.AnswerID, fb.Value)
	if fb.Kind != "" {
		fmt.Fprintf(cmd.OutOrStdout(), " (%s)", fb.Kind)
	}
	fmt.Fprintln(cmd.OutOrStdout())
	if langfuseConfigured() && !warned {
		if ans, err := a.TraceAny(cmd.Context(), fb.AnswerID); err == nil && ans.TraceID != "" {
			fmt.Fprintf(stderr, "sent to Langfuse as the user-feedback score of trace %s\n", ans.TraceID)
		} else {
			fmt.Fprintln(stderr, "not sent to Langfuse: the answer was not traced (tracing was off when it was asked)")
		}
	}
	return nil
}
