package serve

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRecordFile: the discovery file is written atomically and privately,
// read back as written, removed only by the server that wrote it, and
// refused when it is garbage or names a URL nothing should be sent to.
func TestRecordFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := ReadRecord(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no file: %v", err)
	}
	r := Record{URL: "http://127.0.0.1:8080", Addr: "127.0.0.1:8080", PID: 42, Started: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		AuthRequired: true, DataDir: dir, Collection: "kura", Store: "local", Version: "v1"}
	if err := WriteRecord(dir, r); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadRecord(dir); err != nil || got != r {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if fi, err := os.Stat(RecordPath(dir)); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("mode %v, %v: want readable by its owner only", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".serve-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Another server took the directory over: its record stays.
	other := r
	other.PID = 43
	if err := WriteRecord(dir, other); err != nil {
		t.Fatal(err)
	}
	if err := RemoveRecord(dir, r.PID); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadRecord(dir); err != nil || got.PID != 43 {
		t.Fatalf("another server's record was removed: %+v, %v", got, err)
	}
	if err := RemoveRecord(dir, 43); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRecord(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the record is still there: %v", err)
	}
	if err := RemoveRecord(dir, 43); err != nil {
		t.Fatalf("removing a record that is gone: %v", err)
	}

	for _, bad := range []string{"", "ftp://127.0.0.1:1", "http://user:pw@127.0.0.1:1", "http://"} {
		r.URL = bad
		if err := WriteRecord(dir, r); err == nil {
			t.Errorf("WriteRecord accepted URL %q", bad)
		}
	}
	f := func(content, wantErr string) {
		t.Helper()
		if err := os.WriteFile(RecordPath(dir), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadRecord(dir); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ReadRecord of %q: %v, want %q", content, err, wantErr)
		}
		if _, err := Discover(context.Background(), dir); !errors.Is(err, ErrNotServed) {
			t.Errorf("Discover of %q: %v", content, err)
		}
	}
	f("{not json", "is not a kura serve record")
	f(`{"url": "http://user:secret@127.0.0.1:1", "pid": 1}`, "no credentials")
	f(`{"url": "file:///etc/passwd", "pid": 1}`, "want http://")
}

// TestDiscover: only a record whose process is alive and answers
// /healthz is a running server; a record a killed server left behind is
// ignored, and the next server replaces it.
func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := Discover(ctx, dir); !errors.Is(err, ErrNotServed) {
		t.Fatalf("no record: %v", err)
	}
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer healthy.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sick.Close()

	// A process that has exited: its PID names nobody (or somebody else,
	// which the health check then catches).
	gone := exec.Command(os.Args[0], "-test.run=^$")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	f := func(r Record, wantOK bool, wantErr string) {
		t.Helper()
		if err := WriteRecord(dir, r); err != nil {
			t.Fatal(err)
		}
		got, err := Discover(ctx, dir)
		switch {
		case wantOK && (err != nil || got != r):
			t.Errorf("Discover %+v: %+v, %v", r, got, err)
		case !wantOK && (!errors.Is(err, ErrNotServed) || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("Discover %+v: %v, want ErrNotServed saying %q", r, err, wantErr)
		}
	}
	me := os.Getpid()
	f(Record{URL: healthy.URL, PID: me}, true, "")
	if !processAlive(gone.Process.Pid) { // systems that cannot tell rely on the health check
		f(Record{URL: healthy.URL, PID: gone.Process.Pid}, false, "is gone")
	}
	f(Record{URL: healthy.URL, PID: 0}, false, "names no server")
	f(Record{URL: sick.URL, PID: me}, false, "503")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	f(Record{URL: closed.URL, PID: me}, false, "does not answer")
}
