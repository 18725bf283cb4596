package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/serve"
)

func TestServeFlags(t *testing.T) {
	t.Setenv("KURA_API_KEY", "")
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.txt")
	os.WriteFile(keys, []byte("alice: alice-key-0123456789\nbob: short\n"), 0o600)
	f := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		out, errs, code := kura(t, append([]string{"serve", "--data", dir}, args...)...)
		if code != wantCode || !strings.Contains(errs, wantErr) {
			t.Fatalf("serve %v: exit %d, stderr %q; want %d and %q", args, code, errs, wantCode, wantErr)
		}
		for _, secret := range []string{"alice-key-0123456789", "secret-key-0123456789", "short"} {
			if strings.Contains(out+errs, secret) {
				t.Fatalf("serve %v printed a key: %s%s", args, out, errs)
			}
		}
	}
	f(2, "--addr 0.0.0.0:8080 is reachable from other machines, and no API key is set", "--addr", "0.0.0.0:8080")
	f(2, "no API key is set", "--addr", ":8080")
	f(2, "--api-key: the API key of user default is 5 characters long", "--api-key", "short")
	f(2, "keys.txt:2: the API key of user bob is 5 characters long", "--api-keys", keys)
	f(2, "--max-upload: \"lots\" is not a size", "--max-upload", "lots")
	f(2, "--cors-origin \"chat.example.com\"", "--cors-origin", "chat.example.com")
	f(2, "--log-format \"xml\"", "--log-format", "xml")
	f(2, "--shutdown-timeout 0s must be positive", "--shutdown-timeout", "0")
	// Valid settings get as far as opening the data directory (here a
	// file, so that nothing starts serving).
	notDir := filepath.Join(dir, "not-a-dir")
	os.WriteFile(notDir, nil, 0o644)
	g := func(wantErr string, args ...string) {
		t.Helper()
		f(1, wantErr, append([]string{"--data", notDir}, args...)...)
	}
	g("not-a-dir", "--addr", "0.0.0.0:8080", "--api-key", "secret-key-0123456789")
	t.Setenv("KURA_API_KEY", "secret-key-0123456789")
	g("not-a-dir", "--addr", "0.0.0.0:8080")
	t.Setenv("KURA_API_KEY", "")
	g("WARNING: serving 0.0.0.0:8080 without an API key", "--addr", "0.0.0.0:8080", "--insecure-no-api-key")
	g("not-a-dir", "--addr", "localhost:0")
	g("not-a-dir", "--addr", "[::1]:0")
	f(2, "--retention and --retention-count must not be negative", "--retention-count", "-1")
}

func TestParseSize(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		got, err := parseSize(in)
		if (want < 0) != (err != nil) || (want >= 0 && got != want) {
			t.Fatalf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	f("1048576", 1<<20)
	f("512KiB", 512<<10)
	f("1MiB", 1<<20)
	f("2 GB", 2e9)
	f("10B", 10)
	f("0", -1)
	f("-1MiB", -1)
	f("MiB", -1)
	f("1.5MiB", -1)
	f("99999999999GiB", -1)
}

// TestServeProcess runs `kura serve` as its own process on a real data
// directory: it records itself in DATA/serve.json, answers with its key,
// lets `kura search`, `kura ingest` and `kura collection drop` in another
// process (this one) read and write the same data meanwhile — serving what
// they commit, never a dropped collection — and on SIGTERM stops cleanly
// and removes the file. The key appears in no output.
func TestServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process; skipped in -short mode")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "docs", "gitops.md"), []byte("# GitOps\n\nGitOpsとは、Gitを唯一の信頼できる情報源とする運用手法です。Argo CDが同期します。\n"))
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))

	const key = "serve-key-0123456789abcdef"
	args, _ := json.Marshal([]string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--shutdown-timeout", "5s"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KURA_TEST_MAIN_ARGS="+string(args), "KURA_API_KEY="+key)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var rec serve.Record
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := serve.Discover(context.Background(), data)
		if err == nil {
			rec = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not record itself: %v\n%s", err, errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rec.PID != cmd.Process.Pid || !rec.AuthRequired || !strings.HasPrefix(rec.URL, "http://127.0.0.1:") {
		t.Fatalf("record %+v", rec)
	}
	post := func(key, body string) (int, string) {
		req, _ := http.NewRequest("POST", rec.URL+"/api/v1/search", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(key, `{"query": "GitOpsとは"}`); code != 200 || !strings.Contains(body, "Argo CD") {
		t.Fatalf("search: %d %s", code, body)
	}
	if code, _ := post("not-the-key-0123456789", `{"query": "GitOpsとは"}`); code != 401 {
		t.Fatalf("wrong key: %d", code)
	}
	// Another process reads the same data while the server runs, and
	// writes to it.
	if got := mustKura(t, "search", "--data", data, "GitOpsとは"); !strings.Contains(got, "Argo CD") {
		t.Fatalf("kura search beside the server: %s", got)
	}
	writeFile(t, filepath.Join(dir, "more", "tekton.md"), []byte("# Tekton\n\nTekton builds CI/CD pipelines from tasks that run in pods.\n"))
	t.Setenv("KURA_SERVER", "")
	ingestOut, ingestErrs, code := kura(t, "ingest", "--data", data, filepath.Join(dir, "more"))
	if code != 0 || strings.Contains(ingestErrs, "serve") {
		t.Fatalf("kura ingest beside the server: exit %d\n%s%s", code, ingestOut, ingestErrs)
	}
	// The server sees what the other process committed.
	if code, body := post(key, `{"query": "Tekton pipelines", "k": 1}`); code != 200 || !strings.Contains(body, "more/tekton.md") {
		t.Fatalf("search after another process ingested: %d %s", code, body)
	}
	// A collection another process drops is gone for the server too, and
	// one it creates again under the same name is served.
	mustKura(t, "collection", "drop", "--data", data, "kura")
	if code, body := post(key, `{"query": "GitOpsとは"}`); code != 404 || strings.Contains(body, "Argo CD") {
		t.Fatalf("search after another process dropped the collection: %d %s", code, body)
	}
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "more"))
	if code, body := post(key, `{"query": "Tekton pipelines", "k": 5}`); code != 200 || !strings.Contains(body, "more/tekton.md") || strings.Contains(body, "gitops.md") {
		t.Fatalf("search after another process created the collection again: %d %s", code, body)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("kura serve after SIGTERM: %v\n%s", err, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kura serve did not stop on SIGTERM")
	}
	if _, err := os.Stat(serve.RecordPath(data)); !os.IsNotExist(err) {
		t.Fatalf("serve.json outlived the server: %v", err)
	}
	if !strings.Contains(errs.String(), "kura: serving collection kura of "+data+" on "+rec.URL) {
		t.Fatalf("stderr: %s", errs.String())
	}
	if strings.Contains(out.String()+errs.String(), key) {
		t.Fatalf("the key was printed:\n%s%s", out.String(), errs.String())
	}
}
