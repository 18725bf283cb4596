package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test re-execute this binary as the kura command, so a
// crash test can kill a real ingest process, and the documentation's
// examples can run it under the name kura (KURA_TEST_AS_KURA).
func TestMain(m *testing.M) {
	if os.Getenv("KURA_TEST_AS_KURA") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	if args := os.Getenv("KURA_TEST_MAIN_ARGS"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		os.Exit(run(argv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestKill9DuringIngest SIGKILLs an ingest at random moments. After every
// kill the collection must open, describe and search; at the end a full
// re-ingest must leave exactly one row per distinct chunk.
func TestKill9DuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("crash loop skipped in -short mode")
	}
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	const files = 300
	// writeDoc writes file i; version changes every paragraph, so a
	// rewritten file has all its old chunks replaced.
	writeDoc := func(i, version int) {
		var b strings.Builder
		for j := range 40 {
			fmt.Fprintf(&b, "文書%dの第%d段落（版%d）。GitOpsとCI/CDの運用について説明します。番号%d。\n\n", i, j, version, i*100+j)
		}
		writeFile(t, filepath.Join(docs, fmt.Sprintf("d%03d.md", i)), []byte(b.String()))
	}
	for i := range files {
		writeDoc(i, 0)
	}
	data := filepath.Join(dir, "data")
	args, _ := json.Marshal([]string{"ingest", "--data", data, docs})

	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for i := range 10 {
		// Every round has work to do: new chunks to add and stale ones to
		// delete, so the kill lands in the middle of both.
		for range 60 {
			writeDoc(rng.IntN(files), i+1)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "KURA_TEST_MAIN_ARGS="+string(args))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(400)) * time.Millisecond)
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			kills++
		}
		cmd.Wait()

		out, errs, code := kura(t, "collection", "describe", "--json", "--data", data)
		if code != 0 {
			if strings.Contains(errs, "does not exist") {
				continue // killed before the collection was created
			}
			t.Fatalf("round %d: describe after kill -9: exit %d: %s", i, code, errs)
		}
		var d struct{ Rows int }
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("round %d: %v: %s", i, err, out)
		}
		t.Logf("round %d: killed with %d rows stored", i, d.Rows)
		if _, errs, code := kura(t, "search", "--json", "--data", data, "GitOpsの運用"); code != 0 {
			t.Fatalf("round %d: search after kill -9 (%d rows): exit %d: %s", i, d.Rows, code, errs)
		}
	}
	if kills == 0 {
		t.Fatal("no ingest was killed")
	}

	final := ingestJSON(t, 0, "--data", data, docs)
	again := ingestJSON(t, 0, "--data", data, docs)
	if again.Added != 0 || again.Embedded != 0 || again.Unchanged != final.Chunks {
		t.Fatalf("after recovery a re-run must be a no-op: %+v", again)
	}
	var d struct{ Rows int }
	out := mustKura(t, "collection", "describe", "--json", "--data", data)
	json.Unmarshal([]byte(out), &d)
	if d.Rows != final.Chunks {
		t.Fatalf("%d rows for %d distinct chunks: duplicates or losses", d.Rows, final.Chunks)
	}
}
