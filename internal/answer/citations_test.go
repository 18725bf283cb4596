package answer

import (
	"testing"

	"github.com/kura-rag/kura/internal/llm"
)

func TestCitedSpan(t *testing.T) {
	f := func(text string, want ...string) {
		t.Helper()
		mf := newMarkerFilter(3)
		run(mf, text)
		cites, _ := checkCitations(mf.text(), mf, nil, []Source{{N: 1, Text: "x"}, {N: 2, Text: "y"}, {N: 3, Text: "z"}})
		if len(cites) != len(want) {
			t.Fatalf("%q: %d citations %+v, want %d", text, len(cites), cites, len(want))
		}
		for i, c := range cites {
			if c.Text != want[i] {
				t.Fatalf("%q: citation %d spans %q, want %q", text, i, c.Text, want[i])
			}
		}
	}
	f("GitOpsは手法です[1]。", "GitOpsは手法です")
	f("GitOpsは手法です。[1]", "GitOpsは手法です。")
	f("一文目です。二文目です[2]。", "二文目です")
	f("A is B [1][2]. C is D [3].", "A is B", "A is B", "C is D")
	f("A is B [1, 2]. C [2 , 3][1].", "A is B", "A is B", "C", "C", "C")
	f("A is B [1], and C is D [2].", "A is B", "and C is D")
	f("[1] GitOps uses Git. More.", "GitOps uses Git.")
	f("Line one\nLine two [1]", "Line two")
	f("GitOps「引用」[1]。", "GitOps「引用」")
}

func TestCitationPicksTheChunk(t *testing.T) {
	one, two := 0, 1
	src := Source{N: 1, ID: 10, Text: "GitOpsはGitを使う。\nArgo CDは同期する。", Chunks: []Chunk{
		{ID: 10, Index: &one, Start: 0, End: len("GitOpsはGitを使う。")},
		{ID: 11, Index: &two, Start: len("GitOpsはGitを使う。\n"), End: len("GitOpsはGitを使う。\nArgo CDは同期する。")},
	}}
	mf := newMarkerFilter(1)
	run(mf, "Argo CDは同期します[1]。")
	cites, _ := checkCitations(mf.text(), mf, nil, []Source{src})
	if len(cites) != 1 || cites[0].ID != 11 || *cites[0].ChunkIndex != 1 || cites[0].Quote != "Argo CDは同期する。" {
		t.Fatalf("citations %+v", cites)
	}
}

func TestNativeCitationOffsets(t *testing.T) {
	mf := newMarkerFilter(2)
	run(mf, "Kura [7] stores chunks.")
	// The provider counted on its own text, marker included.
	cites, removed := checkCitations(mf.text(), mf, []llm.Citation{
		{Start: 9, End: 22, Text: "stores chunks", DocumentIDs: []string{"2", "x"}},
	}, []Source{{N: 1}, {N: 2, ID: 5}})
	if removed != 1 || len(cites) != 1 || cites[0].Text != "stores chunks" || cites[0].ID != 5 || mf.text()[cites[0].Start:cites[0].End] != "stores chunks" {
		t.Fatalf("citations %+v removed %d in %q", cites, removed, mf.text())
	}
}
