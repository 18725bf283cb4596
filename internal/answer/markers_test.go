package answer

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseMarker(t *testing.T) {
	f := func(s string, want markerStatus, wantLen int, wantNums ...int) {
		t.Helper()
		st, n, nums := parseMarker(s)
		if st != want || (want == fullMarker && (n != wantLen || !reflect.DeepEqual(nums, wantNums))) {
			t.Fatalf("parseMarker(%q) = %v, %d, %v; want %v, %d, %v", s, st, n, nums, want, wantLen, wantNums)
		}
	}
	f("[1]", fullMarker, 3, 1)
	f("[1] and more", fullMarker, 3, 1)
	f("[12]", fullMarker, 4, 12)
	f("[1, 2]", fullMarker, 6, 1, 2)
	f("[1,2,3]", fullMarker, 7, 1, 2, 3)
	f("[1][2]", fullMarker, 3, 1)
	f("[1-3]", fullMarker, 5, 1, 2, 3)
	f("[1 2]", fullMarker, 5, 1, 2)
	f("[ 1 ]", fullMarker, 5, 1)
	f("［１］", fullMarker, len("［１］"), 1)
	f("［１、２］", fullMarker, len("［１、２］"), 1, 2)
	f("【3】", fullMarker, len("【3】"), 3)
	f("[Source 1]", fullMarker, 10, 1)
	f("[source: 2]", fullMarker, 11, 2)
	f("[doc1]", fullMarker, 6, 1)
	f("[出典1]", fullMarker, len("[出典1]"), 1)
	f("[ソース: 2]", fullMarker, len("[ソース: 2]"), 2)
	f("[1, source 2]", fullMarker, 13, 1, 2)
	f("【1†source】", fullMarker, len("【1†source】"), 1)
	f("[", partialMarker, 0)
	f("[1", partialMarker, 0)
	f("[1,", partialMarker, 0)
	f("[1, ", partialMarker, 0)
	f("[sou", partialMarker, 0)
	f("[Source ", partialMarker, 0)
	f("［", partialMarker, 0)
	f("[1-", partialMarker, 0)
	f("【1†sou", partialMarker, 0)
	f("[2024]", notMarker, 0)
	f("[see below]", notMarker, 0)
	f("[]", notMarker, 0)
	f("[a]", notMarker, 0)
	f("[1.5]", notMarker, 0)
	f("[3-1]", notMarker, 0)
	f("[1-99]", notMarker, 0)
	f("[1]"[1:], notMarker, 0)
	f("[1"+strings.Repeat(" ", 80), notMarker, 0)
	f("plain", notMarker, 0)
}

// run feeds text to a filter cut into the given deltas and returns what
// was shown, piece by piece.
func run(f *markerFilter, deltas ...string) []string {
	var shown []string
	for _, d := range deltas {
		shown = append(shown, f.write(d))
	}
	return append(shown, f.flush())
}

func TestMarkerFilter(t *testing.T) {
	f := func(given int, in, want string, wantRemoved int, wantNs ...int) {
		t.Helper()
		mf := newMarkerFilter(given)
		run(mf, in)
		if got := mf.text(); got != want {
			t.Fatalf("filter(%d, %q) = %q, want %q", given, in, got, want)
		}
		if mf.removed != wantRemoved {
			t.Fatalf("filter(%d, %q): removed %d, want %d", given, in, mf.removed, wantRemoved)
		}
		var ns []int
		for _, m := range mf.marks {
			ns = append(ns, m.n)
		}
		if !reflect.DeepEqual(ns, wantNs) {
			t.Fatalf("filter(%d, %q): marks %v, want %v", given, in, ns, wantNs)
		}
	}
	f(2, "GitOps is a practice [1].", "GitOps is a practice [1].", 0, 1)
	f(2, "GitOps is a practice [7].", "GitOps is a practice.", 1)
	f(2, "A [1, 7]. B [2][2].", "A [1]. B [2][2].", 1, 1, 2, 2)
	f(3, "GitOpsです［１］［３］。", "GitOpsです[1][3]。", 0, 1, 3)
	f(3, "It works【2†source】.", "It works[2].", 0, 2)
	f(3, "See [Source 2] and [出典3].", "See [2] and [3].", 0, 2, 3)
	f(2, "[1-3] all", "[1][2] all", 1, 1, 2)
	f(2, "Year [2024] stays, [see] too.", "Year [2024] stays, [see] too.", 0)
	f(2, "Unclosed [1", "Unclosed [1", 0)
	f(0, "No sources [1].", "No sources.", 1)
	f(2, "[[1]]", "[[1]]", 0, 1)
}

// TestMarkerFilterStreams cuts answers at every byte and checks that what
// is shown is only ever added to: a marker that is removed, or rewritten,
// is never shown first.
func TestMarkerFilterStreams(t *testing.T) {
	for _, text := range []string{
		"GitOpsはGitを使う[1]。Argo CDが同期する［２］ [9]。",
		"Kura stores chunks [1, 3] and answers [Source 2] [12].",
		"Mixed 【1†src】 and [1-2] end [",
	} {
		whole := newMarkerFilter(2)
		run(whole, text)
		for i := 0; i <= len(text); i++ {
			for j := i; j <= len(text); j++ {
				mf := newMarkerFilter(2)
				shown := run(mf, text[:i], text[i:j], text[j:])
				if got := strings.Join(shown, ""); got != whole.text() || mf.text() != whole.text() {
					t.Fatalf("cut at %d,%d: shown %q, final %q; want %q", i, j, got, mf.text(), whole.text())
				}
				if mf.removed != whole.removed || len(mf.marks) != len(whole.marks) {
					t.Fatalf("cut at %d,%d: removed %d marks %d; want %d, %d", i, j, mf.removed, len(mf.marks), whole.removed, len(whole.marks))
				}
			}
		}
	}
}

func TestMapOffset(t *testing.T) {
	mf := newMarkerFilter(1)
	in := "ab [5] cd [1] ef"
	run(mf, in)
	if mf.text() != "ab cd [1] ef" {
		t.Fatalf("text %q", mf.text())
	}
	for _, c := range []struct{ in, out int }{{0, 0}, {2, 2}, {6, 2}, {7, 3}, {9, 5}, {13, 9}, {16, 12}} {
		if got := mf.mapOffset(c.in); got != c.out {
			t.Fatalf("mapOffset(%d) = %d, want %d", c.in, got, c.out)
		}
	}
}

func TestStripMarkers(t *testing.T) {
	if got := stripMarkers("GitOpsです[1]。Argo CD [2, 3]."); got != "GitOpsです。Argo CD." {
		t.Fatalf("stripMarkers = %q", got)
	}
}

func FuzzMarkers(f *testing.F) {
	for _, s := range []string{"a [1] b", "[1, 2][3]", "［１］", "【1†x】", "[Source 1]", "[出典2]", "[1-3]", "[", "[1", "x [99] y"} {
		f.Add(s, 3, 2)
	}
	f.Fuzz(func(t *testing.T, text string, given, cut int) {
		given = given % 10
		if given < 0 {
			given = -given
		}
		whole := newMarkerFilter(given)
		run(whole, text)
		if cut < 0 {
			cut = -cut
		}
		cut = cut % (len(text) + 1)
		mf := newMarkerFilter(given)
		shown := strings.Join(run(mf, text[:cut], text[cut:]), "")
		if shown != mf.text() || mf.text() != whole.text() {
			t.Fatalf("cut at %d: shown %q final %q whole %q", cut, shown, mf.text(), whole.text())
		}
		if utf8.ValidString(text) && !utf8.ValidString(mf.text()) {
			t.Fatalf("valid input became invalid: %q", mf.text())
		}
		for _, m := range mf.marks {
			if m.n < 1 || m.n > given || mf.text()[m.pos:m.end] == "" {
				t.Fatalf("mark %+v with %d sources in %q", m, given, mf.text())
			}
		}
		out := mf.text()
		sources := make([]Source, given)
		for i := range sources {
			sources[i] = Source{N: i + 1, Text: "source text"}
		}
		cites, _ := checkCitations(out, mf, nil, sources)
		for _, c := range cites {
			if c.N < 1 || c.N > given || out[c.Start:c.End] != c.Text {
				t.Fatalf("citation %+v of %q", c, out)
			}
		}
		prev := -1
		for k := 0; k <= len(text); k++ {
			o := mf.mapOffset(k)
			if o < prev || o > len(out) {
				t.Fatalf("mapOffset(%d) = %d after %d (output %d bytes)", k, o, prev, len(out))
			}
			prev = o
		}
	})
}
