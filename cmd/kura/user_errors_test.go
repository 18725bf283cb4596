package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Defects found by trying kura from the outside, as a new user would.

// TestQueriesFileErrorsNameTheFile: a --queries file that cannot be read
// is a usage error naming the file, for every command that takes one.
func TestQueriesFileErrorsNameTheFile(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))
	missing := filepath.Join(dir, "nosuch.jsonl")
	f := func(want string, args ...string) {
		t.Helper()
		_, errs, code := kura(t, append(args, "--data", data)...)
		if code != exitUsage || !strings.Contains(errs, want) {
			t.Errorf("kura %v: exit %d, stderr %q; want exit 2 with %q", args, code, errs, want)
		}
	}
	for _, cmd := range [][]string{{"search"}, {"ask", "--json"}, {"eval"}, {"eval", "--answers"}} {
		f("--queries "+missing+": no such file or directory", append(cmd, "--queries", missing)...)
		f("--queries "+dir+": is a directory", append(cmd, "--queries", dir)...)
	}
}

// TestAskJSONAlwaysHasTraceID: `ask --json` has every key of the
// documented shape, trace_id included (empty when tracing is off), so a
// client reading the object finds the same keys whatever the setup.
func TestAskJSONAlwaysHasTraceID(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))
	out := mustKura(t, "ask", "--data", data, "--json", "Argo CDは何を同期しますか")
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("ask --json: %v\n%s", err, out)
	}
	for _, key := range []string{"id", "trace_id", "answer", "citations", "sources", "llm", "model", "usage", "timings"} {
		if _, ok := obj[key]; !ok {
			t.Errorf("ask --json has no %q: %s", key, out)
		}
	}
}

// TestCrawlSummarySaysOneNotOnes: the crawl's summary lines count in
// English ("1 document", "1 URL skipped"), as ingest's do.
func TestCrawlSummarySaysOneNotOnes(t *testing.T) {
	s := newSite(t)
	dir := t.TempDir()
	out, errs, code := kura(t, "crawl", s.URL+"/", "--allow-private", "--delay", "0", "--data", filepath.Join(dir, "data"), "--content-selector", "div.field-name-body")
	if code != exitPartial {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"1 document;", "1 URL skipped", "1 link out of scope"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"1 URL not followed (scope)"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	out, errs, code = kura(t, "crawl", s.URL+"/a/1", "--allow-private", "--delay", "0", "--out", filepath.Join(dir, "pages"), "--content-selector", "div.field-name-body")
	if code != 0 || !strings.Contains(out, ": 1 file written,") {
		t.Errorf("crawl --out: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestPromptFileErrorsNameTheFile: --prompt FILE that cannot be read names
// the file; a broken template names its line.
func TestPromptFileErrorsNameTheFile(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))
	bad := filepath.Join(dir, "bad.j2")
	writeFile(t, bad, []byte("{{ question "))
	missing := filepath.Join(dir, "nosuch.j2")
	f := func(want string, args ...string) {
		t.Helper()
		_, errs, code := kura(t, append([]string{"ask", "--data", data}, args...)...)
		if code != exitUsage || !strings.Contains(errs, want) {
			t.Errorf("ask %v: exit %d, stderr %q; want exit 2 with %q", args, code, errs, want)
		}
	}
	f("--prompt "+missing+": no such file or directory", "--prompt", missing, "Argo CD")
	f("--prompt "+dir+": is a directory", "--prompt", dir, "Argo CD")
	f("bad.j2 line 1", "--prompt", bad, "Argo CD")
}

// TestHelpUnknownTopic: `kura help nosuch` is a usage error like `kura
// nosuch`, not the root's help with exit 0; known topics still print help.
func TestHelpUnknownTopic(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		out, errs, code := kura(t, args...)
		if code != exitUsage || !strings.Contains(errs, want) || strings.Contains(out, "Usage:") {
			t.Errorf("kura %v: exit %d, stdout %q, stderr %q; want exit 2 with %q", args, code, out, errs, want)
		}
	}
	f(`unknown command "nosuch" for 'kura'`, "help", "nosuch")
	f("did you mean 'kura search'?", "help", "serch")
	f(`unknown command "nosuch" for 'kura collection'`, "help", "collection", "nosuch")
	for _, args := range [][]string{{"help"}, {"help", "ask"}, {"help", "collection", "list"}} {
		if out := mustKura(t, args...); !strings.Contains(out, "Usage:") {
			t.Errorf("kura %v: %q", args, out)
		}
	}
}
