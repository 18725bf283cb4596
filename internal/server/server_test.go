package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/server"
)

func TestSearch(t *testing.T) {
	e := newEnv(t, server.Config{MaxBodyBytes: 4096})
	resp, body := e.do("POST", "/api/v1/search", map[string]any{"query": "GitOpsとは", "k": 2})
	var sr api.SearchResponse
	if resp.StatusCode != 200 || json.Unmarshal(body, &sr) != nil || len(sr.Hits) == 0 || sr.Hits[0].Entity["source"] != "docs/gitops.md" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(string(body), `{"hits":[{"id":`) || strings.Contains(string(body), `\u003c`) {
		t.Fatalf("shape: %s", body)
	}
	// No hit is an empty array, not null.
	_, body = e.do("POST", "/api/v1/search", map[string]any{"query": "zzzz"})
	if string(body) != `{"hits":[]}` {
		t.Fatalf("no hits: %s", body)
	}
	// Batch.
	_, body = e.do("POST", "/api/v1/search", map[string]any{"queries": []map[string]any{{"id": "q1", "query": "Argo CD"}, {"id": 7, "query": "テスト"}}})
	var br api.SearchResponse
	if json.Unmarshal(body, &br) != nil || len(br.Results) != 2 || string(br.Results[0].QueryID) != `"q1"` || string(br.Results[1].QueryID) != "7" {
		t.Fatalf("batch: %s", body)
	}

	resp, body = e.do("POST", "/api/v1/search", map[string]any{"query": "x", "k": 0.5})
	wantError(t, resp, body, 400, "invalid_request", "k")
	resp, body = e.do("POST", "/api/v1/search", map[string]any{"query": "x", "temprature": 1})
	wantError(t, resp, body, 400, "invalid_request", "temprature")
	resp, body = e.do("POST", "/api/v1/search", map[string]any{"query": "x", "search_type": "fuzzy"})
	wantError(t, resp, body, 400, "invalid_request", "search_type")
	resp, body = e.do("POST", "/api/v1/search", `{"query": "x"} {}`)
	wantError(t, resp, body, 400, "invalid_request", "")
	resp, body = e.do("POST", "/api/v1/search", `{"query": `)
	wantError(t, resp, body, 400, "invalid_request", "")
	resp, body = e.do("POST", "/api/v1/search", map[string]any{"query": "x"}, "Content-Type", "text/plain")
	wantError(t, resp, body, 415, "unsupported_media_type", "")
	resp, body = e.do("POST", "/api/v1/search", map[string]any{"query": strings.Repeat("x", 5000)})
	wantError(t, resp, body, 413, "too_large", "")
	resp, body = e.do("POST", "/api/v1/search", map[string]any{"query": "x", "collection": "nope"})
	wantError(t, resp, body, 404, "not_found", "")
	resp, body = e.do("POST", "/api/v1/search", map[string]any{"query": "x", "filter": "year >"})
	wantError(t, resp, body, 422, "unprocessable", "filter")
	resp, body = e.do("GET", "/api/v1/search", nil)
	wantError(t, resp, body, 405, "method_not_allowed", "")
	if resp.Header.Get("Allow") != "POST" {
		t.Fatalf("Allow %q", resp.Header.Get("Allow"))
	}
	resp, body = e.do("GET", "/api/v1/nothing", nil)
	wantError(t, resp, body, 404, "not_found", "")
}

func TestQuestionLimit(t *testing.T) {
	e := newEnv(t, server.Config{MaxQuestionChars: 10})
	resp, body := e.do("POST", "/api/v1/ask", map[string]any{"question": strings.Repeat("質", 11)})
	wantError(t, resp, body, 413, "too_large", "question")
	if !strings.Contains(string(body), "at most 10") {
		t.Fatalf("%s", body)
	}
}

func TestAskJSON(t *testing.T) {
	e := newEnv(t, server.Config{})
	resp, body := e.do("POST", "/api/v1/ask", map[string]any{"question": "GitOpsとは何ですか", "temperature": 0, "top_k": 0})
	var a api.Answer
	if resp.StatusCode != 200 || json.Unmarshal(body, &a) != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(a.ID, "ans_") || !strings.Contains(a.Answer, "[1]") || len(a.Citations) == 0 || len(a.Sources) == 0 ||
		!a.Extractive || a.LLM != "extractive" || a.ConversationID == "" || len(a.TraceID) != 32 {
		t.Fatalf("answer %s", body)
	}
	got := e.fake.Asks()[0]
	if got.Temperature == nil || *got.Temperature != 0 || got.TopK == nil || *got.TopK != 0 || got.TopP != nil {
		t.Fatalf("generation options did not arrive as sent: %+v", got.GenerationOptions)
	}
	resp, body = e.do("POST", "/api/v1/ask", map[string]any{"question": "x", "prompt": "/etc/passwd"})
	wantError(t, resp, body, 400, "invalid_request", "prompt")
}

func TestAskStream(t *testing.T) {
	e := newEnv(t, server.Config{KeepAlive: 20 * time.Millisecond})
	e.fake.Delay = 15 * time.Millisecond
	resp := e.stream(context.Background(), "/api/v1/ask", map[string]any{"question": "GitOpsとは何ですか", "stream": true})
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" || resp.Header.Get("X-Accel-Buffering") != "no" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
		t.Fatalf("headers %v", resp.Header)
	}
	events, comments := readSSE(t, resp.Body)
	if comments == 0 {
		t.Fatal("no keep-alive comment on a slow stream")
	}
	var names []string
	var text strings.Builder
	for _, ev := range events {
		if len(names) == 0 || names[len(names)-1] != ev.name {
			names = append(names, ev.name)
		}
		if ev.name == "delta" {
			var d api.Delta
			json.Unmarshal([]byte(ev.data), &d)
			text.WriteString(d.Text)
		}
	}
	order := strings.Join(names, ",")
	if !strings.HasPrefix(order, "meta,sources,delta") || !strings.Contains(order, "citation") || !strings.HasSuffix(order, "done") {
		t.Fatalf("event order %s", order)
	}
	var done api.Answer
	if err := json.Unmarshal([]byte(events[len(events)-1].data), &done); err != nil || done.Answer != text.String() || len(done.Citations) == 0 {
		t.Fatalf("done %v %q vs deltas %q", err, done.Answer, text.String())
	}
}

func TestStreamErrorBeforeAndAfterStart(t *testing.T) {
	e := newEnv(t, server.Config{})
	// Before anything streamed: a plain HTTP error.
	resp, body := e.do("POST", "/api/v1/ask", map[string]any{"question": "x", "stream": true, "collection": "missing"})
	wantError(t, resp, body, 404, "not_found", "")
	// A conversation of another user does not exist either.
	resp, body = e.do("POST", "/api/v1/ask", map[string]any{"question": "x", "stream": true, "conversation_id": "conv_x"})
	wantError(t, resp, body, 404, "not_found", "")
}

func TestClientGoneCancelsAnswer(t *testing.T) {
	e := newEnv(t, server.Config{})
	e.fake.Delay = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	resp := e.stream(ctx, "/api/v1/ask", map[string]any{"question": "GitOpsとは何ですか", "stream": true})
	buf := make([]byte, 1)
	resp.Body.Read(buf) // the stream has started
	cancel()
	resp.Body.Close()
	// The backend stops: its answer is never recorded.
	time.Sleep(300 * time.Millisecond)
	_, body := e.do("GET", "/api/v1/traces", nil)
	if strings.Contains(string(body), "GitOps") {
		t.Fatalf("the cancelled answer ran to its end: %s", body)
	}
	if !metricValue(t, e, "kura_streams_in_flight", "0") {
		t.Fatal("the stream is still counted as open")
	}
}

func metricValue(t *testing.T, e *env, name, want string) bool {
	t.Helper()
	_, body := e.do("GET", "/metrics", nil)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimPrefix(line, name+" ") == want
		}
	}
	return false
}

func TestConcurrentAskLimit(t *testing.T) {
	e := newEnv(t, server.Config{MaxConcurrentAsks: 1})
	e.fake.Delay = 30 * time.Millisecond
	resp := e.stream(context.Background(), "/api/v1/ask", map[string]any{"question": "GitOpsとは", "stream": true})
	defer resp.Body.Close()
	buf := make([]byte, 1)
	resp.Body.Read(buf)
	r2, body := e.do("POST", "/api/v1/ask", map[string]any{"question": "GitOpsとは", "stream": true})
	wantError(t, r2, body, 429, "too_many_streams", "")
	if r2.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	r3, body := e.do("POST", "/v1/chat/completions", map[string]any{"model": "kura", "messages": []map[string]any{{"role": "user", "content": "x"}}})
	if r3.StatusCode != 429 || !strings.Contains(string(body), `"type":"rate_limit_error"`) {
		t.Fatalf("chat under the limit: %d %s", r3.StatusCode, body)
	}
	io.Copy(io.Discard, resp.Body)
	r4, _ := e.do("POST", "/api/v1/ask", map[string]any{"question": "GitOpsとは"})
	if r4.StatusCode != 200 {
		t.Fatalf("after the stream ended: %d", r4.StatusCode)
	}
}

func TestWriteTimeoutSparesStreams(t *testing.T) {
	// A stream far longer than the read and write timeouts still completes.
	e := newEnv(t, server.Config{WriteTimeout: 150 * time.Millisecond, ReadTimeout: 150 * time.Millisecond, KeepAlive: time.Hour})
	e.fake.Delay = 25 * time.Millisecond // about 1 s for the whole answer
	start := time.Now()
	resp := e.stream(context.Background(), "/api/v1/ask", map[string]any{"question": "GitOpsとは何ですか", "stream": true})
	events, _ := readSSE(t, resp.Body)
	resp.Body.Close()
	if len(events) == 0 || events[len(events)-1].name != "done" || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("stream ended after %s with %d events", time.Since(start), len(events))
	}
}

func TestAuth(t *testing.T) {
	ks := &server.KeySet{}
	if err := ks.Add("alice", "alice-key-0123456789"); err != nil {
		t.Fatal(err)
	}
	if err := ks.Add("bob", "bob-key-0123456789ab"); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, server.Config{Keys: ks})
	resp, body := e.do("GET", "/api/v1/collections", nil)
	wantError(t, resp, body, 401, "unauthorized", "")
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("no WWW-Authenticate")
	}
	resp, body = e.do("GET", "/api/v1/collections", nil, "Authorization", "Bearer wrong-key-0123456789")
	wantError(t, resp, body, 401, "unauthorized", "")
	resp, body = e.do("GET", "/v1/models", nil)
	if resp.StatusCode != 401 || !strings.Contains(string(body), `"type":"authentication_error"`) {
		t.Fatalf("openai 401: %s", body)
	}
	for _, p := range []string{"/healthz", "/readyz", "/", "/api/v1/openapi.json", "/ui/app.js"} {
		if resp, _ := e.do("GET", p, nil); resp.StatusCode != 200 {
			t.Fatalf("%s: %d without a key", p, resp.StatusCode)
		}
	}
	if resp, _ := e.do("GET", "/metrics", nil); resp.StatusCode != 401 {
		t.Fatalf("metrics without a key: %d", resp.StatusCode)
	}

	// Each user sees only their own answers and conversations.
	e.key = "alice-key-0123456789"
	_, body = e.do("POST", "/api/v1/ask", map[string]any{"question": "GitOpsとは"})
	var a api.Answer
	json.Unmarshal(body, &a)
	_, body = e.do("GET", "/api/v1/info", nil)
	if !strings.Contains(string(body), `"user":"alice"`) || !strings.Contains(string(body), `"auth_required":true`) {
		t.Fatalf("info %s", body)
	}
	e.key = "bob-key-0123456789ab"
	resp, body = e.do("GET", "/api/v1/conversations/"+a.ConversationID, nil)
	wantError(t, resp, body, 404, "not_found", "")
	resp, body = e.do("POST", "/api/v1/feedback", map[string]any{"answer_id": a.ID, "value": 1})
	wantError(t, resp, body, 404, "not_found", "")
	_, body = e.do("GET", "/api/v1/conversations", nil)
	if string(body) != `{"conversations":[]}` {
		t.Fatalf("bob sees %s", body)
	}
	resp, body = e.do("POST", "/api/v1/ask", map[string]any{"question": "next", "conversation_id": a.ConversationID})
	wantError(t, resp, body, 404, "not_found", "")

	// No key in any log line.
	if logs := e.log.String(); strings.Contains(logs, "alice-key") || strings.Contains(logs, "bob-key") || strings.Contains(logs, "wrong-key") {
		t.Fatalf("a key reached the log:\n%s", logs)
	}
	if !strings.Contains(e.log.String(), `"user":"alice"`) {
		t.Fatal("the access log does not name the user")
	}
}

func TestHostCheckWithoutKeys(t *testing.T) {
	e := newEnv(t, server.Config{AllowedHosts: []string{"kura.internal"}})
	f := func(host string, want int) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/collections", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
	f("127.0.0.1:8080", 200)
	f("localhost:8080", 200)
	f("[::1]:8080", 200)
	f("kura.internal", 200)
	f("attacker.example:8080", 403)
}

func TestCORS(t *testing.T) {
	e := newEnv(t, server.Config{CORSOrigins: []string{"https://chat.example.com"}})
	resp, _ := e.do("OPTIONS", "/api/v1/ask", nil, "Origin", "https://chat.example.com", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://chat.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = e.do("POST", "/api/v1/search", map[string]any{"query": "GitOps"}, "Origin", "https://chat.example.com")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://chat.example.com" {
		t.Fatalf("allowed origin %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := e.do("POST", "/api/v1/search", map[string]any{"query": "GitOps"}, "Origin", "https://evil.example")
	wantError(t, resp, body, 403, "forbidden", "")
	resp, _ = e.do("GET", "/api/v1/collections", nil, "Origin", "https://evil.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("an unknown origin was allowed to read")
	}
	// Same origin (the web UI) needs no CORS.
	resp, _ = e.do("POST", "/api/v1/search", map[string]any{"query": "GitOps"}, "Origin", e.ts.URL)
	if resp.StatusCode != 200 {
		t.Fatalf("same origin %d", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, server.Config{})
	for _, p := range []string{"/", "/traces", "/api/v1/collections"} {
		resp, _ := e.do("GET", p, nil)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("%s: %v", p, h)
		}
	}
	resp, _ := e.do("GET", "/ui/../server.go", nil)
	if resp.StatusCode == 200 {
		t.Fatal("path escape served a file")
	}
}

func TestFeedbackAndConversations(t *testing.T) {
	e := newEnv(t, server.Config{})
	_, body := e.do("POST", "/api/v1/ask", map[string]any{"question": "GitOpsとは"})
	var a api.Answer
	json.Unmarshal(body, &a)
	resp, body := e.do("POST", "/api/v1/feedback", map[string]any{"answer_id": a.ID, "value": 0.75, "kind": "faces", "comment": "わかりやすい"})
	var fb api.Feedback
	if resp.StatusCode != 201 || json.Unmarshal(body, &fb) != nil || fb.Value != 0.75 || fb.Comment != "わかりやすい" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = e.do("POST", "/api/v1/feedback", map[string]any{"answer_id": a.ID, "value": 0.5, "kind": "thumbs"})
	wantError(t, resp, body, 400, "invalid_request", "value")

	_, body = e.do("POST", "/api/v1/ask", map[string]any{"question": "Argo CDは？", "conversation_id": a.ConversationID})
	var a2 api.Answer
	json.Unmarshal(body, &a2)
	if a2.ConversationID != a.ConversationID || a2.RewrittenQuestion == "" {
		t.Fatalf("follow-up %s", body)
	}
	_, body = e.do("GET", "/api/v1/conversations/"+a.ConversationID, nil)
	var c api.Conversation
	if json.Unmarshal(body, &c) != nil || len(c.Turns) != 2 || c.TurnCount != 2 || c.Turns[0].Feedback == nil || c.Turns[0].Feedback.Value != 0.75 {
		t.Fatalf("conversation %s", body)
	}
	resp, body = e.do("PATCH", "/api/v1/conversations/"+a.ConversationID, map[string]any{"title": "GitOpsの話"})
	if resp.StatusCode != 200 || !strings.Contains(string(body), "GitOpsの話") {
		t.Fatalf("rename %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("PATCH", "/api/v1/conversations/"+a.ConversationID, map[string]any{"title": ""})
	wantError(t, resp, body, 400, "invalid_request", "title")
	_, body = e.do("GET", "/api/v1/traces?limit=1", nil)
	var tl api.TraceList
	if json.Unmarshal(body, &tl) != nil || len(tl.Traces) != 1 || tl.Traces[0].AnswerID != a2.ID {
		t.Fatalf("traces %s", body)
	}
	resp, body = e.do("GET", "/api/v1/traces?limit=0", nil)
	wantError(t, resp, body, 400, "invalid_request", "limit")
	if resp, _ := e.do("DELETE", "/api/v1/conversations/"+a.ConversationID, nil); resp.StatusCode != 204 {
		t.Fatalf("delete %d", resp.StatusCode)
	}
	resp, body = e.do("GET", "/api/v1/conversations/"+a.ConversationID, nil)
	wantError(t, resp, body, 404, "not_found", "")
}

func TestCollections(t *testing.T) {
	e := newEnv(t, server.Config{})
	resp, body := e.do("POST", "/api/v1/collections", map[string]any{"name": "notes", "index": "hnsw"})
	if resp.StatusCode != 201 || resp.Header.Get("Location") != "/api/v1/collections/notes" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = e.do("POST", "/api/v1/collections", map[string]any{"name": "notes"})
	wantError(t, resp, body, 409, "conflict", "")
	resp, body = e.do("POST", "/api/v1/collections", map[string]any{"name": "bad-name"})
	wantError(t, resp, body, 400, "invalid_request", "name")
	_, body = e.do("GET", "/api/v1/collections", nil)
	if !strings.Contains(string(body), `"name":"notes"`) || !strings.Contains(string(body), `"default":"kura"`) {
		t.Fatalf("%s", body)
	}
	_, body = e.do("GET", "/api/v1/collections/kura/sources", nil)
	if !strings.Contains(string(body), "docs/gitops.md") {
		t.Fatalf("%s", body)
	}
	resp, body = e.do("DELETE", "/api/v1/collections/kura/documents?source=docs/gitops.md", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"removed":`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = e.do("DELETE", "/api/v1/collections/kura/documents?source=docs/gitops.md", nil)
	wantError(t, resp, body, 404, "not_found", "")
	resp, body = e.do("DELETE", "/api/v1/collections/kura/documents", nil)
	wantError(t, resp, body, 400, "invalid_request", "source")
	if resp, _ := e.do("DELETE", "/api/v1/collections/notes", nil); resp.StatusCode != 204 {
		t.Fatal(resp.StatusCode)
	}
	resp, body = e.do("GET", "/api/v1/collections/notes", nil)
	wantError(t, resp, body, 404, "not_found", "")
}

// upload posts files (name → content) as multipart.
func (e *env) upload(files map[string]string, fields ...string) (*http.Response, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	for name, content := range files {
		w, _ := mw.CreateFormFile("files", name)
		io.WriteString(w, content)
	}
	mw.Close()
	resp, body := e.do("POST", "/api/v1/ingest", buf.String(), "Content-Type", mw.FormDataContentType())
	return resp, body
}

func TestUpload(t *testing.T) {
	spool := t.TempDir()
	e := newEnv(t, server.Config{MaxUploadBytes: 64 << 10, SpoolDir: spool})
	resp, body := e.upload(map[string]string{"notes.md": "# Notes\n\nKubernetesはコンテナを管理します。", "image.png": "\x89PNG"}, "collection", "kura", "set", "team=infra")
	var job api.IngestJob
	if resp.StatusCode != 202 || json.Unmarshal(body, &job) != nil || job.JobID == "" || job.State != api.JobRunning {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/ingest/"+job.JobID+"/events", nil)
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := readSSE(t, sresp.Body)
	sresp.Body.Close()
	var done api.IngestJob
	if len(events) == 0 || events[len(events)-1].name != "done" || json.Unmarshal([]byte(events[len(events)-1].data), &done) != nil {
		t.Fatalf("events %v", events)
	}
	if done.State != api.JobDone || len(done.Problems) != 1 || done.Problems[0].Source != "upload/image.png" || done.Summary.Files != 1 {
		t.Fatalf("job %+v", done)
	}
	_, body = e.do("POST", "/api/v1/search", map[string]any{"query": "Kubernetes"})
	if !strings.Contains(string(body), "upload/notes.md") {
		t.Fatalf("uploaded chunk not searchable: %s", body)
	}
	// Too large: 413, and nothing left in the spool directory.
	resp, body = e.upload(map[string]string{"big.txt": strings.Repeat("a", 70<<10)})
	wantError(t, resp, body, 413, "too_large", "")
	resp, body = e.upload(map[string]string{"a.txt": strings.Repeat("a", 40<<10), "b.txt": strings.Repeat("b", 40<<10)})
	wantError(t, resp, body, 413, "too_large", "")
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Fatalf("spooled files left behind: %v", left)
	}
	resp, body = e.upload(map[string]string{"../../etc/passwd": "x"})
	if resp.StatusCode != 202 || !strings.Contains(string(body), `"files":["passwd"]`) {
		t.Fatalf("path in file name: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("POST", "/api/v1/ingest", `{"files": []}`)
	wantError(t, resp, body, 415, "unsupported_media_type", "")
	resp, body = e.upload(map[string]string{"a.txt": "x"}, "chunk_size", "many")
	wantError(t, resp, body, 400, "invalid_request", "chunk_size")
	resp, body = e.do("GET", "/api/v1/ingest/job_nope", nil)
	wantError(t, resp, body, 404, "not_found", "")
}

// panicky is a backend whose searches panic.
type panicky struct{ server.Backend }

func (panicky) Search(context.Context, string, api.SearchRequest) (api.SearchResponse, error) {
	panic("boom")
}

// failing is a backend whose searches fail with an untyped error.
type failing struct{ server.Backend }

func (failing) Search(context.Context, string, api.SearchRequest) (api.SearchResponse, error) {
	return api.SearchResponse{}, errors.New("disk on fire at /secret/path")
}

func TestPanicsAndInternalErrors(t *testing.T) {
	e := newEnv(t, server.Config{Backend: panicky{newFake(t, "")}})
	resp, body := e.do("POST", "/api/v1/search", map[string]any{"query": "x"})
	wantError(t, resp, body, 500, "internal", "")
	if !strings.Contains(e.log.String(), "boom") {
		t.Fatal("the panic is not in the log")
	}
	if resp, _ := e.do("GET", "/healthz", nil); resp.StatusCode != 200 {
		t.Fatal("the server died")
	}
	e = newEnv(t, server.Config{Backend: failing{newFake(t, "")}})
	resp, body = e.do("POST", "/api/v1/search", map[string]any{"query": "x"})
	wantError(t, resp, body, 500, "internal", "")
	if strings.Contains(string(body), "/secret/path") || !strings.Contains(e.log.String(), "/secret/path") {
		t.Fatalf("internal detail in the response or missing from the log: %s", body)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, server.Config{})
	e.do("POST", "/api/v1/search", map[string]any{"query": "GitOps"})
	e.do("POST", "/api/v1/ask", map[string]any{"question": "GitOpsとは"})
	e.do("GET", "/no/such/path/123", nil)
	_, body := e.do("GET", "/metrics", nil)
	m := string(body)
	for _, want := range []string{
		`kura_http_requests_total{code="200",method="POST",route="/api/v1/search"} 1`,
		`kura_http_request_duration_seconds_bucket{method="POST",route="/api/v1/ask"`,
		`kura_answer_first_token_seconds_bucket{llm="extractive"`,
		`kura_answers_total{llm="extractive",outcome="ok"} 1`,
		`kura_llm_tokens_total{direction="output",llm="extractive"}`,
		`route="other"`,
		"process_resident_memory_bytes",
		"go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "/no/such/path") {
		t.Error("a raw path became a label")
	}
}

func TestGracefulShutdown(t *testing.T) {
	f := func(shutdown time.Duration, wantLast string) {
		t.Helper()
		fake := newFake(t, "")
		fake.Delay = 20 * time.Millisecond // the answer takes about 1 s
		srv, err := server.New(server.Config{Backend: fake, ShutdownTimeout: shutdown, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, ln) }()
		url := "http://" + ln.Addr().String()
		b, _ := json.Marshal(map[string]any{"question": "GitOpsとは何ですか", "stream": true})
		resp, err := http.Post(url+"/api/v1/ask", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1)
		resp.Body.Read(buf)
		stop() // SIGTERM
		time.Sleep(50 * time.Millisecond)
		if _, err := http.Get(url + "/healthz"); err == nil {
			t.Error("new connections are still accepted during shutdown")
		}
		rest, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		events, _ := readSSE(t, strings.NewReader("e"+string(rest)))
		if len(events) == 0 || events[len(events)-1].name != wantLast {
			t.Fatalf("shutdown %s: last event %v", shutdown, events[len(events)-1])
		}
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return")
		}
	}
	f(10*time.Second, "done") // the stream finishes within the deadline
	f(200*time.Millisecond, "error")
}

func TestConcurrentStreams(t *testing.T) {
	e := newEnv(t, server.Config{})
	e.fake.Delay = time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(map[string]any{"question": "GitOpsとは", "stream": true})
			resp, err := http.Post(e.ts.URL+"/api/v1/ask", "application/json", bytes.NewReader(b))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			all, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(all), "event: done") {
				errs <- errors.New("a stream did not finish")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
