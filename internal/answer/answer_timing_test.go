package answer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
)

// benchHits are k hits of about 200 characters, the default chunk size,
// with every fourth one the neighbour of the one before (so assembly
// merges some).
func benchHits(k int) []store.Hit {
	sentence := "梅雨は、北海道と小笠原諸島を除く日本、朝鮮半島南部、中国の南部から長江流域にかけての沿海部、および台湾など、東アジアの広範囲においてみられる特有の気象現象である。"
	hits := make([]store.Hit, k)
	for i := range hits {
		idx, src := 0, fmt.Sprintf("docs/doc%03d.md", i)
		if i%4 == 3 {
			idx, src = 1, fmt.Sprintf("docs/doc%03d.md", i-1)
		}
		hits[i] = store.Hit{ID: int64(1000 + i), Score: float32(k - i), Entity: map[string]any{
			"text":        fmt.Sprintf("%d番目の資料。%s%s", i, sentence, sentence[:60]),
			"source":      src,
			"title":       fmt.Sprintf("資料 %d", i),
			"chunk_index": idx,
		}}
	}
	return hits
}

type nopLLM struct{ info llm.Info }

func (n nopLLM) Info() llm.Info { return n.info }
func (n nopLLM) Stream(context.Context, llm.Request, func(llm.Event) error) (llm.Result, error) {
	return llm.Result{}, nil
}

// BenchmarkPrepare is kura's own work between retrieval and the request:
// assembling the sources from k hits and rendering the prompt.
func BenchmarkPrepare(b *testing.B) {
	tpl, err := ParsePrompt("bench", "以下のコンテキストに基づいて答えてください。\n{{ context }}\n\n質問: {{ question | trim }}")
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []int{3, 10, 50} {
		for _, prompt := range []string{"builtin", "template"} {
			b.Run(fmt.Sprintf("k=%d/%s", k, prompt), func(b *testing.B) {
				o := Options{LLM: nopLLM{llm.Info{Provider: "openai"}}, Retriever: nil}
				if prompt == "template" {
					o.Prompt = tpl
				}
				s := &Stage{o: o}
				s.o.ContextChars = DefaultContextChars
				hits := benchHits(k)
				history := []Turn{{Question: "梅雨とは？", Answer: "東アジアの雨季です[1]。"}}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Prepare("梅雨がみられるのはどの地域ですか？", history, hits); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkFilterPiece is the per-piece work after the request: checking
// the citation markers of one streamed delta (pieces of a real answer cut
// every 7 bytes, markers split across pieces among them).
func BenchmarkFilterPiece(b *testing.B) {
	answer := strings.Repeat("梅雨は東アジアの広い範囲でみられる気象現象です[1]。時期は5月から7月です［２］。Sources disagree [3, 9]. ", 4)
	var pieces []string
	for i := 0; i < len(answer); i += 7 {
		pieces = append(pieces, answer[i:min(i+7, len(answer))])
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		f := newMarkerFilter(3)
		for _, p := range pieces {
			f.write(p)
		}
		f.flush()
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*len(pieces)), "ns/piece")
}

// BenchmarkCitations is the work once the stream has ended: building and
// checking the citations of a 300-character answer with six markers.
func BenchmarkCitations(b *testing.B) {
	s := &Stage{o: Options{ContextChars: DefaultContextChars}}
	p, err := func() (*Prepared, error) {
		s.o.LLM = nopLLM{llm.Info{Provider: "openai"}}
		return s.Prepare("梅雨とは？", nil, benchHits(10))
	}()
	if err != nil {
		b.Fatal(err)
	}
	answer := strings.Repeat("梅雨は東アジアの広い範囲でみられる気象現象です[1]。時期は5月から7月です[2][3]。", 3)
	f := newMarkerFilter(len(p.Sources))
	f.write(answer)
	f.flush()
	b.ReportAllocs()
	for b.Loop() {
		checkCitations(f.text(), f, nil, p.Sources)
	}
}
