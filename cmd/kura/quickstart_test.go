package main

import (
	"strings"
	"testing"
	"unicode/utf8"
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
