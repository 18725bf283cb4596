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
