package tracing_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/langfuse/langfusetest"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/tracing"
)

// workBytes is hashed once per simulated ask: about a millisecond of CPU,
// the order of kura's own work on a question (retrieval and prompt
// assembly) before and around the model call.
const workBytes = 1 << 20

var workBuf = make([]byte, workBytes)

// tracedAsk is one question's span tree (root, rewrite, query embedding,
// retrieval, rerank, generation with ten streamed pieces) around the work.
func tracedAsk(p *tracing.Provider, hits []store.Hit, work []byte) {
	ctx, ask := p.StartAsk(context.Background(), tracing.Trace{Name: "ask", SessionID: "bench", UserID: "u"},
		tracing.Ask{Question: "GitOpsとは何ですか", Collection: "docs"})
	_, rw := tracing.StartRewrite(ctx, "GitOpsとは何ですか", 0)
	rw.End("GitOpsとは何ですか", nil)
	_, emb := tracing.StartEmbed(ctx, tracing.Embedding{Provider: "hash", Model: "hash-1024", InputType: "search_query", Texts: 1})
	emb.End(tracing.EmbedResult{Dim: 1024}, nil)
	_, ret := tracing.StartRetrieve(ctx, tracing.Retrieval{Collection: "docs", SearchType: "similarity", Query: "GitOpsとは何ですか", K: 3})
	sum := sha256.Sum256(work)
	ret.End(hits, nil)
	_, rr := tracing.StartRerank(ctx, tracing.Rerank{Provider: "cohere", Model: "rerank-v3.5", Candidates: 3, TopN: 3})
	rr.End(hits, nil)
	_, gen := tracing.StartGeneration(ctx, llm.Info{Provider: "extractive", Model: "extractive"},
		llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "GitOpsとは何ですか"}}}, tracing.PromptRef{})
	for range 10 {
		gen.FirstToken()
	}
	gen.End(llm.Result{Text: fmt.Sprintf("%x", sum[:4]), Usage: llm.Usage{InputTokens: 50, OutputTokens: 10}}, nil)
	ask.End(tracing.AskOutcome{AnswerID: "a", Answer: "x", Sources: 3}, nil)
}

var benchHits = []store.Hit{
	{ID: 1, Score: 0.9, Entity: map[string]any{"text": "GitOps は宣言的な…", "source": "a.md"}},
	{ID: 2, Score: 0.8, Entity: map[string]any{"text": "Argo CD は…", "source": "b.md"}},
	{ID: 3, Score: 0.7, Entity: map[string]any{"text": "Flux は…", "source": "c.md"}},
}

// benchProviders are the configurations compared: tracing off, a healthy
// collector (the fake Langfuse), one that refuses connections and one that
// accepts them and never answers.
func benchProviders(b *testing.B) (names []string, providers []*tracing.Provider) {
	fake := langfusetest.New(b)
	for _, c := range []struct{ name, host string }{
		{"healthy", fake.URL},
		{"refused", langfusetest.RefusedURL(b)},
		{"blackhole", langfusetest.Blackhole(b)},
	} {
		cfg, err := tracing.FromEnv(env(map[string]string{
			"LANGFUSE_PUBLIC_KEY": langfusetest.PublicKey, "LANGFUSE_SECRET_KEY": langfusetest.SecretKey, "LANGFUSE_HOST": c.host,
		}))
		if err != nil {
			b.Fatal(err)
		}
		p, err := tracing.Setup(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			p.Shutdown(ctx)
		})
		names, providers = append(names, c.name), append(providers, p)
	}
	return append([]string{"off"}, names...), append([]*tracing.Provider{tracing.Disabled()}, providers...)
}

// BenchmarkAskSpans measures one traced ask per configuration: time and
// allocations per ask.
func BenchmarkAskSpans(b *testing.B) {
	names, providers := benchProviders(b)
	for i, p := range providers {
		b.Run(names[i], func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				tracedAsk(p, benchHits, workBuf)
			}
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkSpanOverhead is the cost of the span tree alone (no work), on
// the caller's goroutine: what tracing adds to every question.
func BenchmarkSpanOverhead(b *testing.B) {
	names, providers := benchProviders(b)
	for i, p := range providers {
		b.Run(names[i], func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				tracedAsk(p, benchHits, nil)
			}
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkAskLatencyInterleaved compares tracing off with the two dead
// collectors, one ask each per iteration in a rotating order, so that they
// share the machine's load, and reports each one's p50 and p99 latency and
// its p99 relative to tracing off. The healthy collector is left out: its
// export work (and the in-process fake's decoding) would land on whichever
// configuration runs next.
func BenchmarkAskLatencyInterleaved(b *testing.B) {
	allNames, all := benchProviders(b)
	var names []string
	var providers []*tracing.Provider
	for i, n := range allNames {
		if n != "healthy" {
			names, providers = append(names, n), append(providers, all[i])
		}
	}
	lat := make([][]time.Duration, len(providers))
	round := 0
	for b.Loop() {
		for j := range providers {
			i := (round + j) % len(providers)
			start := time.Now()
			tracedAsk(providers[i], benchHits, workBuf)
			lat[i] = append(lat[i], time.Since(start))
		}
		round++
	}
	pct := func(d []time.Duration, q float64) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds())
	}
	offP99 := pct(lat[0], 0.99)
	for i, name := range names {
		b.ReportMetric(pct(lat[i], 0.50), name+"-p50-µs")
		b.ReportMetric(pct(lat[i], 0.99), name+"-p99-µs")
		if i > 0 && offP99 > 0 {
			b.ReportMetric(pct(lat[i], 0.99)/offP99, name+"-p99/off")
		}
	}
}

// processCPU is the CPU time the whole process has used, background export
// goroutines (and the in-process fake collector) included: unlike wall
// time, it does not grow with other processes' load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
