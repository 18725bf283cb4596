package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/store"
)

// The crash and lock tests re-execute the test binary as a child running
// TestCrashChild; these variables tell it what to do and where.
const (
	childModeEnv = "KURA_LOCAL_TEST_CHILD"
	childDirEnv  = "KURA_LOCAL_TEST_DIR"
	crashName    = "crash"
	crashDim     = 48
	crashIDs     = 3000
)

// crashVector depends only on the id, so the parent can rewrite any row.
func crashVector(id int64) []float32 {
	v := make([]float32, crashDim)
	r := rand.New(rand.NewPCG(uint64(id), 7))
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

func crashRow(id int64, gen int) store.Row {
	return store.Row{
		ID:     id,
		Vector: crashVector(id),
		Text:   fmt.Sprintf("row %d generation %d %s", id, gen, strings.Repeat("蔵", gen%40)),
		Fields: map[string]any{
			// The generation moves rows between sources, so upserts exercise
			// moving index entries as well as adding them.
			"source": fmt.Sprintf("src-%02d", (int(id)+gen)%29),
			"gen":    gen,
		},
	}
}

func startChild(t *testing.T, mode, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=1m")
	cmd.Env = append(os.Environ(), childModeEnv+"="+mode, childDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestCrashChild is not a test: it is the child process of TestCrash and
// TestLockedByOtherProcess.
func TestCrashChild(t *testing.T) {
	mode := os.Getenv(childModeEnv)
	if mode == "" {
		t.Skip("helper process for TestCrash and TestLockedByOtherProcess")
	}
	ctx := context.Background()
	s, err := Open(os.Getenv(childDirEnv), Options{LockTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if mode == "writebench" {
		writeBenchChild(t, s)
		return
	}
	c, err := s.Open(ctx, crashName)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	switch mode {
	case "hold":
		// A write transaction that does not end, as a stuck writer would.
		if _, err := c.(*Collection).sh.conn.acquire(ctx, true); err != nil {
			t.Fatal(err)
		}
		fmt.Println("holding")
		time.Sleep(time.Minute)
	case "crash":
		r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
		for gen := 0; ; gen++ {
			rows := make([]store.Row, 20+r.IntN(180))
			for i := range rows {
				rows[i] = crashRow(r.Int64N(crashIDs), gen)
			}
			if err := c.Upsert(ctx, rows); err != nil {
				t.Fatal(err)
			}
			del := make([]int64, 5+r.IntN(30))
			for i := range del {
				del[i] = r.Int64N(crashIDs)
			}
			if err := c.Delete(ctx, del); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestCrash kills a writing child process at random moments and checks
// after each kill that the collection opens and is consistent.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped with -short")
	}
	ctx := t.Context()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, crashName, store.Schema{Dim: crashDim, Metric: store.MetricCosine, Embedder: store.EmbedderInfo{Name: "test"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := range 10 {
		cmd := startChild(t, "crash", dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+r.IntN(351)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != -1 {
			t.Fatalf("kill %d: child ended on its own before the kill: %v", i, err)
		}
		st := checkCrashed(t, dir)
		t.Logf("kill %d: %d rows in %d sources", i, st.Rows, st.Sources)
	}

	// Rewriting every row with exactly what it holds changes nothing.
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Open(ctx, crashName)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := c.Stats(ctx)
	if before.Rows == 0 {
		t.Fatal("the children wrote nothing; the test proved nothing")
	}
	ids := make([]int64, crashIDs)
	for i := range ids {
		ids[i] = int64(i)
	}
	hits, err := c.Get(ctx, ids, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]store.Row, len(hits))
	for i, h := range hits {
		text := h.Entity["text"].(string)
		delete(h.Entity, "text")
		rows[i] = store.Row{ID: h.ID, Vector: crashVector(h.ID), Text: text, Fields: h.Entity}
	}
	if err := c.Upsert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Stats(ctx)
	if after.Rows != before.Rows || after.Sources != before.Sources || int64(len(hits)) != before.Rows {
		t.Errorf("rewrite: stats %+v → %+v, %d rows read", before, after, len(hits))
	}
	if err := c.(*Collection).Verify(ctx); err != nil {
		t.Errorf("after rewrite: %v", err)
	}
}

func checkCrashed(t *testing.T, dir string) store.Stats {
	t.Helper()
	ctx := t.Context()
	s, err := Open(dir, Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Open(ctx, crashName)
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	if err := c.(*Collection).Verify(ctx); err != nil {
		t.Fatalf("after kill: %v", err)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := c.Search(ctx, store.SearchRequest{Vector: crashVector(1), Limit: 5, Filter: `gen >= 0`, OutputFields: []string{"text", "source"}})
	if err != nil {
		t.Fatalf("search after kill: %v", err)
	}
	if want := min(5, st.Rows); int64(len(hits)) != want {
		t.Errorf("search after kill: %d hits, want %d", len(hits), want)
	}
	srcs, err := c.Sources(ctx)
	if err != nil || int64(len(srcs)) != st.Sources {
		t.Errorf("Sources: %d, %v; Stats.Sources %d", len(srcs), err, st.Sources)
	}
	// The killed writer never saved its BM25 index: the snapshot on disk
	// is older than the rows, must be detected as stale and rebuilt, and
	// then index exactly the rows (every text contains "row").
	th, err := c.(*Collection).TextSearch(ctx, store.TextSearchRequest{Query: "row", Limit: int(st.Rows) + 10})
	if err != nil {
		t.Fatalf("text search after kill: %v", err)
	}
	if int64(len(th)) != st.Rows {
		t.Errorf("BM25 index after kill: %d rows, the collection has %d", len(th), st.Rows)
	}
	return st
}

// TestLockedByOtherProcess has a child process hold a write transaction
// open: this one waits for it — with a timeout it gives up with ErrLocked,
// and without one it gets in as soon as the child is gone.
func TestLockedByOtherProcess(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, crashName, store.Schema{Dim: crashDim, Metric: store.MetricL2}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	cmd := startChild(t, "hold", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "holding" {
	}

	for _, ro := range []bool{false, true} {
		s, err := Open(dir, Options{ReadOnly: ro, LockTimeout: 150 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = s.Open(ctx, crashName)
		if !errors.Is(err, store.ErrLocked) {
			t.Errorf("read-only %v: Open while another process writes: %v, want ErrLocked", ro, err)
		} else if msg := err.Error(); !strings.Contains(msg, "another kura process") || !strings.Contains(msg, crashName) || !strings.Contains(msg, "wait") {
			t.Errorf("lock error does not say who and what to do: %s", msg)
		}
		if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
			t.Errorf("Open gave up after %v, the timeout is 150ms", d)
		}
		s.Close()
	}

	// Without a timeout the open waits, says so, and succeeds once the
	// writer is gone.
	waited := make(chan WaitEvent, 4)
	s, err = Open(dir, Options{WaitNotice: 50 * time.Millisecond, OnWait: func(e WaitEvent) { waited <- e }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	opened := make(chan error, 1)
	go func() {
		_, err := s.Open(ctx, crashName)
		opened <- err
	}()
	select {
	case e := <-waited:
		if e.Collection != crashName {
			t.Errorf("OnWait(%+v)", e)
		}
	case err := <-opened:
		t.Fatalf("Open returned %v while another process held the collection", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no OnWait call after 5s of waiting")
	}
	cmd.Process.Kill()
	cmd.Wait()
	select {
	case err := <-opened:
		if err != nil {
			t.Errorf("Open after the other process died: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Open still waits 5s after the other process died")
	}
}

// writeBenchChild rewrites batches of 96 rows of collection "bench" (ids
// 0..19,999, so it keeps its size) until it is killed, as an ingest does;
// BenchmarkSearchBesideWriterProcess runs it.
func writeBenchChild(t *testing.T, s *Store) {
	c, err := s.Open(context.Background(), "bench")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, uint64(os.Getpid())))
	fmt.Println("ready")
	for i := 0; ; i++ {
		if err := c.Upsert(context.Background(), benchRows(r, int64(i*96%19_904), 96)); err != nil {
			t.Fatal(err)
		}
	}
}
