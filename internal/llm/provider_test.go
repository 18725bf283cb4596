package llm

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/llm/llmtest"
	"github.com/kura-rag/kura/internal/provider"
)

const (
	cohereKey = "co-test-SECRET-key-1234"
	openaiKey = "sk-test-SECRET-abcdef"
)

// noWait replaces the backoff between attempts, so failure tests run in
// milliseconds.
func noWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }

var ociOnce struct {
	sync.Once
	path string
	key  *rsa.PrivateKey
	err  error
}

// ociFile writes one OCI config (profile CHICAGO) for the whole test
// binary: generating an RSA key takes a while.
func ociFile(t testing.TB) (string, *rsa.PrivateKey) {
	t.Helper()
	ociOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kura-oci")
		if err != nil {
			ociOnce.err = err
			return
		}
		ociOnce.path, ociOnce.key, ociOnce.err = llmtest.WriteOCIConfig(dir, "CHICAGO")
	})
	if ociOnce.err != nil {
		t.Fatal(ociOnce.err)
	}
	return ociOnce.path, ociOnce.key
}

// setup is one provider wired to its fake.
type setup struct {
	name   string
	fake   func(llmtest.Options) *llmtest.Server
	client func(t testing.TB, url string, cfg Config) Client
}

func mustNew(t testing.TB, cfg Config) Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var setups = []setup{
	{"cohere", llmtest.NewCohere, func(t testing.TB, url string, cfg Config) Client {
		cfg.Provider, cfg.Endpoint, cfg.APIKey = "cohere", url, cohereKey
		return mustNew(t, cfg)
	}},
	{"oci-cohere", llmtest.NewOCI, func(t testing.TB, url string, cfg Config) Client {
		path, _ := ociFile(t)
		cfg.Provider, cfg.Endpoint = "oci", url
		cfg.OCI.ConfigFile, cfg.OCI.Profile, cfg.OCI.CompartmentID = path, "CHICAGO", llmtest.OCICompartment
		return mustNew(t, cfg)
	}},
	{"oci-generic", llmtest.NewOCI, func(t testing.TB, url string, cfg Config) Client {
		path, _ := ociFile(t)
		cfg.Provider, cfg.Endpoint, cfg.Model = "oci", url, "meta.llama-3.3-70b-instruct"
		cfg.OCI.ConfigFile, cfg.OCI.Profile, cfg.OCI.CompartmentID = path, "CHICAGO", llmtest.OCICompartment
		return mustNew(t, cfg)
	}},
	{"openai", llmtest.NewOpenAI, func(t testing.TB, url string, cfg Config) Client {
		cfg.Provider, cfg.Endpoint, cfg.APIKey = "openai", url+"/v1", openaiKey
		if cfg.Model == "" {
			cfg.Model = "local-model"
		}
		return mustNew(t, cfg)
	}},
	{"ollama", llmtest.NewOllama, func(t testing.TB, url string, cfg Config) Client {
		cfg.Provider, cfg.Endpoint = "ollama", strings.TrimPrefix(url, "http://")
		return mustNew(t, cfg)
	}},
}

// keyFor is the key each fake should demand.
func keyFor(name string) string {
	switch name {
	case "cohere":
		return cohereKey
	case "openai":
		return openaiKey
	}
	return ""
}

// streamed is what a Stream call produced.
type streamed struct {
	pieces    []string
	citations []Citation
	res       Result
	err       error
	took      time.Duration
}

func (s streamed) text() string { return strings.Join(s.pieces, "") }

func run(ctx context.Context, c Client, req Request) streamed {
	var out streamed
	start := time.Now()
	out.res, out.err = c.Stream(ctx, req, func(ev Event) error {
		if ev.Delta != "" {
			out.pieces = append(out.pieces, ev.Delta)
		}
		if ev.Citation != nil {
			out.citations = append(out.citations, *ev.Citation)
		}
		return nil
	})
	out.took = time.Since(start)
	return out
}

func ptr[T any](v T) *T { return &v }

// seedOptions are the seed app's generation options plus a seed and a
// stop sequence, all set explicitly.
func seedOptions() Options {
	return Options{MaxTokens: ptr(500), Temperature: ptr(0.3), TopK: ptr(0), TopP: ptr(0.75),
		FrequencyPenalty: ptr(0.0), PresencePenalty: ptr(0.0), Seed: ptr(int64(42)), Stop: []string{"\n\n質問:"}}
}

func question(docs ...Document) Request {
	return Request{
		System: "出典だけに基づいて答えてください。",
		Messages: []Message{
			{Role: RoleUser, Content: "Argo CDとは？"},
			{Role: RoleAssistant, Content: "GitOpsのツールです。"},
			{Role: RoleUser, Content: "GitOpsとは何ですか"},
		},
		Documents: docs,
	}
}

var sources = []Document{
	{ID: "1", Title: "GitOps入門", Source: "slides/gitops.txt", Text: "GitOpsはGitを唯一の情報源とする運用手法です。"},
	{ID: "2", Title: "Argo CD", Source: "slides/argocd.txt", Text: "Argo CDはKubernetes向けのGitOpsツールです。"},
}

func TestStreamsEveryProvider(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			srv := s.fake(llmtest.Options{Key: keyFor(s.name)})
			defer srv.Close()
			c := s.client(t, srv.URL, Config{})
			req := question(sources...)
			if s.name != "openai" {
				req.Options = seedOptions()
			}
			got := run(context.Background(), c, req)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if got.text() != llmtest.DefaultReply || got.res.Text != llmtest.DefaultReply || len(got.pieces) < 10 {
				t.Fatalf("streamed %d pieces %q, result %q", len(got.pieces), got.text(), got.res.Text)
			}
			if got.res.Usage != (Usage{InputTokens: 120, OutputTokens: 30}) || got.res.FinishReason != FinishStop || got.res.Model == "" {
				t.Fatalf("result %+v", got.res)
			}
			if c.Info().NativeCitations {
				want := Citation{Start: 0, End: len("GitOpsは、Gitを唯一の情報源とする宣言的な運用手法です"),
					Text: "GitOpsは、Gitを唯一の情報源とする宣言的な運用手法です", DocumentIDs: []string{"1"}}
				if len(got.citations) != 1 || !reflect.DeepEqual(got.citations[0], want) || !reflect.DeepEqual(got.res.Citations, got.citations) {
					t.Fatalf("citations %+v, want %+v", got.citations, want)
				}
			} else if len(got.citations) != 0 {
				t.Fatalf("%s has no native citations, got %+v", s.name, got.citations)
			}
			if srv.Calls() != 1 {
				t.Fatalf("%d calls", srv.Calls())
			}
		})
	}
}

func TestCohereRequest(t *testing.T) {
	srv := llmtest.NewCohere(llmtest.Options{Key: cohereKey})
	defer srv.Close()
	c := mustNew(t, Config{Provider: "cohere", Endpoint: srv.URL + "/gw/?tenant=a", APIKey: cohereKey})
	req := question(sources...)
	req.Options = seedOptions()
	if got := run(context.Background(), c, req); got.err != nil {
		t.Fatal(got.err)
	}
	r := srv.Last()
	if r.Path != "/gw/v2/chat" || r.Query != "tenant=a" {
		t.Fatalf("path %s?%s", r.Path, r.Query)
	}
	for h, want := range map[string]string{"Authorization": "Bearer " + cohereKey, "Content-Type": "application/json", "Accept": "text/event-stream"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	want := `{"model":"command-a-03-2025","messages":[` +
		`{"role":"system","content":"出典だけに基づいて答えてください。"},` +
		`{"role":"user","content":"Argo CDとは？"},{"role":"assistant","content":"GitOpsのツールです。"},{"role":"user","content":"GitOpsとは何ですか"}],` +
		`"documents":[{"id":"1","data":{"snippet":"GitOpsはGitを唯一の情報源とする運用手法です。","source":"slides/gitops.txt","title":"GitOps入門"}},` +
		`{"id":"2","data":{"snippet":"Argo CDはKubernetes向けのGitOpsツールです。","source":"slides/argocd.txt","title":"Argo CD"}}],` +
		`"stream":true,"max_tokens":500,"temperature":0.3,"k":0,"p":0.75,"frequency_penalty":0,"presence_penalty":0,"seed":42,"stop_sequences":["\n\n質問:"]}`
	if string(r.Raw) != want {
		t.Fatalf("body\n got %s\nwant %s", r.Raw, want)
	}
	// Unset options are not sent at all: the provider's defaults apply.
	run(context.Background(), c, question())
	for _, k := range []string{"max_tokens", "temperature", "k", "p", "seed", "stop_sequences", "documents"} {
		if _, ok := srv.Last().Body[k]; ok {
			t.Errorf("%s sent although not set", k)
		}
	}
}

func TestOCIRequests(t *testing.T) {
	path, key := ociFile(t)
	srv := llmtest.NewOCI(llmtest.Options{})
	defer srv.Close()
	cfg := Config{Provider: "oci", Endpoint: srv.URL}
	cfg.OCI.ConfigFile, cfg.OCI.Profile, cfg.OCI.CompartmentID = path, "CHICAGO", llmtest.OCICompartment
	c := mustNew(t, cfg)
	if i := c.Info(); i.Model != DefaultOCIModel || !i.NativeCitations {
		t.Fatalf("info %+v", i)
	}
	req := question(sources...)
	req.Options = seedOptions()
	if got := run(context.Background(), c, req); got.err != nil {
		t.Fatal(got.err)
	}
	r := srv.Last()
	if err := llmtest.VerifyOCISignature(r, &key.PublicKey, llmtest.OCIKeyID); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if r.Path != "/20231130/actions/chat" || r.Body["compartmentId"] != llmtest.OCICompartment {
		t.Fatalf("path %s body %v", r.Path, r.Body)
	}
	sm := r.Body["servingMode"].(map[string]any)
	if sm["servingType"] != "ON_DEMAND" || sm["modelId"] != DefaultOCIModel {
		t.Fatalf("servingMode %v", sm)
	}
	cr := r.Body["chatRequest"].(map[string]any)
	want := map[string]any{
		"apiFormat": "COHERE", "isStream": true, "streamOptions": map[string]any{"isIncludeUsage": true},
		"message":          "GitOpsとは何ですか",
		"preambleOverride": "出典だけに基づいて答えてください。",
		"chatHistory": []any{map[string]any{"role": "USER", "message": "Argo CDとは？"},
			map[string]any{"role": "CHATBOT", "message": "GitOpsのツールです。"}},
		"documents": []any{
			map[string]any{"id": "1", "title": "GitOps入門", "source": "slides/gitops.txt", "snippet": "GitOpsはGitを唯一の情報源とする運用手法です。"},
			map[string]any{"id": "2", "title": "Argo CD", "source": "slides/argocd.txt", "snippet": "Argo CDはKubernetes向けのGitOpsツールです。"}},
		"maxTokens": 500.0, "temperature": 0.3, "topK": 0.0, "topP": 0.75, "frequencyPenalty": 0.0, "presencePenalty": 0.0,
		"seed": 42.0, "stopSequences": []any{"\n\n質問:"},
	}
	if !reflect.DeepEqual(cr, want) {
		t.Fatalf("chatRequest\n got %v\nwant %v", cr, want)
	}

	// Another vendor's model goes through GENERIC, per request too.
	req.Model = "meta.llama-3.3-70b-instruct"
	got := run(context.Background(), c, req)
	if got.err != nil || got.text() != llmtest.DefaultReply || len(got.citations) != 0 {
		t.Fatalf("generic: %v, %q, %v", got.err, got.text(), got.citations)
	}
	cr = srv.Last().Body["chatRequest"].(map[string]any)
	text := func(s string) []any { return []any{map[string]any{"type": "TEXT", "text": s}} }
	want = map[string]any{
		"apiFormat": "GENERIC", "isStream": true, "streamOptions": map[string]any{"isIncludeUsage": true},
		"messages": []any{
			map[string]any{"role": "SYSTEM", "content": text("出典だけに基づいて答えてください。")},
			map[string]any{"role": "USER", "content": text("Argo CDとは？")},
			map[string]any{"role": "ASSISTANT", "content": text("GitOpsのツールです。")},
			map[string]any{"role": "USER", "content": text("GitOpsとは何ですか")}},
		"maxTokens": 500.0, "temperature": 0.3, "topK": 0.0, "topP": 0.75, "frequencyPenalty": 0.0, "presencePenalty": 0.0,
		"seed": 42.0, "stop": []any{"\n\n質問:"},
	}
	if !reflect.DeepEqual(cr, want) {
		t.Fatalf("generic chatRequest\n got %v\nwant %v", cr, want)
	}

	// A dedicated endpoint is a DEDICATED serving mode; the format is
	// configured because its OCID does not name the model.
	cfg.Model, cfg.OCIAPIFormat = "ocid1.generativeaiendpoint.oc1.us-chicago-1.xyz", "cohere"
	d := mustNew(t, cfg)
	if got := run(context.Background(), d, question(sources...)); got.err != nil || len(got.citations) != 1 {
		t.Fatalf("dedicated: %v %v", got.err, got.citations)
	}
	sm = srv.Last().Body["servingMode"].(map[string]any)
	if sm["servingType"] != "DEDICATED" || sm["endpointId"] != cfg.Model {
		t.Fatalf("dedicated servingMode %v", sm)
	}
}

func TestOpenAIRequest(t *testing.T) {
	srv := llmtest.NewOpenAI(llmtest.Options{Key: openaiKey})
	defer srv.Close()
	c := mustNew(t, Config{Provider: "openai", Endpoint: srv.URL + "/v1/", APIKey: openaiKey, Model: "qwen2.5-7b-instruct"})
	req := question(sources...)
	req.Options = seedOptions()
	if got := run(context.Background(), c, req); !errors.Is(got.err, ErrUnsupportedOption) || !strings.Contains(got.err.Error(), "top_k") || srv.Calls() != 0 {
		t.Fatalf("top_k: %v, %d calls", got.err, srv.Calls())
	}
	req.Options.TopK = nil
	if got := run(context.Background(), c, req); got.err != nil {
		t.Fatal(got.err)
	}
	r := srv.Last()
	if r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+openaiKey {
		t.Fatalf("path %s auth %q", r.Path, r.Header.Get("Authorization"))
	}
	want := map[string]any{
		"model": "qwen2.5-7b-instruct", "stream": true, "stream_options": map[string]any{"include_usage": true},
		"messages": []any{
			map[string]any{"role": "system", "content": "出典だけに基づいて答えてください。"},
			map[string]any{"role": "user", "content": "Argo CDとは？"},
			map[string]any{"role": "assistant", "content": "GitOpsのツールです。"},
			map[string]any{"role": "user", "content": "GitOpsとは何ですか"}},
		"max_tokens": 500.0, "temperature": 0.3, "top_p": 0.75, "frequency_penalty": 0.0, "presence_penalty": 0.0,
		"seed": 42.0, "stop": []any{"\n\n質問:"},
	}
	if !reflect.DeepEqual(r.Body, want) {
		t.Fatalf("body\n got %v\nwant %v", r.Body, want)
	}
	// The SDK must not pick a key up from the environment behind our back.
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment")
	open := mustNew(t, Config{Provider: "openai", Endpoint: srv.URL + "/v1", Model: "m"})
	run(context.Background(), open, question())
	if got := srv.Last().Header.Get("Authorization"); got != "" {
		t.Fatalf("keyless client sent Authorization %q", got)
	}
}

func TestOllamaRequest(t *testing.T) {
	srv := llmtest.NewOllama(llmtest.Options{})
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://") // OLLAMA_HOST is often host:port
	c := mustNew(t, Config{Provider: "ollama", Endpoint: host})
	req := question(sources...)
	req.Options = seedOptions()
	if got := run(context.Background(), c, req); got.err != nil {
		t.Fatal(got.err)
	}
	r := srv.Last()
	want := map[string]any{
		"model": DefaultOllamaModel, "stream": true,
		"messages": []any{
			map[string]any{"role": "system", "content": "出典だけに基づいて答えてください。"},
			map[string]any{"role": "user", "content": "Argo CDとは？"},
			map[string]any{"role": "assistant", "content": "GitOpsのツールです。"},
			map[string]any{"role": "user", "content": "GitOpsとは何ですか"}},
		"options": map[string]any{"num_predict": 500.0, "temperature": 0.3, "top_k": 0.0, "top_p": 0.75,
			"frequency_penalty": 0.0, "presence_penalty": 0.0, "seed": 42.0, "stop": []any{"\n\n質問:"}},
	}
	if r.Path != "/api/chat" || !reflect.DeepEqual(r.Body, want) {
		t.Fatalf("%s body\n got %v\nwant %v", r.Path, r.Body, want)
	}
	// The host is where the request went: a client for another port
	// fails to connect and says where it tried.
	bad := mustNew(t, Config{Provider: "ollama", Endpoint: "127.0.0.1:1", Attempts: 1})
	got := run(context.Background(), bad, question())
	if !errors.Is(got.err, ErrUnavailable) || !strings.Contains(got.err.Error(), "127.0.0.1:1") || !strings.Contains(got.err.Error(), "OLLAMA_HOST") {
		t.Fatalf("unreachable: %v", got.err)
	}
}

func TestFailures(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			fast := Config{sleep: noWait}
			t.Run("429 then success", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name), Statuses: []int{429}, RetryAfter: "1"})
				defer srv.Close()
				var waits []time.Duration
				cfg := fast
				cfg.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
				got := run(context.Background(), s.client(t, srv.URL, cfg), question())
				if got.err != nil || got.text() != llmtest.DefaultReply || srv.Calls() != 2 {
					t.Fatalf("err %v, %d calls, %q", got.err, srv.Calls(), got.text())
				}
				if len(waits) == 0 || waits[len(waits)-1] < time.Second {
					t.Fatalf("waits %v ignore Retry-After: 1", waits)
				}
			})
			t.Run("5xx until the attempts run out", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name), Statuses: []int{503, 500, 502, 503}})
				defer srv.Close()
				got := run(context.Background(), s.client(t, srv.URL, fast), question())
				if !errors.Is(got.err, ErrUnavailable) || srv.Calls() != DefaultAttempts || len(got.pieces) != 0 {
					t.Fatalf("err %v, %d calls", got.err, srv.Calls())
				}
			})
			t.Run("a rejected key fails fast", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: "the-right-key", EchoKey: true})
				defer srv.Close()
				cfg := Config{} // the real backoff: a retry would show in the time taken
				var c Client
				if keyFor(s.name) == "" {
					// OCI answers 401 to a signature it cannot verify; an
					// Ollama behind an authenticating proxy answers 401.
					srv.Hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(401)
						fmt.Fprint(w, `{"code":"NotAuthenticated","message":"The required information to complete authentication was not provided or was incorrect."}`)
						return true
					}
				}
				c = s.client(t, srv.URL, cfg)
				got := run(context.Background(), c, question())
				if !errors.Is(got.err, ErrAuth) || srv.Calls() != 1 || got.took > 2*time.Second {
					t.Fatalf("err %v, %d calls, %v", got.err, srv.Calls(), got.took)
				}
				for _, secret := range []string{cohereKey, openaiKey} {
					if strings.Contains(got.err.Error(), secret) {
						t.Fatalf("the key is in the error: %v", got.err)
					}
				}
				if !strings.Contains(got.err.Error(), "401") {
					t.Fatalf("the provider's answer is missing: %v", got.err)
				}
			})
			t.Run("a stream cut mid-answer", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name), CutAfter: 3})
				defer srv.Close()
				got := run(context.Background(), s.client(t, srv.URL, fast), question(sources...))
				if !errors.Is(got.err, ErrStreamCut) || srv.Calls() != 1 {
					t.Fatalf("err %v, %d calls", got.err, srv.Calls())
				}
				if len(got.pieces) != 3 || got.res.Text != got.text() || !strings.HasPrefix(llmtest.DefaultReply, got.text()) {
					t.Fatalf("pieces %q, result %q", got.pieces, got.res.Text)
				}
			})
			t.Run("a stream cut before the first piece is retried", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name)})
				defer srv.Close()
				srv.Hook = func(call int, w http.ResponseWriter, _ *http.Request) bool {
					if call > 1 {
						return false
					}
					w.Header().Set("Content-Type", "text/event-stream")
					w.WriteHeader(200)
					w.(http.Flusher).Flush()
					panic(http.ErrAbortHandler)
				}
				got := run(context.Background(), s.client(t, srv.URL, fast), question())
				if got.err != nil || srv.Calls() != 2 || got.text() != llmtest.DefaultReply {
					t.Fatalf("err %v, %d calls", got.err, srv.Calls())
				}
			})
			t.Run("a stalled stream is cut by the idle timeout", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name), StallAfter: 2})
				defer srv.Close()
				cfg := fast
				cfg.IdleTimeout = 150 * time.Millisecond
				got := run(context.Background(), s.client(t, srv.URL, cfg), question())
				if !errors.Is(got.err, ErrStreamCut) || len(got.pieces) != 2 || got.took > 3*time.Second {
					t.Fatalf("err %v, pieces %q after %v", got.err, got.pieces, got.took)
				}
			})
			t.Run("a silent server is retried, then unavailable", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name), StallAfter: -1, Latency: time.Hour})
				defer srv.Close()
				cfg := fast
				// The timeout also covers building and signing the request
				// (OCI's RSA signature), which takes well over 100 ms under
				// -race on a busy machine: too short a timeout cuts an attempt
				// before it reaches the server.
				cfg.FirstTokenTimeout, cfg.Attempts = 500*time.Millisecond, 2
				got := run(context.Background(), s.client(t, srv.URL, cfg), question())
				if !errors.Is(got.err, ErrUnavailable) || srv.Calls() != 2 || got.took > 3*time.Second {
					t.Fatalf("err %v, %d calls after %v", got.err, srv.Calls(), got.took)
				}
			})
			t.Run("cancelling ctx cancels the upstream request", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name), StallAfter: 2})
				defer srv.Close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				c := s.client(t, srv.URL, fast)
				n := 0
				start := time.Now()
				_, err := c.Stream(ctx, question(), func(Event) error {
					if n++; n == 2 {
						go func() { time.Sleep(20 * time.Millisecond); cancel() }()
					}
					return nil
				})
				if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
					t.Fatalf("err %v after %v", err, time.Since(start))
				}
				deadline := time.Now().Add(2 * time.Second)
				for srv.Disconnects() == 0 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if srv.Disconnects() != 1 || srv.Calls() != 1 {
					t.Fatalf("the fake saw %d disconnects, %d calls", srv.Disconnects(), srv.Calls())
				}
			})
			t.Run("an emit error stops the stream", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name)})
				defer srv.Close()
				stop := errors.New("the terminal went away")
				n := 0
				_, err := s.client(t, srv.URL, fast).Stream(context.Background(), question(), func(Event) error {
					if n++; n == 2 {
						return stop
					}
					return nil
				})
				if err != stop || n != 2 || srv.Calls() != 1 {
					t.Fatalf("err %v after %d events, %d calls", err, n, srv.Calls())
				}
			})
			t.Run("a bad request is not retried", func(t *testing.T) {
				srv := s.fake(llmtest.Options{Key: keyFor(s.name), Statuses: []int{400}})
				defer srv.Close()
				got := run(context.Background(), s.client(t, srv.URL, fast), question())
				if got.err == nil || errors.Is(got.err, ErrUnavailable) || srv.Calls() != 1 || !strings.Contains(got.err.Error(), "400") {
					t.Fatalf("err %v, %d calls", got.err, srv.Calls())
				}
			})
		})
	}
}

func TestConcurrentStreams(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			srv := s.fake(llmtest.Options{Key: keyFor(s.name), Interval: time.Millisecond})
			defer srv.Close()
			c := s.client(t, srv.URL, Config{})
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got := run(context.Background(), c, question(sources...))
					if got.err == nil && got.text() != llmtest.DefaultReply {
						got.err = fmt.Errorf("text %q", got.text())
					}
					errs <- got.err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	path, _ := ociFile(t)
	for _, cfg := range []Config{
		{},
		{Provider: "extractive"},
		{Provider: "gpt"},
		{Provider: "cohere"},
		{Provider: "cohere", APIKey: "k", Endpoint: "not a url"},
		{Provider: "openai"},
		{Provider: "openai", Endpoint: "http://localhost:8000/v1"},
		{Provider: "ollama", Endpoint: "ftp://x"},
		{Provider: "oci"},
		{Provider: "oci", OCI: ociConfig(path, "NOPE")},
		{Provider: "oci", OCI: ociConfig("/nonexistent/config", "CHICAGO")},
		{Provider: "oci", OCI: ociConfig(path, "CHICAGO"), OCIAPIFormat: "ANTHROPIC"},
		{Provider: "oci", OCI: ociConfig(path, "CHICAGO"), Endpoint: "inference.example.com"},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	if s := fmt.Sprintf("%+v %#v", Config{APIKey: cohereKey}, Config{APIKey: cohereKey}); strings.Contains(s, cohereKey) {
		t.Fatalf("a printed Config leaks the key: %s", s)
	}
	c := mustNew(t, Config{Provider: "openai", APIKey: "k"})
	if i := c.Info(); i.Model != DefaultOpenAIModel || i.Provider != "openai" {
		t.Fatalf("defaults %+v", i)
	}
	c = mustNew(t, Config{Provider: "COHERE", APIKey: "k"})
	if i := c.Info(); i.Model != DefaultCohereModel || !i.NativeCitations || len(i.Options) != 8 {
		t.Fatalf("defaults %+v", i)
	}
}

func ociConfig(path, profile string) (o provider.OCIConfig) {
	o.ConfigFile, o.Profile, o.CompartmentID = path, profile, llmtest.OCICompartment
	return o
}

func TestRequestValidation(t *testing.T) {
	srv := llmtest.NewCohere(llmtest.Options{})
	defer srv.Close()
	c := mustNew(t, Config{Provider: "cohere", Endpoint: srv.URL, APIKey: "k"})
	for _, req := range []Request{
		{},
		{Messages: []Message{{Role: RoleAssistant, Content: "x"}}},
		{Messages: []Message{{Role: "tool", Content: "x"}, {Role: RoleUser, Content: "q"}}},
	} {
		if got := run(context.Background(), c, req); got.err == nil {
			t.Errorf("%+v accepted", req)
		}
	}
	if srv.Calls() != 0 {
		t.Fatalf("%d invalid requests sent", srv.Calls())
	}
}
