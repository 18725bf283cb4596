package answer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/answer/extractive"
	"github.com/kura-rag/kura/internal/llm"
)

func newStage(t *testing.T, o answer.Options) *answer.Stage {
	t.Helper()
	s, err := answer.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// collect records the events of one answer.
type collect struct{ events []answer.Event }

func (c *collect) emit(ev answer.Event) error {
	c.events = append(c.events, ev)
	return nil
}

func (c *collect) types() string {
	var ts []string
	for _, ev := range c.events {
		if len(ts) > 0 && ts[len(ts)-1] == string(ev.Type) && ev.Type == answer.EventDelta {
			continue
		}
		ts = append(ts, string(ev.Type))
	}
	return strings.Join(ts, ",")
}

func (c *collect) text() string {
	var b strings.Builder
	for _, ev := range c.events {
		b.WriteString(ev.Delta)
	}
	return b.String()
}

func TestAskStreamsInOrder(t *testing.T) {
	model := generator("openai", "GitOpsは", "Weaveworks社が提唱しました[", "1]。Argo CDは", "GitOpsツールです［２］。")
	ret := &fakeRetriever{hits: gitopsHits}
	st := newStage(t, answer.Options{LLM: model, Retriever: ret})
	var c collect
	a, err := st.Ask(context.Background(), answer.Request{Question: "GitOpsを提唱したのは？"}, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.types(); got != "sources,delta,citations,done" {
		t.Fatalf("events %s", got)
	}
	want := "GitOpsはWeaveworks社が提唱しました[1]。Argo CDはGitOpsツールです[2]。"
	if a.Text != want || c.text() != want {
		t.Fatalf("text %q, streamed %q; want %q", a.Text, c.text(), want)
	}
	if len(a.Citations) != 2 {
		t.Fatalf("citations %+v", a.Citations)
	}
	c1, c2 := a.Citations[0], a.Citations[1]
	if c1.N != 1 || c1.ID != 101 || c1.Source != "docs/gitops.md" || c1.Title != "GitOps入門" || c1.ChunkIndex == nil || *c1.ChunkIndex != 0 {
		t.Fatalf("citation 1 %+v", c1)
	}
	if c1.Text != "GitOpsはWeaveworks社が提唱しました" || a.Text[c1.Start:c1.End] != c1.Text {
		t.Fatalf("citation 1 span %q (%d:%d)", c1.Text, c1.Start, c1.End)
	}
	if !strings.Contains(c1.Quote, "Weaveworks社が2017年に提唱") {
		t.Fatalf("citation 1 quote %q", c1.Quote)
	}
	if c2.N != 2 || c2.ID != 202 || *c2.ChunkIndex != 3 || c2.Text != "Argo CDはGitOpsツールです" {
		t.Fatalf("citation 2 %+v", c2)
	}
	if a.Provider != "openai" || a.Model != "openai-model" || a.Extractive || a.Usage.InputTokens != 100 || a.RemovedCitations != 0 {
		t.Fatalf("answer %+v", a)
	}
	if len(a.Sources) != 2 || len(a.Hits) != 2 || a.Standalone != a.Question || a.Rewritten {
		t.Fatalf("sources %d hits %d standalone %q", len(a.Sources), len(a.Hits), a.Standalone)
	}
	done := c.events[len(c.events)-1]
	if done.Answer != a || a.Timings.TotalMS <= 0 || a.Timings.FirstTokenMS <= 0 {
		t.Fatalf("done event %+v, timings %+v", done, a.Timings)
	}
	// The model got the sources in the prompt and as documents.
	req := model.requests()[0]
	user := req.Messages[len(req.Messages)-1].Content
	if !strings.Contains(user, `<source id="1" title="GitOps入門" location="docs/gitops.md">`) || !strings.Contains(user, "GitOpsを提唱したのは？") {
		t.Fatalf("prompt %q", user)
	}
	if len(req.Documents) != 2 || req.Documents[1].ID != "2" || req.Documents[1].Title != "Argo CD" {
		t.Fatalf("documents %+v", req.Documents)
	}
	if req.System != answer.DefaultSystemPrompt("ja", false) {
		t.Fatalf("system prompt %q", req.System)
	}
}

func TestCitationOfAMissingSourceIsRemoved(t *testing.T) {
	model := generator("openai", "GitOps is a practice [1]", " that Flux implements [3", "].", " Argo CD syncs [2, 4].")
	st := newStage(t, answer.Options{LLM: model, Retriever: &fakeRetriever{hits: gitopsHits}})
	var c collect
	a, err := st.Ask(context.Background(), answer.Request{Question: "What is GitOps?"}, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	want := "GitOps is a practice [1] that Flux implements. Argo CD syncs [2]."
	if a.Text != want || c.text() != want {
		t.Fatalf("text %q streamed %q, want %q", a.Text, c.text(), want)
	}
	if a.RemovedCitations != 2 {
		t.Fatalf("removed %d, want 2", a.RemovedCitations)
	}
	for _, ci := range a.Citations {
		if ci.N > 2 {
			t.Fatalf("citation of a source not given: %+v", ci)
		}
	}
	if len(a.Sources) != 2 {
		t.Fatalf("sources %+v", a.Sources)
	}
	var notice *answer.Notice
	for _, ev := range c.events {
		if ev.Type == answer.EventNotice {
			notice = ev.Notice
		}
	}
	if notice == nil || notice.Code != answer.NoticeCitationsRemoved {
		t.Fatalf("no citations_removed notice in %+v", c.events)
	}
}

func TestNativeCitations(t *testing.T) {
	text := "GitOps was proposed by Weaveworks. Argo CD is a GitOps tool."
	model := &fakeLLM{
		info: llm.Info{Provider: "cohere", Model: "command-r-plus", NativeCitations: true},
		reply: func(llm.Request) ([]string, []llm.Citation, error) {
			return []string{text[:20], text[20:]}, []llm.Citation{
				{Start: 23, End: 33, Text: "Weaveworks", DocumentIDs: []string{"1"}},
				{Start: 35, End: 59, Text: "Argo CD is a GitOps tool", DocumentIDs: []string{"2", "7"}},
			}, nil
		},
	}
	st := newStage(t, answer.Options{LLM: model, Retriever: &fakeRetriever{hits: gitopsHits}})
	a, err := st.Ask(context.Background(), answer.Request{Question: "Who proposed GitOps?"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) != 2 || a.Citations[0].Text != "Weaveworks" || a.Citations[0].ID != 101 || a.Citations[1].N != 2 || a.Citations[1].Text != "Argo CD is a GitOps tool" {
		t.Fatalf("citations %+v", a.Citations)
	}
	if a.RemovedCitations != 1 {
		t.Fatalf("removed %d, want 1 (document 7 was not given)", a.RemovedCitations)
	}
	// Native grounding: the built-in prompt does not repeat the sources.
	req := model.requests()[0]
	if strings.Contains(req.Messages[0].Content, "<source") || len(req.Documents) != 2 {
		t.Fatalf("message %q, %d documents", req.Messages[0].Content, len(req.Documents))
	}
	if strings.Contains(req.System, "[1]") || !strings.Contains(req.System, "\n4. Answer in the language") {
		t.Fatalf("the system prompt of a native-citation provider asks for markers or skips a number: %q", req.System)
	}
}

func TestNotFoundAsksNoModel(t *testing.T) {
	model := generator("openai", "should not be called")
	st := newStage(t, answer.Options{LLM: model, Retriever: &fakeRetriever{}})
	for _, c := range []struct{ q, want string }{
		{"量子コンピュータとは？", answer.NotFoundMessage("ja")},
		{"What is a quantum computer?", answer.NotFoundMessage("en")},
	} {
		var col collect
		a, err := st.Ask(context.Background(), answer.Request{Question: c.q}, col.emit)
		if err != nil {
			t.Fatal(err)
		}
		if !a.NotFound || a.Text != c.want || col.text() != c.want || len(a.Sources) != 0 {
			t.Fatalf("%q: answer %+v", c.q, a)
		}
		if got := col.types(); got != "sources,notice,delta,citations,done" {
			t.Fatalf("events %s", got)
		}
	}
	if n := len(model.requests()); n != 0 {
		t.Fatalf("the model was asked %d times", n)
	}
}

func TestFallbackWhenTheModelIsUnavailable(t *testing.T) {
	down := &fakeLLM{
		info: llm.Info{Provider: "cohere"},
		reply: func(llm.Request) ([]string, []llm.Citation, error) {
			return nil, nil, fmt.Errorf("%w: 503 after 3 tries", llm.ErrUnavailable)
		},
	}
	// With the extractive fallback: an answer, a notice, no error.
	st := newStage(t, answer.Options{LLM: down, Fallback: extractive.New(extractive.Options{}), Retriever: &fakeRetriever{hits: gitopsHits}})
	var c collect
	a, err := st.Ask(context.Background(), answer.Request{Question: "GitOpsを提唱したのはどこの会社？"}, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Fallback || !a.Extractive || a.Provider != "extractive" || !strings.Contains(a.Text, "Weaveworks社") || len(a.Citations) == 0 {
		t.Fatalf("answer %+v", a)
	}
	// The fallback's notice comes before its text, so a client can label it.
	if got := c.types(); got != "sources,notice,notice,delta,citations,done" {
		t.Fatalf("events %s", got)
	}
	if a.Notices[0].Code != answer.NoticeUnavailable || !strings.Contains(a.Notices[0].Message, "503") || a.Notices[1].Code != answer.NoticeFallback {
		t.Fatalf("notice %+v", a.Notices)
	}
	// Without: the sources and a notice, and the error.
	st = newStage(t, answer.Options{LLM: down, Retriever: &fakeRetriever{hits: gitopsHits}})
	c = collect{}
	a, err = st.Ask(context.Background(), answer.Request{Question: "GitOpsとは？"}, c.emit)
	if !errors.Is(err, llm.ErrUnavailable) || a == nil || len(a.Sources) != 2 || a.Text != "" {
		t.Fatalf("err %v, answer %+v", err, a)
	}
	if got := c.types(); got != "sources,notice,citations,done" {
		t.Fatalf("events %s", got)
	}
}

func TestStreamCutKeepsTheText(t *testing.T) {
	model := &fakeLLM{info: llm.Info{Provider: "ollama"}, reply: func(llm.Request) ([]string, []llm.Citation, error) {
		return []string{"GitOpsは手法です[1]。", "Argo CDは ["}, nil, fmt.Errorf("%w: connection reset", llm.ErrStreamCut)
	}}
	st := newStage(t, answer.Options{LLM: model, Retriever: &fakeRetriever{hits: gitopsHits}})
	var c collect
	a, err := st.Ask(context.Background(), answer.Request{Question: "GitOpsとは？"}, c.emit)
	if !errors.Is(err, llm.ErrStreamCut) {
		t.Fatalf("err %v", err)
	}
	if a.Text != "GitOpsは手法です[1]。Argo CDは [" || c.text() != a.Text || len(a.Citations) != 1 {
		t.Fatalf("answer %q streamed %q citations %+v", a.Text, c.text(), a.Citations)
	}
	if got := c.types(); got != "sources,delta,citations,done" {
		t.Fatalf("events %s", got)
	}
}

func TestOtherErrors(t *testing.T) {
	auth := &fakeLLM{info: llm.Info{Provider: "openai"}, reply: func(llm.Request) ([]string, []llm.Citation, error) {
		return nil, nil, fmt.Errorf("%w: 401 invalid api key", llm.ErrAuth)
	}}
	st := newStage(t, answer.Options{LLM: auth, Fallback: extractive.New(extractive.Options{}), Retriever: &fakeRetriever{hits: gitopsHits}})
	if _, err := st.Ask(context.Background(), answer.Request{Question: "q"}, nil); !errors.Is(err, llm.ErrAuth) {
		t.Fatalf("err %v, want ErrAuth (no fallback for a bad key)", err)
	}
	boom := errors.New("store closed")
	st = newStage(t, answer.Options{LLM: auth, Retriever: &fakeRetriever{err: boom}})
	if _, err := st.Ask(context.Background(), answer.Request{Question: "q"}, nil); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if _, err := st.Ask(context.Background(), answer.Request{Question: "  "}, nil); !errors.Is(err, answer.ErrQuestion) {
		t.Fatalf("err %v", err)
	}
	stop := errors.New("client went away")
	st = newStage(t, answer.Options{LLM: generator("openai", "a", "b", "c"), Retriever: &fakeRetriever{hits: gitopsHits}})
	n := 0
	_, err := st.Ask(context.Background(), answer.Request{Question: "q"}, func(ev answer.Event) error {
		if ev.Type == answer.EventDelta {
			n++
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d deltas", err, n)
	}
}

func TestNewChecks(t *testing.T) {
	top := 5
	_, err := answer.New(answer.Options{LLM: extractive.New(extractive.Options{}), Retriever: &fakeRetriever{}, Generation: llm.Options{TopK: &top}})
	if !errors.Is(err, llm.ErrUnsupportedOption) {
		t.Fatalf("err %v", err)
	}
	if _, err := answer.New(answer.Options{Retriever: &fakeRetriever{}}); !errors.Is(err, answer.ErrConfig) {
		t.Fatalf("err %v", err)
	}
	if _, err := answer.New(answer.Options{LLM: generator("x")}); !errors.Is(err, answer.ErrConfig) {
		t.Fatalf("err %v", err)
	}
}

func TestConcurrentAsks(t *testing.T) {
	st := newStage(t, answer.Options{LLM: extractive.New(extractive.Options{}), Retriever: &fakeRetriever{hits: gitopsHits}})
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := st.Ask(context.Background(), answer.Request{Question: "Argo CDの同期ポリシーは？"}, nil)
			if err != nil || !strings.Contains(a.Text, "手動と自動") {
				t.Errorf("err %v answer %+v", err, a)
			}
		}()
	}
	wg.Wait()
}

func TestExtractiveGetsTheBareQuestion(t *testing.T) {
	ex := extractive.New(extractive.Options{})
	st := newStage(t, answer.Options{LLM: ex, Retriever: &fakeRetriever{hits: gitopsHits}})
	p, err := st.Prepare("Argo CDとは？", nil, gitopsHits)
	if err != nil {
		t.Fatal(err)
	}
	if p.Request.System != "" || len(p.Request.Messages) != 1 || p.Request.Messages[0].Content != "Argo CDとは？" || len(p.Request.Documents) != 2 {
		t.Fatalf("request %+v", p.Request)
	}
	a, err := st.Ask(context.Background(), answer.Request{Question: "Argo CDの同期ポリシーは？"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Extractive || a.Provider != "extractive" || !strings.HasSuffix(a.Text, "[2]") || a.Citations[0].ID != 202 {
		t.Fatalf("answer %+v", a)
	}
	if a.Citations[0].Quote == "" || !strings.Contains(gitopsHits[1].Entity["text"].(string), a.Citations[0].Quote) {
		t.Fatalf("quote %q", a.Citations[0].Quote)
	}
}
