package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
