package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shared returns a path under ../shared (the team's data next to the
// project root), skipping the test when it is absent or in -short mode.
func shared(t *testing.T, rel string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping an evaluation over ../shared")
	}
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		p = filepath.Join("..", "..", "..", "..", "shared", rel) // from a worktree under wt/
		if _, err := os.Stat(p); err != nil {
			t.Skipf("../shared/%s is absent", rel)
		}
	}
	return p
}

type evalOutput struct {
	Runs []struct {
		Name       string `json:"name"`
		SearchType string `json:"search_type"`
		Metrics    struct {
			Queries  int                `json:"queries"`
			HitAt    map[string]float64 `json:"hit_at"`
			RecallAt map[string]float64 `json:"recall_at"`
			MRR10    float64            `json:"mrr_at_10"`
		} `json:"metrics"`
	} `json:"runs"`
}

func evalJSON(t *testing.T, args ...string) evalOutput {
	t.Helper()
	out := mustKura(t, append([]string{"eval", "--json"}, args...)...)
	var e evalOutput
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	return e
}

// TestEvalSeeds is the regression eval over the seed documents: realistic
// questions written for them, with the default settings end to end. The
// questions come in two halves (docs/benchmarks.md, "Search quality"): the
// tuning half (testdata/seeds-questions.jsonl), on which the defaults were
// chosen, and the held-out half (testdata/seeds-heldout.jsonl), measured
// only to report them. The floors sit a question below the measured hit@3
// (0.889 and 0.814), so a change that loses ranking quality on scraped
// text fails here.
func TestEvalSeeds(t *testing.T) {
	seeds := shared(t, "corpus/seeds")
	data := t.TempDir()
	mustKura(t, "ingest", "--data", data, seeds)
	for _, c := range []struct {
		file      string
		questions int
		floor     float64
	}{
		{"testdata/seeds-questions.jsonl", 80, 0.875},
		{"testdata/seeds-heldout.jsonl", 55, 0.80},
	} {
		e := evalJSON(t, "--data", data, "--queries", c.file)
		m := e.Runs[0].Metrics
		t.Logf("%s %s: hit@1 %.3f hit@3 %.3f hit@5 %.3f MRR@10 %.3f", c.file, e.Runs[0].SearchType, m.HitAt["1"], m.HitAt["3"], m.HitAt["5"], m.MRR10)
		if m.Queries < c.questions || m.HitAt["3"] < c.floor {
			t.Errorf("%s, default search: hit@3 = %.3f over %d questions, want ≥ %.3f", c.file, m.HitAt["3"], m.Queries, c.floor)
		}
	}
}

// TestEvalCommand checks kura eval end to end on data the test makes:
// metrics, --compare with settings, and the errors users meet.
func TestEvalCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	corpus := filepath.Join(dir, "corpus.jsonl")
	writeFile(t, corpus, []byte(strings.Join([]string{
		`{"id": "d1", "title": "Argo CD", "text": "Argo CDはGitリポジトリのマニフェストをKubernetesクラスタに同期するGitOpsツールです。"}`,
		`{"id": "d2", "title": "Conftest", "text": "ConftestはRegoで書いたポリシーでマニフェストを検査します。"}`,
		`{"id": "d3", "title": "Tekton", "text": "TektonはKubernetesのカスタムリソースとしてパイプラインを定義するCIツールです。"}`,
	}, "\n")))
	queries := filepath.Join(dir, "q.jsonl")
	writeFile(t, queries, []byte(strings.Join([]string{
		`{"id": "q1", "query": "マニフェストをクラスタに同期するツールは？", "answers": ["Argo CD"], "doc_ids": ["d1"]}`,
		`{"id": "q2", "query": "Regoのポリシーで検査するのは", "doc_ids": ["d2"]}`,
		`{"id": "q3", "query": "パイプラインを定義するCIツール", "answers": ["Tekton"]}`,
	}, "\n")))
	mustKura(t, "ingest", "--data", data, corpus)
	e := evalJSON(t, "--data", data, "--queries", queries, "--compare", "dense,bm25,hybrid", "--compare", "hybrid+mmr lambda=0.7 fetch-k=3")
	if len(e.Runs) != 4 {
		t.Fatalf("%d runs, want 4", len(e.Runs))
	}
	for _, r := range e.Runs {
		if r.Metrics.Queries != 3 {
			t.Errorf("%s: %d queries", r.Name, r.Metrics.Queries)
		}
		if r.Metrics.RecallAt["3"] != 1 || r.Metrics.HitAt["3"] != 1 {
			t.Errorf("%s: recall@3 %v hit@3 %v on three documents", r.Name, r.Metrics.RecallAt["3"], r.Metrics.HitAt["3"])
		}
	}
	if e.Runs[3].SearchType != "hybrid+mmr" {
		t.Errorf("search type %q", e.Runs[3].SearchType)
	}
	// The table names every metric.
	out := mustKura(t, "eval", "--data", data, "--queries", queries)
	for _, want := range []string{"hit@1", "recall@10", "MRR@10", "nDCG@10", "p50 ms", "p99 ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %s:\n%s", want, out)
		}
	}
	// Skipped query lines make the run partial (exit 3), in JSON as in text.
	bad := filepath.Join(dir, "bad.jsonl")
	raw, _ := os.ReadFile(queries)
	writeFile(t, bad, append(raw, []byte("\nnot json\n")...))
	for _, extra := range [][]string{nil, {"--json"}} {
		out, errs, code := kura(t, append([]string{"eval", "--data", data, "--queries", bad}, extra...)...)
		if code != exitPartial || !strings.Contains(errs, "bad.jsonl:4") || out == "" {
			t.Errorf("eval %v with a bad line: exit %d, stderr %q", extra, code, errs)
		}
	}
	// Errors.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--data", data}, "--queries"},
		{[]string{"eval", "--data", data, "--queries", queries, "--compare", "bm25 foo=1"}, "unknown setting"},
		{[]string{"eval", "--data", data, "--queries", queries, "--compare", ","}, "names no search type"},
		{[]string{"eval", "--data", data, "--queries", queries, "--compare", " , ", "--json"}, "names no search type"},
		{[]string{"eval", "--data", data, "--queries", queries, "--search-type", "fuzzy"}, "unknown search type"},
		{[]string{"eval", "--data", data, "--queries", queries, "--search-type", "bm25", "--alpha", "0.5"}, "--alpha"},
	} {
		_, errs, code := kura(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want usage error mentioning %q", c.args, code, errs, c.want)
		}
	}
}

// TestSearchTypes checks the search flags end to end, and that the
// default for a new hash-embedded collection is bm25.
func TestSearchTypes(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeFile(t, filepath.Join(dir, "docs", "a.md"), []byte("# GitOps\n\nConftestでマニフェストのポリシーを検査します。\n\nArgo CDは同期を担います。\n"))
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))
	out := mustKura(t, "search", "--data", data, "--json", "-k", "1", "Conftest")
	if !strings.Contains(out, "Conftest") {
		t.Errorf("default search missed Conftest: %s", out)
	}
	for _, st := range []string{"dense", "bm25", "hybrid", "mmr", "hybrid+mmr"} {
		mustKura(t, "search", "--data", data, "--search-type", st, "--score-threshold", "0", "Argo CD")
	}
	// A collection without a text index says what to do.
	mustKura(t, "ingest", "--data", data, "--collection", "plain", "--analyzer", "none", filepath.Join(dir, "docs"))
	_, errs, code := kura(t, "search", "--data", data, "--collection", "plain", "--search-type", "bm25", "Conftest")
	if code != exitUsage || !strings.Contains(errs, "without a text index") {
		t.Errorf("bm25 on --analyzer none: exit %d, %s", code, errs)
	}
	// --rerank cohere without a key is a usage error naming the variable.
	t.Setenv("COHERE_API_KEY", "")
	_, errs, code = kura(t, "search", "--data", data, "--rerank", "cohere", "Conftest")
	if code != exitUsage || !strings.Contains(errs, "COHERE_API_KEY") {
		t.Errorf("rerank without key: exit %d, %s", code, errs)
	}
}
