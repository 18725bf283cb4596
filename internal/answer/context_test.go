package answer

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
)

func TestOverlap(t *testing.T) {
	f := func(a, b string, want int) {
		t.Helper()
		if got := overlap(a, b); got != want {
			t.Fatalf("overlap(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
	f("abcdef", "defgh", 3)
	f("abcdef", "xyz", 0)
	f("", "abc", 0)
	f("abc", "", 0)
	f("aaaa", "aaab", 3)
	f("abab", "ababab", 4)
	f("これは一文目。二文目です。", "二文目です。三文目。", len("二文目です。"))
	f("abc", "abc", 3)
	f("xabc", "abc", 3)
}

func TestJoinChunks(t *testing.T) {
	f := func(a, b, want string, wantStart int) {
		t.Helper()
		start, got := joinChunks(a, b)
		if got != want || start != wantStart {
			t.Fatalf("joinChunks(%q, %q) = %d, %q; want %d, %q", a, b, start, got, wantStart, want)
		}
	}
	f("", "abc", "abc", 0)
	f("一文目。二文目です。", "二文目です。三文目。", "一文目。二文目です。三文目。", len("一文目。二文目です。"))
	f("line one", "line two", "line one\nline two", len("line one")+1)
	f("前半の節、", "後半の節。", "前半の節、後半の節。", len("前半の節、"))
	f("ends with x", "x and more", "ends with x\nx and more", len("ends with x")+1) // one byte is a coincidence
	f("whole of b is here", "is here", "whole of b is here", len("whole of b is here"))
}

func hit(id int64, rank float32, fields map[string]any) store.Hit {
	return store.Hit{ID: id, Score: rank, Entity: fields}
}

func chunk(id int64, source, title string, idx int, text string) store.Hit {
	return hit(id, 1, map[string]any{"text": text, "source": source, "title": title, "chunk_index": json.Number(string(rune('0' + idx)))})
}

func TestAssembleMergesNeighbours(t *testing.T) {
	hits := []store.Hit{
		chunk(13, "a.md", "A", 3, "三文目。四文目。"),
		chunk(50, "b.md", "B", 0, "別の文書。"),
		chunk(12, "a.md", "A", 2, "二文目。三文目。"),
		chunk(10, "a.md", "A", 0, "零文目。"), // not next to 2: a source of its own
		chunk(14, "a.md", "A", 4, "四文目。五文目。"),
	}
	asm := Assemble(hits, 0)
	if len(asm.Sources) != 3 {
		t.Fatalf("%d sources, want 3: %+v", len(asm.Sources), asm.Sources)
	}
	s := asm.Sources[0]
	if s.N != 1 || s.Text != "二文目。三文目。四文目。五文目。" || s.Title != "A" || s.Source != "a.md" {
		t.Fatalf("merged source %+v", s)
	}
	if s.ID != 12 || len(s.Chunks) != 3 || s.Chunks[0].ID != 12 || s.Chunks[1].ID != 13 || s.Chunks[2].ID != 14 {
		t.Fatalf("chunks %+v", s.Chunks)
	}
	for _, c := range s.Chunks {
		own := s.Text[c.Start:c.End]
		if c.Index == nil || !strings.HasSuffix(own, "。") {
			t.Fatalf("chunk %d: range %d:%d = %q", c.ID, c.Start, c.End, own)
		}
	}
	if s.Chunks[1].Rank != 0 || s.Chunks[0].Rank != 2 {
		t.Fatalf("ranks %+v", s.Chunks)
	}
	if asm.Sources[1].Source != "b.md" || asm.Sources[1].N != 2 || asm.Sources[2].Text != "零文目。" || asm.Sources[2].N != 3 {
		t.Fatalf("order %+v", asm.Sources)
	}
}

func TestAssembleKeepsDocumentsApart(t *testing.T) {
	// Two JSONL documents of one file: same source, other doc_id.
	a := chunk(1, "c.jsonl", "X", 0, "Xの文。")
	a.Entity["doc_id"] = "x"
	b := chunk(2, "c.jsonl", "Y", 1, "Yの文。")
	b.Entity["doc_id"] = "y"
	if asm := Assemble([]store.Hit{a, b}, 0); len(asm.Sources) != 2 {
		t.Fatalf("documents merged: %+v", asm.Sources)
	}
}

func TestAssembleDropsDuplicatesAndEmpty(t *testing.T) {
	hits := []store.Hit{
		chunk(1, "a.md", "A", 0, "同じ文。"),
		chunk(2, "b.md", "B", 5, "  同じ文。 "),
		hit(3, 1, map[string]any{"text": "   "}),
		hit(4, 1, map[string]any{}),
		chunk(5, "c.md", "C", 0, "違う文。"),
	}
	asm := Assemble(hits, 0)
	if len(asm.Sources) != 2 || asm.Duplicates != 1 || asm.Empty != 2 {
		t.Fatalf("sources %+v, duplicates %d, empty %d", asm.Sources, asm.Duplicates, asm.Empty)
	}
}

func TestAssembleForeignRows(t *testing.T) {
	// The notebook's collection: id, text and a dynamic subject only.
	hits := []store.Hit{
		hit(449, 0.9, map[string]any{"text": "GitOps uses Git.", "subject": "technology"}),
		hit(450, 0.8, map[string]any{"text": "Argo CD syncs."}),
	}
	asm := Assemble(hits, 0)
	if len(asm.Sources) != 2 {
		t.Fatalf("sources %+v", asm.Sources)
	}
	s := asm.Sources[0]
	if s.ID != 449 || s.Label() != "id 449 (technology)" || s.Fields["subject"] != "technology" || s.Chunks[0].Index != nil {
		t.Fatalf("foreign source %+v label %q", s, s.Label())
	}
	if asm.Sources[1].Label() != "id 450" {
		t.Fatalf("label %q", asm.Sources[1].Label())
	}
}

func TestAssembleBudget(t *testing.T) {
	long := strings.Repeat("これは長い文です。", 60) // 540 characters
	hits := []store.Hit{
		chunk(1, "a.md", "A", 0, long),
		chunk(2, "b.md", "B", 0, strings.ReplaceAll(long, "長い", "長め")),
		chunk(3, "c.md", "C", 0, "短い。"),
	}
	asm := Assemble(hits, 800)
	if len(asm.Sources) != 3 {
		t.Fatalf("%d sources: %+v", len(asm.Sources), asm.Sources)
	}
	second := asm.Sources[1]
	if !second.Truncated || !strings.HasSuffix(second.Text, "。") || asm.Chars > 800 {
		t.Fatalf("second source truncated=%v, %d chars total, ends %q", second.Truncated, asm.Chars, second.Text[len(second.Text)-6:])
	}
	asm = Assemble(hits, 600)
	if len(asm.Sources) != 2 || asm.OverBudget != 1 || asm.Sources[1].Text != "短い。" {
		t.Fatalf("with 60 characters left the second source should be left out: %+v (over budget %d)", asm.Sources, asm.OverBudget)
	}
	// A budget smaller than the best source still gives that source, cut.
	asm = Assemble(hits, 20)
	if len(asm.Sources) != 1 || !asm.Sources[0].Truncated || asm.Chars > 20 || asm.Sources[0].Text == "" {
		t.Fatalf("a 20-character budget: %+v (%d chars)", asm.Sources, asm.Chars)
	}
}

// TestAssembleRestoresSplitDocuments splits documents with kura's
// splitters, retrieves every chunk in a random order and checks that the
// merged source is the document again: the overlaps found and removed.
func TestAssembleRestoresSplitDocuments(t *testing.T) {
	doc := strings.Join([]string{
		"GitOpsは、Gitを信頼できる唯一の情報源として扱う運用手法です。",
		"Argo CDはKubernetesのためのGitOpsツールで、リポジトリの状態とクラスタの状態を同期します。",
		"同期ポリシーには手動と自動があり、自動ではGitへのコミットがそのまま反映されます。",
		"Fluxも同様のツールで、Weaveworks社が開発しました。",
		"どちらもプル型のデプロイを実現し、クラスタの外に認証情報を置かずに済みます。",
		"CIOpsはプッシュ型で、CIツールがクラスタに直接デプロイします。",
	}, "\n")
	for _, opts := range []split.Options{
		{Kind: split.KindJa, ChunkSize: 80, ChunkOverlap: 30},
		{Kind: split.KindCharacter, ChunkSize: 90, ChunkOverlap: 50, Separator: "\n"},
		{Kind: split.KindRecursive, ChunkSize: 70, ChunkOverlap: 20},
	} {
		sp, err := split.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		chunks := sp.Split(doc)
		if len(chunks) < 3 {
			t.Fatalf("%s: only %d chunks", opts.Kind, len(chunks))
		}
		var hits []store.Hit
		for i, c := range chunks {
			hits = append(hits, chunk(int64(i), "g.md", "G", i, c))
		}
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(hits), func(i, j int) { hits[i], hits[j] = hits[j], hits[i] })
		asm := Assemble(hits, 100000)
		if len(asm.Sources) != 1 {
			t.Fatalf("%s: %d sources", opts.Kind, len(asm.Sources))
		}
		if got := asm.Sources[0].Text; strings.Join(strings.Fields(got), "") != strings.Join(strings.Fields(doc), "") {
			t.Fatalf("%s: merged\n%q\nwant\n%q", opts.Kind, got, doc)
		}
	}
}

func TestCutAtSentence(t *testing.T) {
	f := func(text string, n int, want string) {
		t.Helper()
		if got := cutAtSentence(text, n); got != want {
			t.Fatalf("cutAtSentence(%q, %d) = %q, want %q", text, n, got, want)
		}
	}
	f("一文目。二文目。三文目。", 100, "一文目。二文目。三文目。")
	f("一文目。二文目。三文目。", 9, "一文目。二文目。")
	f("一文目。二文目。三文目。", 6, "一文目。")
	f("長い長い長い長い一文。", 5, "長い長い長")
	f("One. Two. Three.", 10, "One. Two.")
}
