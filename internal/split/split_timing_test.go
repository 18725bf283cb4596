package split

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchText returns about 100 KB of Japanese text: the seed corpus when the
// shared directory is present, generated mixed text otherwise.
func benchText(b *testing.B) string {
	b.Helper()
	const want = 100 << 10
	var sb strings.Builder
	if d := sharedDir(b); d != "" {
		files, _ := filepath.Glob(filepath.Join(d, "corpus", "seeds", "*.txt"))
		for _, f := range files {
			if raw, err := os.ReadFile(f); err == nil {
				sb.Write(raw)
				sb.WriteString("\n\n")
			}
		}
	}
	if sb.Len() == 0 {
		sb.WriteString(randomText(rand.New(rand.NewPCG(5, 6)), want))
	}
	text := sb.String()
	if len(text) > want {
		cut := want
		for cut < len(text) && text[cut]&0xC0 == 0x80 { // stay on a rune boundary
			cut++
		}
		text = text[:cut]
	}
	return text
}

func benchmarkSplitter(b *testing.B, o Options) {
	text := benchText(b)
	s, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	chunks := 0
	for b.Loop() {
		chunks = len(s.Split(text))
	}
	b.ReportMetric(float64(chunks), "chunks")
}

func BenchmarkCharacter(b *testing.B) {
	benchmarkSplitter(b, Options{Kind: "character", Separator: "\n", ChunkSize: 200, ChunkOverlap: 20})
}

func BenchmarkRecursive(b *testing.B) {
	benchmarkSplitter(b, Options{Kind: "recursive", ChunkSize: 200, ChunkOverlap: 20})
}

func BenchmarkRecursiveJa(b *testing.B) {
	benchmarkSplitter(b, Options{Kind: "recursive", ChunkSize: 300, ChunkOverlap: 30,
		Separators: []string{"\n\n", "\n", "。", "、", " ", ""}})
}

func BenchmarkJa(b *testing.B) {
	benchmarkSplitter(b, DefaultOptions())
}
