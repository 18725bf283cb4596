package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/eval"
)

// answerEval is `kura eval --answers --json`.
type answerEval struct {
	Queries string             `json:"queries"`
	Skipped int                `json:"skipped"`
	LLM     string             `json:"llm"`
	Model   string             `json:"model,omitempty"`
	Metrics eval.AnswerMetrics `json:"metrics"`
}

func runEvalAnswers(cmd *cobra.Command, g *globalOptions, o *evalOptions) error {
	ctx := cmd.Context()
	flags := cmd.Flags()
	stderr := cmd.ErrOrStderr()
	o.embedder.resolve(flags)
	if err := o.embedder.validate(); err != nil {
		return err
	}
	if err := o.answer.resolve(flags); err != nil {
		return err
	}
	if o.Concurrency < 1 {
		return &usageError{fmt.Errorf("--concurrency %d must be at least 1", o.Concurrency)}
	}
	search, err := o.retrieval.options(flags)
	if err != nil {
		return err
	}
	queries, skipped, err := readJudged(cmd, o.Queries)
	if err != nil {
		return err
	}
	a, err := g.openApp(cmd, appConfig{
		readOnly: true, embedding: o.embedder.options(flags), answers: o.answer.defaults(),
		providers: func(p app.Providers) app.Providers { return o.answer.providers(o.embedder.providers(p)) },
		noHistory: true, trace: true,
	})
	if err != nil {
		return err
	}
	defer a.Close()

	var done, failed atomic.Int64
	var firstErr atomic.Value
	started := time.Now()
	m, err := a.EvalAnswers(ctx, app.AnswerEvalRequest{
		Queries: queries,
		Ask: app.AskInput{AskRequest: api.AskRequest{
			SearchOptions: search, GenerationOptions: o.answer.generation(), LLM: o.answer.LLM, Model: o.answer.Model,
		}},
		Concurrency: o.Concurrency,
		MaxChars:    o.MaxChars,
		OnAnswer: func(q eval.Query, _ api.Answer, err error) {
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Errorf("question %s: %w", q.ID, err))
			}
			if n := done.Add(1); !o.JSON && n%500 == 0 {
				fmt.Fprintf(stderr, "%d of %d questions answered\n", n, len(queries))
			}
		},
	})
	if err != nil {
		return err
	}
	if !o.JSON {
		fmt.Fprintf(stderr, "answers: %s in %.1f s\n", plural(len(queries), "question"), time.Since(started).Seconds())
	}
	if e, ok := firstErr.Load().(error); ok {
		fmt.Fprintf(stderr, "kura: %d questions got no answer; the first: %s\n", failed.Load(), errorText(e))
	}
	res := answerEval{Queries: o.Queries, Skipped: skipped, LLM: o.answer.LLM, Model: o.answer.Model, Metrics: m}
	out := cmd.OutOrStdout()
	if o.JSON {
		if err := newJSONEncoder(out).Encode(res); err != nil {
			return err
		}
	} else {
		printAnswerEval(out, res, o.MaxChars)
	}
	switch {
	case skipped > 0:
		return &partialError{fmt.Sprintf("%s skipped", plural(skipped, "query line"))}
	case m.Failed > 0:
		return &partialError{fmt.Sprintf("%s got no answer", plural(m.Failed, "question"))}
	}
	return nil
}

func printAnswerEval(w io.Writer, r answerEval, maxChars int) {
	m := r.Metrics
	who := r.LLM
	if r.Model != "" {
		who += " " + r.Model
	}
	fmt.Fprintf(w, "%s: %s (%d with answer strings), answered by %s\n\n", r.Queries, plural(m.Questions, "question"), m.Judged, who)
	fmt.Fprintf(w, "  contains an answer  %.3f\n", m.ContainsAnswer)
	fmt.Fprintf(w, "  answer length       median %.0f, p90 %d, max %d characters", m.MedianChars, m.P90Chars, m.MaxChars)
	if maxChars > 0 {
		fmt.Fprintf(w, " (%d over %d)", m.OverChars, maxChars)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  citations           %d kept, %d removed (validity %.3f)\n", m.CitationsKept, m.CitationsRemoved, m.CitationValidity)
	fmt.Fprintf(w, "  not found           %.3f\n", m.NotFoundRate)
	fmt.Fprintf(w, "  first token         p50 %.1f ms, p99 %.1f ms\n", m.FirstTokenP50Ms, m.FirstTokenP99Ms)
	fmt.Fprintf(w, "  total               p50 %.1f ms, p99 %.1f ms\n", m.TotalP50Ms, m.TotalP99Ms)
	if m.Failed > 0 {
		fmt.Fprintf(w, "  no answer           %d\n", m.Failed)
	}
}
