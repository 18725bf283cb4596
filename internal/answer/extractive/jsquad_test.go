package extractive_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/answer/extractive"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

const jsquad = "../../../../shared/eval/jsquad/"

// TestJSQuADHeldOut checks the answer-quality target on the held-out half
// of the JSQuAD dev questions (the first half tuned the answerer): the
// corpus ingested with kura's defaults, bm25 retrieval of 3 chunks (the
// default for a hash-embedded collection), answers that contain an
// expected answer for at least 0.88 of the questions, a median length of
// at most 120 characters and none over 300, markers included.
// bench/answer prints the same figures; this test guards them. It needs
// the shared data and is skipped without it.
func TestJSQuADHeldOut(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests a 2,304-document corpus")
	}
	qf, err := os.Open(jsquad + "dev-queries.jsonl")
	if err != nil {
		t.Skip("no shared JSQuAD data:", err)
	}
	defer qf.Close()
	type query struct {
		Query   string   `json:"query"`
		Answers []string `json:"answers"`
	}
	var qs []query
	sc := bufio.NewScanner(qf)
	for sc.Scan() {
		var q query
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	qs = qs[len(qs)/2:]

	ctx := context.Background()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	emb, err := embed.New(embed.Config{Name: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	corpus := jsquad + "corpus.jsonl"
	in := []ingest.Input{{Source: corpus, Load: func() ([]document.Document, []error, error) {
		return document.Load(corpus, document.LoadOptions{TextField: "text"})
	}}}
	if _, err := ingest.Run(ctx, st, emb, in, ingest.Options{
		Collection: "jsquad", Splitter: split.DefaultOptions(), Metric: store.MetricCosine,
		Text: store.TextSpec{Analyzer: lexical.DefaultAnalyzer, Fields: []string{"title"}}, EmbedTitle: true,
	}); err != nil {
		t.Fatal(err)
	}
	coll, err := st.Open(ctx, "jsquad")
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	ret := &retrieve.Retriever{Coll: coll, Emb: emb, Cfg: retrieve.Config{Mode: retrieve.BM25, Limit: 3, OutputFields: answer.OutputFields}}
	stage, err := answer.New(answer.Options{LLM: extractive.New(extractive.Options{}), Retriever: ret})
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	var lens []int
	var texts []string
	for _, q := range qs {
		a, err := stage.Ask(ctx, answer.Request{Question: q.Query}, nil)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, a.Text)
		lens = append(lens, utf8.RuneCountInString(a.Text))
		if slices.ContainsFunc(q.Answers, func(s string) bool { return s != "" && strings.Contains(a.Text, s) }) {
			hits++
		}
	}
	slices.Sort(lens)
	contains, median, longest := float64(hits)/float64(len(qs)), lens[len(lens)/2], lens[len(lens)-1]
	t.Logf("%d held-out questions: contains %.4f, median %d, max %d characters", len(qs), contains, median, longest)
	if contains < 0.88 || median > 120 || longest > 300 {
		t.Fatalf("below target: contains %.4f (≥ 0.88), median %d (≤ 120), max %d (≤ 300)", contains, median, longest)
	}
	// The same question gets the same answer on every run: sums over the
	// question's terms must not follow Go's random map order (they did,
	// and about 5 answers in 2,221 changed between runs).
	for i, q := range qs {
		a, err := stage.Ask(ctx, answer.Request{Question: q.Query}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.Text != texts[i] {
			t.Fatalf("question %d answered differently the second time:\n%s\n%s", i, texts[i], a.Text)
		}
	}
}
