// Command retrieval measures variants of kura's full-text ranking on
// judged questions, in process: the ablations of the defaults and the
// variants tried and not kept that docs/benchmarks.md ("Search quality")
// reports. It reads collections that `kura ingest` made, so every variant
// ranks the very chunks kura stores, and judges the hits as `kura eval`
// does (package eval).
//
// Run it from the repository root, after ingesting with the defaults:
//
//	kura ingest --data /tmp/b ../shared/corpus/seeds --collection seeds
//	kura ingest --data /tmp/b ../shared/eval/jsquad/corpus.jsonl --collection jsquad
//	head -n 2221 ../shared/eval/jsquad/dev-queries.jsonl > /tmp/b/jsquad-tune.jsonl
//	go run ./bench/retrieval -data /tmp/b \
//	  -set seeds=cmd/kura/testdata/seeds-questions.jsonl -set jsquad=/tmp/b/jsquad-tune.jsonl
//
// -set COLLECTION=QUESTIONS.jsonl names a collection and its questions
// (repeatable). It prints the machine as one JSON line, then a table: one
// row per variant, and per set hit@3 and MRR@10 (answer-only questions)
// or recall@1 and recall@5 (questions with doc_ids).
//
// The scorer is a re-implementation of lexical.Index.Search with hooks for
// the variants. The row "kura (lexical.Index)" ranks with the package
// itself; it must equal the "defaults" row, which checks the two agree.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/eval"
	"github.com/kura-rag/kura/internal/lexical"
)

type setFlag []string

func (s *setFlag) String() string     { return strings.Join(*s, ",") }
func (s *setFlag) Set(v string) error { *s = append(*s, v); return nil }

// dataset is a collection and its judged questions.
type dataset struct {
	name             string
	chunks           []chunk
	queries          []eval.Query
	queryVecs        [][]float32 // hash embeddings of the questions, as kura hybrid embeds them
	titled, untitled *index
	normalised       []string             // title and text, normalised, for verbatim matches
	prev             []int                // previous chunk of the same document, or -1
	specs            map[string][]float64 // specificities by kind and index
	lexicalIndex     *lexical.Index       // built on first use
	hapaxFree        *index               // titled without hapax, built on first use
}

func main() {
	data := flag.String("data", "", "kura data directory holding the collections")
	var sets setFlag
	flag.Var(&sets, "set", "COLLECTION=QUESTIONS.jsonl (repeatable)")
	only := flag.String("only", "", "run only the variants whose name matches this regular expression")
	flag.Parse()
	if *data == "" || len(sets) == 0 {
		fmt.Fprintln(os.Stderr, "usage: retrieval -data DIR -set COLLECTION=QUESTIONS.jsonl ...")
		os.Exit(2)
	}
	m, _ := json.Marshal(sysinfo.Describe())
	fmt.Println(string(m))

	an, _ := lexical.New(lexical.AnalyzerBigram)
	emb, _ := embed.New(embed.Config{Name: "hash"})
	var ds []*dataset
	for _, s := range sets {
		name, path, ok := strings.Cut(s, "=")
		if !ok {
			fatalf("-set %q: want COLLECTION=QUESTIONS.jsonl", s)
		}
		ds = append(ds, load(*data, name, path, an, emb))
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "variant\t")
	for _, d := range ds {
		if d.queries[0].DocIDs != nil {
			fmt.Fprintf(tw, "%s recall@1\trecall@5\t", d.name)
		} else {
			fmt.Fprintf(tw, "%s hit@3\tMRR@10\t", d.name)
		}
	}
	fmt.Fprintln(tw)
	row := func(name string, rank func(d *dataset, qi int, q eval.Query) []int) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, d := range ds {
			js := make([]eval.Judged, len(d.queries))
			for qi, q := range d.queries {
				r := rank(d, qi, q)
				hits := make([]eval.Hit, 0, eval.Depth)
				for _, c := range r[:min(len(r), eval.Depth)] {
					hits = append(hits, eval.Hit{Text: d.chunks[c].Text, DocID: d.chunks[c].DocID})
				}
				js[qi] = eval.Judge(q, hits)
			}
			m := eval.Aggregate(js)
			if m.DocQueries > 0 {
				fmt.Fprintf(tw, "%.3f\t%.3f\t", m.RecallAt["1"], m.RecallAt["5"])
			} else {
				fmt.Fprintf(tw, "%.3f\t%.3f\t", m.HitAt["3"], m.MRR10)
			}
		}
		fmt.Fprintln(tw)
		fmt.Fprintln(os.Stderr, "done:", name)
	}
	row("kura (lexical.Index)", func(d *dataset, _ int, q eval.Query) []int { return d.kura(an, q.Query) })
	re, err := regexp.Compile(*only)
	if err != nil {
		fatalf("-only: %v", err)
	}
	for _, v := range variants {
		if re.MatchString(v.name) {
			row(v.name, func(d *dataset, qi int, q eval.Query) []int { return d.rank(v, an, qi, q.Query) })
		}
	}
	tw.Flush()
}

func load(dir, name, path string, an lexical.Analyzer, emb embed.Embedder) *dataset {
	chunks, _, err := loadCollection(dir, name)
	if err != nil {
		fatalf("collection %s: %v", name, err)
	}
	qs, problems, err := eval.ReadQueries(path)
	if err != nil || len(problems) > 0 || len(qs) == 0 {
		fatalf("%s: %v %v", path, err, problems)
	}
	d := &dataset{name: name, chunks: chunks, queries: qs, specs: map[string][]float64{}}
	titled := make([][]string, len(chunks))
	untitled := make([][]string, len(chunks))
	d.normalised = make([]string, len(chunks))
	d.prev = make([]int, len(chunks))
	for i, c := range chunks {
		titled[i] = an.Analyze(nil, c.Title+"\n"+c.Text) // as the store indexes with --context both
		untitled[i] = an.Analyze(nil, c.Text)
		d.normalised[i] = lexical.Normalize(c.Title + "\n" + c.Text)
		d.prev[i] = -1
		if i > 0 && chunks[i-1].Source == c.Source && chunks[i-1].DocID == c.DocID && chunks[i-1].Index == c.Index-1 {
			d.prev[i] = i - 1
		}
	}
	d.titled, d.untitled = buildIndex(titled), buildIndex(untitled)
	texts := make([]string, len(qs))
	for i, q := range qs {
		texts[i] = q.Query
	}
	if d.queryVecs, err = emb.Embed(context.Background(), texts, embed.ModeQuery); err != nil {
		fatalf("embedding the questions: %v", err)
	}
	return d
}

// kura ranks with package lexical itself, as the embedded store does.
func (d *dataset) kura(an lexical.Analyzer, query string) []int {
	if d.lexicalIndex == nil {
		d.lexicalIndex = lexical.NewIndex()
		for i := range d.chunks {
			d.lexicalIndex.Add(int64(i), d.titled.terms[i])
		}
	}
	top, err := d.lexicalIndex.Search(context.Background(), lexical.AnalyzeQuery(an, query), eval.Depth, lexical.Params{}, nil)
	if err != nil {
		fatalf("%v", err)
	}
	out := make([]int, len(top))
	for i, s := range top {
		out[i] = int(s.ID)
	}
	return out
}

var reToha = regexp.MustCompile(`(とは)(\s|$)`)

// rank ranks the chunks for question qi with variant v.
func (d *dataset) rank(v variant, an lexical.Analyzer, qi int, query string) []int {
	text := query
	if v.strip {
		text = lexical.StripQuestion(text)
		if v.dropToha {
			text = reToha.ReplaceAllString(text, " ")
		}
	}
	var q []qterm
	for _, t := range an.Analyze(nil, text) {
		q = append(q, qterm{t, v.weights.weight(t)})
	}
	x := d.titled
	if v.noTitle {
		x = d.untitled
	}
	if v.noHapax {
		if d.hapaxFree == nil {
			d.hapaxFree = x.withoutHapax()
		}
		x = d.hapaxFree
	}
	s := x.bm25(q, v.k1, v.b)
	if v.spec != "" {
		key := fmt.Sprintf("%s/%v/%v", v.spec, v.noTitle, v.noHapax)
		if d.specs[key] == nil {
			d.specs[key] = x.specificity(v.spec)
		}
		for i := range s {
			s[i] *= math.Pow(d.specs[key][i], v.gamma)
		}
	}
	if v.prev > 0 {
		own := append([]float64(nil), s...)
		for i, p := range d.prev {
			if p >= 0 && own[i] > 0 {
				s[i] += v.prev * own[p]
			}
		}
	}
	if v.phrase > 0 {
		fields := strings.Fields(text)
		for i := range s {
			if s[i] > 0 {
				s[i] *= math.Pow(1+v.phrase, float64(containsField(d.normalised[i], fields, 3)))
			}
		}
	}
	ranked := rank(s, false)
	if v.alpha > 0 {
		dense := make([]float64, len(d.chunks))
		for i, c := range d.chunks {
			for j, f := range d.queryVecs[qi] {
				dense[i] += float64(f) * float64(c.Vec[j])
			}
		}
		fused := make([]float64, len(d.chunks))
		for c, w := range minmax(s, ranked, 50) {
			fused[c] += (1 - v.alpha) * w
		}
		for c, w := range minmax(dense, rank(dense, true), 50) {
			fused[c] += v.alpha * w
		}
		ranked = rank(fused, false)
	}
	if v.dedup > 0 {
		ranked = jaccardDedup(x, ranked, v.dedup, 3*eval.Depth)
	}
	return ranked
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "retrieval: "+format+"\n", args...)
	os.Exit(1)
}
