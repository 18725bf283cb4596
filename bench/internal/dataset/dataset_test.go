package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSentences(t *testing.T) {
	p := write(t, "corpus.jsonl", `{"id": "a", "text": "梅雨は雨季の一種。 北海道にはない。"}
{"id": "b", "text": "終わりに句点がない"}
`)
	got, err := Sentences(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"梅雨は雨季の一種。", "北海道にはない。", "終わりに句点がない"}
	if !slices.Equal(got, want) {
		t.Errorf("Sentences = %q, want %q", got, want)
	}
	if _, err := Sentences(filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Error("Sentences of a missing file: no error")
	}
}

func TestQuestions(t *testing.T) {
	p := write(t, "q.jsonl", `{"id": "1", "query": "一つ目", "answers": ["x"]}
{"id": "2", "query": "", "answers": ["x"]}
{"id": "3", "query": "三つ目", "doc_ids": ["d"]}
{"id": "4", "query": "四つ目", "answers": ["y"]}
`)
	f := func(n int, want ...string) {
		t.Helper()
		got, err := Questions(p, n)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Questions(%d) = %q, %v; want %q", n, got, err, want)
		}
	}
	f(0)
	f(2, "一つ目", "三つ目")
	f(10, "一つ目", "三つ目", "四つ目")
	if _, err := Questions(filepath.Join(t.TempDir(), "missing.jsonl"), 3); err == nil {
		t.Error("Questions of a missing file: no error")
	}
}
