package tracing_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/langfuse/langfusetest"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/tracing"
)

// env turns a map into a getenv function.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// langfuseEnv is the environment of a user who points kura at fake.
func langfuseEnv(fake *langfusetest.Server, extra map[string]string) map[string]string {
	m := map[string]string{
		"LANGFUSE_PUBLIC_KEY": langfusetest.PublicKey,
		"LANGFUSE_SECRET_KEY": langfusetest.SecretKey,
		"LANGFUSE_HOST":       fake.URL,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func setup(t *testing.T, vars map[string]string) *tracing.Provider {
	t.Helper()
	cfg, err := tracing.FromEnv(env(vars))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	cfg.BatchDelay = 10 * time.Millisecond
	p, err := tracing.Setup(cfg)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return p
}

// Markers planted in every piece of content an ask handles.
const (
	mQuestion  = "MARKER-QUESTION-質問"
	mRewritten = "MARKER-REWRITTEN"
	mDocText   = "MARKER-DOCTEXT-本文"
	mDocTitle  = "MARKER-DOCTITLE"
	mSystem    = "MARKER-SYSTEM-PROMPT"
	mPrompt    = "MARKER-USER-PROMPT"
	mAnswer    = "MARKER-ANSWER-回答"
)

var markers = []string{mQuestion, mRewritten, mDocText, mDocTitle, mSystem, mPrompt, mAnswer}

type askResult struct {
	traceID, generationSpanID string
	elapsed                   time.Duration
}

// runAsk traces one question the way the answer stage will: rewrite,
// query embedding, retrieval, rerank, generation.
func runAsk(p *tracing.Provider, session, user string) askResult {
	start := time.Now()
	ctx, ask := p.StartAsk(context.Background(),
		tracing.Trace{Name: "ask", SessionID: session, UserID: user},
		tracing.Ask{Question: mQuestion, Collection: "docs"})

	rctx, rw := tracing.StartRewrite(ctx, mQuestion, 2)
	_ = rctx
	rw.End(mRewritten, nil)

	_, emb := tracing.StartEmbed(ctx, tracing.Embedding{Provider: "cohere", Model: "embed-multilingual-v3.0", InputType: "search_query", Texts: 1})
	emb.End(tracing.EmbedResult{Tokens: 9, Dim: 1024}, nil)

	hits := []store.Hit{
		{ID: 42, Score: 0.83, Entity: map[string]any{"text": mDocText + " one", "title": mDocTitle, "source": "a.md"}},
		{ID: 7, Score: 0.61, Entity: map[string]any{"text": mDocText + " two", "source": "b.md"}},
	}
	lambda := 0.5
	_, ret := tracing.StartRetrieve(ctx, tracing.Retrieval{Collection: "docs", SearchType: "mmr", Query: mRewritten, K: 2, FetchK: 20, Lambda: &lambda, Filter: `subject == "tech"`})
	ret.End(hits, nil)

	_, rr := tracing.StartRerank(ctx, tracing.Rerank{Provider: "cohere", Model: "rerank-v3.5", Query: mRewritten, Candidates: 2, TopN: 2})
	rr.End(hits, nil)

	maxTokens, temp, topP := 500, 0.3, 0.75
	req := llm.Request{
		System:    mSystem,
		Messages:  []llm.Message{{Role: llm.RoleUser, Content: mPrompt + " " + mDocText}},
		Documents: []llm.Document{{ID: "1", Title: mDocTitle, Source: "a.md", Text: mDocText}},
		Options:   llm.Options{MaxTokens: &maxTokens, Temperature: &temp, TopP: &topP},
	}
	info := llm.Info{Provider: "cohere", Model: "command-r-plus-08-2024"}
	_, gen := tracing.StartGeneration(ctx, info, req, tracing.PromptRef{Name: "qa-ja", Version: 3})
	time.Sleep(2 * time.Millisecond)
	gen.FirstToken()
	gen.FirstToken() // only the first one counts
	gen.End(llm.Result{Text: mAnswer, Usage: llm.Usage{InputTokens: 120, OutputTokens: 30}, FinishReason: "COMPLETE", Model: "command-r-plus-08-2024"}, nil)

	ask.End(tracing.AskOutcome{AnswerID: "ans-1", Answer: mAnswer, Sources: 2}, nil)
	return askResult{traceID: ask.TraceID(), generationSpanID: gen.SpanID(), elapsed: time.Since(start)}
}

func byName(spans []langfusetest.Span, prefix string) langfusetest.Span {
	for _, s := range spans {
		if strings.HasPrefix(s.Name, prefix) {
			return s
		}
	}
	return langfusetest.Span{}
}

func TestAskTraceReachesLangfuse(t *testing.T) {
	fake := langfusetest.New(t)
	p := setup(t, langfuseEnv(fake, nil))
	res := runAsk(p, "sess-1", "alice")
	stats := p.Shutdown(context.Background())

	spans := fake.WaitSpans(t, 6, 5*time.Second)
	if len(spans) != 6 {
		t.Fatalf("got %d spans, want 6 (ask, rewrite, embed, retrieval, rerank, chat)", len(spans))
	}
	if stats.Ended != 6 || stats.Exported != 6 || stats.Problem() != "" {
		t.Fatalf("stats = %+v, problem %q", stats, stats.Problem())
	}
	var roots int
	for _, s := range spans {
		if s.TraceID != res.traceID {
			t.Errorf("span %q in trace %s, want the ask's trace %s", s.Name, s.TraceID, res.traceID)
		}
		if s.ParentSpanID == "" {
			roots++
		}
		for k, want := range map[string]string{
			"session.id": "sess-1", "langfuse.session.id": "sess-1", "gen_ai.conversation.id": "sess-1",
			"user.id": "alice", "langfuse.user.id": "alice", "langfuse.trace.name": "ask",
		} {
			if got := s.Str(k); got != want {
				t.Errorf("span %q: %s = %q, want %q", s.Name, k, got, want)
			}
		}
		if s.Str("langfuse.observation.type") == "" {
			t.Errorf("span %q has no langfuse.observation.type", s.Name)
		}
		if s.Resource["service.name"] != "kura" {
			t.Errorf("span %q: service.name = %v", s.Name, s.Resource["service.name"])
		}
	}
	if roots != 1 {
		t.Errorf("%d root spans, want 1", roots)
	}

	gen := byName(spans, "chat ")
	if gen.SpanID != res.generationSpanID {
		t.Errorf("generation span id %s, GenerationSpan.SpanID %s", gen.SpanID, res.generationSpanID)
	}
	for k, want := range map[string]any{
		"langfuse.observation.type":           "generation",
		"gen_ai.operation.name":               "chat",
		"gen_ai.provider.name":                "cohere",
		"gen_ai.request.model":                "command-r-plus-08-2024",
		"langfuse.observation.model.name":     "command-r-plus-08-2024",
		"gen_ai.response.model":               "command-r-plus-08-2024",
		"gen_ai.usage.input_tokens":           int64(120),
		"gen_ai.usage.output_tokens":          int64(30),
		"gen_ai.request.max_tokens":           int64(500),
		"gen_ai.request.temperature":          0.3,
		"langfuse.observation.prompt.name":    "qa-ja",
		"langfuse.observation.prompt.version": int64(3),
	} {
		if got := gen.Attrs[k]; got != want {
			t.Errorf("generation %s = %#v, want %#v", k, got, want)
		}
	}
	var usage map[string]int
	if err := json.Unmarshal([]byte(gen.Str("langfuse.observation.usage_details")), &usage); err != nil ||
		usage["input"] != 120 || usage["output"] != 30 || usage["total"] != 150 {
		t.Errorf("usage_details = %q (%v)", gen.Str("langfuse.observation.usage_details"), err)
	}
	var params map[string]any
	if err := json.Unmarshal([]byte(gen.Str("langfuse.observation.model.parameters")), &params); err != nil ||
		params["temperature"] != 0.3 || params["max_tokens"] != 500.0 || params["top_p"] != 0.75 {
		t.Errorf("model.parameters = %q (%v)", gen.Str("langfuse.observation.model.parameters"), err)
	}
	cst, err := time.Parse(time.RFC3339Nano, gen.Str("langfuse.observation.completion_start_time"))
	if err != nil || cst.Before(gen.Start) || cst.After(gen.End) {
		t.Errorf("completion_start_time %q (%v) not within the span [%v, %v]", gen.Str("langfuse.observation.completion_start_time"), err, gen.Start, gen.End)
	}
	if n := countEvents(gen, "first_token"); n != 1 {
		t.Errorf("%d first_token events, want 1", n)
	}
	if !strings.Contains(gen.Str("gen_ai.input.messages"), mPrompt) || gen.Str("langfuse.observation.output") != mAnswer {
		t.Errorf("generation input/output missing: input %q output %q", gen.Str("gen_ai.input.messages"), gen.Str("langfuse.observation.output"))
	}

	ret := byName(spans, "retrieval ")
	if ret.Str("langfuse.observation.type") != "retriever" || ret.Str("kura.retrieval.search_type") != "mmr" ||
		ret.Attrs["kura.retrieval.k"] != int64(2) || ret.Str("kura.retrieval.filter") != `subject == "tech"` {
		t.Errorf("retrieval attributes: %v", ret.Attrs)
	}
	if ids, ok := ret.Attrs["kura.retrieval.hit_ids"].([]any); !ok || len(ids) != 2 || ids[0] != int64(42) || ids[1] != int64(7) {
		t.Errorf("hit_ids = %#v", ret.Attrs["kura.retrieval.hit_ids"])
	}
	var docs []map[string]any
	if err := json.Unmarshal([]byte(ret.Str("gen_ai.retrieval.documents")), &docs); err != nil || len(docs) != 2 || docs[0]["id"] != "42" {
		t.Errorf("gen_ai.retrieval.documents = %q", ret.Str("gen_ai.retrieval.documents"))
	}

	root := byName(spans, "ask")
	if root.Str("kura.answer.id") != "ans-1" || root.Str("langfuse.observation.input") != mQuestion || root.Str("langfuse.observation.output") != mAnswer {
		t.Errorf("root attributes: %v", root.Attrs)
	}

	// Transport: protobuf, Basic auth with the key pair, Langfuse's v4
	// ingestion header; the secret is in no span.
	if fake.AuthFailures() != 0 {
		t.Errorf("%d requests failed auth", fake.AuthFailures())
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(langfusetest.PublicKey+":"+langfusetest.SecretKey))
	for _, e := range fake.Exports() {
		if e.Header.Get("Authorization") != wantAuth || e.Header.Get("x-langfuse-ingestion-version") != "4" || e.ContentType != "application/x-protobuf" {
			t.Errorf("export headers: %v", e.Header)
		}
		if e.Gzip {
			t.Errorf("export gzip-compressed without OTEL_EXPORTER_OTLP_COMPRESSION")
		}
	}
	for _, s := range spans {
		if strings.Contains(s.AllText(), langfusetest.SecretKey) || strings.Contains(s.AllText(), langfusetest.PublicKey) {
			t.Errorf("span %q carries an API key", s.Name)
		}
	}
}

func countEvents(s langfusetest.Span, name string) int {
	n := 0
	for _, e := range s.Events {
		if e.Name == name {
			n++
		}
	}
	return n
}

func TestGzipExport(t *testing.T) {
	fake := langfusetest.New(t)
	p := setup(t, langfuseEnv(fake, map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}))
	runAsk(p, "s", "u")
	if st := p.Shutdown(context.Background()); st.Exported != 6 {
		t.Fatalf("stats %+v", st)
	}
	exports := fake.Exports()
	if len(exports) == 0 {
		t.Fatal("no export received")
	}
	for _, e := range exports {
		if !e.Gzip || e.Status != 200 {
			t.Errorf("export gzip=%v status=%d, want gzip and 200", e.Gzip, e.Status)
		}
	}
	if n := len(fake.Spans()); n != 6 {
		t.Errorf("decoded %d spans from gzip exports, want 6", n)
	}
}

// Any OTLP backend through the standard variables: the endpoint gets
// /v1/traces appended and the headers are sent as given.
func TestStandardOTLPVariables(t *testing.T) {
	fake := langfusetest.New(t)
	auth := base64.StdEncoding.EncodeToString([]byte(langfusetest.PublicKey + ":" + langfusetest.SecretKey))
	p := setup(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": fake.URL + "/api/public/otel",
		"OTEL_EXPORTER_OTLP_HEADERS":  "Authorization=Basic%20" + auth + ",x-team=search",
		"OTEL_SERVICE_NAME":           "kura-test",
	})
	if p.Config().Backend != tracing.BackendOTLP {
		t.Fatalf("backend %q", p.Config().Backend)
	}
	runAsk(p, "s", "u")
	if st := p.Shutdown(context.Background()); st.Exported != 6 {
		t.Fatalf("stats %+v: %s", st, st.Problem())
	}
	e := fake.Exports()[0]
	if e.Header.Get("x-team") != "search" || e.Header.Get("x-langfuse-ingestion-version") != "" {
		t.Errorf("headers %v", e.Header)
	}
	if got := fake.Spans()[0].Resource["service.name"]; got != "kura-test" {
		t.Errorf("service.name = %v", got)
	}
}

func TestContentOffKeepsContentOutOfEverySpan(t *testing.T) {
	for _, content := range []bool{true, false} {
		fake := langfusetest.New(t)
		vars := langfuseEnv(fake, nil)
		if !content {
			vars["KURA_TRACE_CONTENT"] = "false"
		}
		p := setup(t, vars)
		runAsk(p, "s", "u")
		p.Shutdown(context.Background())
		var all strings.Builder
		for _, s := range fake.WaitSpans(t, 6, 5*time.Second) {
			all.WriteString(s.AllText())
		}
		for _, m := range markers {
			if got := strings.Contains(all.String(), m); got != content {
				t.Errorf("content=%v: marker %q present=%v", content, m, got)
			}
		}
		// Ids and scores stay.
		if !strings.Contains(all.String(), "kura.retrieval.hit_ids=[42 7]") {
			t.Errorf("content=%v: hit ids missing", content)
		}
	}
}

func TestIngestTrace(t *testing.T) {
	fake := langfusetest.New(t)
	p := setup(t, langfuseEnv(fake, nil))
	ctx, run := p.StartIngest(context.Background(), tracing.Trace{SessionID: "run-1"}, tracing.Ingest{Collection: "docs", Embedder: "cohere", Model: "embed-multilingual-v3.0", Inputs: 1})
	fctx, load := tracing.StartLoad(ctx, "a.md")
	load.End(1, 1234, 0, nil)
	_, split := tracing.StartSplit(fctx, "a.md", "ja")
	split.End(12, nil)
	for range 2 {
		_, emb := tracing.StartEmbed(ctx, tracing.Embedding{Provider: "cohere", Model: "embed-multilingual-v3.0", InputType: "search_document", Texts: 6})
		emb.Retry(1, 500*time.Millisecond, errors.New("429 Too Many Requests"))
		emb.End(tracing.EmbedResult{Tokens: 300, Dim: 1024}, nil)
	}
	_, w := tracing.StartStoreWrite(ctx, tracing.StoreWrite{System: "kura", Collection: "docs", Operation: "upsert", Rows: 12})
	w.End(nil)
	run.End(tracing.IngestTotals{Files: 1, Chunks: 12, Added: 12, Embedded: 12}, nil)
	p.Shutdown(context.Background())

	spans := fake.WaitSpans(t, 6, 5*time.Second)
	var embeds int
	for _, s := range spans {
		if s.Str("langfuse.trace.name") != "ingest" || s.Str("session.id") != "run-1" {
			t.Errorf("span %q: trace name %q session %q", s.Name, s.Str("langfuse.trace.name"), s.Str("session.id"))
		}
		if s.Str("gen_ai.operation.name") == "embeddings" {
			embeds++
			if s.Str("langfuse.observation.type") != "embedding" || s.Attrs["kura.embed.texts"] != int64(6) ||
				s.Attrs["gen_ai.usage.input_tokens"] != int64(300) || s.Attrs["kura.embed.retries"] != int64(1) ||
				s.Str("gen_ai.request.model") != "embed-multilingual-v3.0" || countEvents(s, "retry") != 1 {
				t.Errorf("embedding span: %v", s.Attrs)
			}
		}
	}
	if embeds != 2 {
		t.Errorf("%d embedding spans, want 2", embeds)
	}
	wr := byName(spans, "upsert docs")
	if wr.Attrs["db.operation.batch.size"] != int64(12) || wr.Str("db.system.name") != "kura" {
		t.Errorf("store write span: %v", wr.Attrs)
	}
	if s := byName(spans, "split"); s.Attrs["kura.chunks"] != int64(12) || s.ParentSpanID != byName(spans, "load").SpanID {
		t.Errorf("split span: %v parent %s", s.Attrs, s.ParentSpanID)
	}
}

func TestErrorsAreRecorded(t *testing.T) {
	fake := langfusetest.New(t)
	p := setup(t, langfuseEnv(fake, nil))
	ctx, ask := p.StartAsk(context.Background(), tracing.Trace{}, tracing.Ask{Question: "q"})
	_, gen := tracing.StartGeneration(ctx, llm.Info{Provider: "openai", Model: "gpt"}, llm.Request{}, tracing.PromptRef{})
	gen.End(llm.Result{Text: "partial"}, llm.ErrStreamCut)
	ask.End(tracing.AskOutcome{}, context.Canceled)
	p.Shutdown(context.Background())
	spans := fake.WaitSpans(t, 2, 5*time.Second)
	g := byName(spans, "chat gpt")
	if g.StatusCode != "STATUS_CODE_ERROR" || g.Str("langfuse.observation.level") != "ERROR" || g.Str("langfuse.observation.output") != "partial" {
		t.Errorf("cut stream: status %s attrs %v", g.StatusCode, g.Attrs)
	}
	if a := byName(spans, "ask"); a.Str("langfuse.observation.level") != "WARNING" || a.Str("error.type") != "cancelled" {
		t.Errorf("cancelled ask: %v", a.Attrs)
	}
}

func TestWrongKeysAreReportedWithoutTheSecret(t *testing.T) {
	fake := langfusetest.New(t)
	var first error
	cfg, err := tracing.FromEnv(env(map[string]string{
		"LANGFUSE_PUBLIC_KEY": "pk-lf-wrong", "LANGFUSE_SECRET_KEY": "sk-lf-TOPSECRET", "LANGFUSE_HOST": fake.URL,
	}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.BatchDelay = 10 * time.Millisecond
	cfg.OnFirstFailure = func(err error) { first = err }
	p, err := tracing.Setup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runAsk(p, "s", "u")
	st := p.Shutdown(context.Background())
	if st.Failed != 6 || st.Exported != 0 || fake.AuthFailures() == 0 {
		t.Fatalf("stats %+v, auth failures %d", st, fake.AuthFailures())
	}
	msg := st.Problem()
	if !strings.Contains(msg, "401") || strings.Contains(msg, "TOPSECRET") || first == nil || strings.Contains(first.Error(), "TOPSECRET") {
		t.Errorf("problem %q, first failure %v", msg, first)
	}
	if strings.Contains(cfg.String(), "TOPSECRET") {
		t.Errorf("Config.String() shows the secret: %s", cfg.String())
	}
}

// A collector that refuses connections, or accepts them and never answers,
// neither delays the traced work nor fails it; the flush at exit is bounded
// and the loss is reported.
func TestDeadCollectorNeverDelaysWork(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"refused", func(t *testing.T) string { return langfusetest.RefusedURL(t) }},
		{"blackhole", func(t *testing.T) string { return langfusetest.Blackhole(t) }},
		{"hanging-langfuse", func(t *testing.T) string {
			fake := langfusetest.New(t)
			fake.Inject(langfusetest.RouteTraces, langfusetest.Hang, 0, 1000)
			return fake.URL
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := setup(t, map[string]string{
				"LANGFUSE_PUBLIC_KEY": langfusetest.PublicKey, "LANGFUSE_SECRET_KEY": langfusetest.SecretKey,
				"LANGFUSE_HOST": tc.url(t), "OTEL_EXPORTER_OTLP_TIMEOUT": "30000",
			})
			var slowest time.Duration
			for range 20 {
				slowest = max(slowest, runAsk(p, "s", "u").elapsed)
			}
			// Each ask sleeps 2 ms itself; an export on the caller's path
			// would cost seconds (the export timeout is 30 s).
			if slowest > time.Second {
				t.Errorf("slowest traced ask took %v with a dead collector", slowest)
			}
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			st := p.Shutdown(ctx)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Shutdown took %v, want it bounded by its 300 ms context", d)
			}
			if st.Ended != 120 || st.Exported != 0 || st.Problem() == "" {
				t.Errorf("stats %+v problem %q", st, st.Problem())
			}
		})
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	cfg, err := tracing.FromEnv(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": langfusetest.Blackhole(t), "OTEL_BSP_MAX_QUEUE_SIZE": "8",
	}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := tracing.Setup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		runAsk(p, "s", "u")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	st := p.Shutdown(ctx)
	if st.Ended != 300 || st.Dropped < 250 || st.Exported != 0 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(st.Problem(), "300 spans were not exported") {
		t.Errorf("problem %q", st.Problem())
	}
	// Shutdown is idempotent.
	if again := p.Shutdown(context.Background()); again != st {
		t.Errorf("second Shutdown %+v, first %+v", again, st)
	}
}

func TestDisabledCostsNothing(t *testing.T) {
	p := tracing.Disabled()
	if p.Enabled() {
		t.Fatal("Disabled is enabled")
	}
	res := runAsk(p, "s", "u")
	if res.traceID != "" || res.generationSpanID != "" || tracing.TraceID(context.Background()) != "" {
		t.Errorf("disabled tracing gave ids %+v", res)
	}
	if st := p.Shutdown(context.Background()); st != (tracing.Stats{}) {
		t.Errorf("stats %+v", st)
	}
	hits := []store.Hit{{ID: 1, Score: 0.5}}
	allocs := testing.AllocsPerRun(100, func() {
		ctx, ask := p.StartAsk(context.Background(), tracing.Trace{Name: "ask"}, tracing.Ask{Question: "q"})
		_, r := tracing.StartRetrieve(ctx, tracing.Retrieval{Collection: "c", K: 3})
		r.End(hits, nil)
		_, g := tracing.StartGeneration(ctx, llm.Info{}, llm.Request{}, tracing.PromptRef{})
		g.FirstToken()
		g.End(llm.Result{Text: "x"}, nil)
		ask.End(tracing.AskOutcome{}, nil)
	})
	if allocs != 0 {
		t.Errorf("disabled tracing allocates %v times per ask", allocs)
	}
}

// A span started by someone else's tracer (otelhttp at a server's edge)
// gets kura's children, with content kept out since kura's switch is not
// in that context.
func TestForeignParentKeepsContentOut(t *testing.T) {
	fake := langfusetest.New(t)
	p := setup(t, langfuseEnv(fake, nil))
	ctx, edge := p.TracerProvider().Tracer("edge").Start(context.Background(), "HTTP POST")
	_, r := tracing.StartRetrieve(ctx, tracing.Retrieval{Collection: "c", Query: mQuestion, K: 1})
	r.End(nil, nil)
	edge.End()
	p.Shutdown(context.Background())
	spans := fake.WaitSpans(t, 2, 5*time.Second)
	for _, s := range spans {
		if strings.Contains(s.AllText(), mQuestion) {
			t.Errorf("span %q carries content under a foreign parent", s.Name)
		}
	}
	if spans[0].TraceID != spans[1].TraceID {
		t.Errorf("child not in the parent's trace")
	}
}

// After a failed export the exporter pauses: batches ended meanwhile are
// counted as failed without being sent, so a dead collector costs no
// encoding or connection attempts per batch.
func TestFailingCollectorIsNotHammered(t *testing.T) {
	fake := langfusetest.New(t)
	fake.Inject(langfusetest.RouteTraces, langfusetest.FailBefore, http.StatusBadRequest, 1000)
	p := setup(t, langfuseEnv(fake, map[string]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "6"}))
	for range 20 {
		runAsk(p, "s", "u")
		time.Sleep(10 * time.Millisecond) // one batch per ask
	}
	st := p.Shutdown(context.Background())
	if n := len(fake.Exports()); n > 2 {
		t.Errorf("%d export requests within half a second of a failing collector, want at most 2", n)
	}
	if st.Failed+st.Dropped != 120 || st.Exported != 0 {
		t.Errorf("stats %+v", st)
	}
}
