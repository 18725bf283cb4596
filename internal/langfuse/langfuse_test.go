package langfuse_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/langfuse"
	"github.com/kura-rag/kura/internal/langfuse/langfusetest"
)

func client(t *testing.T, host string) *langfuse.Client {
	t.Helper()
	c, err := langfuse.New(langfuse.Config{
		Host: host, PublicKey: langfusetest.PublicKey, SecretKey: langfusetest.SecretKey,
		RetryWait:  5 * time.Millisecond,
		HTTPClient: &http.Client{Timeout: 500 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFeedbackScoreSentOnceDespiteA500(t *testing.T) {
	for _, fault := range []langfusetest.Fault{langfusetest.FailBefore, langfusetest.FailAfter} {
		fake := langfusetest.New(t)
		// The first attempt fails: before storing (a plain 500) or after
		// (the response is lost although the score was written).
		fake.Inject(langfusetest.RouteScores, fault, http.StatusInternalServerError, 1)
		c := client(t, fake.URL)
		s := langfuse.FeedbackScore("ans-1", "alice", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0.75, "good, but long")
		id, err := c.CreateScore(context.Background(), s)
		if err != nil {
			t.Fatalf("fault %v: CreateScore: %v", fault, err)
		}
		scores := fake.Scores()
		if fake.ScoreRequests() != 2 || len(scores) != 1 {
			t.Fatalf("fault %v: %d requests, %d scores stored; want 2 and 1", fault, fake.ScoreRequests(), len(scores))
		}
		got := scores[0]
		if got.ID != id || got.Name != "user-feedback" || got.TraceID != s.TraceID || got.ObservationID != "00f067aa0ba902b7" ||
			*got.Value != 0.75 || got.Comment != "good, but long" || got.DataType != "NUMERIC" {
			t.Errorf("fault %v: stored %+v", fault, got)
		}
		// The user changes their mind: the same score is updated.
		s.Value, s.Comment = 1, ""
		if _, err := c.CreateScore(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if scores := fake.Scores(); len(scores) != 1 || *scores[0].Value != 1 {
			t.Errorf("fault %v: after an update: %+v", fault, scores)
		}
	}
}

func TestFeedbackScoreID(t *testing.T) {
	a := langfuse.FeedbackScoreID("ans-1", "alice")
	if a != langfuse.FeedbackScoreID("ans-1", "alice") || a == langfuse.FeedbackScoreID("ans-1", "bob") ||
		a == langfuse.FeedbackScoreID("ans-2", "alice") || !strings.HasPrefix(a, "kura-") {
		t.Errorf("FeedbackScoreID not stable and distinct: %s", a)
	}
}

func TestScoreErrors(t *testing.T) {
	fake := langfusetest.New(t)
	c := client(t, fake.URL)
	ctx := context.Background()
	ok := langfuse.FeedbackScore("a", "u", "trace", "", 1, "")

	// Retries run out: ErrUnavailable, after 1 + 3 attempts.
	fake.Inject(langfusetest.RouteScores, langfusetest.FailBefore, http.StatusServiceUnavailable, 4)
	if _, err := c.CreateScore(ctx, ok); !errors.Is(err, langfuse.ErrUnavailable) || fake.ScoreRequests() != 4 {
		t.Errorf("503s: %v after %d requests", err, fake.ScoreRequests())
	}

	// Wrong keys: ErrAuth at once, and the secret is not in the message.
	bad, _ := langfuse.New(langfuse.Config{Host: fake.URL, PublicKey: "pk-x", SecretKey: "sk-TOPSECRET", RetryWait: time.Millisecond})
	before := fake.ScoreRequests()
	_, err := bad.CreateScore(ctx, ok)
	if !errors.Is(err, langfuse.ErrAuth) || fake.ScoreRequests() != before+1 || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("bad keys: %v (%d requests)", err, fake.ScoreRequests()-before)
	}

	// Refused connections: ErrUnavailable.
	if _, err := client(t, langfusetest.RefusedURL(t)).CreateScore(ctx, ok); !errors.Is(err, langfuse.ErrUnavailable) {
		t.Errorf("refused: %v", err)
	}

	// A hanging server: bounded by the HTTP client's timeout and retries.
	hang := langfusetest.New(t)
	hang.Inject(langfusetest.RouteScores, langfusetest.Hang, 0, 10)
	start := time.Now()
	if _, err := client(t, hang.URL).CreateScore(ctx, ok); !errors.Is(err, langfuse.ErrUnavailable) || time.Since(start) > 10*time.Second {
		t.Errorf("hang: %v after %v", err, time.Since(start))
	}

	// Bad input never reaches the server.
	before = fake.ScoreRequests()
	for _, s := range []langfuse.Score{
		{Name: "x", Value: 1},
		{TraceID: "t", Value: 1},
		{TraceID: "t", Name: "x", Comment: strings.Repeat("あ", 2000)},
	} {
		if _, err := c.CreateScore(ctx, s); !errors.Is(err, langfuse.ErrInvalid) {
			t.Errorf("CreateScore(%+v) = %v, want ErrInvalid", s, err)
		}
	}
	if fake.ScoreRequests() != before {
		t.Errorf("invalid scores were sent")
	}
}

func TestParsePromptRef(t *testing.T) {
	f := func(in string, want langfuse.PromptRef, wantErr bool) {
		t.Helper()
		got, err := langfuse.ParsePromptRef(in)
		if (err != nil) != wantErr || got != want {
			t.Fatalf("ParsePromptRef(%q) = %+v, %v", in, got, err)
		}
	}
	f("qa", langfuse.PromptRef{Name: "qa"}, false)
	f("langfuse:qa", langfuse.PromptRef{Name: "qa"}, false)
	f("langfuse:team/qa@staging", langfuse.PromptRef{Name: "team/qa", Label: "staging"}, false)
	f("qa#12", langfuse.PromptRef{Name: "qa", Version: 12}, false)
	f("a@b#3", langfuse.PromptRef{Name: "a@b", Version: 3}, false)
	f("langfuse:", langfuse.PromptRef{}, true)
	f("qa#0", langfuse.PromptRef{}, true)
	f("qa#x", langfuse.PromptRef{}, true)
	f("qa@", langfuse.PromptRef{}, true)
	f("@prod", langfuse.PromptRef{}, true)
}

func FuzzParsePromptRef(f *testing.F) {
	for _, s := range []string{"qa", "langfuse:qa@x", "a#1", "a@b#2", "#", "@", "langfuse:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := langfuse.ParsePromptRef(s)
		if err != nil {
			return
		}
		if ref.Name == "" || ref.Version < 0 {
			t.Fatalf("ParsePromptRef(%q) = %+v", s, ref)
		}
		again, err := langfuse.ParsePromptRef(ref.String())
		if err != nil || again.Name != ref.Name || again.Version != ref.Version {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v, %v", s, ref, ref.String(), again, err)
		}
	})
}

func TestFetchPrompt(t *testing.T) {
	fake := langfusetest.New(t)
	fake.AddPrompt(langfusetest.Prompt{Name: "team/qa", Version: 1, Labels: []string{"production"}, Text: "v1 {{question}}"})
	fake.AddPrompt(langfusetest.Prompt{Name: "team/qa", Version: 2, Labels: []string{"production", "latest"}, Text: "v2 {{ question }} {{ context }}"})
	fake.AddPrompt(langfusetest.Prompt{Name: "team/qa", Version: 3, Labels: []string{"staging"}, Text: "v3"})
	fake.AddPrompt(langfusetest.Prompt{Name: "chat", Version: 5, Labels: []string{"production"}, Type: "chat",
		Messages: []langfusetest.Message{{Role: "system", Content: "answer from {{context}}"}, {Placeholder: "history"}, {Role: "user", Content: "{{question}}"}},
		Config:   map[string]any{"temperature": 0.3}})
	c := client(t, fake.URL)
	ctx := context.Background()

	p, err := c.FetchPrompt(ctx, langfuse.PromptRef{Name: "team/qa"})
	if err != nil || p.Version != 2 || p.Type != "text" || p.Text != "v2 {{ question }} {{ context }}" {
		t.Fatalf("production: %+v, %v", p, err)
	}
	if p, err := c.FetchPrompt(ctx, langfuse.PromptRef{Name: "team/qa", Label: "staging"}); err != nil || p.Version != 3 {
		t.Fatalf("staging: %+v, %v", p, err)
	}
	if p, err := c.FetchPrompt(ctx, langfuse.PromptRef{Name: "team/qa", Version: 1}); err != nil || p.Text != "v1 {{question}}" {
		t.Fatalf("version 1: %+v, %v", p, err)
	}
	p, err = c.FetchPrompt(ctx, langfuse.PromptRef{Name: "chat"})
	if err != nil || p.Type != "chat" || len(p.Messages) != 3 || p.Messages[0].Role != "system" ||
		p.Messages[1].Placeholder != "history" || p.Messages[2].Content != "{{question}}" || !strings.Contains(string(p.Config), "0.3") {
		t.Fatalf("chat: %+v, %v", p, err)
	}
	if _, err := c.FetchPrompt(ctx, langfuse.PromptRef{Name: "missing"}); !errors.Is(err, langfuse.ErrNotFound) {
		t.Errorf("missing prompt: %v", err)
	}
}

func TestPromptStoreCacheAndFallbacks(t *testing.T) {
	fake := langfusetest.New(t)
	fake.AddPrompt(langfusetest.Prompt{Name: "qa", Version: 4, Labels: []string{"production"}, Text: "managed {{question}}"})
	dir := filepath.Join(t.TempDir(), "prompts")
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx := context.Background()
	ref := langfuse.PromptRef{Name: "qa"}
	builtin := langfuse.Prompt{Name: "builtin-ja", Type: "text", Text: "built-in {{question}}"}

	store := langfuse.NewPromptStore(client(t, fake.URL), langfuse.PromptStoreOptions{Dir: dir, Now: clock, TTL: time.Minute})
	r, err := store.Get(ctx, ref)
	if err != nil || r.Origin != langfuse.OriginLangfuse || r.Prompt.Text != "managed {{question}}" || r.Warning != "" {
		t.Fatalf("first get: %+v, %v", r, err)
	}
	// Within the TTL: no request.
	now = now.Add(30 * time.Second)
	if r, _ := store.Get(ctx, ref); r.Origin != langfuse.OriginCache || fake.PromptRequests() != 1 {
		t.Fatalf("within TTL: %+v after %d requests", r, fake.PromptRequests())
	}
	// Expired and Langfuse down: the copy in memory, with a warning.
	now = now.Add(time.Hour)
	fake.Inject(langfusetest.RoutePrompts, langfusetest.FailBefore, http.StatusBadGateway, 100)
	if r, err := store.Get(ctx, ref); err != nil || r.Origin != langfuse.OriginCache || !strings.Contains(r.Warning, "unreachable") || r.Prompt.Version != 4 {
		t.Fatalf("stale in memory: %+v, %v", r, err)
	}

	// A new process (empty memory), Langfuse refusing connections: the
	// copy saved in the data directory.
	down := langfuse.NewPromptStore(client(t, langfusetest.RefusedURL(t)), langfuse.PromptStoreOptions{Dir: dir, Now: clock})
	r, err = down.GetOr(ctx, ref, builtin)
	if err != nil || r.Origin != langfuse.OriginSaved || r.Prompt.Text != "managed {{question}}" || !strings.Contains(r.Warning, "saved 1h1m0s ago") {
		t.Fatalf("saved copy: %+v, %v", r, err)
	}
	// Nothing saved for this one: the built-in prompt, with a warning.
	r, err = down.GetOr(ctx, langfuse.PromptRef{Name: "other"}, builtin)
	if err != nil || r.Origin != langfuse.OriginBuiltin || r.Prompt.Text != "built-in {{question}}" || !strings.Contains(r.Warning, "built-in") {
		t.Fatalf("built-in: %+v, %v", r, err)
	}
	if _, err := down.Get(ctx, langfuse.PromptRef{Name: "other"}); !errors.Is(err, langfuse.ErrUnavailable) {
		t.Fatalf("Get without any copy: %v", err)
	}

	// Not configured at all: saved copies still serve.
	none := langfuse.NewPromptStore(nil, langfuse.PromptStoreOptions{Dir: dir, Now: clock})
	if r, err := none.GetOr(ctx, ref, builtin); err != nil || r.Origin != langfuse.OriginSaved || !strings.Contains(r.Warning, "not configured") {
		t.Fatalf("not configured: %+v, %v", r, err)
	}

	// An unknown prompt or wrong keys are errors, not fallbacks.
	up := langfuse.NewPromptStore(client(t, langfusetest.New(t).URL), langfuse.PromptStoreOptions{Dir: dir, Now: clock})
	if _, err := up.GetOr(ctx, ref, builtin); !errors.Is(err, langfuse.ErrNotFound) {
		t.Errorf("unknown prompt with a saved copy: %v", err)
	}
	wrong, _ := langfuse.New(langfuse.Config{Host: langfusetest.New(t).URL, PublicKey: "pk", SecretKey: "sk"})
	if _, err := langfuse.NewPromptStore(wrong, langfuse.PromptStoreOptions{Dir: dir}).GetOr(ctx, ref, builtin); !errors.Is(err, langfuse.ErrAuth) {
		t.Errorf("wrong keys: %v", err)
	}

	// The saved file is one JSON document per prompt reference.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "qa@production.json" {
		t.Errorf("saved files: %v", entries)
	}
}

func TestPromptStoreConcurrentMissesMakeOneRequest(t *testing.T) {
	fake := langfusetest.New(t)
	fake.AddPrompt(langfusetest.Prompt{Name: "qa", Version: 1, Labels: []string{"production"}, Text: "t"})
	store := langfuse.NewPromptStore(client(t, fake.URL), langfuse.PromptStoreOptions{})
	done := make(chan error)
	for range 8 {
		go func() {
			_, err := store.Get(context.Background(), langfuse.PromptRef{Name: "qa"})
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.PromptRequests(); n > 2 { // one, or two if the first finished before the last started
		t.Errorf("%d requests for 8 concurrent gets", n)
	}
}

func TestConfigFromEnv(t *testing.T) {
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, ok, err := langfuse.ConfigFromEnv(get(nil)); ok || err != nil {
		t.Errorf("empty env: ok=%v err=%v", ok, err)
	}
	cfg, ok, err := langfuse.ConfigFromEnv(get(map[string]string{"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "LANGFUSE_BASE_URL": "http://lf:3000"}))
	if !ok || err != nil || cfg.Host != "http://lf:3000" {
		t.Errorf("keys: %+v %v %v", cfg, ok, err)
	}
	if _, _, err := langfuse.ConfigFromEnv(get(map[string]string{"LANGFUSE_PUBLIC_KEY": "pk"})); err == nil || !strings.Contains(err.Error(), "LANGFUSE_SECRET_KEY") {
		t.Errorf("one key: %v", err)
	}
	if _, err := langfuse.New(langfuse.Config{}); !errors.Is(err, langfuse.ErrNotConfigured) {
		t.Errorf("New without keys: %v", err)
	}
	if _, err := langfuse.New(langfuse.Config{PublicKey: "p", SecretKey: "s", Host: "ftp://x"}); err == nil {
		t.Errorf("New with an ftp host succeeded")
	}
}
