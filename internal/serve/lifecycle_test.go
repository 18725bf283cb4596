package serve_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/embed/embedtest"
	"github.com/kura-rag/kura/internal/langfuse"
	"github.com/kura-rag/kura/internal/langfuse/langfusetest"
	"github.com/kura-rag/kura/internal/llm/llmtest"
	"github.com/kura-rag/kura/internal/serve"
	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/tracing"
)

// withLLM makes the server answer with an OpenAI-compatible fake.
func withLLM(fake *llmtest.Server) func(*serve.Options) {
	return func(o *serve.Options) {
		o.App.Answers = app.AnswerDefaults{LLM: "openai", Model: "gpt-test"}
		o.App.Providers = app.Providers{Endpoints: map[string]string{"openai": fake.URL + "/v1"}, OpenAIKey: "sk-test-0123456789"}
	}
}

// A long reply in many pieces, so that a stream is still running when
// the test acts on it.
var longReply = strings.Repeat("GitOpsはGitを唯一の情報源とする運用手法です。", 10) + "[1]"

// startAsk posts a streamed ask and returns the response once its
// headers arrived (the answer is on its way).
func (s *site) startAsk(question string) *http.Response {
	s.t.Helper()
	b, _ := json.Marshal(map[string]any{"question": question, "stream": true})
	return s.request("POST", "/api/v1/ask", "application/json", bytes.NewReader(b))
}

func TestLimitsAndKeys(t *testing.T) {
	fake := llmtest.NewOpenAI(llmtest.Options{Reply: longReply, Latency: 300 * time.Millisecond, Interval: 20 * time.Millisecond})
	defer fake.Close()
	keys := &server.KeySet{}
	const key = "alice-key-0123456789abcdef"
	if err := keys.Add("alice", key); err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	s := start(t, seed(t), func(o *serve.Options) {
		withLLM(fake)(o)
		o.Server.Keys = keys
		o.Server.MaxConcurrentAsks = 1
		o.Server.MaxUploadBytes = 4 << 10
		o.Server.MaxBodyBytes = 2 << 10
		o.Server.MaxQuestionChars = 100
		o.Server.SpoolDir = spool
	})
	if !s.rec.AuthRequired {
		t.Fatalf("record %+v", s.rec)
	}
	s.must(401, "GET", "/api/v1/collections", nil, nil)
	s.must(200, "GET", "/healthz", nil, nil)
	s.key = "wrong-key-0123456789abcdef"
	s.must(401, "POST", "/api/v1/search", map[string]any{"query": "GitOps"}, nil)
	s.key = key
	var info api.ServerInfo
	s.must(200, "GET", "/api/v1/info", nil, &info)
	if info.User != "alice" || !info.AuthRequired || info.LLM != "openai" || info.Defaults.Model != "gpt-test" {
		t.Fatalf("info %+v", info)
	}

	// 413: an upload over the limit leaves nothing spooled; so does a
	// body or a question over theirs.
	code, _, raw := s.upload(map[string]string{"big.txt": strings.Repeat("x", 8<<10)}, nil)
	if code != 413 || !strings.Contains(raw, "too_large") {
		t.Fatalf("big upload: %d %s", code, raw)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Fatalf("spooled files left behind: %v", left)
	}
	s.must(413, "POST", "/api/v1/search", map[string]any{"query": "GitOps", "filter": strings.Repeat("a", 4<<10)}, nil)
	s.must(413, "POST", "/api/v1/ask", map[string]any{"question": strings.Repeat("長", 101)}, nil)

	// 429: one answer at a time; a second one while the first streams is
	// refused with Retry-After, and the first completes.
	first := s.startAsk("GitOpsとは何ですか")
	if first.StatusCode != 200 {
		t.Fatalf("first ask: %s", first.Status)
	}
	resp := s.request("POST", "/api/v1/ask", "application/json", strings.NewReader(`{"question": "Argo CDとは"}`))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "too_many_streams") {
		t.Fatalf("second ask: %s %s", resp.Status, body)
	}
	evs := readEvents(t, first.Body)
	first.Body.Close()
	if names(evs) != "meta sources delta citation done" && !strings.HasSuffix(names(evs), "done") {
		t.Fatalf("first ask events: %s", names(evs))
	}
	var ans api.Answer
	evs[len(evs)-1].decode(t, &ans)
	if ans.LLM != "openai" || ans.Model != "gpt-test" || ans.Answer == "" {
		t.Fatalf("answer %+v", ans)
	}
	// The provider got the seed app's options and its key; neither key
	// appears in any log line.
	req := fake.Last()
	if req.Body["max_tokens"] != float64(500) || req.Body["temperature"] != 0.3 || req.Header.Get("Authorization") != "Bearer sk-test-0123456789" {
		t.Fatalf("provider request %s %v", req.Raw, req.Header)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{key, "sk-test-0123456789"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Fatalf("a key is in the log:\n%s", s.logs)
		}
	}
}

// TestShutdownLetsStreamsFinish: on shutdown the discovery file goes at
// once, a running answer streams to its end, and Run returns cleanly.
func TestShutdownLetsStreamsFinish(t *testing.T) {
	fake := llmtest.NewOpenAI(llmtest.Options{Reply: longReply, PieceRunes: 4, Interval: 15 * time.Millisecond})
	defer fake.Close()
	data := seed(t)
	s := start(t, data, func(o *serve.Options) {
		withLLM(fake)(o)
		o.Server.ShutdownTimeout = 20 * time.Second
	})
	resp := s.startAsk("GitOpsとは何ですか")
	defer resp.Body.Close()
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(serve.RecordPath(data)); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the discovery file stayed after the shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	evs := readEvents(t, resp.Body)
	if got := names(evs); !strings.HasSuffix(got, "done") {
		t.Fatalf("the running answer ended with %s", got)
	}
	var ans api.Answer
	evs[len(evs)-1].decode(t, &ans)
	if !strings.Contains(ans.Answer, "GitOps") || len([]rune(ans.Answer)) < 200 {
		t.Fatalf("answer cut short: %q", ans.Answer)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestShutdownDeadline: past the deadline a stream ends with an error
// event saying so, and a running ingest job is cancelled; Run reports it.
func TestShutdownDeadline(t *testing.T) {
	fake := llmtest.NewOpenAI(llmtest.Options{Reply: longReply, PieceRunes: 1, Interval: 50 * time.Millisecond})
	defer fake.Close()
	emb := embedtest.NewOpenAI(embedtest.Options{Dim: 16, Latency: 500 * time.Millisecond})
	defer emb.Close()
	data := seed(t)
	s := start(t, data, func(o *serve.Options) {
		withLLM(fake)(o)
		o.App.Providers.Endpoints["openai"] = fake.URL + "/v1"
		o.App.Embedding = app.EmbedOptions{Embedder: "openai", Model: "text-embedding-3-small", Endpoint: emb.URL + "/v1", BatchSize: 4, NoCache: true}
		o.Server.ShutdownTimeout = 500 * time.Millisecond
	})
	// A job into a new collection, embedded by a slow provider: 400
	// chunks (one per paragraph) in batches of four.
	var doc strings.Builder
	for i := range 400 {
		fmt.Fprintf(&doc, "Paragraph %d about slow embeddings and careful shutdowns: %s\n\n", i, strings.Repeat("wait ", 25))
	}
	code, job, raw := s.upload(map[string]string{"slow.md": doc.String()}, map[string]string{"collection": "slow"})
	if code != 202 {
		t.Fatalf("upload: %d %s", code, raw)
	}
	for emb.Calls() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	resp := s.startAsk("GitOpsとは何ですか")
	defer resp.Body.Close()
	began := time.Now()
	err := s.stop()
	took := time.Since(began)
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Run: %v", err)
	}
	evs := readEvents(t, resp.Body)
	last := evs[len(evs)-1]
	if last.name != "error" || !strings.Contains(last.data, "shutting down") {
		t.Fatalf("the cut stream ended with %s %s", last.name, last.data)
	}
	if took > 10*time.Second {
		t.Fatalf("shutdown took %s with a deadline of 500ms", took)
	}
	// The job stopped early: its chunks so far are stored, the rest not.
	a, err := app.Open(t.Context(), app.Options{DataDir: data, Collection: "docs"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	info, err := a.DescribeCollection(t.Context(), "slow")
	if err == nil && info.Rows >= 400 {
		t.Fatalf("job %s was not cancelled: %d rows", job.JobID, info.Rows)
	}
	calls := emb.Calls()
	time.Sleep(500 * time.Millisecond)
	if calls >= 100 || emb.Calls() != calls {
		t.Fatalf("the embedder was called %d times, then %d: the job went on after the shutdown", calls, emb.Calls())
	}
}

// TestFeedbackAndTracesReachLangfuse: an answer is one trace in
// Langfuse; its feedback arrives once as a user-feedback score on that
// trace, although Langfuse lost the first response; the rating never
// waits for Langfuse.
func TestFeedbackAndTracesReachLangfuse(t *testing.T) {
	lf := langfusetest.New(t)
	s := start(t, seed(t), func(o *serve.Options) {
		o.Langfuse = &langfuse.Config{Host: lf.URL, PublicKey: langfusetest.PublicKey, SecretKey: langfusetest.SecretKey, RetryWait: 10 * time.Millisecond}
		o.Tracing = tracing.Config{Backend: tracing.BackendLangfuse, Endpoint: lf.URL + tracing.LangfuseTracesPath,
			Headers: tracing.LangfuseHeaders(langfusetest.PublicKey, langfusetest.SecretKey), Content: true, BatchDelay: 50 * time.Millisecond}
		o.FeedbackInterval = 50 * time.Millisecond
	})
	var ans api.Answer
	s.must(200, "POST", "/api/v1/ask", map[string]any{"question": "GitOpsとは何ですか"}, &ans)
	if len(ans.TraceID) != 32 {
		t.Fatalf("trace id %q", ans.TraceID)
	}
	lf.Inject(langfusetest.RouteScores, langfusetest.FailAfter, 500, 1)
	s.must(201, "POST", "/api/v1/feedback", map[string]any{"answer_id": ans.ID, "value": 0, "kind": "thumbs", "comment": "wrong tool"}, nil)
	deadline := time.Now().Add(10 * time.Second)
	for len(lf.Scores()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	scores := lf.Scores()
	if len(scores) != 1 || scores[0].TraceID != ans.TraceID || scores[0].Name != "user-feedback" || *scores[0].Value != 0 ||
		scores[0].Comment != "wrong tool" || scores[0].ObservationID == "" {
		t.Fatalf("scores %+v", scores)
	}
	// A Langfuse that never answers does not hold the rating.
	lf.Inject(langfusetest.RouteScores, langfusetest.Hang, 0, 1)
	began := time.Now()
	s.must(201, "POST", "/api/v1/feedback", map[string]any{"answer_id": ans.ID, "value": 1, "kind": "thumbs"}, nil)
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("the rating waited %s for Langfuse", d)
	}
	// The answer's spans were exported as one trace.
	traced := func() bool {
		for _, sp := range lf.Spans() {
			if sp.TraceID == ans.TraceID && sp.Name == "ask" {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); !traced() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !traced() {
		t.Fatalf("the trace %s did not reach Langfuse (%d spans)", ans.TraceID, len(lf.Spans()))
	}
	// The hanging delivery does not hold the shutdown.
	began = time.Now()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Fatalf("shutdown took %s beside a hanging Langfuse", d)
	}
}

// TestFailedFirstAnswerKeepsItsConversation: the conversation named in
// the first event exists even when that answer fails, so that the
// client's next question continues it.
func TestFailedFirstAnswerKeepsItsConversation(t *testing.T) {
	fake := llmtest.NewOpenAI(llmtest.Options{Statuses: []int{400}})
	defer fake.Close()
	s := start(t, seed(t), withLLM(fake))
	evs := s.stream("/api/v1/ask", map[string]any{"question": "GitOpsとは何ですか", "stream": true})
	if got := names(evs); !strings.HasPrefix(got, "meta") || !strings.HasSuffix(got, "error") {
		t.Fatalf("events %s", got)
	}
	var meta api.Meta
	evs[0].decode(t, &meta)
	var conv api.Conversation
	s.must(200, "GET", "/api/v1/conversations/"+meta.ConversationID, nil, &conv)
	if len(conv.Turns) != 0 || conv.Title == "" {
		t.Fatalf("conversation %+v", conv)
	}
	var ans api.Answer
	s.must(200, "POST", "/api/v1/ask", map[string]any{"question": "GitOpsとは何ですか", "conversation_id": meta.ConversationID}, &ans)
	s.must(200, "GET", "/api/v1/conversations/"+meta.ConversationID, nil, &conv)
	if ans.ConversationID != meta.ConversationID || len(conv.Turns) != 1 {
		t.Fatalf("answer %+v, conversation %+v", ans, conv)
	}
}
