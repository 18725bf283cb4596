package app

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/kura-rag/kura/internal/api"
)

func TestAskBatch(t *testing.T) {
	a := newApp(t)
	questions := []api.BatchQuery{{ID: json.RawMessage(`"q1"`), Query: "Argo CDとは"}, {ID: json.RawMessage(`"q2"`), Query: "What is Tekton?"}, {ID: json.RawMessage(`"q3"`), Query: "GitOpsとは"}}
	var mu sync.Mutex
	got := map[int]api.Answer{}
	err := a.AskBatch(context.Background(), AskBatchRequest{Questions: questions, Concurrency: 2,
		OnAnswer: func(i int, ans api.Answer, err error) {
			if err != nil {
				t.Errorf("question %d: %v", i, err)
			}
			mu.Lock()
			got[i] = ans
			mu.Unlock()
		}})
	if err != nil || len(got) != len(questions) {
		t.Fatalf("err %v, %d answers", err, len(got))
	}
	for i, q := range questions {
		if string(got[i].QueryID) != string(q.ID) || got[i].Question != q.Query || got[i].Answer == "" {
			t.Fatalf("answer %d: %+v", i, got[i])
		}
	}

	// A failure every question would share stops the batch and is returned.
	calls := 0
	in := AskInput{}
	in.Collection = "nosuch"
	err = a.AskBatch(context.Background(), AskBatchRequest{Questions: questions, Ask: in, Concurrency: 1,
		OnAnswer: func(int, api.Answer, error) { calls++ }})
	if !StopsBatch(err) || calls != 0 {
		t.Fatalf("unknown collection: err %v after %d answers", err, calls)
	}
	if err := a.AskBatch(context.Background(), AskBatchRequest{}); err == nil {
		t.Fatal("an empty batch is no error")
	}
}
