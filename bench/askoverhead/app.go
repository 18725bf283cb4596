package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
)

// appResult is one line of -app: the whole path of `kura ask --llm
// openai` up to the moment the request reaches the model's endpoint.
type appResult struct {
	Bench      string  `json:"bench"`
	Path       string  `json:"path"`
	Rows       int     `json:"rows"`
	SearchType string  `json:"search_type"`
	K          int     `json:"k"`
	Questions  int     `json:"questions"`
	BeforeP50  float64 `json:"before_request_p50_ms"`
	BeforeP90  float64 `json:"before_request_p90_ms"`
	BeforeP99  float64 `json:"before_request_p99_ms"`
	BeforeMax  float64 `json:"before_request_max_ms"`
	// Retrieval as the answer reports it (query embedding, search).
	RetrieveP50 float64 `json:"retrieve_p50_ms"`
	RetrieveP99 float64 `json:"retrieve_p99_ms"`
	// Request to the last piece received and the answer finished
	// (citations, history record).
	AfterP50 float64 `json:"after_request_p50_ms"`
	AfterP99 float64 `json:"after_request_p99_ms"`
	sysinfo.Machine
}

// runApp asks every question through app.App.AskWith, as the command line
// does (history recorded, tracing off), with an OpenAI-compatible
// endpoint on loopback that notes when each request arrives and streams
// the canned answer at once. Before request therefore includes what the
// answer stage does plus the application layer (collection and client
// lookup, prompt choice) and the OpenAI SDK building and sending the
// request.
func runApp(ctx context.Context, dir string, base result, qs []string, types []string) error {
	model := &arrivalModel{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: model}
	go srv.Serve(ln)
	defer srv.Close()

	a, err := app.Open(ctx, app.Options{DataDir: dir, Collection: collection, Providers: app.Providers{
		Endpoints: map[string]string{"openai": "http://" + ln.Addr().String() + "/v1"},
		OpenAIKey: "bench-key-0123456789",
	}})
	if err != nil {
		return err
	}
	defer a.Close()
	for _, typ := range types {
		res := appResult{Bench: "askoverhead", Path: "app+openai-http", Rows: base.Rows, SearchType: typ, K: base.K}
		var before, retrieveMS, after []float64
		for i, q := range qs {
			req := api.AskRequest{Question: q, LLM: "openai", Model: "bench-model",
				SearchOptions: api.SearchOptions{SearchType: typ, K: base.K}}
			start := time.Now()
			out, err := a.AskWith(ctx, app.AskInput{AskRequest: req, Standalone: true}, nil)
			end := time.Now()
			if err != nil {
				return fmt.Errorf("%s: %v", typ, err)
			}
			arrived := model.arrival()
			if i < 20 {
				continue // warm-up, the first one loads the indexes
			}
			before = append(before, ms(arrived.Sub(start)))
			after = append(after, ms(end.Sub(arrived)))
			retrieveMS = append(retrieveMS, out.Timings.RetrieveMS)
		}
		res.Questions = len(before)
		res.BeforeP50, res.BeforeP90, res.BeforeP99, res.BeforeMax = pct(before, 50), pct(before, 90), pct(before, 99), pct(before, 100)
		res.RetrieveP50, res.RetrieveP99 = pct(retrieveMS, 50), pct(retrieveMS, 99)
		res.AfterP50, res.AfterP99 = pct(after, 50), pct(after, 99)
		res.Machine = sysinfo.Describe()
		json.NewEncoder(os.Stdout).Encode(res)
	}
	return nil
}

// arrivalModel is an OpenAI-compatible chat completions endpoint that
// notes when a request arrives and streams cannedAnswer in pieces of
// three characters with no delay.
type arrivalModel struct {
	mu      sync.Mutex
	arrived time.Time
}

func (m *arrivalModel) arrival() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.arrived
}

func (m *arrivalModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	m.mu.Lock()
	m.arrived = now
	m.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	runes := []rune(cannedAnswer)
	for i := 0; i < len(runes); i += 3 {
		chunk := map[string]any{"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": now.Unix(), "model": "bench-model",
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": string(runes[i:min(i+3, len(runes))])}}}}
		b, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	end := map[string]any{"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": now.Unix(), "model": "bench-model",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}}
	b, _ := json.Marshal(end)
	fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
}
