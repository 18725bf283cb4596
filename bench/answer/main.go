// Command answer measures kura's offline (extractive) answers on a judged
// question set, the way `kura ask --queries FILE --json` answers with its
// defaults: the corpus is ingested with kura's default settings (ja
// splitter 200/20, hash embedder 1,024 dims, bigram BM25 index with the
// title, as `kura ingest` does) into a temporary collection, each question
// retrieves with the default search type (bm25 for a hash-embedded
// collection with a text index, as app.DefaultSearchType picks it)
// and -k hits, and the answer stage answers with the extractive answerer.
//
// Run it from the repository root:
//
//	go run ./bench/answer                      # every dev question
//	go run ./bench/answer -half first          # the tuning half
//	go run ./bench/answer -half second         # the held-out half
//	go run ./bench/answer -show 20             # also print 20 misses
//	go run ./bench/answer -corpus ../shared/corpus/seeds \
//	    -queries cmd/kura/testdata/seeds-questions.jsonl -print
//
// Queries are JSONL lines {"id", "query", "answers": [...]}. An answer
// "contains" the expected answer when any of the expected strings is a
// substring of the whole answer text (markers included, as the CLI's
// "answer" field). One JSON line is printed:
//
//	queries, contains_answer    questions answered and the share whose answer
//	                            contains an expected string
//	sources_contain             share whose sources contain one (the bound
//	                            retrieval puts on any extractive answer)
//	median_chars, p90_chars, max_chars
//	                            answer length in characters, markers included
//	not_found                   questions retrieval found nothing for
//	ask_p50_ms, ask_p99_ms      time of one answer (retrieval included)
//	go_version, gomaxprocs, cpu, load1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/answer/extractive"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/eval"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/retrieve"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

const collection = "bench_answer"

type result struct {
	Bench          string  `json:"bench"`
	Half           string  `json:"half"`
	K              int     `json:"k"`
	SearchType     string  `json:"search_type"`
	Queries        int     `json:"queries"`
	ContainsAnswer float64 `json:"contains_answer"`
	SourcesContain float64 `json:"sources_contain"`
	MedianChars    float64 `json:"median_chars"`
	P90Chars       int     `json:"p90_chars"`
	MaxChars       int     `json:"max_chars"`
	NotFound       int     `json:"not_found"`
	AskP50MS       float64 `json:"ask_p50_ms"`
	AskP99MS       float64 `json:"ask_p99_ms"`
	sysinfo.Machine
}

func main() {
	corpus := flag.String("corpus", "../shared/eval/jsquad/corpus.jsonl", "JSONL corpus to ingest")
	queries := flag.String("queries", "../shared/eval/jsquad/dev-queries.jsonl", "JSONL questions with expected answers")
	half := flag.String("half", "all", "all, first (the tuning half) or second (held out) of the questions, in file order")
	k := flag.Int("k", 3, "hits retrieved per question (kura search's default)")
	searchType := flag.String("search-type", "", "override the default search type (dense, bm25, hybrid, ...)")
	dataRoot := flag.String("data", "", "parent of the temporary data directory (default: the system temp dir)")
	show := flag.Int("show", 0, "print this many questions whose answer misses, with the answer")
	dump := flag.String("dump", "", "write each question with its numbered sources to this JSONL file")
	printAll := flag.Bool("print", false, "print every question with its answer")
	flag.Parse()
	var dumpEnc *json.Encoder
	if *dump != "" {
		f, err := os.Create(*dump)
		if err != nil {
			fatalf("%v", err)
		}
		defer f.Close()
		dumpEnc = json.NewEncoder(f)
		dumpEnc.SetEscapeHTML(false)
	}

	// Read as kura eval reads them: answers without empty strings, which
	// every text would contain; lines it cannot judge skipped.
	qs, problems, err := eval.ReadQueries(*queries)
	if err != nil {
		fatalf("%v (pass -queries PATH, e.g. ../shared/eval/jsquad/dev-queries.jsonl)", err)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "bench/answer:", p)
	}
	switch *half {
	case "all":
	case "first":
		qs = qs[:len(qs)/2]
	case "second":
		qs = qs[len(qs)/2:]
	default:
		fatalf("-half %q: use all, first or second", *half)
	}

	ctx := context.Background()
	dir, err := os.MkdirTemp(*dataRoot, "kura-bench-answer-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(dir)
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		fatalf("%v", err)
	}
	defer st.Close()
	emb, err := embed.New(embed.Config{Name: "hash"})
	if err != nil {
		fatalf("%v", err)
	}
	if err := ingestCorpus(ctx, st, emb, *corpus); err != nil {
		fatalf("ingest %s: %v", *corpus, err)
	}
	coll, err := st.Open(ctx, collection)
	if err != nil {
		fatalf("%v", err)
	}
	defer coll.Close()

	st0 := *searchType
	if st0 == "" {
		st0 = app.DefaultSearchType(coll)
	}
	mode, mmr, err := retrieve.ParseType(st0)
	if err != nil {
		fatalf("%v", err)
	}
	ret := &retrieve.Retriever{Coll: coll, Emb: emb, Cfg: retrieve.Config{
		Mode: mode, MMR: mmr, Limit: *k, OutputFields: answer.OutputFields,
	}}
	stage, err := answer.New(answer.Options{LLM: extractive.New(extractive.Options{}), Retriever: ret})
	if err != nil {
		fatalf("%v", err)
	}

	res := result{Bench: "answer", Half: *half, K: *k, SearchType: st0, Queries: len(qs), Machine: sysinfo.Describe()}
	var judged []eval.JudgedAnswer
	var times []float64
	inSources, shown := 0, 0
	for _, q := range qs {
		id := strings.Trim(string(q.ID), `"`)
		t := time.Now()
		a, err := stage.Ask(ctx, answer.Request{Question: q.Query}, nil)
		if err != nil {
			fatalf("question %s: %v", id, err)
		}
		took := time.Since(t)
		times = append(times, float64(took.Microseconds())/1000)
		if a.NotFound {
			res.NotFound++
		}
		// Judged as kura eval --answers judges, by package eval.
		j := eval.JudgeAnswer(q, eval.AnswerOutcome{
			Text: a.Text, Citations: len(a.Citations), RemovedCitations: a.RemovedCitations, NotFound: a.NotFound, Total: took,
		})
		judged = append(judged, j)
		ok := j.Contains
		var all strings.Builder
		for _, s := range a.Sources {
			all.WriteString(s.Text)
			all.WriteByte('\n')
		}
		inSrc := containsAny(all.String(), q.Answers)
		if inSrc {
			inSources++
		}
		if dumpEnc != nil {
			dumpEnc.Encode(map[string]any{"id": q.ID, "query": q.Query, "answers": q.Answers, "sources": a.Sources})
		}
		if *printAll {
			mark := "✗"
			if ok {
				mark = "✓"
			}
			fmt.Fprintf(os.Stderr, "%s %s %s\n  %s\n", mark, id, q.Query, strings.ReplaceAll(a.Text, "\n", " / "))
		}
		// Only the misses extraction could have avoided are shown.
		if !ok && inSrc && shown < *show {
			shown++
			fmt.Fprintf(os.Stderr, "MISS %s %s\n  expected %q\n  answer   %s\n", id, q.Query, q.Answers, a.Text)
			for _, s := range a.Sources {
				fmt.Fprintf(os.Stderr, "  [%d] %s\n", s.N, strings.ReplaceAll(s.Text, "\n", " / "))
			}
		}
	}
	slices.Sort(times)
	m := eval.AggregateAnswers(judged, 0)
	res.ContainsAnswer = round4(m.ContainsAnswer)
	res.SourcesContain = round4(float64(inSources) / float64(len(qs)))
	res.MedianChars, res.P90Chars, res.MaxChars = m.MedianChars, m.P90Chars, m.MaxChars
	res.AskP50MS = times[len(times)/2]
	res.AskP99MS = times[len(times)*99/100]
	json.NewEncoder(os.Stdout).Encode(res)
}

// ingestCorpus ingests path (a file or directory) as `kura ingest PATH`
// does with its defaults.
func ingestCorpus(ctx context.Context, st store.Store, emb embed.Embedder, path string) error {
	found := document.Collect([]string{path})
	if len(found.Problems) > 0 || len(found.Files) == 0 {
		return fmt.Errorf("corpus not found: %v (pass -corpus PATH, e.g. ../shared/eval/jsquad/corpus.jsonl from the repository root)", found.Problems)
	}
	var in []ingest.Input
	for _, f := range found.Files {
		in = append(in, ingest.Input{Source: f, Load: func() ([]document.Document, []error, error) {
			return document.Load(f, document.LoadOptions{TextField: "text"})
		}})
	}
	_, err := ingest.Run(ctx, st, emb, in, ingest.Options{
		Collection:   collection,
		Splitter:     split.DefaultOptions(),
		BatchSize:    embed.DefaultBatchSize,
		EmbedWorkers: 4,
		Metric:       store.MetricCosine,
		TextMaxBytes: store.DefaultTextMaxBytes,
		Text:         store.TextSpec{Analyzer: lexical.DefaultAnalyzer, Fields: []string{"title"}},
		EmbedTitle:   true,
	})
	return err
}

func containsAny(text string, answers []string) bool {
	for _, a := range answers {
		if a != "" && strings.Contains(text, a) {
			return true
		}
	}
	return false
}

func round4(x float64) float64 { return float64(int(x*10000+0.5)) / 10000 }

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench/answer: "+format+"\n", a...)
	os.Exit(1)
}
