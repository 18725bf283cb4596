package split

import (
	"strings"
	"testing"
)

// Seeds shared by the fuzzers: the shapes that broke splitters before.
var fuzzSeeds = []string{
	"",
	"  \n \n  ",
	"あいうえお\nかきくけこ\nさしすせそ",
	"一文目。二文目。「三文目！」四文目？",
	"段落一。\n\n段落二、とても長い段落です。\n\n段落三。",
	"line1\r\nline2\r\nline3",
	"😀😀😀\nが゙\nabc\ndef👨\u200d👩\u200d👧",
	"the quick brown fox, v1.2! a?b=c",
	"\xff\xfe\x1f\u3000",
}

// fuzzSize maps arbitrary fuzz integers onto valid (size, overlap) pairs.
func fuzzSize(size, overlap int) (int, int) {
	if size < 0 {
		size = -size
	}
	size = size%300 + 1
	if overlap < 0 {
		overlap = -overlap
	}
	return size, overlap % size
}

func FuzzJa(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, i*7+1, i)
	}
	f.Fuzz(func(t *testing.T, text string, size, overlap int) {
		size, overlap = fuzzSize(size, overlap)
		checkJa(t, text, size, overlap)
	})
}

func FuzzCharacter(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, []string{"\n", "", "。", "\n\n", "ab"}[i%5], i*5+1, i)
	}
	f.Fuzz(func(t *testing.T, text, sep string, size, overlap int) {
		size, overlap = fuzzSize(size, overlap)
		s, err := New(Options{Kind: "character", Separator: sep, ChunkSize: size, ChunkOverlap: overlap})
		if err != nil {
			t.Fatal(err)
		}
		// Chunks are runs of consecutive non-empty pieces re-joined with
		// the separator, so they are substrings of the text with every
		// run of separators collapsed to one.
		norm := text
		if sep != "" {
			var parts []string
			for _, p := range strings.Split(text, sep) {
				if p != "" {
					parts = append(parts, p)
				}
			}
			norm = strings.Join(parts, sep)
		}
		for i, c := range s.Split(text) {
			if c == "" || pyStrip(c) != c {
				t.Fatalf("chunk %d %q is empty or not stripped", i, c)
			}
			if !strings.Contains(norm, c) {
				t.Fatalf("chunk %d %q is not in the text %q", i, c, norm)
			}
		}
	})
}

func FuzzRecursive(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, []string{"", "。|、|", "\n\n|\n| |", "a"}[i%4], i*5+1, i)
	}
	f.Fuzz(func(t *testing.T, text, seps string, size, overlap int) {
		size, overlap = fuzzSize(size, overlap)
		o := Options{Kind: "recursive", ChunkSize: size, ChunkOverlap: overlap}
		if seps != "" {
			o.Separators = strings.Split(seps, "|")
		}
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		// Separators stay in the pieces and pieces are merged with nothing
		// in between, so every chunk is a substring of the text.
		for i, c := range s.Split(text) {
			if c == "" {
				t.Fatalf("chunk %d is empty", i)
			}
			if !strings.Contains(text, c) {
				t.Fatalf("chunk %d %q is not in the text", i, c)
			}
		}
	})
}
