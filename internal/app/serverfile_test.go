package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestServerFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, ok, err := ReadServerFile(dir); ok || err != nil {
		t.Fatalf("no file: ok %v, %v", ok, err)
	}
	f := ServerFile{URL: "http://127.0.0.1:8080", PID: 42, Started: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Version: "v1"}
	remove, err := WriteServerFile(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := ReadServerFile(dir)
	if !ok || err != nil || got != f {
		t.Fatalf("read back %+v, %v, %v", got, ok, err)
	}
	if fi, err := os.Stat(ServerFilePath(dir)); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	// Another server took the directory over: its file stays.
	other := f
	other.PID = 43
	if _, err := WriteServerFile(dir, other); err != nil {
		t.Fatal(err)
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := ReadServerFile(dir); !ok || got.PID != 43 {
		t.Fatalf("another server's file was removed: %+v %v", got, ok)
	}
	remove2, _ := WriteServerFile(dir, f)
	if err := remove2(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ReadServerFile(dir); ok {
		t.Fatal("the file is still there")
	}
	if _, err := WriteServerFile(dir, ServerFile{URL: "http://user:pw@host"}); err == nil {
		t.Error("credentials in the URL accepted")
	}
	os.WriteFile(ServerFilePath(dir), []byte("{not json"), 0o600)
	if _, ok, err := ReadServerFile(dir); ok || err == nil {
		t.Errorf("garbage: ok %v, %v", ok, err)
	}
}
