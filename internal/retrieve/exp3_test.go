package retrieve

import (
	"context"
	"fmt"
	"os"
	"testing"
	"unicode"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/eval"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

type anFn func(string) []string

func TestExp3(t *testing.T) {
	if os.Getenv("KURA_EXP3") == "" {
		t.Skip()
	}
	ctx := context.Background()
	st, _ := local.Open("/tmp/k6", local.Options{ReadOnly: true})
	qs, _, _ := eval.ReadQueries("/work/shared/eval/jsquad/dev-queries.jsonl")
	c, _ := st.Open(ctx, "jsq_ja_both")
	srcs, _ := c.Sources(ctx)
	var ids []int64
	for _, s := range srcs { x, _ := c.SourceIDs(ctx, s); ids = append(ids, x...) }
	rows, _ := c.Get(ctx, ids, []string{"text", "title", "doc_id"})
	ja, _ := lexical.New("ja")
	bi, _ := lexical.New("bigram")
	pairs := func(toks []string) []string {
		out := append([]string(nil), toks...)
		for i := 0; i+1 < len(toks); i++ { out = append(out, toks[i]+"\x00"+toks[i+1]) }
		return out
	}
	ans := map[string]anFn{
		"ja": func(s string) []string { return ja.Analyze(nil, s) },
		"bi": func(s string) []string { return bi.Analyze(nil, s) },
		"ja+pairs": func(s string) []string { return pairs(ja.Analyze(nil, s)) },
		"ja+bi": func(s string) []string {
			out := ja.Analyze(nil, s)
			for _, b := range bi.Analyze(nil, s) { out = append(out, "\x01"+b) }
			return out
		},
	}
	docOf := map[int64]string{}
	textOf := map[int64]string{}
	for _, r := range rows { docOf[r.ID] = fmt.Sprint(r.Entity["doc_id"]); textOf[r.ID] = r.Entity["text"].(string) }
	ans["ja+bi+pairs"] = func(s string) []string {
		out := pairs(ja.Analyze(nil, s))
		for _, b := range bi.Analyze(nil, s) { out = append(out, "\x01"+b) }
		return out
	}
	emb, _ := embed.NewHash(1024)
	qv, _ := emb.Embed(ctx, func() []string { var o []string; for _, q := range qs { o = append(o, q.Query) }; return o }(), embed.ModeQuery)
	dense := make([][]store.Hit, len(qs))
	for i := range qs { dense[i], _ = c.Search(ctx, store.SearchRequest{Vector: qv[i], Limit: 50}) }
	scriptRuns := func(s string) []string {
		var out []string
		var cur []rune
		cls := func(r rune) int {
			switch {
			case unicode.Is(unicode.Han, r) || r == '々': return 1
			case unicode.Is(unicode.Katakana, r) || r == 'ー': return 2
			case unicode.Is(unicode.Hiragana, r): return 3
			case unicode.IsLetter(r) || unicode.IsDigit(r): return 4
			}
			return 0
		}
		prev := 0
		flush := func() { if len(cur) > 0 && prev != 3 { out = append(out, "\x02"+string(cur)) }; cur = cur[:0] }
		for _, r := range lexical.Normalize(s) {
			c := cls(r)
			if c != prev { flush(); prev = c }
			if c != 0 { cur = append(cur, r) }
		}
		flush()
		return out
	}
	ans["bi+runs"] = func(s string) []string { return append(bi.Analyze(nil, s), scriptRuns(s)...) }
	ans["bi+runs+pairs"] = func(s string) []string { return append(bi.Analyze(nil, s), pairs(scriptRuns(s))...) }
	for _, name := range []string{"bi", "bi+runs", "bi+runs+pairs"} {
		an := ans[name]
		x := lexical.NewIndex()
		for _, r := range rows { x.Add(r.ID, an(r.Entity["title"].(string)+"\n"+r.Entity["text"].(string))) }
		for _, p := range []lexical.Params{{K1: 0.6, B: 0.3}, {K1: 0.4, B: 0.3}} {
		  for _, fu := range []string{"none", "a.1"} {
			var js []eval.Judged
			for qi, q := range qs {
				top, _ := x.Search(ctx, an(q.Query), 50, p, nil)
				bh := make([]store.Hit, len(top))
				for i, h := range top { bh[i] = store.Hit{ID: h.ID, Score: h.Score} }
				var fused []store.Hit
				switch fu {
				case "none": fused = bh
				case "rrf": fused = RRF(60, bh, dense[qi])
				case "rrf.5":
					score := map[int64]float64{}
					for i, h := range bh { score[h.ID] += 1 / float64(61+i) }
					for i, h := range dense[qi] { score[h.ID] += 0.5 / float64(61+i) }
					fused = sortedHits(score)
				case "a.1": fused = Weighted(dense[qi], bh, 0.1, false)
				case "a.2": fused = Weighted(dense[qi], bh, 0.2, false)
				case "a.3": fused = Weighted(dense[qi], bh, 0.3, false)
				}
				fused = fused[:min(10, len(fused))]
				eh := make([]eval.Hit, len(fused))
				for i, h := range fused { eh[i] = eval.Hit{DocID: docOf[h.ID], Text: textOf[h.ID]} }
				js = append(js, eval.Judge(q, eh))
			}
			m := eval.Aggregate(js)
			fmt.Printf("%-12s %-6s k1 %.1f b %.2f  r@1 %.3f r@3 %.3f r@5 %.3f r@10 %.3f mrr %.3f\n", name, fu, p.K1, p.B, m.RecallAt["1"], m.RecallAt["3"], m.RecallAt["5"], m.RecallAt["10"], m.MRR10)
		  }
		}
	}
	_ = store.Hit{}
}
