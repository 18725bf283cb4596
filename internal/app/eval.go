package app

import (
	"context"
	"fmt"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/eval"
)

// EvalConfig is one search configuration of an evaluation.
type EvalConfig struct {
	// Name labels the configuration in the results, e.g.
	// "hybrid+mmr lambda=0.7".
	Name string
	// Options are the search options; Options.Collection names the
	// collection (the App's default if empty). K and OutputFields are
	// the evaluation's own (eval.Depth hits, text and doc_id).
	Options api.SearchOptions
}

// EvalRun is one configuration's outcome: a run of `kura eval --json`.
type EvalRun struct {
	Name       string       `json:"name"`
	Collection string       `json:"collection"`
	SearchType string       `json:"search_type"`
	Metrics    eval.Metrics `json:"metrics"`
	// EmbedMs is the query embedding time per query (queries are embedded
	// in batches, once per collection); 0 when the search needs no
	// vectors.
	EmbedMs float64 `json:"query_embed_ms"`
}

// EvalRequest runs judged questions against several search
// configurations, side by side.
type EvalRequest struct {
	Queries []eval.Query
	Configs []EvalConfig
	// OnRun, if set, is called after each configuration with the time it
	// took (for progress on a terminal).
	OnRun func(run EvalRun, took time.Duration)
}

// Eval measures retrieval quality: every question of req against every
// configuration, with the metrics of package eval. The search latency of
// each query is timed on its own, its query embedding excluded (queries
// are embedded in batches up front, which a real searcher would do one at
// a time; the per-query cost of that is EmbedMs).
func (a *App) Eval(ctx context.Context, req EvalRequest) ([]EvalRun, error) {
	if len(req.Queries) == 0 {
		return nil, api.Invalid("queries", "there are no questions to evaluate")
	}
	if len(req.Configs) == 0 {
		req.Configs = []EvalConfig{{Name: "search"}}
	}
	texts := make([]string, len(req.Queries))
	for i, q := range req.Queries {
		texts[i] = q.Query
	}
	// Query vectors are computed once per collection and shared by its
	// configurations.
	type prepared struct {
		vecs [][]float32
		ms   float64
	}
	vectors := map[string]*prepared{}
	var runs []EvalRun
	for _, cfg := range req.Configs {
		opts := cfg.Options
		if err := opts.Validate(); err != nil {
			return runs, err
		}
		c, err := a.collection(ctx, opts.Collection)
		if err != nil {
			return runs, err
		}
		opts.OutputFields = []string{"text", "doc_id"}
		r, st, err := c.retriever(opts, eval.Depth)
		if err != nil {
			return runs, err
		}
		name := c.coll.Name()
		p := vectors[name]
		if r.NeedsVectors() && p == nil {
			start := time.Now()
			vecs, err := embedAll(ctx, r.Emb, texts, embed.BatchSize(r.Emb, a.opts.Embedding.BatchSize))
			if err != nil {
				return runs, err
			}
			p = &prepared{vecs: vecs, ms: ms(time.Since(start)) / float64(len(texts))}
			vectors[name] = p
		}
		vec := func(i int) []float32 {
			if r.NeedsVectors() {
				return p.vecs[i]
			}
			return nil
		}
		// One untimed query loads the collection's caches (vectors, BM25
		// snapshot), which a long-running searcher pays once.
		if _, err := r.SearchWith(ctx, req.Queries[0].Query, vec(0)); err != nil {
			return runs, searchError(err)
		}
		started := time.Now()
		judged := make([]eval.Judged, len(req.Queries))
		for i, q := range req.Queries {
			t0 := time.Now()
			hits, err := r.SearchWith(ctx, q.Query, vec(i))
			lat := time.Since(t0)
			if err != nil {
				return runs, searchError(err)
			}
			eh := make([]eval.Hit, len(hits))
			for j, h := range hits {
				eh[j].Text, _ = h.Entity["text"].(string)
				eh[j].DocID = fmt.Sprint(h.Entity["doc_id"])
			}
			judged[i] = eval.Judge(q, eh)
			judged[i].Latency = lat
		}
		run := EvalRun{Name: cfg.Name, Collection: name, SearchType: st, Metrics: eval.Aggregate(judged)}
		if r.NeedsVectors() {
			run.EmbedMs = p.ms
		}
		runs = append(runs, run)
		if req.OnRun != nil {
			req.OnRun(run, time.Since(started))
		}
	}
	return runs, nil
}

// embedAll embeds texts as queries in batches.
func embedAll(ctx context.Context, emb embed.Embedder, texts []string, batch int) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += batch {
		part := texts[start:min(start+batch, len(texts))]
		vecs, err := emb.Embed(ctx, part, embed.ModeQuery)
		if err != nil {
			return nil, fmt.Errorf("embedding the queries: %w", err)
		}
		if len(vecs) != len(part) {
			return nil, fmt.Errorf("embedder %s returned %d vectors for %d queries", emb.Info().Name, len(vecs), len(part))
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// AnswerEvalRequest answers judged questions end to end.
type AnswerEvalRequest struct {
	Queries []eval.Query
	// Ask is the template of every question: retrieval and generation
	// options, model, prompt. Its Question and QueryID are set per
	// question; each answer stands alone.
	Ask AskInput
	// Concurrency is the number of questions answered at once
	// (GOMAXPROCS if 0).
	Concurrency int
	// MaxChars is the answer length over which answers are counted in
	// AnswerMetrics.OverChars (0: not counted).
	MaxChars int
	// OnAnswer, if set, is called once per question as it is answered
	// (from several goroutines at once), with the error of a question
	// that got no answer.
	OnAnswer func(q eval.Query, a api.Answer, err error)
}

// EvalAnswers answers every question of req with Ask, concurrently, and
// computes the answer metrics of package eval. A failure that would fail
// every question (a rejected key, an invalid option, cancellation) stops
// the run and is returned; any other failure of one question counts it
// as failed and the run goes on.
func (a *App) EvalAnswers(ctx context.Context, req AnswerEvalRequest) (eval.AnswerMetrics, error) {
	if len(req.Queries) == 0 {
		return eval.AnswerMetrics{}, api.Invalid("queries", "there are no questions to evaluate")
	}
	questions := make([]api.BatchQuery, len(req.Queries))
	for i, q := range req.Queries {
		questions[i] = api.BatchQuery{ID: q.ID, Query: q.Query}
	}
	ask := req.Ask
	ask.Standalone = true
	judged := make([]eval.JudgedAnswer, len(req.Queries))
	err := a.AskBatch(ctx, AskBatchRequest{Questions: questions, Ask: ask, Concurrency: req.Concurrency,
		OnAnswer: func(i int, ans api.Answer, err error) {
			q := req.Queries[i]
			outcome := eval.AnswerOutcome{Failed: err != nil}
			if err == nil {
				outcome = eval.AnswerOutcome{
					Text: ans.Answer, Citations: len(ans.Citations), RemovedCitations: ans.RemovedCitations,
					NotFound: ans.NotFound, FirstToken: msDuration(ans.Timings.FirstTokenMS), Total: msDuration(ans.Timings.TotalMS),
				}
			}
			judged[i] = eval.JudgeAnswer(q, outcome)
			if req.OnAnswer != nil {
				req.OnAnswer(q, ans, err)
			}
		}})
	if err != nil {
		return eval.AnswerMetrics{}, err
	}
	return eval.AggregateAnswers(judged, req.MaxChars), nil
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
