package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// jsonKeys returns the top-level keys of a JSON object in their order.
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %q", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestDocumentedJSONMatchesOutput: the --json examples of the ingest and
// search pages have the shape kura prints today.
func TestDocumentedJSONMatchesOutput(t *testing.T) {
	page, err := os.ReadFile("../../docs/en/ingest.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)`--json` prints it as one object:\\s*```json\\n(\\{.*?\\})\\n```").FindSubmatch(page)
	if m == nil {
		t.Fatal("docs/en/ingest.md has no ingest --json example")
	}
	dir := corpus(t)
	out := mustKura(t, "ingest", "--json", "--data", filepath.Join(dir, "data"), filepath.Join(dir, "docs"))
	if got, want := jsonKeys(t, out), jsonKeys(t, string(m[1])); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ingest --json keys:\n got %v\nwant (docs/en/ingest.md) %v", got, want)
	}

	hit := mustKura(t, "search", "--json", "--data", filepath.Join(dir, "data"), "GitOps")
	first, _, _ := strings.Cut(hit, "\n")
	for _, doc := range []string{"../../docs/en/search.md", "../../docs/ja/search.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		ex := regexp.MustCompile(`\{"id":\d+,"score":[0-9.]+,"entity":\{[^\n]*?\}\}`).Find(b)
		if ex == nil {
			t.Errorf("%s has no search --json example in today's compact form", doc)
			continue
		}
		if got, want := jsonKeys(t, first), jsonKeys(t, string(ex)); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: hit keys %v, output has %v", doc, want, got)
		}
	}
}
