package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/split"
)

// newApp opens an App on a temporary data directory with a small
// Japanese and English collection "docs".
func newApp(t *testing.T) *App {
	t.Helper()
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("gitops.md", "---\ntitle: GitOps入門\n---\n\nGitOpsとは、Gitリポジトリを唯一の信頼できる情報源として、インフラとアプリケーションの望ましい状態を宣言的に管理する運用手法です。\n\nArgo CDはKubernetes向けのGitOpsツールで、リポジトリの変更を検知してクラスタに同期します。\n")
	write("tekton.txt", "Tekton is a Kubernetes-native framework for building CI/CD pipelines. Pipelines are made of tasks that run in pods.\n")
	a, err := Open(context.Background(), Options{DataDir: filepath.Join(dir, "kura-data"), Collection: "docs"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	res, err := a.Ingest(context.Background(), IngestRequest{Paths: []string{docs}, Splitter: split.DefaultOptions()})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if res.Added == 0 || !res.Created {
		t.Fatalf("ingest summary %+v", res.Summary)
	}
	return a
}

func TestSearchAndCollections(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	res, err := a.SearchDetailed(ctx, api.SearchRequest{Query: "GitOpsとは何ですか"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Entity["text"].(string), "GitOps") {
		t.Fatalf("hits %+v", res.Hits)
	}
	if res.SearchType == "" || res.ScoreKind == "" {
		t.Fatalf("search type %q, score kind %q", res.SearchType, res.ScoreKind)
	}
	list, err := a.ListCollections(ctx)
	if err != nil || len(list.Collections) != 1 || list.Collections[0].Name != "docs" || list.Collections[0].Rows == 0 {
		t.Fatalf("collections %+v, %v", list, err)
	}
	_, err = a.Search(ctx, "", api.SearchRequest{SearchOptions: api.SearchOptions{Collection: "nosuch"}, Query: "x"})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeNotFound || strings.Contains(err.Error(), "--") {
		t.Fatalf("missing collection: %v", err)
	}
	_, err = a.Search(ctx, "", api.SearchRequest{SearchOptions: api.SearchOptions{OutputFields: []string{"nosuch"}}, Query: "GitOps"})
	if !errors.As(err, &ae) || ae.Code != api.CodeInvalidRequest || ae.Field != "output_fields" {
		t.Fatalf("unknown output field: %v", err)
	}
	_, err = a.Search(ctx, "", api.SearchRequest{SearchOptions: api.SearchOptions{Filter: "nosuch ==="}, Query: "GitOps"})
	if !errors.As(err, &ae) || ae.Code != api.CodeUnprocessable {
		t.Fatalf("bad filter: %v", err)
	}
}

func TestAskExtractiveRecordsAndConverses(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	var events []string
	ans, err := a.Ask(ctx, "alice", api.AskRequest{Question: "GitOpsとは何ですか？"}, func(ev api.Event) error {
		events = append(events, ev.EventName())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ans.Extractive || ans.LLM != "extractive" || ans.Answer == "" || len(ans.Citations) == 0 || len(ans.Sources) == 0 {
		t.Fatalf("answer %+v", ans)
	}
	if strings.Contains(ans.Answer, "extract") {
		t.Fatalf("the answer text carries a label: %q", ans.Answer)
	}
	if events[0] != "meta" || events[1] != "sources" || !strings.Contains(strings.Join(events, ","), "delta") {
		t.Fatalf("events %v", events)
	}
	if ans.ConversationID == "" || !strings.HasPrefix(ans.ID, "ans_") {
		t.Fatalf("ids %q %q", ans.ID, ans.ConversationID)
	}

	// A follow-up in the same conversation is rewritten for retrieval.
	next, err := a.Ask(ctx, "alice", api.AskRequest{Question: "それはどんなツールで実現できますか？", ConversationID: ans.ConversationID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if next.RewrittenQuestion == "" || !strings.Contains(next.RewrittenQuestion, "GitOps") {
		t.Fatalf("follow-up not rewritten: %q", next.RewrittenQuestion)
	}
	conv, err := a.GetConversation(ctx, "alice", ans.ConversationID)
	if err != nil || len(conv.Turns) != 2 {
		t.Fatalf("conversation %+v, %v", conv, err)
	}
	// Another user sees neither the conversation nor the answer.
	if _, err := a.GetConversation(ctx, "bob", ans.ConversationID); err == nil {
		t.Fatal("bob read alice's conversation")
	}
	v := 0.75
	if _, err := a.Feedback(ctx, "bob", api.FeedbackRequest{AnswerID: ans.ID, Value: &v}); err == nil {
		t.Fatal("bob rated alice's answer")
	}
	fb, err := a.Feedback(ctx, "alice", api.FeedbackRequest{AnswerID: ans.ID, Value: &v, Comment: "ok", Kind: api.FeedbackFaces})
	if err != nil || fb.Value != 0.75 {
		t.Fatalf("feedback %+v, %v", fb, err)
	}
	tr, err := a.Trace(ctx, "alice", ans.ID)
	if err != nil || tr.Feedback == nil || tr.Feedback.Comment != "ok" || tr.Sources[0].Entity["text"] == nil {
		t.Fatalf("trace %+v, %v", tr, err)
	}
}

func TestAskRefusesOptionsTheProviderLacks(t *testing.T) {
	a := newApp(t)
	temp := 0.5
	_, err := a.Ask(context.Background(), "", api.AskRequest{Question: "GitOps", GenerationOptions: api.GenerationOptions{Temperature: &temp}}, nil)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeInvalidRequest || !strings.Contains(err.Error(), "temperature") {
		t.Fatalf("temperature for the extractive answerer: %v", err)
	}
}

func TestAskNotFound(t *testing.T) {
	a := newApp(t)
	ans, err := a.Ask(context.Background(), "", api.AskRequest{Question: "量子色力学の赤外束縛", SearchOptions: api.SearchOptions{SearchType: "bm25"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ans.NotFound || !strings.Contains(ans.Answer, "見つかりません") {
		t.Fatalf("not found answer %+v", ans)
	}
}
