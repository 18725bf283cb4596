package split

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// The conformance suite compares the character and recursive splitters with
// LangChain's output stored in the shared directory (../shared from the
// module root, or $KURA_SHARED). It is skipped when that is absent; the
// table tests in this package stand on their own.

// sharedDir finds the shared directory: $KURA_SHARED, or a "shared"
// directory next to the module root found by walking up from the working
// directory.
func sharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("KURA_SHARED"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Skipf("no working directory: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(filepath.Dir(dir), "shared")
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				return d
			}
			return ""
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

func goldenDir(t *testing.T) string {
	t.Helper()
	d := sharedDir(t)
	if d == "" {
		t.Skip("shared directory not found (set KURA_SHARED)")
	}
	g := filepath.Join(d, "golden", "splitter")
	if _, err := os.Stat(g); err != nil {
		t.Skipf("no golden files: %v", err)
	}
	return g
}

type goldenParams struct {
	Splitter      string   `json:"splitter"`
	Separator     *string  `json:"separator"`
	Separators    []string `json:"separators"`
	ChunkSize     int      `json:"chunk_size"`
	ChunkOverlap  int      `json:"chunk_overlap"`
	KeepSeparator *bool    `json:"keep_separator"`
	Strip         *bool    `json:"strip_whitespace"`
	Regex         *bool    `json:"is_separator_regex"`
}

// options maps LangChain parameters to Options, failing on settings the
// kura splitters do not reproduce rather than comparing the wrong thing.
func (p goldenParams) options(t *testing.T, kind string) Options {
	t.Helper()
	o := Options{Kind: kind, ChunkSize: p.ChunkSize, ChunkOverlap: p.ChunkOverlap, Separators: p.Separators}
	switch kind {
	case KindCharacter:
		o.Separator = "\n\n" // LangChain's default
		if p.Separator != nil {
			o.Separator = *p.Separator
		}
		if p.KeepSeparator != nil && *p.KeepSeparator {
			t.Fatalf("character splitter with keep_separator=True is not supported")
		}
	case KindRecursive:
		if p.KeepSeparator != nil && !*p.KeepSeparator {
			t.Fatalf("recursive splitter with keep_separator=False is not supported")
		}
	default:
		t.Fatalf("unknown splitter %q", kind)
	}
	if p.Strip != nil && !*p.Strip {
		t.Fatalf("strip_whitespace=False is not supported")
	}
	if p.Regex != nil && *p.Regex {
		t.Fatalf("is_separator_regex=True is not supported")
	}
	return o
}

func compareChunks(t *testing.T, got, want []string) {
	t.Helper()
	if reflect.DeepEqual(got, want) || (len(got) == 0 && len(want) == 0) {
		return
	}
	t.Errorf("got %d chunks, want %d", len(got), len(want))
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("first difference at chunk %d:\n got %q\nwant %q", i, g, w)
			return
		}
	}
}

func TestGoldenEdgeCases(t *testing.T) {
	dir := goldenDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "edge-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Description string       `json:"description"`
			Splitter    string       `json:"splitter"`
			Params      goldenParams `json:"params"`
			Input       string       `json:"input"`
			Chunks      []string     `json:"chunks"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("edge-cases.json has no cases")
	}
	for _, c := range f.Cases {
		t.Run(c.Description, func(t *testing.T) {
			s, err := New(c.Params.options(t, c.Splitter))
			if err != nil {
				t.Fatal(err)
			}
			compareChunks(t, s.Split(c.Input), c.Chunks)
		})
	}
}

func TestGoldenDocuments(t *testing.T) {
	dir := goldenDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seeds := filepath.Join(filepath.Dir(filepath.Dir(dir)), "corpus", "seeds")
	n := 0
	for _, file := range files {
		if filepath.Base(file) == "edge-cases.json" {
			continue
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var g struct {
			Params    goldenParams        `json:"params"`
			Documents map[string][]string `json:"documents"`
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		s, err := New(g.Params.options(t, g.Params.Splitter))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		names := make([]string, 0, len(g.Documents))
		for name := range g.Documents {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			t.Run(filepath.Base(file)+"/"+name, func(t *testing.T) {
				text, err := os.ReadFile(filepath.Join(seeds, name))
				if err != nil {
					t.Skipf("seed document missing: %v", err)
				}
				n++
				compareChunks(t, s.Split(string(text)), g.Documents[name])
			})
		}
	}
	if n == 0 {
		t.Skip("no golden documents found")
	}
}

// TestJaSeedCorpus holds the ja splitter to its contract on the real
// scraped documents, where LangChain's character splitter overflows.
func TestJaSeedCorpus(t *testing.T) {
	d := sharedDir(t)
	if d == "" {
		t.Skip("shared directory not found (set KURA_SHARED)")
	}
	files, _ := filepath.Glob(filepath.Join(d, "corpus", "seeds", "*.txt"))
	if len(files) == 0 {
		t.Skip("no seed corpus")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, so := range [][2]int{{200, 20}, {300, 30}, {1000, 100}, {50, 10}} {
			checkJa(t, string(raw), so[0], so[1])
		}
	}
}
