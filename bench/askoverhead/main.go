// Command askoverhead measures kura's own time in answering a question
// with a language model, apart from the model: the time from the question
// to the moment the request is handed to the provider (retrieval, source
// assembly and prompt included; no follow-up rewriting), and the time
// kura spends on each streamed piece (citation-marker checking and the
// event to the front end), on a collection of -rows chunks with an HNSW
// index, as `kura ask` would run on it.
//
// Run it from the repository root:
//
//	go run ./bench/askoverhead                       # 100,000 rows, hybrid and bm25
//	go run ./bench/askoverhead -data /tmp/ov -keep    # keep the collection for the next run
//	go run ./bench/askoverhead -data /tmp/ov -keep -app   # the same through the application layer
//
// The collection is built like bench/search's: texts of 60–200 characters
// made of JSQuAD sentences (seeded), hash-embedded (1,024 dims), a bigram
// BM25 index, 8 chunks per source with source, title and chunk_index;
// the HNSW index (M 16, efConstruction 200) is built by the first query.
// The provider is an in-process client that takes no time: it records
// when the request reaches it and then streams a 300-character answer
// with citation markers in pieces of 8 bytes (some markers cut across
// pieces, one naming a source that was not given). The questions are
// the JSQuAD dev questions. One JSON line per search type:
//
//	before_request_p50_ms … _p99_ms, _max_ms   question → request handed over
//	retrieve_p50_ms, retrieve_p99_ms            of which retrieval (Timings.RetrieveMS)
//	prepare_p50_ms, prepare_p99_ms              of which sources + prompt (Timings.PrepareMS)
//	piece_p50_us, piece_p99_us, piece_max_us    kura's time per streamed piece
//	after_stream_p99_ms                         citations built after the last piece
//
// With -app the questions go through the application layer instead
// (app.App.AskWith, as `kura ask --llm openai` runs them: history
// recorded, tracing off) to an OpenAI-compatible endpoint on loopback
// that notes when each request arrives and streams the same answer at
// once. Before request then also holds the application layer's own work
// and the OpenAI SDK building and sending the request; after_request is
// the streamed answer received, citations checked and the answer
// recorded (path "app+openai-http").
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kura-rag/kura/bench/internal/dataset"
	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

const (
	collection      = "bench_ask"
	chunksPerSource = 8
	upsertBatch     = 1024
)

type result struct {
	Bench             string  `json:"bench"`
	Rows              int     `json:"rows"`
	Index             string  `json:"index"`
	SearchType        string  `json:"search_type"`
	K                 int     `json:"k"`
	Questions         int     `json:"questions"`
	BuildSeconds      float64 `json:"build_seconds,omitempty"`
	IndexBuildSeconds float64 `json:"index_build_seconds,omitempty"`
	BeforeP50         float64 `json:"before_request_p50_ms"`
	BeforeP90         float64 `json:"before_request_p90_ms"`
	BeforeP99         float64 `json:"before_request_p99_ms"`
	BeforeMax         float64 `json:"before_request_max_ms"`
	RetrieveP50       float64 `json:"retrieve_p50_ms"`
	RetrieveP99       float64 `json:"retrieve_p99_ms"`
	PrepareP50        float64 `json:"prepare_p50_ms"`
	PrepareP99        float64 `json:"prepare_p99_ms"`
	Pieces            int     `json:"pieces"`
	PieceP50us        float64 `json:"piece_p50_us"`
	PieceP99us        float64 `json:"piece_p99_us"`
	PieceMaxus        float64 `json:"piece_max_us"`
	AfterStreamP99    float64 `json:"after_stream_p99_ms"`
	sysinfo.Machine
}

func main() {
	rows := flag.Int("rows", 100000, "chunks in the collection")
	nq := flag.Int("questions", 1000, "timed questions (after 20 warm-up ones)")
	k := flag.Int("k", 3, "chunks retrieved per question")
	types := flag.String("search-types", "hybrid,bm25", "comma-separated search types to measure")
	corpus := flag.String("corpus", "../shared/eval/jsquad/corpus.jsonl", "JSONL corpus to sample sentences from")
	queries := flag.String("queries", "../shared/eval/jsquad/dev-queries.jsonl", "questions")
	dataDir := flag.String("data", "", "data directory (default: a temporary one)")
	keep := flag.Bool("keep", false, "keep the data directory and reuse its collection next time")
	viaApp := flag.Bool("app", false, "ask through the application layer and an OpenAI-compatible endpoint over HTTP, as `kura ask --llm openai` does")
	flag.Parse()

	ctx := context.Background()
	dir := *dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "kura-bench-ask-")
		if err != nil {
			fatalf("%v", err)
		}
		dir = d
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		fatalf("%v", err)
	}
	defer st.Close() // a second Close (after -app closed it) does nothing
	emb, err := embed.New(embed.Config{Name: "hash"})
	if err != nil {
		fatalf("%v", err)
	}
	base := result{Bench: "askoverhead", Rows: *rows, Index: "HNSW M16 efConstruction200", K: *k, Machine: sysinfo.Describe()}
	coll, err := st.Open(ctx, collection)
	if err != nil {
		t := time.Now()
		if coll, err = build(ctx, st, emb, *rows, *corpus); err != nil {
			fatalf("building the collection: %v", err)
		}
		base.BuildSeconds = time.Since(t).Seconds()
	}
	defer coll.Close()
	qs, err := dataset.Questions(*queries, *nq+20)
	if err != nil {
		fatalf("%v (pass -queries)", err)
	}

	if *viaApp {
		// The application layer opens the store itself.
		coll.Close()
		st.Close()
		if err := runApp(ctx, dir, base, qs, strings.Split(*types, ",")); err != nil {
			fatalf("%v", err)
		}
		return
	}
	for _, typ := range strings.Split(*types, ",") {
		mode, mmr, err := retrieve.ParseType(typ)
		if err != nil {
			fatalf("%v", err)
		}
		ret := &retrieve.Retriever{Coll: coll, Emb: emb, Cfg: retrieve.Config{Mode: mode, MMR: mmr, Limit: *k, OutputFields: answer.OutputFields}}
		model := &instantLLM{}
		stage, err := answer.New(answer.Options{LLM: model, Retriever: ret})
		if err != nil {
			fatalf("%v", err)
		}
		res := base
		res.SearchType = typ
		var before, retrieveMS, prepare, pieces, after []float64
		for i, q := range qs {
			if i == 0 {
				t := time.Now()
				if _, err := stage.Ask(ctx, answer.Request{Question: q}, nil); err != nil {
					fatalf("%v", err)
				}
				if mode != retrieve.BM25 && res.BuildSeconds > 0 {
					res.IndexBuildSeconds = time.Since(t).Seconds()
				}
				continue
			}
			model.reset()
			start := time.Now()
			var lastPiece time.Time
			a, err := stage.Ask(ctx, answer.Request{Question: q}, func(ev answer.Event) error {
				if ev.Type == answer.EventDelta {
					lastPiece = time.Now()
				}
				return nil
			})
			end := time.Now()
			if err != nil {
				fatalf("%v", err)
			}
			if i < 20 {
				continue // warm-up
			}
			before = append(before, ms(model.called.Sub(start)))
			retrieveMS = append(retrieveMS, a.Timings.RetrieveMS)
			prepare = append(prepare, a.Timings.PrepareMS)
			for _, d := range model.pieceTimes {
				pieces = append(pieces, float64(d.Nanoseconds())/1e3)
			}
			if !lastPiece.IsZero() {
				after = append(after, ms(end.Sub(lastPiece)))
			}
		}
		res.Questions = len(before)
		res.BeforeP50, res.BeforeP90, res.BeforeP99, res.BeforeMax = pct(before, 50), pct(before, 90), pct(before, 99), pct(before, 100)
		res.RetrieveP50, res.RetrieveP99 = pct(retrieveMS, 50), pct(retrieveMS, 99)
		res.PrepareP50, res.PrepareP99 = pct(prepare, 50), pct(prepare, 99)
		res.Pieces = len(pieces)
		res.PieceP50us, res.PieceP99us, res.PieceMaxus = pct(pieces, 50), pct(pieces, 99), pct(pieces, 100)
		res.AfterStreamP99 = pct(after, 99)
		res.Machine = sysinfo.Describe()
		json.NewEncoder(os.Stdout).Encode(res)
	}
}

// instantLLM answers at once: it notes when the request arrives and how
// long kura takes over each piece it emits.
type instantLLM struct {
	called     time.Time
	pieceTimes []time.Duration
}

const cannedAnswer = "梅雨は、北海道と小笠原諸島を除く日本や朝鮮半島南部、中国の南部などでみられる気象現象です[1]。" +
	"時期は5月から7月にかけてで、雨や曇りの日が多くなります［２］。梅雨前線が停滞することが原因とされています[1, 3]。" +
	"なお、資料にない地域の情報は含まれていません[7]。秋にも似た時期があり、秋雨と呼ばれます[2][3]。"

func (m *instantLLM) reset() { m.called, m.pieceTimes = time.Time{}, m.pieceTimes[:0] }

func (m *instantLLM) Info() llm.Info {
	return llm.Info{Provider: "instant", Model: "none", Options: []string{llm.OptMaxTokens, llm.OptTemperature}}
}

func (m *instantLLM) Stream(ctx context.Context, req llm.Request, emit func(llm.Event) error) (llm.Result, error) {
	m.called = time.Now()
	for i := 0; i < len(cannedAnswer); i += 8 {
		piece := cannedAnswer[i:min(i+8, len(cannedAnswer))]
		t := time.Now()
		if err := emit(llm.Event{Delta: piece}); err != nil {
			return llm.Result{}, err
		}
		m.pieceTimes = append(m.pieceTimes, time.Since(t))
	}
	return llm.Result{Text: cannedAnswer, Model: "none"}, nil
}

// build makes the collection: rows of JSQuAD sentences, hash vectors,
// bigram BM25, HNSW.
func build(ctx context.Context, st store.Store, emb embed.Embedder, n int, corpus string) (store.Collection, error) {
	sentences, err := dataset.Sentences(corpus)
	if err != nil {
		return nil, fmt.Errorf("%v (pass -corpus, e.g. ../shared/eval/jsquad/corpus.jsonl)", err)
	}
	info := emb.Info()
	coll, err := st.Create(ctx, collection, store.Schema{
		Dim: info.Dim, Metric: store.MetricCosine,
		Embedder: store.EmbedderInfo{Name: info.Name, Model: info.Model, Dim: info.Dim},
		Index:    store.IndexSpec{Type: store.IndexHNSW, Params: map[string]int{"M": 16, "efConstruction": 200}},
		Text:     store.TextSpec{Analyzer: "bigram", Fields: []string{"title"}},
	})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 0x6b757261))
	for lo := 0; lo < n; lo += upsertBatch {
		batch := make([]store.Row, min(upsertBatch, n-lo))
		texts := make([]string, len(batch))
		for i := range texts {
			var b strings.Builder
			want := 60 + rng.IntN(141)
			for b.Len() < want*3 {
				b.WriteString(sentences[rng.IntN(len(sentences))])
			}
			texts[i] = string([]rune(b.String())[:want])
		}
		vecs, err := emb.Embed(ctx, texts, embed.ModeDocument)
		if err != nil {
			return nil, err
		}
		for i := range batch {
			id := lo + i
			batch[i] = store.Row{ID: int64(id + 1), Vector: vecs[i], Text: texts[i], Fields: map[string]any{
				"source":      fmt.Sprintf("synthetic/doc-%06d.txt", id/chunksPerSource),
				"title":       fmt.Sprintf("文書 %d", id/chunksPerSource),
				"chunk_index": id % chunksPerSource,
			}}
		}
		if err := coll.Upsert(ctx, batch); err != nil {
			return nil, err
		}
	}
	return coll, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(xs []float64, p int) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := min(len(s)*p/100, len(s)-1)
	return float64(int(s[i]*1000+0.5)) / 1000
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench/askoverhead: "+format+"\n", a...)
	os.Exit(1)
}
