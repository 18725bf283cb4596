package split

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestJa(t *testing.T) {
	f := func(size, overlap int, in string, want ...string) {
		t.Helper()
		splitWith(t, Options{Kind: "ja", ChunkSize: size, ChunkOverlap: overlap}, in, want...)
	}
	f(10, 2, "")
	f(10, 2, " \n\u3000\t\n ")
	f(10, 2, "  短い文。 ", "短い文。")

	// Sentence ends keep their closing brackets.
	f(12, 0, "「はい。」と言った。次の文です。", "「はい。」と言った。", "次の文です。")
	f(6, 0, "はい。」いいえ！』", "はい。」", "いいえ！』")
	// A paragraph break beats a later sentence end once the chunk is half full.
	f(20, 0, "一二三四五六七八九十。\n\n一二三。四五六七八九十。",
		"一二三四五六七八九十。", "一二三。四五六七八九十。")
	// Lines beat clauses, clauses beat characters.
	f(12, 0, "あいうえおかき\nくけこ、さしすせそ", "あいうえおかき", "くけこ、さしすせそ")
	f(12, 0, "あいう\nえおかきくけこ、さしすせそ", "あいう\nえおかきくけこ、", "さしすせそ")
	// Latin text breaks at spaces, never inside a word when a space fits.
	f(12, 0, "alpha beta gamma delta", "alpha beta", "gamma delta")
	// ASCII punctuation inside tokens is not a sentence end.
	f(8, 0, "v1.2 a!=b", "v1.2", "a!=b")

	// Overlap: whole trailing sentences of the previous chunk...
	f(16, 8, "一二三四五六七。八九十。一二三四五六七八。",
		"一二三四五六七。八九十。", "八九十。一二三四五六七八。")
	// ...else whole clauses...
	f(16, 6, "一二三四五六七八九十、一二三。四五六七八九十一二。",
		"一二三四五六七八九十、一二三。", "一二三。四五六七八九十一二。")
	// ...else words; never a cut word, so here the overlap is empty.
	f(10, 3, "一二三四五六七八九十一二三四五", "一二三四五六七八九十", "一二三四五")
	f(11, 5, "alpha beta gamma", "alpha beta", "beta gamma")

	// No split inside a grapheme cluster when a better place exists.
	f(3, 0, "が\u3099が\u3099が\u3099", "が\u3099", "が\u3099", "が\u3099")
	f(3, 0, "abc\r\ndef", "abc", "def")
}

// checkJa asserts the ja splitter's contract on one input: every chunk is
// a trimmed, non-empty substring of at most size code points; chunks are in
// order, overlap by at most overlap code points, and cover every
// non-whitespace code point of the input.
func checkJa(t testing.TB, text string, size, overlap int) {
	t.Helper()
	j := &jaSplitter{size: size, overlap: overlap}
	spans := j.spans(text)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("size %d overlap %d on %q: "+format, append([]any{size, overlap, text}, args...)...)
	}
	covered := 0 // byte offset up to which every non-space is in a chunk
	prev := span{-1, -1}
	for i, sp := range spans {
		c := text[sp.start:sp.end]
		n := utf8.RuneCountInString(c)
		switch {
		case n == 0:
			fail("chunk %d is empty", i)
		case n > size:
			fail("chunk %d has %d code points: %q", i, n, c)
		case pyStrip(c) != c:
			fail("chunk %d is not trimmed: %q", i, c)
		case sp.start <= prev.start || sp.end <= prev.end:
			fail("chunk %d [%d,%d) is not after [%d,%d)", i, sp.start, sp.end, prev.start, prev.end)
		case sp.start > covered && strings.TrimFunc(text[covered:sp.start], pyIsSpace) != "":
			fail("text %q between chunks %d and %d is lost", text[covered:sp.start], i-1, i)
		}
		if sp.start < prev.end {
			if ov := utf8.RuneCountInString(text[sp.start:prev.end]); ov > overlap {
				fail("chunk %d overlaps the previous one by %d code points", i, ov)
			}
		}
		covered, prev = sp.end, sp
	}
	if strings.TrimFunc(text[covered:], pyIsSpace) != "" {
		fail("tail %q is lost", text[covered:])
	}
	got := j.Split(text)
	if len(got) != len(spans) {
		fail("Split returned %d chunks, spans %d", len(got), len(spans))
	}
}

func TestJaPathological(t *testing.T) {
	long := strings.Repeat("あ", 10000)
	pieces := map[string]string{
		"long line":      long,
		"long latin":     strings.Repeat("x", 10000),
		"only spaces":    strings.Repeat(" \n\u3000", 3000),
		"emoji":          strings.Repeat("😀👨\u200d👩\u200d👧🇯🇵👍🏽", 500),
		"combining":      strings.Repeat("か\u3099e\u0301\u0301", 2000),
		"astral":         strings.Repeat("𠮷𩸽\U0001F600\U000E0100", 2000),
		"crlf":           strings.Repeat("行\r\n", 3000),
		"punctuation":    strings.Repeat("。」、！？", 2000),
		"spaced letters": strings.Repeat("a ", 5000),
		"invalid utf8":   strings.Repeat("あ\xff\xfe", 1000),
	}
	for name, text := range pieces {
		t.Run(name, func(t *testing.T) {
			for _, so := range [][2]int{{1, 0}, {2, 1}, {3, 2}, {7, 3}, {200, 20}, {200, 199}, {1000, 100}} {
				checkJa(t, text, so[0], so[1])
			}
		})
	}
	s, _ := New(Options{Kind: "ja", ChunkSize: 200, ChunkOverlap: 20})
	if got := strings.Join(s.Split(long), ""); got != long {
		t.Fatalf("a line without punctuation should split into adjacent 200-character chunks")
	}
}

// randomText builds noisy mixed Japanese/English text from fragments.
func randomText(r *rand.Rand, n int) string {
	frags := []string{
		"これはテストです", "日本語の文章", "コンテナイメージ", "継続的デリバリー", "を", "は", "が",
		"Kubernetes", "GitOps", "the quick brown fox", "v1.2.3", "1,000", "https://example.com/a?b=c",
		"。", "、", "！", "？", "．", "，", ".", ",", "!", "?", "」", "『", "）", "(", "\"",
		" ", " ", "  ", "\n", "\n", "\n\n", "\n \n", "\u3000", "\t", "\r\n",
		"😀", "👍🏽", "🇯🇵", "が\u3099", "e\u0301", "𠮷", "\u200d", "\x1f", "\u00a0",
		strings.Repeat("長", 37), strings.Repeat("word ", 9),
	}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(frags[r.IntN(len(frags))])
	}
	return b.String()
}

func TestJaProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pairs := [][2]int{{1, 0}, {2, 0}, {2, 1}, {5, 4}, {10, 0}, {10, 3}, {16, 15}, {50, 10},
		{100, 50}, {200, 20}, {200, 0}, {300, 30}, {512, 64}}
	iters := 300
	if testing.Short() {
		iters = 30
	}
	for i := 0; i < iters; i++ {
		text := randomText(r, 1+r.IntN(3000))
		for _, p := range pairs {
			checkJa(t, text, p[0], p[1])
		}
		size := 1 + r.IntN(400)
		checkJa(t, text, size, r.IntN(size))
	}
}

// TestJaFill guards against tiny fragments: on ordinary prose, chunks other
// than the last are about half the chunk size or more (the window is at
// least half full, trailing whitespace trimmed off may take a few more).
func TestJaFill(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := &jaSplitter{size: 200, overlap: 20}
	for i := 0; i < 50; i++ {
		chunks := s.Split(randomText(r, 5000))
		for k, c := range chunks[:len(chunks)-1] {
			if n := utf8.RuneCountInString(c); n < 90 {
				t.Fatalf("chunk %d of %d has only %d code points: %q", k, len(chunks), n, c)
			}
		}
	}
}
