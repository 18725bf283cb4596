package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestUnknownSubcommands(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		out, errs, code := kura(t, args...)
		if code != exitUsage || !strings.Contains(errs, want) || strings.Contains(out, "Usage:") {
			t.Errorf("kura %v: exit %d, stdout %q, stderr %q; want exit 2 with %q", args, code, out, errs, want)
		}
	}
	f("unknown command \"nosuch\" for 'kura collection' (its commands: describe, drop, list", "collection", "nosuch")
	f("unknown command \"bogus\" for 'kura cache'", "cache", "bogus")
	f("did you mean 'kura search'?", "serch", "x")
	f("did you mean 'kura collection list'?", "collection", "lst")
	// Usage errors name the whole command path.
	f("see 'kura collection describe --help'", "collection", "describe", "--nope")
	f("'kura collection describe' takes at most one collection NAME (see 'kura collection describe --help')", "collection", "describe", "a", "b")
	// Without a subcommand a group prints its help.
	if out := mustKura(t, "collection"); !strings.Contains(out, "Available Commands") {
		t.Errorf("kura collection: %q", out)
	}
}

func TestVersion(t *testing.T) {
	out := mustKura(t, "version")
	if !strings.HasPrefix(out, "kura ") || !strings.Contains(out, "go1.") {
		t.Fatalf("version: %q", out)
	}
	if v := mustKura(t, "--version"); v != out {
		t.Fatalf("--version %q differs from version %q", v, out)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(mustKura(t, "version", "--json")), &info); err != nil || info["version"] == nil || info["go"] == nil {
		t.Fatalf("version --json: %v %v", info, err)
	}
}

// TestMalformedDotEnv: a bad .env line is a warning naming it; the other
// lines apply and every command still runs.
func TestMalformedDotEnv(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	data := filepath.Join(dir, "from-dotenv")
	writeFile(t, filepath.Join(dir, ".env"), []byte("# settings\nthis line is broken\nKURA_DATA="+data+"\nBAD=\"unterminated\n"))
	t.Setenv("KURA_DATA", "") // let .env decide (an empty variable counts as unset)
	os.Unsetenv("KURA_DATA")
	out, errs, code := kura(t, "--help")
	if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(errs, ".env:2: ignored") || !strings.Contains(errs, ".env:4: ignored") {
		t.Fatalf("--help with a bad .env: exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
	out, _, code = kura(t, "collection", "list")
	if code != 0 || !strings.Contains(out, data) {
		t.Fatalf("collection list did not use KURA_DATA from .env: exit %d, %q", code, out)
	}
}

func TestSearchPolish(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))
	f := func(wantCode int, wantErr string, args ...string) string {
		t.Helper()
		_, errs, code := kura(t, append([]string{"search", "--data", data}, args...)...)
		if code != wantCode || !strings.Contains(errs, wantErr) {
			t.Errorf("search %v: exit %d, stderr %q; want exit %d with %q", args, code, errs, wantCode, wantErr)
		}
		return errs
	}
	f(exitUsage, "the QUERY is empty", "")
	f(exitUsage, "the QUERY is empty", "  ")
	f(exitUsage, `--output-fields: collection kura has no field "nosuch" (its chunks have: id, chunk_index, source, text, title`, "--output-fields", "text,nosuch", "GitOps")
	f(0, "", "--output-fields", "text,title", "GitOps")
	// A filter nothing matches is explained; the BM25 hint is not shown.
	errs := f(0, "no chunk of collection kura matches --filter team == \"x\"", "--filter", `team == "x"`, "GitOps")
	if strings.Contains(errs, "bm25 finds only") {
		t.Errorf("BM25 hint shown for a filter miss: %q", errs)
	}
	f(0, "bm25 finds only chunks that share a term", "zzzzqqq")
	f(exitUsage, "--filter takes a Milvus boolean expression", "--filter", "year >", "GitOps")
}

func TestDescribeShowsSearchSettings(t *testing.T) {
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, "--context", "bm25", filepath.Join(dir, "docs"))
	var d map[string]any
	if err := json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", data)), &d); err != nil {
		t.Fatal(err)
	}
	if d["analyzer"] != "bigram" || d["context"] != "bm25" || d["default_search_type"] != "bm25" {
		t.Fatalf("describe --json: %v", d)
	}
	text := mustKura(t, "collection", "describe", "--data", data)
	for _, want := range []string{"full text   bigram analyzer", "context     bm25", "search      bm25 by default", "chunks from 3 sources"} {
		if !strings.Contains(text, want) {
			t.Errorf("describe lacks %q:\n%s", want, text)
		}
	}
	list := mustKura(t, "collection", "list", "--data", data)
	if !strings.Contains(list, "ANALYZER") || !strings.Contains(list, "bigram") {
		t.Errorf("list:\n%s", list)
	}
}

// TestSingularPlural: one file is "1 file".
func TestSingularPlural(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	writeFile(t, p, []byte("短い文書です。"))
	out := mustKura(t, "ingest", "--data", filepath.Join(dir, "data"), p)
	if !strings.Contains(out, "1 file ingested") || !strings.Contains(out, "1 chunk:") {
		t.Fatalf("%q", out)
	}
}

// TestHalfwidthKatakanaFiles: the line in EUC-JP and Shift_JIS
// loads as written; a guess on thin evidence is a warning, not a skip.
func TestHalfwidthKatakanaFiles(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	line := "ｺﾒﾝﾄ: ﾃｽﾄ\n"
	euc, _ := japanese.EUCJP.NewEncoder().Bytes([]byte(line))
	sjis, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte(line))
	writeFile(t, filepath.Join(dir, "euc.txt"), euc)
	writeFile(t, filepath.Join(dir, "sjis.txt"), sjis)
	for _, name := range []string{"euc.txt", "sjis.txt"} {
		out := mustKura(t, "split", "--json", filepath.Join(dir, name))
		if !strings.Contains(out, "ｺﾒﾝﾄ: ﾃｽﾄ") {
			t.Errorf("%s: %s", name, out)
		}
	}
	short, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte("ｶﾀ"))
	writeFile(t, filepath.Join(dir, "short.txt"), short)
	_, errs, code := kura(t, "ingest", "--data", data, filepath.Join(dir, "short.txt"))
	if code != 0 || !strings.Contains(errs, "short.txt: warning: the text encoding was guessed as Shift_JIS") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// TestProblemsSayWhatToDo: JSONL and binary problems end with a way out.
func TestProblemsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "c.jsonl"), []byte("{\"body\": \"本文\"}\n{\"text\": \"良い行\"}\n"))
	writeFile(t, filepath.Join(dir, "img.txt"), []byte("\x89PNG\r\n\x1a\n\x00\x00"))
	_, errs, code := kura(t, "ingest", "--data", filepath.Join(dir, "data"), filepath.Join(dir, "c.jsonl"), filepath.Join(dir, "img.txt"))
	if code != exitPartial {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{`c.jsonl:1: skipped: no "text" field (the line has: body); choose the field that holds the text with --text-field`, "img.txt: skipped: binary content (a PNG image); kura reads text, not images"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}
