package answer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/answer/extractive"
	"github.com/kura-rag/kura/internal/llm"
)

func TestRewriteWithTheModel(t *testing.T) {
	model := &fakeLLM{
		info: llm.Info{Provider: "openai", Options: []string{llm.OptMaxTokens, llm.OptTemperature}},
		reply: func(req llm.Request) ([]string, []llm.Citation, error) {
			if strings.Contains(req.System, "独立した質問") {
				return []string{"独立した質問: 「GitOpsは", "いつから提唱されている？」\n"}, nil, nil
			}
			return []string{"2017年からです[1]。"}, nil, nil
		},
	}
	ret := &fakeRetriever{hits: gitopsHits}
	st := newStage(t, answer.Options{LLM: model, Retriever: ret})
	history := []answer.Turn{{Question: "GitOpsとは何ですか？", Answer: "Gitを唯一の情報源とする運用手法です[1]。"}}
	var c collect
	a, err := st.Ask(context.Background(), answer.Request{Question: "それはいつから？", History: history}, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if a.Standalone != "GitOpsはいつから提唱されている？" || !a.Rewritten || ret.lastQuery() != a.Standalone {
		t.Fatalf("standalone %q rewritten %v retrieved with %q", a.Standalone, a.Rewritten, ret.lastQuery())
	}
	if c.events[0].Type != answer.EventSources || c.events[0].Question != a.Standalone || !c.events[0].Rewritten {
		t.Fatalf("first event %+v", c.events[0])
	}
	rw := model.requests()[0]
	if rw.Options.MaxTokens == nil || rw.Options.Temperature == nil || *rw.Options.Temperature != 0 {
		t.Fatalf("rewrite options %+v", rw.Options)
	}
	if msg := rw.Messages[0].Content; !strings.Contains(msg, "GitOpsとは何ですか？") || strings.Contains(msg, "[1]") || !strings.HasSuffix(msg, "それはいつから？") {
		t.Fatalf("rewrite prompt %q", msg)
	}
	// The answer's prompt uses the standalone question.
	final := model.requests()[1]
	if !strings.Contains(final.Messages[len(final.Messages)-1].Content, "質問: GitOpsはいつから提唱されている？") {
		t.Fatalf("answer prompt %q", final.Messages[len(final.Messages)-1].Content)
	}
}

func TestRewriteFailureCarriesTerms(t *testing.T) {
	calls := 0
	model := &fakeLLM{info: llm.Info{Provider: "openai"}, reply: func(llm.Request) ([]string, []llm.Citation, error) {
		calls++
		if calls == 1 {
			return nil, nil, fmt.Errorf("%w: timeout", llm.ErrUnavailable)
		}
		return []string{"OK"}, nil, nil
	}}
	ret := &fakeRetriever{hits: gitopsHits}
	st := newStage(t, answer.Options{LLM: model, Retriever: ret})
	a, err := st.Ask(context.Background(), answer.Request{Question: "それはいつから？", History: []answer.Turn{{Question: "GitOpsとは何ですか？", Answer: "手法です。"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Standalone != "GitOps それはいつから？" || len(a.Notices) == 0 || a.Notices[0].Code != answer.NoticeRewriteFailed {
		t.Fatalf("standalone %q notices %+v", a.Standalone, a.Notices)
	}
}

func TestExtractiveCarriesTerms(t *testing.T) {
	ret := &fakeRetriever{hits: gitopsHits}
	st := newStage(t, answer.Options{LLM: extractive.New(extractive.Options{}), Retriever: ret})
	history := []answer.Turn{{Question: "Argo CDの同期ポリシーとは？", Answer: "手動と自動から選べます[2]。"}}
	a, err := st.Ask(context.Background(), answer.Request{Question: "それは何種類ある？", History: history}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Standalone != "Argo CD 同期 ポリシー それは何種類ある？" || ret.lastQuery() != a.Standalone {
		t.Fatalf("standalone %q", a.Standalone)
	}
}

func TestCarryTerms(t *testing.T) {
	f := func(q string, history []answer.Turn, want string) {
		t.Helper()
		if got := answer.CarryTerms(q, history); got != want {
			t.Fatalf("CarryTerms(%q) = %q, want %q", q, got, want)
		}
	}
	gitops := []answer.Turn{{Question: "GitOpsとは何ですか？"}}
	f("それはいつから？", gitops, "GitOps それはいつから？")
	f("いつから？", gitops, "GitOps いつから？") // no terms of its own
	f("Argo CDの同期ポリシーは？", gitops, "Argo CDの同期ポリシーは？")
	f("GitOpsの利点は？", gitops, "GitOpsの利点は？")
	f("What does it cost?", []answer.Turn{{Question: "What is Argo CD?"}}, "Argo CD What does it cost?")
	// The previous turn's standalone question carries older terms on.
	f("誰が作った？", []answer.Turn{{Question: "それはいつから？", Standalone: "GitOps それはいつから？"}}, "GitOps 誰が作った？")
	f("それは？", nil, "それは？")
}

func TestNoRewrite(t *testing.T) {
	ret := &fakeRetriever{hits: gitopsHits}
	st := newStage(t, answer.Options{LLM: extractive.New(extractive.Options{}), Retriever: ret, NoRewrite: true})
	a, err := st.Ask(context.Background(), answer.Request{Question: "それはいつから？", History: []answer.Turn{{Question: "GitOpsとは？"}}}, nil)
	if err != nil || a.Rewritten || ret.lastQuery() != "それはいつから？" {
		t.Fatalf("err %v, answer %+v, query %q", err, a, ret.lastQuery())
	}
}
