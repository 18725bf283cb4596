package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/api"
)

func TestSnippet(t *testing.T) {
	f := func(text, query string, n int, want string) {
		t.Helper()
		if got := snippet(text, query, n); got != want {
			t.Errorf("snippet(%q, %q, %d) = %q, want %q", text, query, n, got, want)
		}
	}
	// Short texts are shown whole, on one line.
	f("a  b\nc", "x", 10, "a b c")
	// A long text is cut around the first word of the query that occurs.
	long := strings.Repeat("前置き。", 20) + "Shift_JIS を自動判定します。" + strings.Repeat("後書き。", 20)
	got := snippet(long, "Shift_JISは読めますか", 40)
	if !strings.Contains(got, "Shift_JIS") || utf8.RuneCountInString(got) > 42 || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") {
		t.Errorf("snippet around the match = %q", got)
	}
	// No match: the start of the text.
	f(strings.Repeat("あ", 50), "GitOps", 10, strings.Repeat("あ", 10)+"…")
}

func TestWrap(t *testing.T) {
	f := func(text string, cols int, want ...string) {
		t.Helper()
		got := wrap(text, cols)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", text, cols, got, want)
		}
	}
	// Latin text breaks at spaces, Japanese anywhere (two columns a character).
	f("the quick brown fox", 10, "the quick", "brown fox")
	f("日本語の文章です", 6, "日本語", "の文章", "です")
	f("GitOpsとは何か", 8, "GitOpsと", "は何か")
	f("", 10)
}

// TestPrintSampleAnswer: the quickstart's answer is the question, the
// answer wrapped, and only the sources it cites; text from documents
// cannot reach the terminal as escape sequences.
func TestPrintSampleAnswer(t *testing.T) {
	hit := func(id int64, src string) api.Hit {
		return api.Hit{ID: id, Entity: map[string]any{"source": src, "title": "T", "chunk_index": 0}}
	}
	var b strings.Builder
	printSampleAnswer(&b, api.Answer{
		Question:  "Q?",
		Answer:    "first line is long enough to be wrapped somewhere around here, surely\x1b[31m[2]\nsecond[2]",
		Citations: []api.Citation{{N: 2, Source: "docs/b.md"}},
		Sources:   []api.Source{{N: 1, Hit: hit(1, "docs/a.md")}, {N: 2, Hit: hit(2, "docs/b.md")}},
	})
	want := "\nAn answer, as `kura ask` gives it offline " + extractedLabel + ":\n\n" +
		"Q: Q?\n" +
		"A: first line is long enough to be wrapped somewhere around here,\n" +
		"   surely[31m[2]\n" +
		"   second[2]\n" +
		"   [2] docs/b.md — T (chunk 0)\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
