package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// kuraProcess starts the kura command line in a child process (this test
// binary re-executed, see TestMain) and returns it with its output buffers.
func kuraProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	js, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KURA_TEST_MAIN_ARGS="+string(js))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errb
}

// runKuraProcess runs the kura command line in a child process to the end.
func runKuraProcess(t *testing.T, args ...string) (stdout, stderr string, code int, took time.Duration) {
	t.Helper()
	start := time.Now()
	cmd, out, errb := kuraProcess(t, args...)
	err := cmd.Wait()
	code = 0
	if ee := (*exec.ExitError)(nil); err != nil {
		if !errorsAs(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code, time.Since(start)
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*ee = e
	}
	return ok
}

// bigCorpus writes files of Japanese paragraphs, enough for an ingest
// that lasts several seconds.
func bigCorpus(t *testing.T, dir string, files, paragraphs int) {
	t.Helper()
	for i := range files {
		var b strings.Builder
		for j := range paragraphs {
			fmt.Fprintf(&b, "文書%dの第%d段落。GitOpsとCI/CDの運用について、番号%dの手順を説明します。Argo CDの同期は自動にも手動にもできます。\n\n", i, j, i*1000+j)
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("d%04d.md", i)), []byte(b.String()))
	}
}

// TestReadersDuringIngestProcess runs a long ingest in one process and,
// while it writes, search, describe and list in others: every one of them
// must succeed promptly (they read the last committed state; a reader
// waits at most for one write transaction), a second ingest into the same
// collection must wait and then succeed, and a backup taken meanwhile must
// restore to a consistent collection.
func TestReadersDuringIngestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test skipped in -short mode")
	}
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	bigCorpus(t, docs, 400, 60)
	more := filepath.Join(dir, "more")
	bigCorpus(t, more, 20, 10)
	data := filepath.Join(dir, "data")
	// A small first ingest, so that the collection exists for the readers.
	mustKura(t, "ingest", "--data", data, more)

	// A FLAT collection: a search process then reads every vector once; an
	// HNSW one would also link into its graph the rows added since the
	// last saved index, which measures the index, not the locking.
	ingest, _, ingestErr := kuraProcess(t, "ingest", "--data", data, docs)
	done := make(chan error, 1)
	go func() { done <- ingest.Wait() }()

	type result struct {
		what string
		code int
		took time.Duration
		err  string
	}
	var mu sync.Mutex
	var results []result
	record := func(what string, code int, took time.Duration, stderr string) {
		mu.Lock()
		results = append(results, result{what, code, took, stderr})
		mu.Unlock()
	}
	var wg sync.WaitGroup
	// A second writer: waits for the first one's transactions, then adds
	// its own rows.
	wg.Go(func() {
		time.Sleep(300 * time.Millisecond)
		_, errs, code, took := runKuraProcess(t, "ingest", "--data", data, "--collection", "kura", filepath.Join(more, "d0000.md"))
		record("second ingest", code, took, errs)
	})
	backup := filepath.Join(dir, "backup.tar.gz")
	wg.Go(func() {
		time.Sleep(500 * time.Millisecond)
		_, errs, code, took := runKuraProcess(t, "backup", "--data", data, backup)
		record("backup", code, took, errs)
	})
	rowsSeen := []int{}
	running := true
	for running {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("ingest failed: %v\n%s", err, ingestErr)
			}
			running = false
			continue
		default:
		}
		out, errs, code, took := runKuraProcess(t, "search", "--json", "--data", data, "-k", "3", "Argo CDの同期")
		record("search", code, took, errs)
		if code == 0 && strings.Count(out, "\n") != 3 {
			t.Errorf("search during ingest printed %q", out)
		}
		out, errs, code, took = runKuraProcess(t, "collection", "describe", "--json", "--data", data)
		record("describe", code, took, errs)
		var d struct{ Rows int }
		if code == 0 && json.Unmarshal([]byte(out), &d) == nil {
			rowsSeen = append(rowsSeen, d.Rows)
		}
		_, errs, code, took = runKuraProcess(t, "collection", "list", "--data", data)
		record("list", code, took, errs)
	}
	wg.Wait()

	searches := 0
	slowest := map[string]time.Duration{}
	for _, r := range results {
		slowest[r.what] = max(slowest[r.what], r.took)
		if r.code != 0 {
			t.Errorf("%s during the ingest: exit %d after %v\n%s", r.what, r.code, r.took, r.err)
		}
		if r.what != "second ingest" && r.what != "backup" && r.took > 10*time.Second {
			t.Errorf("%s took %v during the ingest", r.what, r.took)
		}
		if r.what == "search" {
			searches++
		}
	}
	if searches < 2 || len(rowsSeen) < 2 || !slices.IsSorted(rowsSeen) || rowsSeen[0] == rowsSeen[len(rowsSeen)-1] {
		t.Errorf("%d searches, rows seen by describe %v: the readers did not run while the ingest wrote", searches, rowsSeen)
	}
	t.Logf("%d searches during the ingest; rows seen %v; slowest process of each kind %v", searches, rowsSeen, slowest)

	// The backup restores to a collection that verifies, with at most the
	// rows there are now.
	restored := filepath.Join(dir, "restored")
	mustKura(t, "restore", "--data", restored, backup)
	var now, back struct{ Rows int }
	json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", data)), &now)
	json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", restored)), &back)
	if back.Rows == 0 || back.Rows > now.Rows {
		t.Errorf("restored backup has %d rows; the collection has %d", back.Rows, now.Rows)
	}
	if out := mustKura(t, "search", "--json", "--data", restored, "-k", "1", "Argo CDの同期"); strings.Count(out, "\n") != 1 {
		t.Errorf("search of the restored collection: %q", out)
	}
	// Restoring over data needs --force.
	if _, errs, code := kura(t, "restore", "--data", data, backup); code != exitUsage || !strings.Contains(errs, "--force") {
		t.Errorf("restore over existing data: exit %d: %s", code, errs)
	}
}

// TestKillWriterWhileOthersRead kills an ingest with SIGKILL while another
// process searches; the collection must verify afterwards and the killed
// writer must leave no lock behind.
func TestKillWriterWhileOthersRead(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test skipped in -short mode")
	}
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	bigCorpus(t, docs, 150, 60)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, filepath.Join(docs, "d0000.md"))
	for round := range 3 {
		ingest, _, _ := kuraProcess(t, "ingest", "--data", data, docs)
		time.Sleep(time.Duration(400+300*round) * time.Millisecond)
		if _, errs, code, took := runKuraProcess(t, "search", "--data", data, "GitOps"); code != 0 || took > 10*time.Second {
			t.Errorf("round %d: search during the ingest: exit %d after %v: %s", round, code, took, errs)
		}
		ingest.Process.Signal(syscall.SIGKILL)
		ingest.Wait()
		start := time.Now()
		if _, errs, code, _ := runKuraProcess(t, "search", "--data", data, "GitOps"); code != 0 {
			t.Fatalf("round %d: search after kill -9: exit %d: %s", round, code, errs)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("round %d: search after kill -9 took %v: a lock outlived its process?", round, d)
		}
	}
	final := ingestJSON(t, 0, "--data", data, docs)
	var d struct{ Rows int }
	json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json", "--data", data)), &d)
	if d.Rows != final.Chunks {
		t.Errorf("%d rows after recovery, %d chunks", d.Rows, final.Chunks)
	}
}
