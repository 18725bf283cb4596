package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/kura-rag/kura/internal/api"
)

// kura runs one command line in-process and returns its output and exit
// status.
func kura(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// mustKura runs a command that must succeed.
func mustKura(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := kura(t, args...)
	if code != 0 {
		t.Fatalf("kura %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type ingestSummary struct {
	Files, Skipped, Problems, Chunks, Added, Unchanged, Removed, Embedded, Duplicates int
}

func ingestJSON(t *testing.T, wantCode int, args ...string) ingestSummary {
	t.Helper()
	out, errs, code := kura(t, append([]string{"ingest", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("ingest %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errs)
	}
	var s ingestSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary is not one JSON object: %v\n%s", err, out)
	}
	return s
}

const sampleJa = `# GitOps入門

GitOpsは、Gitリポジトリを唯一の信頼できる情報源として、Kubernetesクラスタの状態を宣言的に管理する手法です。Argo CDやFluxがよく使われます。

## Argo CD

Argo CDはリポジトリのマニフェストとクラスタの実際の状態を比較し、差分があれば同期します。同期は自動にも手動にもできます。

## Conftest

Conftestはポリシーをコードとして書き、マニフェストがルールに従っているかをCIで検査するツールです。
`

const sampleEn = `Tekton is a Kubernetes-native framework for building CI/CD pipelines.
Each pipeline is made of tasks, and each task runs its steps in containers.
Pipelines are triggered by events such as a push to a Git repository.
`

// corpus makes a small folder of good documents.
func corpus(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "docs", "gitops.md"), []byte(sampleJa))
	writeFile(t, filepath.Join(dir, "docs", "tekton.txt"), []byte(sampleEn))
	writeFile(t, filepath.Join(dir, "docs", "sub", "page.html"), []byte(`<html><head><title>Fluxの紹介</title><script>var x=1;</script></head>
<body><nav>メニュー ホーム</nav><main><h1>Flux</h1><p>FluxはGitOpsのためのツールで、リポジトリを監視してクラスタに変更を反映します。</p></main><footer>著作権</footer></body></html>`))
	return dir
}

func TestIngestTwiceAddsNothing(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	first := ingestJSON(t, 0, "--data", data, filepath.Join(dir, "docs"))
	if first.Files != 3 || first.Added == 0 || first.Embedded != first.Added || first.Skipped != 0 {
		t.Fatalf("first run: %+v", first)
	}
	second := ingestJSON(t, 0, "--data", data, filepath.Join(dir, "docs"))
	if second.Added != 0 || second.Embedded != 0 || second.Removed != 0 || second.Unchanged != first.Added {
		t.Fatalf("second run should be a no-op: %+v (first %+v)", second, first)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", data)), &d); err != nil {
		t.Fatal(err)
	}
	if d["name"] != "kura" || d["rows"] != float64(first.Added) || d["dim"] != float64(1024) || d["embedder"] != "hash" {
		t.Fatalf("describe: %v", d)
	}
}

func TestChangedFileReplacesOnlyItsChunks(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	docs := filepath.Join(dir, "docs")
	first := ingestJSON(t, 0, "--data", data, docs)

	changed := strings.Replace(sampleJa, "同期は自動にも手動にもできます。", "同期の間隔は三分です。", 1)
	writeFile(t, filepath.Join(docs, "gitops.md"), []byte(changed))
	second := ingestJSON(t, 0, "--data", data, docs)
	if second.Added == 0 || second.Removed == 0 || second.Added != second.Embedded {
		t.Fatalf("changed file: %+v", second)
	}
	if second.Unchanged+second.Removed != first.Added {
		t.Fatalf("every old chunk is either unchanged or removed: first %+v second %+v", first, second)
	}
	out := mustKura(t, "search", "--json", "--data", data, "-k", "10", "同期の間隔")
	if !strings.Contains(out, "三分") || strings.Contains(out, "自動にも手動にも") {
		t.Fatalf("search after change:\n%s", out)
	}

	// --prune removes the chunks of deleted files, inside the given path only.
	if err := os.Remove(filepath.Join(docs, "tekton.txt")); err != nil {
		t.Fatal(err)
	}
	third := ingestJSON(t, 0, "--data", data, "--prune", docs)
	if third.Removed == 0 || third.Added != 0 {
		t.Fatalf("prune: %+v", third)
	}
	out = mustKura(t, "search", "--json", "--data", data, "-k", "50", "Tekton pipelines")
	if strings.Contains(out, "tekton.txt") {
		t.Fatalf("pruned source still searchable:\n%s", out)
	}
}

func TestBadFilesAreSkippedAndReported(t *testing.T) {
	dir := corpus(t)
	docs := filepath.Join(dir, "docs")
	writeFile(t, filepath.Join(docs, "image.png"), []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	writeFile(t, filepath.Join(docs, "empty.txt"), nil)
	writeFile(t, filepath.Join(docs, "broken.txt"), []byte{0x82, 0xa0, 0xff, 0xfe, 0x80, 0x81, 0xfd, 0x00, 0x41})
	out, errs, code := kura(t, "ingest", "--json", "--data", filepath.Join(dir, "data"),
		filepath.Join(docs, "image.png"), docs)
	if code != exitPartial {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitPartial, out, errs)
	}
	for _, name := range []string{"image.png", "empty.txt", "broken.txt"} {
		if n := strings.Count(errs, name); n != 1 {
			t.Errorf("%s reported %d times in:\n%s", name, n, errs)
		}
	}
	if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
		t.Fatalf("stack trace on stderr:\n%s", errs)
	}
	var s ingestSummary
	json.Unmarshal([]byte(out), &s)
	if s.Files != 3 || s.Skipped != 3 {
		t.Fatalf("summary %+v", s)
	}
}

func TestJapaneseEncodingsGiveSameChunks(t *testing.T) {
	dir := t.TempDir()
	utf8Path := filepath.Join(dir, "utf8.txt")
	writeFile(t, utf8Path, []byte(sampleJa))
	want := mustKura(t, "split", "--json", utf8Path)
	for name, encoder := range map[string]func([]byte) ([]byte, error){
		"sjis.txt":  japanese.ShiftJIS.NewEncoder().Bytes,
		"eucjp.txt": japanese.EUCJP.NewEncoder().Bytes,
		"jis.txt":   japanese.ISO2022JP.NewEncoder().Bytes,
		"crlf.txt":  func(b []byte) ([]byte, error) { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), nil },
		"bom.txt":   func(b []byte) ([]byte, error) { return append([]byte("\xef\xbb\xbf"), b...), nil },
	} {
		data, err := encoder([]byte(sampleJa))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		writeFile(t, p, data)
		if got := mustKura(t, "split", "--json", p); got != want {
			t.Errorf("%s: chunks differ from UTF-8:\n%s\nwant\n%s", name, got, want)
		}
	}
}

func TestSearchJSONContract(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, "--set", "subject=gitops", "--set", "year=2021", filepath.Join(dir, "docs"))

	out := mustKura(t, "search", "--json", "--data", data, "Argo CDの同期")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("default -k is 3, got %d lines:\n%s", len(lines), out)
	}
	var hit struct {
		ID     int64          `json:"id"`
		Score  float64        `json:"score"`
		Entity map[string]any `json:"entity"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &hit); err != nil {
		t.Fatal(err)
	}
	if hit.ID == 0 || hit.Score <= 0 || hit.Entity["text"] == nil || hit.Entity["source"] == nil || len(hit.Entity) != 2 {
		t.Fatalf("hit %+v", hit)
	}
	if !strings.Contains(hit.Entity["text"].(string), "Argo CD") {
		t.Fatalf("best hit does not mention Argo CD: %v", hit.Entity["text"])
	}

	out = mustKura(t, "search", "--json", "--data", data, "-k", "10", "--output-fields", "source,year",
		"--filter", `source like "%.txt" and year > 2020`, "pipelines")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(l, `tekton.txt"`) || !strings.Contains(l, `"year":2021`) {
			t.Fatalf("filtered hit %s", l)
		}
	}

	_, errs, code := kura(t, "search", "--data", data, "--filter", `year >> 3`, "x")
	if code != exitUsage || !strings.Contains(errs, "^") {
		t.Fatalf("malformed filter: exit %d, stderr:\n%s", code, errs)
	}

	q := filepath.Join(dir, "q.jsonl")
	writeFile(t, q, []byte(`{"id": "a", "query": "Conftestとは"}`+"\n"+`not json`+"\n"+`{"id": "b", "query": "Flux"}`+"\n"))
	out, errs, code = kura(t, "search", "--data", data, "--queries", q, "-k", "2")
	if code != exitPartial || !strings.Contains(errs, "q.jsonl:2") {
		t.Fatalf("batch with a bad line: exit %d\n%s", code, errs)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("batch output:\n%s", out)
	}
	var res struct {
		QueryID string            `json:"query_id"`
		Hits    []json.RawMessage `json:"hits"`
	}
	json.Unmarshal([]byte(lines[0]), &res)
	if res.QueryID != "a" || len(res.Hits) != 2 {
		t.Fatalf("batch line %s", lines[0])
	}
}

func TestEmbedderMismatchRefused(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))
	_, errs, code := kura(t, "ingest", "--data", data, "--dim", "256", filepath.Join(dir, "docs"))
	if code != exitUsage || !strings.Contains(errs, "1024") || !strings.Contains(errs, "256") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, errs, code = kura(t, "search", "--data", data, "--dim", "256", "x")
	if code != exitUsage || !strings.Contains(errs, "embedder") {
		t.Fatalf("search with another embedder: exit %d: %s", code, errs)
	}
}

func TestOversizedChunkIsReportedNotTruncated(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("長", 800) // 2400 bytes in one line
	writeFile(t, filepath.Join(dir, "long.txt"), []byte("短い行\n"+long+"\n次の行"))
	out, errs, code := kura(t, "ingest", "--json", "--data", filepath.Join(dir, "data"),
		"--splitter", "character", "--chunk-size", "200", filepath.Join(dir, "long.txt"))
	if code != exitPartial {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "long.txt") || !strings.Contains(errs, "chunk 2 of 3") || !strings.Contains(errs, "2400 bytes") || !strings.Contains(errs, "2048") {
		t.Fatalf("error should name file, chunk and sizes:\n%s", errs)
	}
	var s ingestSummary
	json.Unmarshal([]byte(out), &s)
	if s.Added != 2 || s.Problems != 1 {
		t.Fatalf("the two short chunks should be stored: %+v", s)
	}
}

func TestUsageErrors(t *testing.T) {
	f := func(wantCode int, want string, args ...string) {
		t.Helper()
		_, errs, code := kura(t, args...)
		if code != wantCode || !strings.Contains(errs, want) {
			t.Errorf("kura %v: exit %d, stderr %q; want exit %d containing %q", args, code, errs, wantCode, want)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	writeFile(t, p, []byte("テキスト"))
	f(exitUsage, "--chunk-overlap", "split", "--chunk-size", "10", "--chunk-overlap", "10", p)
	f(exitUsage, "--chunk-size", "split", "--chunk-size", "0", p)
	f(exitUsage, "unknown embedder", "ingest", "--data", filepath.Join(dir, "d"), "--embedder", "nope", p)
	f(exitFailure, "does not exist", "search", "--data", filepath.Join(dir, "d"), "--collection", "nothing", "q")
	f(exitFailure, "does not exist", "collection", "drop", "--data", filepath.Join(dir, "d"), "nothing")
	f(exitUsage, "unknown flag", "search", "--nope")
}

func TestJSONLMetadataAndFilters(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "corpus.jsonl")
	writeFile(t, p, []byte(`{"id": "d1", "title": "東京", "text": "東京は日本の首都である。", "year": 2020}
{"id": "d2", "title": "大阪", "text": "大阪は商業の中心地である。", "year": 2022}
{"id": "d3", "title": "空", "text": ""}
`))
	data := filepath.Join(dir, "data")
	s := ingestJSON(t, exitPartial, "--data", data, p)
	if s.Added != 2 || s.Problems != 1 {
		t.Fatalf("%+v", s)
	}
	// Dense search returns the nearest rows whatever words they share.
	out := mustKura(t, "search", "--json", "--data", data, "--search-type", "dense", "--output-fields", "*", "--filter", `doc_id in ["d2"]`, "首都")
	if !strings.Contains(out, `"title":"大阪"`) || !strings.Contains(out, `"year":2022`) || strings.Contains(out, "d1") {
		t.Fatalf("%s", out)
	}
}

func TestCollectionListAndDrop(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, "--collection", "first", filepath.Join(dir, "docs"))
	mustKura(t, "ingest", "--data", data, "--collection", "second", filepath.Join(dir, "docs", "tekton.txt"))
	out := mustKura(t, "collection", "list", "--data", data)
	if !strings.Contains(out, "first") || !strings.Contains(out, "second") {
		t.Fatalf("list:\n%s", out)
	}
	mustKura(t, "collection", "drop", "--data", data, "first")
	out = mustKura(t, "collection", "list", "--data", data)
	if strings.Contains(out, "first") {
		t.Fatalf("dropped collection still listed:\n%s", out)
	}
	if desc := mustKura(t, "collection", "describe", "--data", data, "second"); !strings.Contains(desc, "VARCHAR(2048)") {
		t.Fatalf("describe:\n%s", desc)
	}
}

func TestQuickstart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out := mustKura(t, "quickstart", "--data", data)
	// The sample searches, then the sample answer.
	if strings.Count(out, "\nQ: ") != len(sampleQuestions)+1 || !strings.Contains(out, "docs/") {
		t.Fatalf("quickstart output:\n%s", out)
	}
	// The scores say what they are.
	if !strings.Contains(out, "Scores are BM25") || !strings.Contains(out, "(BM25 ") {
		t.Errorf("quickstart does not name its scores:\n%s", out)
	}
	// Every sample question finds its answer in the three hits it shows
	// (issue 9: the Shift_JIS question did not).
	answers := map[string][]string{
		"再実行しても重複しないのはなぜ？":                            {"チャンクの ID は", "再実行しても重複しない"},
		"Shift_JISのファイルも読み込めますか？":                     {"Shift_JIS"},
		"How do I filter search results by metadata?": {"--filter"},
		"チャンクの長さが上限を超えないスプリッターは？":                     {"`ja` スプリッター", "`ja` splitter"},
	}
	for _, q := range sampleQuestions {
		want, ok := answers[q]
		if !ok {
			t.Errorf("sample question %q has no expected answer in this test", q)
			continue
		}
		hits := mustKura(t, "search", "--data", data, "--collection", quickstartCollection, "--json", "-k", "3", q)
		found := false
		for _, a := range want {
			found = found || strings.Contains(hits, a)
		}
		if !found {
			t.Errorf("%q: no hit among the top 3 contains %q:\n%s", q, want, hits)
		}
	}
	// One answer, the one `kura ask` gives offline, with its citations.
	_, after, ok := strings.Cut(out, "\nQ: "+sampleAnswerQuestion+"\n")
	if !ok || !strings.Contains(out, extractedLabel) {
		t.Fatalf("quickstart shows no answer:\n%s", out)
	}
	shown, _, _ := strings.Cut(after, "\nNext:")
	asked := mustKura(t, "ask", "--data", data, "--collection", quickstartCollection, "--json", sampleAnswerQuestion)
	var ans api.Answer
	if err := json.Unmarshal([]byte(asked), &ans); err != nil || len(ans.Citations) == 0 || !ans.Extractive {
		t.Fatalf("kura ask of the sample question: %v\n%s", err, asked)
	}
	var flat strings.Builder
	for _, line := range strings.Split(shown, "\n") {
		if strings.HasPrefix(line, "A: ") || (strings.HasPrefix(line, "   ") && !strings.HasPrefix(line, "   [")) {
			flat.WriteString(line[3:])
		}
	}
	if strings.Join(strings.Fields(flat.String()), "") != strings.Join(strings.Fields(ans.Answer), "") {
		t.Errorf("quickstart's answer differs from kura ask's:\n%s\nkura ask: %s", shown, ans.Answer)
	}
	for _, c := range ans.Citations {
		if !strings.Contains(shown, fmt.Sprintf("   [%d] %s", c.N, c.Source)) || !strings.HasPrefix(c.Source, "docs/") {
			t.Errorf("citation [%d] %s is not shown:\n%s", c.N, c.Source, shown)
		}
	}
	if lines := strings.Count(strings.TrimSpace(shown), "\n") + 1; lines > 12 {
		t.Errorf("the answer takes %d lines; a few were meant:\n%s", lines, shown)
	}

	// A second run finds everything in place.
	out = mustKura(t, "quickstart", "--data", data)
	if !strings.Contains(out, " 0 added") {
		t.Fatalf("second quickstart should add nothing:\n%s", out)
	}
}
