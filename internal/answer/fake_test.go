package answer_test

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
)

// fakeLLM streams scripted pieces and records the requests it got.
type fakeLLM struct {
	info llm.Info
	// reply returns the pieces to stream for a request, the citations to
	// send along and an error to end with.
	reply func(req llm.Request) ([]string, []llm.Citation, error)

	mu   sync.Mutex
	reqs []llm.Request
}

func (f *fakeLLM) Info() llm.Info { return f.info }

func (f *fakeLLM) Stream(ctx context.Context, req llm.Request, emit func(llm.Event) error) (llm.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	pieces, cites, err := f.reply(req)
	var res llm.Result
	for _, p := range pieces {
		if err := emit(llm.Event{Delta: p}); err != nil {
			return res, err
		}
		res.Text += p
	}
	for i := range cites {
		if err := emit(llm.Event{Citation: &cites[i]}); err != nil {
			return res, err
		}
	}
	res.Citations = cites
	res.Usage = llm.Usage{InputTokens: 100, OutputTokens: len(pieces)}
	res.Model = f.info.Model
	return res, err
}

func (f *fakeLLM) requests() []llm.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]llm.Request(nil), f.reqs...)
}

func generator(provider string, pieces ...string) *fakeLLM {
	return &fakeLLM{
		info:  llm.Info{Provider: provider, Model: provider + "-model", Options: []string{llm.OptMaxTokens, llm.OptTemperature}},
		reply: func(llm.Request) ([]string, []llm.Citation, error) { return pieces, nil, nil },
	}
}

// fakeRetriever returns fixed hits and records the queries.
type fakeRetriever struct {
	hits []store.Hit
	err  error

	mu      sync.Mutex
	queries []string
}

func (r *fakeRetriever) Search(_ context.Context, qs []string) ([][]store.Hit, error) {
	r.mu.Lock()
	r.queries = append(r.queries, qs...)
	r.mu.Unlock()
	out := make([][]store.Hit, len(qs))
	for i := range qs {
		out[i] = r.hits
	}
	return out, r.err
}

func (r *fakeRetriever) lastQuery() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queries) == 0 {
		return ""
	}
	return r.queries[len(r.queries)-1]
}

func chunk(id int64, source, title string, idx int, text string) store.Hit {
	return store.Hit{ID: id, Score: 1, Entity: map[string]any{
		"text": text, "source": source, "title": title, "chunk_index": json.Number(string(rune('0' + idx))),
	}}
}

var gitopsHits = []store.Hit{
	chunk(101, "docs/gitops.md", "GitOps入門", 0, "GitOpsはWeaveworks社が2017年に提唱した運用手法です。Gitを唯一の情報源として扱います。"),
	chunk(202, "docs/argocd.md", "Argo CD", 3, "Argo CDはKubernetes向けのGitOpsツールです。同期ポリシーは手動と自動から選べます。"),
}
