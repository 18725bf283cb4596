package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/server"
)

// The server's own cost per request: routing, middleware (ids, headers,
// access log, metrics, host check, CORS, auth), decoding, validation and
// encoding, around a backend that answers at once.

// instant answers searches and asks without work.
type instant struct {
	server.Backend
	deltas int
}

var hits = []api.Hit{{ID: 1, Score: 0.9, Entity: map[string]any{"text": strings.Repeat("GitOpsとは、Gitを信頼できる唯一の情報源とする手法です。", 4), "source": "docs/gitops.md"}},
	{ID: 2, Score: 0.8, Entity: map[string]any{"text": "Argo CDはGitOpsのツールです。", "source": "docs/argo.md"}},
	{ID: 3, Score: 0.7, Entity: map[string]any{"text": "CI/CDはビルドとテストの自動化です。", "source": "docs/cicd.md"}}}

func (instant) Search(context.Context, string, api.SearchRequest) (api.SearchResponse, error) {
	return api.SearchResponse{Hits: hits}, nil
}

func (b instant) Ask(ctx context.Context, user string, req api.AskRequest, emit func(api.Event) error) (api.Answer, error) {
	a := api.Answer{ID: "ans_1", Question: req.Question, LLM: "extractive", Extractive: true}
	emit(api.Meta{ID: a.ID, Question: a.Question, LLM: a.LLM})
	emit(api.SourcesEvent{Sources: []api.Source{{N: 1, Hit: hits[0]}}})
	for range b.deltas {
		if err := emit(api.Delta{Text: "GitOpsは"}); err != nil {
			return a, err
		}
	}
	return a, nil
}

func benchServer(b *testing.B, backend server.Backend) http.Handler {
	ks := &server.KeySet{}
	ks.Add("alice", "alice-key-0123456789")
	srv, err := server.New(server.Config{Backend: backend, Keys: ks, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler()
}

func BenchmarkSearchRequest(b *testing.B) {
	h := benchServer(b, instant{})
	body := []byte(`{"query": "GitOpsとは何ですか", "k": 3, "search_type": "hybrid"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/search", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer alice-key-0123456789")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body)
		}
	}
}

// BenchmarkStreamedDelta is the cost of one streamed piece of answer: an
// SSE event encoded, written and flushed (per op: one delta).
func BenchmarkStreamedDelta(b *testing.B) {
	const deltas = 1000
	h := benchServer(b, instant{deltas: deltas})
	body := []byte(`{"question": "GitOpsとは何ですか", "stream": true}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i += deltas {
		req := httptest.NewRequest("POST", "/api/v1/ask", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer alice-key-0123456789")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "event: done") {
			b.Fatal(w.Code)
		}
	}
}
