package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/langfuse/langfusetest"
)

// langfuseFake starts a fake Langfuse and points kura at it.
func langfuseFake(t *testing.T) *langfusetest.Server {
	t.Helper()
	lf := langfusetest.New(t)
	t.Setenv("LANGFUSE_PUBLIC_KEY", langfusetest.PublicKey)
	t.Setenv("LANGFUSE_SECRET_KEY", langfusetest.SecretKey)
	t.Setenv("LANGFUSE_HOST", lf.URL)
	return lf
}

func spanNamed(spans []langfusetest.Span, prefix string) []langfusetest.Span {
	var out []langfusetest.Span
	for _, s := range spans {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s)
		}
	}
	return out
}

// TestAskTraced: an ask is one trace in Langfuse, its trace id the one
// ask --json prints, with the session on every span, the retrieval's hit
// ids and a generation; feedback then arrives as the user-feedback score
// of that trace, once, although the first attempt fails.
func TestAskTraced(t *testing.T) {
	data := askCorpus(t)
	lf := langfuseFake(t)
	a, errs := askJSON(t, 0, "--data", data, "--session-id", "ses-cli-1", "--user-id", "alice", "Argo CDは何を同期しますか")
	if len(a.TraceID) != 32 || strings.Contains(errs, "warning") {
		t.Fatalf("trace id %q, stderr %q", a.TraceID, errs)
	}
	spans := lf.WaitSpans(t, 3, 5*time.Second)
	var mine []langfusetest.Span
	for _, s := range spans {
		if s.TraceID == a.TraceID {
			mine = append(mine, s)
		}
	}
	if len(spanNamed(mine, "ask")) != 1 || len(spanNamed(mine, "retrieval")) != 1 || len(mine) < 3 {
		names := []string{}
		for _, s := range mine {
			names = append(names, s.Name)
		}
		t.Fatalf("spans of the answer's trace: %v", names)
	}
	for _, s := range mine {
		if s.Str("langfuse.session.id") != "ses-cli-1" || s.Str("langfuse.user.id") != "alice" {
			t.Errorf("span %s: session %q user %q", s.Name, s.Str("langfuse.session.id"), s.Str("langfuse.user.id"))
		}
	}
	if r := spanNamed(mine, "retrieval")[0]; r.Attrs["kura.retrieval.hit_ids"] == nil {
		t.Errorf("retrieval span without hit ids: %v", r.Attrs)
	}
	if !strings.Contains(spanNamed(mine, "ask")[0].AllText(), "Argo CDは何を同期しますか") {
		t.Error("the question is not the trace's input")
	}

	lf.Inject(langfusetest.RouteScores, langfusetest.FailBefore, 500, 1)
	_, errs, code := kura(t, "feedback", "--data", data, "--user-id", "alice", a.ID, "1", "--kind", "thumbs")
	if code != 0 || !strings.Contains(errs, "sent to Langfuse") {
		t.Fatalf("feedback: exit %d, %q", code, errs)
	}
	scores := lf.Scores()
	if len(scores) != 1 || scores[0].Name != "user-feedback" || scores[0].TraceID != a.TraceID || *scores[0].Value != 1 || lf.ScoreRequests() < 2 {
		t.Fatalf("scores %+v after %d requests", scores, lf.ScoreRequests())
	}
	// Rating again replaces the score: still one.
	mustKura(t, "feedback", "--data", data, "--user-id", "alice", a.ID, "0", "--kind", "thumbs")
	if scores = lf.Scores(); len(scores) != 1 || *scores[0].Value != 0 {
		t.Fatalf("scores after a second rating: %+v", scores)
	}
}

// TestTraceContentOff: --trace-content=false keeps the question, the
// documents and the answer out of every span.
func TestTraceContentOff(t *testing.T) {
	data := askCorpus(t)
	lf := langfuseFake(t)
	a, _ := askJSON(t, 0, "--data", data, "--trace-content=false", "Argo CDは何を同期しますか")
	spans := lf.WaitSpans(t, 3, 5*time.Second)
	for _, s := range spans {
		text := s.AllText()
		for _, secret := range []string{"何を同期しますか", "マニフェスト", a.Answer} {
			if strings.Contains(text, secret) {
				t.Errorf("span %s carries %q", s.Name, secret)
			}
		}
	}
}

// TestIngestTraced: an ingest is one trace with a span per file's load
// and split, per embedding batch and per store write.
func TestIngestTraced(t *testing.T) {
	lf := langfuseFake(t)
	dir := corpus(t)
	mustKura(t, "ingest", "--data", filepath.Join(dir, "data"), "--batch-size", "2", filepath.Join(dir, "docs"))
	spans := lf.WaitSpans(t, 10, 5*time.Second)
	roots := spanNamed(spans, "ingest")
	if len(roots) != 1 {
		t.Fatalf("%d ingest roots", len(roots))
	}
	var loads, splits, embeds, writes int
	for _, s := range spans {
		if s.TraceID != roots[0].TraceID {
			t.Errorf("span %s in another trace", s.Name)
		}
		switch {
		case s.Name == "load":
			loads++
		case s.Name == "split":
			splits++
			if s.Attrs["kura.chunks"] == nil {
				t.Errorf("split without a chunk count: %v", s.Attrs)
			}
		case strings.HasPrefix(s.Name, "embeddings"):
			embeds++
			if s.Attrs["kura.embed.texts"] == nil {
				t.Errorf("embedding span without texts: %v", s.Attrs)
			}
		case strings.HasPrefix(s.Name, "upsert "):
			writes++
		}
	}
	if loads != 3 || splits != 3 || embeds < 2 || writes < 1 {
		t.Fatalf("loads %d splits %d embeddings %d writes %d", loads, splits, embeds, writes)
	}
}

// TestDeadCollector: with the collector refusing connections, commands
// work as usual and say once that spans were lost.
func TestDeadCollector(t *testing.T) {
	data := askCorpus(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", langfusetest.RefusedURL(t))
	out, errs, code := kura(t, "ask", "--data", data, "Argo CD")
	if code != 0 || out == "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(errs, "spans were not exported"); n != 1 {
		t.Errorf("lost spans reported %d times: %q", n, errs)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "zip")
	t.Setenv("LANGFUSE_PUBLIC_KEY", "pk")
	t.Setenv("LANGFUSE_SECRET_KEY", "sk")
	_, errs, code = kura(t, "search", "--data", data, "Argo CD")
	if code != 0 || !strings.Contains(errs, "tracing is off") {
		t.Errorf("bad tracing variables: exit %d, %q", code, errs)
	}
}
